//! The dock's listener: TCP, then TLS 1.3 with raw public keys, then one
//! sync session per connection on its own thread with its own database
//! connection. A mail poller imports the gateway's inbound directory.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

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

/// How much of the dock a connection may hold, and for how long.
///
/// A connection is *pending* from `accept` until its peer proves a key the
/// dock knows (an enrolled, unrevoked tablet, or a vendor key the facility
/// delegated to). Pending connections are few, short-lived and small:
/// each address may hold only a few, the oldest is dropped when they are
/// all in use, each has a deadline from its first byte to its last, and
/// none may send a frame over [`Limits::unknown_frame`]. Known sessions
/// have their own cap, so strangers cannot take a tablet's place.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections not yet known, in all.
    pub max_pending: usize,
    /// Connections not yet known, from one address.
    pub max_pending_per_address: usize,
    /// Sessions of known tablets and vendors at once.
    pub max_sessions: usize,
    /// From accept to the end of a connection the dock does not know
    /// (handshake and first request included).
    pub pending_deadline: Duration,
    /// Largest frame from a peer the dock does not know.
    pub unknown_frame: usize,
}

impl Limits {
    /// From `dock.toml`, fitted to the open-file limit: a quarter of the
    /// descriptors stays free for the database, the mail import and
    /// bundles, whatever strangers do.
    pub fn from_config(c: &super::DockConfig) -> Limits {
        let wanted = Limits {
            max_pending: c.max_unknown_connections.max(1),
            max_pending_per_address: c.max_unknown_per_address.max(1),
            max_sessions: c.max_sessions.max(1),
            pending_deadline: Duration::from_secs(c.handshake_seconds.max(1)),
            unknown_frame: 64 * 1024,
        };
        let files = raise_open_file_limit();
        // Each connection holds its socket, the copy the reaper may shut
        // down, and a database connection (three files with WAL).
        let budget = (files.saturating_mul(3) / 4).saturating_sub(16) as usize;
        let need = 5 * wanted.max_pending + 5 * wanted.max_sessions;
        if need <= budget {
            return wanted;
        }
        let scale = |n: usize| (n * budget / need).max(1);
        let fitted = Limits {
            max_pending: scale(wanted.max_pending),
            max_pending_per_address: wanted
                .max_pending_per_address
                .min(scale(wanted.max_pending)),
            max_sessions: scale(wanted.max_sessions),
            ..wanted
        };
        tracing::warn!(
            open_files = files,
            sessions = fitted.max_sessions,
            pending = fitted.max_pending,
            "the open-file limit is low; connection caps lowered to fit it"
        );
        fitted
    }
}

/// Raise the soft open-file limit to the hard one; return the soft limit.
fn raise_open_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: r.rlim_max.min(65_536),
                rlim_max: r.rlim_max,
            };
            if raised.rlim_cur > r.rlim_cur && libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r.rlim_cur = raised.rlim_cur;
            }
        }
        r.rlim_cur as u64
    }
}

/// The connections the dock holds, for the caps and the reaper.
#[derive(Default)]
struct Table {
    next: u64,
    /// id → (address, accepted at, a handle to shut it down).
    pending: std::collections::BTreeMap<u64, (IpAddr, Instant, TcpStream)>,
    sessions: usize,
}

type Conns = Arc<Mutex<Table>>;

fn lock(c: &Conns) -> std::sync::MutexGuard<'_, Table> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes a connection from the table when its thread ends.
struct Slot {
    conns: Conns,
    id: u64,
    session: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = lock(&self.conns);
        t.pending.remove(&self.id);
        if self.session {
            t.sessions -= 1;
        }
    }
}

