//! The tablet's sync client. It holds the tablet's lock only while it
//! reads or writes the store, never while it waits on the network, so the
//! shell stays responsive; the shell runs it on a worker thread.
//!
//! Order of a session: hello (dock time) → report → upload letters in
//! batches, each acked → pull feed and documents until done → download
//! offered bundles through the installer → bye. Every step is idempotent,
//! so a session cut anywhere is finished by the next one.

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::domain::sync::{
    BundleOffer, MAX_BATCH, PROTOCOL_VERSION, ReplyBody, Request, RequestBody,
};
use crate::domain::{PublicKey, Sha256};
use crate::sync::BundleSource;
use crate::tablet::Tablet;
use crate::tablet::sync::PullState;
use crate::trust::{SigningKey, TrustedRoot, channel, payload_type as pt, signed};
use crate::wire::{self, Frame};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a sync is, for the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    Connecting,
    Sending {
        done: usize,
        total: usize,
    },
    Receiving {
        entries: usize,
    },
    Content {
        title: String,
        done: u64,
        total: u64,
    },
    Finished,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncSummary {
    /// Letters the dock acknowledged in this session.
    pub letters_sent: usize,
    /// Feed entries applied (letters in, copies, state changes).
    pub entries_applied: usize,
    pub entries_refused: usize,
    pub documents_accepted: usize,
    pub documents_refused: Vec<String>,
    pub bundles_installed: usize,
    pub bundles_refused: Vec<String>,
    pub bundles_removed: usize,
    pub certificates_sent: usize,
    pub contact_requests_sent: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the dock at {addr}: {why}")]
    Connect { addr: String, why: String },
    #[error("{0}")]
    UnknownDock(String),
    #[error("the dock refused: {0}")]
    Refused(String),
    /// The dock does not know this tablet yet: staff enrol it by `code`.
    #[error("the dock refused: {reason}")]
    NotEnrolled { code: String, reason: String },
    #[error("the connection to the dock broke: {0}")]
    Broken(String),
    #[error("the dock's reply was not valid: {0}")]
    Protocol(String),
    #[error("this tablet: {0}")]
    Tablet(#[from] crate::tablet::CoreError),
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::install::Error> for SyncError {
    fn from(e: crate::install::Error) -> Self {
        SyncError::Tablet(e.into())
    }
}

fn lock(t: &Mutex<Tablet>) -> MutexGuard<'_, Tablet> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// An open, authenticated session with the dock.
pub struct DockConn {
    tls: Tls,
    nonce: String,
    root: TrustedRoot,
    key: SigningKey,
    me: PublicKey,
    pub dock_time: chrono::DateTime<chrono::Utc>,
}

impl DockConn {
    /// Connect, check the dock's key against the root's pins, and read its
    /// signed hello.
    pub fn open(addr: &str, key: SigningKey, root: TrustedRoot) -> Result<Self, SyncError> {
        let connect = |why: String| SyncError::Connect {
            addr: addr.to_string(),
            why,
        };
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| connect(e.to_string()))?
            .next()
            .ok_or_else(|| connect("the address resolves to nothing".into()))?;
        let tcp = TcpStream::connect_timeout(&sock, CONNECT_TIMEOUT)
            .map_err(|e| connect(e.to_string()))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
        tcp.set_nodelay(true).ok();
        let (config, name) =
            channel::client_config(&key, root.dock_keys()).map_err(|e| connect(e.to_string()))?;
        let conn =
            rustls::ClientConnection::new(config, name).map_err(|e| connect(e.to_string()))?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
                // Our pin check fails the handshake with a certificate error.
                let pin_refused = matches!(
                    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
                    Some(rustls::Error::InvalidCertificate(_))
                );
                return Err(if pin_refused {
                    SyncError::UnknownDock(format!(
                        "the dock at {addr} is not one this facility's root names; not syncing ({e})"
                    ))
                } else {
                    SyncError::Broken(e.to_string())
                });
            }
        }
        let me = key.public();
        let mut c = DockConn {
            tls,
            nonce: String::new(),
            root,
            key,
            me,
            // Until the signed hello below says otherwise.
            dock_time: chrono::DateTime::UNIX_EPOCH,
        };
        let (hello, _) = c.read_reply(true)?;
        match hello {
            ReplyBody::Hello {
                protocol,
                facility,
                dock_time,
            } => {
                if protocol != PROTOCOL_VERSION {
                    return Err(SyncError::Protocol(format!(
                        "the dock speaks protocol {protocol}, this tablet {PROTOCOL_VERSION}"
                    )));
                }
                if facility != c.root.doc().facility {
                    return Err(SyncError::UnknownDock(format!(
                        "the dock serves facility {facility}, not {}",
                        c.root.doc().facility
                    )));
                }
                c.dock_time = dock_time;
            }
            other => {
                return Err(SyncError::Protocol(format!(
                    "expected hello, got {other:?}"
                )));
            }
        }
        Ok(c)
    }

    fn read_reply(&mut self, first: bool) -> Result<(ReplyBody, Vec<Vec<u8>>), SyncError> {
        let frame =
            wire::read_frame(&mut self.tls).map_err(|e| SyncError::Broken(e.to_string()))?;
        let reply = self
            .root
            .verify_reply(&frame.header)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        if first {
            self.nonce = reply.nonce.clone();
        } else if reply.nonce != self.nonce {
            return Err(SyncError::Protocol("reply is for another session".into()));
        }
        if reply.blobs != wire::blobs_digest(&frame.blobs) {
            return Err(SyncError::Protocol(
                "reply blobs do not match the dock's signature".into(),
            ));
        }
        match reply.body {
            ReplyBody::Refused { reason } => return Err(SyncError::Refused(reason)),
            ReplyBody::NotEnrolled { code, reason } => {
                return Err(SyncError::NotEnrolled { code, reason });
            }
            _ => {}
        }
        Ok((reply.body, frame.blobs))
    }

    /// Send one signed request; return the verified reply.
    pub fn request(
        &mut self,
        body: RequestBody,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(ReplyBody, Vec<Vec<u8>>), SyncError> {
        self.send(body, blobs)?;
        self.read_reply(false)
    }

    fn send(&mut self, body: RequestBody, blobs: Vec<Vec<u8>>) -> Result<(), SyncError> {
        let req = Request {
            nonce: self.nonce.clone(),
            tablet: self.me,
            blobs: wire::blobs_digest(&blobs),
            body,
        };
        let header = signed::sign(&self.key, pt::SYNC_REQUEST, &req);
        wire::write_frame(&mut self.tls, &Frame { header, blobs })
            .map_err(|e| SyncError::Broken(e.to_string()))
    }

    pub fn bye(mut self) {
        if self.request(RequestBody::Bye, Vec::new()).is_ok() {
            self.tls.conn.send_close_notify();
            let _ = self.tls.conn.complete_io(&mut self.tls.sock);
        }
    }
}

