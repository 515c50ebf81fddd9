//! The staff console: HTTPS on the facility LAN, served by the dock
//! process beside the tablets' listener, on the dock's own database and
//! through the same `Dock` calls as `berth-facility`. One source of truth,
//! no second server.
//!
//! Server-rendered HTML (askama templates in `ui/console/`, axum routes in
//! `pages.rs`); no script at all, so the CSP forbids every script. Every
//! asset is the dock's own. Every request goes through `auth.rs`: a live
//! session (an HttpOnly, Secure, SameSite=Strict cookie holding a random
//! token whose SHA-256 the dock keeps, with an idle timeout), the route's
//! [`Action`](crate::domain::staff::Action) checked against the member's
//! roles with `domain::staff::may`, and for every form its CSRF token.
//!
//! The database work of a request runs on tokio's blocking pool under one
//! lock on one `Dock` (SQLite serialises writers anyway); the network side
//! is async, with header and TLS deadlines and a cap on connections.

mod auth;
mod pages;
mod views;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::dock::Dock;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Dock(#[from] crate::dock::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the console cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// How the console is served.
#[derive(Clone, Debug)]
pub struct ConsoleConfig {
    /// Address to listen on (the facility LAN).
    pub listen: String,
    /// PEM certificate chain and private key. See [`ensure_certificate`].
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A session unused this long ends.
    pub idle: chrono::Duration,
    /// Connections at once.
    pub max_connections: usize,
}

impl ConsoleConfig {
    /// The defaults for a dock whose data directory is `data`: the
    /// certificate in `data/console/`, 15 minutes idle, 256 connections.
    pub fn for_data(data: &Path, listen: &str) -> ConsoleConfig {
        ConsoleConfig {
            listen: listen.to_string(),
            cert: data.join("console").join("cert.pem"),
            key: data.join("console").join("key.pem"),
            idle: chrono::Duration::minutes(15),
            max_connections: 256,
        }
    }
}

/// The certificate's SHA-256 fingerprint, making a self-signed certificate
/// for `names` first when there is none. A facility with its own CA puts
/// its certificate and key at the same paths instead.
pub fn ensure_certificate(config: &ConsoleConfig, names: &[String]) -> Result<String, Error> {
    if !config.cert.exists() {
        let (cert, key) = crate::trust::console_tls::self_signed(names)?;
        let dir = config.cert.parent().unwrap_or(Path::new("."));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // The key first, readable by the dock's user only; the certificate
        // last, so a cut between leaves no certificate and the next start
        // makes both again.
        write_private(&config.key, key.as_bytes()).map_err(io(&config.key))?;
        crate::facility::write_atomic(&config.cert, cert.as_bytes())
            .map_err(|e| Error::Dock(e.into()))?;
    }
    let pem = crate::facility::read_capped(&config.cert, 256 * 1024)
        .map_err(|e| Error::Dock(e.into()))?;
    Ok(crate::trust::console_tls::fingerprint(&pem)?)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// What every request shares.
pub(crate) struct App {
    pub dock: Mutex<Dock>,
    pub idle: chrono::Duration,
}

/// The console's routes over its own handle of `dock`, with no listener
/// and no TLS: for a facility that serves it behind its own front end, and
/// for the benchmark (benches/console.rs), which times the server's own
/// work. [`start`] serves the same router over HTTPS.
pub fn router(dock: &Dock, idle: chrono::Duration) -> Result<axum::Router, Error> {
    Ok(pages::router(Arc::new(App {
        dock: Mutex::new(dock.handle()?),
        idle,
    })))
}

/// A console serving on its own thread (tests, the binary).
pub struct RunningConsole {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningConsole {
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Block until the console ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningConsole {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the console for `dock` (a handle of its own is taken).
pub fn start(dock: &Dock, config: &ConsoleConfig) -> Result<RunningConsole, Error> {
    let read = |p: &Path| {
        crate::bundle::read_capped(p, crate::trust::console_tls::MAX_PEM_BYTES).map_err(|source| {
            Error::Io {
                path: p.to_path_buf(),
                source,
            }
        })
    };
    let (cert, key) = (read(&config.cert)?, read(&config.key)?);
    let tls = crate::trust::console_tls::server_config((&config.cert, &cert), (&config.key, &key))?;
    let listener = std::net::TcpListener::bind(&config.listen).map_err(|source| Error::Listen {
        addr: config.listen.clone(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| Error::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Listen {
        addr: config.listen.clone(),
        source,
    })?;
    let router = router(dock, config.idle)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let max = config.max_connections.max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .thread_name("console")
        .enable_all()
        .build()
        .map_err(|source| Error::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    let thread = std::thread::Builder::new()
        .name("console".into())
        .spawn(move || {
            runtime.block_on(serve(listener, tls, router, stop_rx, max));
        })
        .map_err(|source| Error::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    Ok(RunningConsole {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// Time a browser has to finish the TLS handshake, and to send a request's
/// headers.
const HANDSHAKE: Duration = Duration::from_secs(10);

async fn serve(
    listener: std::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
    max: usize,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        tracing::error!("the console could not use its listening socket");
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    loop {
        let (tcp, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "console accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        // Over the cap: the newest connection is closed at once.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(tcp);
            continue;
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let stream = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                _ => return,
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HANDSHAKE)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