/// Bind `addr` and serve until stopped. `poll_mail` starts the gateway's
/// Maildir poller too.
pub fn start(dock: &Dock, addr: &str, poll_mail: bool) -> Result<RunningDock> {
    dock.ensure_layout()?;
    if poll_mail && dock.shared.config.sender_check == super::gateway::SenderCheck::None {
        tracing::warn!(
            "sender_check is \"none\": the From address of inbound mail is not verified. \
             Have the relay check DKIM/DMARC and set sender_check = \"authentication-results\" (docs/mail.md)"
        );
    }
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
    let limits = Limits::from_config(&dock.shared.config);
    let stop = Arc::new(AtomicBool::new(false));
    let conns: Conns = Arc::default();
    let mut threads = Vec::new();
    {
        let stop = stop.clone();
        let base = dock.handle()?;
        let conns = conns.clone();
        let limits = limits.clone();
        threads.push(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let tcp = match conn {
                    Ok(t) => t,
                    Err(e) => {
                        // Out of descriptors or memory: wait rather than spin.
                        tracing::warn!("accept: {e}");
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                };
                let Some(id) = admit(&conns, &limits, &tcp) else {
                    continue;
                };
                let slot = Slot {
                    conns: conns.clone(),
                    id,
                    session: false,
                };
                let config = config.clone();
                let limits = limits.clone();
                let handle = base.handle();
                std::thread::spawn(move || {
                    let handle = match handle {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::error!("dock database unavailable: {e}");
                            return;
                        }
                    };
                    if let Err(e) = connection(handle, config, tcp, slot, &limits) {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
        }));
    }
    {
        // The reaper: a pending connection past its deadline is shut
        // down, however slowly it trickles bytes.
        let stop = stop.clone();
        let conns = conns.clone();
        let deadline = limits.pending_deadline;
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                let t = lock(&conns);
                for (_, at, s) in t.pending.values() {
                    if at.elapsed() > deadline {
                        let _ = s.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        }));
    }
    if poll_mail {
        let stop = stop.clone();
        let mut poller = dock.handle()?;
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match poller.import_mail(None) {
                    Ok(r) if r.total() > 0 => tracing::info!(
                        accepted = r.accepted.len(),
                        duplicates = r.duplicates.len(),
                        refused = r.refused.len(),
                        "mail imported"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("mail import: {e}"),
                }
                match poller.send_approved() {
                    Ok(r) if !r.sent.is_empty() || !r.failed.is_empty() => tracing::info!(
                        sent = r.sent.len(),
                        failed = r.failed.len(),
                        "letters submitted to the relay"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("mail relay: {e}"),
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

/// Take a new connection into the table, or drop it: at most
/// `max_pending_per_address` pending from one address (the new one is
/// dropped), at most `max_pending` in all (the oldest is dropped).
fn admit(conns: &Conns, limits: &Limits, tcp: &TcpStream) -> Option<u64> {
    let ip = tcp.peer_addr().ok()?.ip();
    let handle = tcp.try_clone().ok()?;
    let mut t = lock(conns);
    let from_ip = t.pending.values().filter(|(a, _, _)| *a == ip).count();
    if from_ip >= limits.max_pending_per_address {
        tracing::debug!(%ip, "too many unidentified connections from one address; dropped");
        return None;
    }
    if t.pending.len() >= limits.max_pending {
        if let Some((_, (_, _, oldest))) = t.pending.pop_first() {
            let _ = oldest.shutdown(std::net::Shutdown::Both);
        }
    }
    t.next += 1;
    let id = t.next;
    t.pending.insert(id, (ip, Instant::now(), handle));
    Some(id)
}

fn connection(
    mut dock: Dock,
    config: Arc<rustls::ServerConfig>,
    tcp: TcpStream,
    mut slot: Slot,
    limits: &Limits,
) -> Result<()> {
    let peer_addr = tcp.peer_addr().ok();
    tcp.set_read_timeout(Some(limits.pending_deadline)).ok();
    tcp.set_write_timeout(Some(limits.pending_deadline)).ok();
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
    // Who is it? Checked before a single request is read.
    let known = dock.is_known_peer(&peer)?;
    let max_frame = if known {
        let mut t = lock(&slot.conns);
        if t.sessions >= limits.max_sessions {
            drop(t);
            tracing::warn!(%peer, "the dock is at its session limit; connection refused");
            return Err(Error::Refused("the dock is busy".into()));
        }
        t.sessions += 1;
        t.pending.remove(&slot.id);
        slot.session = true;
        drop(t);
        tls.sock.set_read_timeout(Some(IDLE_TIMEOUT)).ok();
        tls.sock.set_write_timeout(Some(IDLE_TIMEOUT)).ok();
        crate::wire::MAX_FRAME
    } else {
        // A stranger may say one small thing and hear why it is refused.
        limits.unknown_frame
    };
    let summary = super::session::serve_session(&mut dock, &mut tls, peer, max_frame)?;
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
    drop(slot);
    Ok(())
}