/// Bundle bytes from the dock, range by range, for the installer.
struct DockSource<'a> {
    conn: &'a mut DockConn,
    offer: BundleOffer,
}

struct RangeReader<'a> {
    conn: &'a mut DockConn,
    sha: Sha256,
    offset: u64,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            let (body, mut blobs) = self
                .conn
                .request(
                    RequestBody::Bundle {
                        manifest_sha256: self.sha,
                        offset: self.offset,
                    },
                    Vec::new(),
                )
                .map_err(std::io::Error::other)?;
            match body {
                ReplyBody::BundleRange { offset, total, .. }
                    if offset == self.offset && blobs.len() == 1 =>
                {
                    self.buf = blobs.pop().unwrap_or_default();
                    self.pos = 0;
                    self.offset += self.buf.len() as u64;
                    if self.buf.is_empty() || self.offset >= total {
                        self.done = true;
                    }
                    if self.buf.is_empty() {
                        return Ok(0);
                    }
                }
                other => {
                    return Err(std::io::Error::other(format!(
                        "unexpected reply to a bundle range: {other:?}"
                    )));
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl BundleSource for DockSource<'_> {
    fn describe(&self) -> String {
        format!(
            "dock bundle {} version {}",
            self.offer.bundle, self.offer.version
        )
    }

    fn open_at(&mut self, offset: u64) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(RangeReader {
            conn: self.conn,
            sha: self.offer.manifest_sha256,
            offset,
            buf: Vec::new(),
            pos: 0,
            done: false,
        }))
    }
}

