//! The dock's listener: TCP, then TLS 1.3 with raw public keys, then one
//! sync session per connection on its own thread with its own database
//! connection. A mail poller imports the gateway's inbound directory.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Dock, Error, Result};
use crate::trust::channel;

/// How long a connection may sit silent before the dock drops it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the gateway's inbound directory is read.
pub const MAIL_POLL: Duration = Duration::from_secs(2);

/// A dock serving on a background thread (tests, benchmarks, the binary).
pub struct RunningDock {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl RunningDock {
    /// Stop accepting, wait for the listener and the poller to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Block until the listener ends (the binary's foreground).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for RunningDock {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}

/// Bind `addr` and serve until stopped. `poll_mail` starts the gateway's
/// inbound poller too.
pub fn start(dock: &Dock, addr: &str, poll_mail: bool) -> Result<RunningDock> {
    let listener = TcpListener::bind(addr).map_err(|e| {
        Error::Refused(format!(
            "cannot listen on {addr}: {e}; pick a free address such as 127.0.0.1:7443"
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Refused(e.to_string()))?;
    let config =
        channel::server_config(&dock.shared.dock_key).map_err(|e| Error::Refused(e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    {
        let stop = stop.clone();
        let base = dock.handle()?;
        threads.push(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let config = config.clone();
                let handle = match base.handle() {
                    Ok(h) => h,
                    Err(e) => {
                        tracing::error!("dock database unavailable: {e}");
                        continue;
                    }
                };
                std::thread::spawn(move || {
                    if let Err(e) = connection(handle, config, tcp) {
                        tracing::warn!("connection ended: {e}");
                    }
                });
            }
        }));
    }
    if poll_mail {
        let stop = stop.clone();
        let mut poller = dock.handle()?;
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match poller.import_mail(None) {
                    Ok(r) if !r.accepted.is_empty() || !r.refused.is_empty() => tracing::info!(
                        accepted = r.accepted.len(),
                        refused = r.refused.len(),
                        "mail imported"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("mail import: {e}"),
                }
                std::thread::sleep(MAIL_POLL);
            }
        }));
    }
    Ok(RunningDock {
        addr: local,
        stop,
        threads,
    })
}

fn connection(mut dock: Dock, config: Arc<rustls::ServerConfig>, tcp: TcpStream) -> Result<()> {
    let peer_addr = tcp.peer_addr().ok();
    tcp.set_read_timeout(Some(IDLE_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IDLE_TIMEOUT)).ok();
    tcp.set_nodelay(true).ok();
    let conn = rustls::ServerConnection::new(config).map_err(|e| Error::Refused(e.to_string()))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| Error::Refused(format!("TLS handshake with {peer_addr:?}: {e}")))?;
    }
    let peer = channel::peer_key(tls.conn.peer_certificates())
        .ok_or_else(|| Error::Refused("the peer presented no key".into()))?;
    let summary = super::session::serve_session(&mut dock, &mut tls, peer)?;
    tracing::info!(
        peer = %summary.peer,
        stored = summary.letters_stored,
        already = summary.letters_already,
        entries = summary.entries_sent,
        bundle_bytes = summary.bundle_bytes,
        refused = ?summary.refused,
        "session ended"
    );
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    Ok(())
}