/// Upload batches sent before the first ack is read.
const UPLOAD_DEPTH: usize = 2;

/// Run one whole sync with the dock at `addr`.
pub fn sync(
    tablet: &Mutex<Tablet>,
    addr: &str,
    progress: &mut dyn FnMut(Stage),
) -> Result<SyncSummary, SyncError> {
    sync_with_cuts(tablet, addr, progress, &|_| false)
}

/// Each named step is a crash-test failpoint (`BERTH_FAILPOINT`), and
/// `cut(step)` returning true drops the connection there, as a pulled
/// cable would. Tests use it to cut sessions at random steps in-process.
fn step(name: &str, cut: &dyn Fn(&str) -> bool) -> Result<(), SyncError> {
    crate::failpoint(name);
    if cut(name) {
        Err(SyncError::Broken(format!("cut at {name}")))
    } else {
        Ok(())
    }
}

/// [`sync`] with a cut hook (see [`step`]).
pub fn sync_with_cuts(
    tablet: &Mutex<Tablet>,
    addr: &str,
    progress: &mut dyn FnMut(Stage),
    cut: &dyn Fn(&str) -> bool,
) -> Result<SyncSummary, SyncError> {
    progress(Stage::Connecting);
    let (key, root) = lock(tablet).sync().credentials()?;
    let mut conn = DockConn::open(addr, key, root)?;
    lock(tablet).sync().accept_dock_time(conn.dock_time)?;
    step("sync:after-hello", cut)?;
    let mut summary = SyncSummary::default();

    // Report: state and the audit log since the last acknowledged entry.
    let (report, audit_from, audit) = lock(tablet).sync().report_with_audit()?;
    if let (ReplyBody::ReportAck { audit_through }, _) =
        conn.request(RequestBody::Report { report, audit_from }, vec![audit])?
    {
        lock(tablet).sync().audit_acked(audit_through)?;
    }

    // Upload letters, a batch at a time, two batches in flight: batch n+1
    // travels while the dock stores batch n. Each ack is applied as it
    // comes, in order; a cut anywhere leaves every unacked letter queued,
    // and the dock keeps (tablet, seq) unique, so a resend stores nothing
    // twice.
    let total = lock(tablet).sync().queued_count()?;
    let mut in_flight: std::collections::VecDeque<Vec<u64>> = Default::default();
    let mut sent_through = 0u64;
    loop {
        while in_flight.len() < UPLOAD_DEPTH {
            let batch = lock(tablet)
                .sync()
                .queued_letters(sent_through, MAX_BATCH)?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            sent_through = last;
            progress(Stage::Sending {
                done: summary.letters_sent,
                total,
            });
            let seqs: Vec<u64> = batch.iter().map(|(s, _)| *s).collect();
            let blobs: Vec<Vec<u8>> = batch.into_iter().map(|(_, e)| e).collect();
            conn.send(
                RequestBody::Upload {
                    count: blobs.len() as u32,
                },
                blobs,
            )?;
            step("sync:after-upload-sent", cut)?;
            in_flight.push_back(seqs);
        }
        let Some(seqs) = in_flight.pop_front() else {
            break;
        };
        let (reply, _) = conn.read_reply(false)?;
        let ReplyBody::Ack { through_seq, .. } = reply else {
            return Err(SyncError::Protocol(format!(
                "expected an ack, got {reply:?}"
            )));
        };
        step("sync:after-ack-received", cut)?;
        let n = lock(tablet).sync().letters_acked(&seqs, through_seq)?;
        step("sync:after-ack-applied", cut)?;
        if n == 0 {
            return Err(SyncError::Protocol(
                "the dock acknowledged none of the letters sent".into(),
            ));
        }
        summary.letters_sent += n;
    }

    // Certificates earned on this tablet, a batch at a time.
    loop {
        let batch = lock(tablet).sync().pending_certificates(MAX_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let (ids, blobs): (Vec<String>, Vec<Vec<u8>>) = batch.into_iter().unzip();
        let (reply, _) = conn.request(
            RequestBody::Certificates {
                count: blobs.len() as u32,
            },
            blobs,
        )?;
        let ReplyBody::CertificatesAck { .. } = reply else {
            return Err(SyncError::Protocol(format!(
                "expected a certificate ack, got {reply:?}"
            )));
        };
        let n = lock(tablet).sync().certificates_acked(&ids)?;
        if n == 0 {
            return Err(SyncError::Protocol(
                "the dock acknowledged none of the certificates sent".into(),
            ));
        }
        summary.certificates_sent += n;
    }

    // Contact requests made on this tablet, a batch at a time.
    loop {
        let batch = lock(tablet).sync().pending_contact_requests(MAX_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let (ids, blobs): (Vec<String>, Vec<Vec<u8>>) = batch.into_iter().unzip();
        let (reply, _) = conn.request(
            RequestBody::ContactRequests {
                count: blobs.len() as u32,
            },
            blobs,
        )?;
        let ReplyBody::ContactRequestsAck { .. } = reply else {
            return Err(SyncError::Protocol(format!(
                "expected a contact request ack, got {reply:?}"
            )));
        };
        step("sync:after-contact-requests-acked", cut)?;
        let n = lock(tablet).sync().contact_requests_acked(&ids)?;
        if n == 0 {
            return Err(SyncError::Protocol(
                "the dock acknowledged none of the contact requests sent".into(),
            ));
        }
        summary.contact_requests_sent += n;
    }

    // Pull: feed entries and documents, until the dock has nothing more.
    let mut offers = Vec::new();
    let mut withdrawn_ids = Vec::new();
    for _round in 0..1000 {
        let PullState {
            cursors,
            documents,
            installed,
        } = lock(tablet).sync().pull_state()?;
        let (reply, blobs) = conn.request(
            RequestBody::Pull {
                cursors: cursors.clone(),
                documents,
                installed,
            },
            Vec::new(),
        )?;
        let ReplyBody::Feed {
            entries,
            documents,
            more,
            cursors: examined,
            bundles,
            withdrawn,
            groups,
        } = reply
        else {
            return Err(SyncError::Protocol(format!(
                "expected a feed, got {reply:?}"
            )));
        };
        if entries as usize + documents as usize != blobs.len() {
            return Err(SyncError::Protocol(
                "feed counts do not match its blobs".into(),
            ));
        }
        step("sync:after-feed-received", cut)?;
        progress(Stage::Receiving {
            entries: summary.entries_applied + entries as usize,
        });
        let (feed, docs) = blobs.split_at(entries as usize);
        let mut accepted_docs = 0;
        {
            let mut t = lock(tablet);
            // The groups the dock enrolled this tablet in decide which
            // documents and bundles are for it.
            if !groups.is_empty() {
                t.sync().adopt_groups(&groups)?;
            }
            // Documents first: a new roster or contact list decides what
            // the entries may show.
            for d in docs {
                match t.people().accept_document(d) {
                    Ok(crate::tablet::DocOutcome::Accepted { .. }) => accepted_docs += 1,
                    Ok(_) => {}
                    Err(e) => summary.documents_refused.push(e.to_string()),
                }
            }
            let (applied, refused) = t.sync().apply_feed_through(feed, &cursors, &examined)?;
            summary.entries_applied += applied;
            summary.entries_refused += refused;
        }
        step("sync:after-feed-applied", cut)?;
        summary.documents_accepted += accepted_docs;
        offers = bundles;
        withdrawn_ids = withdrawn;
        if !more && accepted_docs == 0 {
            break;
        }
    }

    // Withdrawn approvals: the content goes, the person's records stay.
    for id in withdrawn_ids {
        let removed = lock(tablet)
            .library()
            .remove_content(id.as_str(), "approval withdrawn at the dock")?;
        if removed {
            summary.bundles_removed += 1;
        }
    }

    // Content: each offered bundle through the one installer.
    for offer in offers {
        progress(Stage::Content {
            title: offer.bundle.to_string(),
            done: 0,
            total: offer.size,
        });
        let mut source = DockSource {
            conn: &mut conn,
            offer: offer.clone(),
        };
        match lock(tablet).install(&mut source) {
            Ok(_) => summary.bundles_installed += 1,
            Err(e) => summary
                .bundles_refused
                .push(format!("{} version {}: {e}", offer.bundle, offer.version)),
        }
    }
    lock(tablet).sync().record_session(&format!(
        "{} letter(s) sent, {} feed entries, {} document(s), {} bundle(s)",
        summary.letters_sent,
        summary.entries_applied,
        summary.documents_accepted,
        summary.bundles_installed
    ))?;
    conn.bye();
    progress(Stage::Finished);
    Ok(summary)
}

/// Run a sync for a tablet that is not shared with a shell (CLI, tests).
pub fn sync_owned(tablet: Tablet, addr: &str) -> (Tablet, Result<SyncSummary, SyncError>) {
    let shared = Arc::new(Mutex::new(tablet));
    let r = sync(&shared, addr, &mut |_| {});
    let t = Arc::try_unwrap(shared)
        .ok()
        .expect("no other holder")
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    (t, r)
}

/// What a vendor upload ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    pub bundle: crate::domain::BundleId,
    pub version: u64,
    pub manifest_sha256: Sha256,
    /// Bytes the dock already held from an interrupted upload.
    pub resumed_at: u64,
}

/// Upload a signed bundle to the dock as a vendor. The dock verifies it
/// completely (digest, delegation, vendor signature, every chunk) before
/// it waits for approval. An interrupted upload resumes where the dock's
/// copy ends.
pub fn upload_bundle(
    addr: &str,
    vendor_key: SigningKey,
    root: TrustedRoot,
    path: &std::path::Path,
) -> Result<Uploaded, SyncError> {
    let file_err = |source: std::io::Error| SyncError::File {
        path: path.to_path_buf(),
        source,
    };
    let total = std::fs::metadata(path).map_err(file_err)?.len();
    let mut h = crate::trust::Hasher::default();
    let mut f = std::fs::File::open(path).map_err(file_err)?;
    let mut buf = vec![0u8; BUNDLE_CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(file_err)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let sha256 = h.finish();
    let mut conn = DockConn::open(addr, vendor_key, root)?;
    let (reply, _) = conn.request(
        RequestBody::VendorUpload {
            total,
            sha256,
            offset: 0,
        },
        Vec::new(),
    )?;
    let ReplyBody::Received { bytes: resumed_at } = reply else {
        return Err(SyncError::Protocol(format!("unexpected reply {reply:?}")));
    };
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(resumed_at)).map_err(file_err)?;
    let mut offset = resumed_at;
    loop {
        let n = f.read(&mut buf).map_err(file_err)?;
        if n == 0 {
            return Err(SyncError::Protocol(
                "the dock did not confirm the upload".into(),
            ));
        }
        let (reply, _) = conn.request(
            RequestBody::VendorUpload {
                total,
                sha256,
                offset,
            },
            vec![buf[..n].to_vec()],
        )?;
        offset += n as u64;
        match reply {
            ReplyBody::Received { bytes } if bytes == offset => continue,
            ReplyBody::Uploaded {
                bundle,
                version,
                manifest_sha256,
            } => {
                conn.bye();
                return Ok(Uploaded {
                    bundle,
                    version,
                    manifest_sha256,
                    resumed_at,
                });
            }
            other => return Err(SyncError::Protocol(format!("unexpected reply {other:?}"))),
        }
    }
}

/// Bytes per vendor upload frame.
const BUNDLE_CHUNK: usize = 1 << 20;
