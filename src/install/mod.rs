//! The tablet installer: one entry point for every transport.
//!
//! Order of operations (see ARCHITECTURE.md, "Install"):
//! 1. read the header (bounded) and verify it completely: root, delegation,
//!    manifest, approval, expiry on trusted time, rollback;
//! 2. stream the payload: each chunk's SHA-256 is checked *before* it is
//!    written to `.staging/H/files`, and progress is checkpointed so a cut
//!    transfer resumes at the first unverified chunk;
//! 3. fsync files and directories, rename into `content/store/H`;
//! 4. one SQLite transaction records the bundle, the current pointer and the
//!    rollback high-water mark: the only linearization point;
//! 5. remove the replaced version. Start-up removes anything a crash left.

mod staging;

use std::fs;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use chrono::{DateTime, Utc};

pub use staging::sync_dir;
use staging::{FileHashes, FileWriter, Staging};

use crate::bundle::container::{self, RawHeader};
use crate::domain::rules::{Decision, rollback_check};
use crate::domain::time::ClockState;
use crate::store::{self, InstallRecord, Store};
use crate::sync::BundleSource;
use crate::trust::{self, TrustedRoot, roles::InstallTarget};

/// How often (in payload bytes) the writer makes progress durable.
const CHECKPOINT_BYTES: u64 = 256 * 1024 * 1024;
/// Verified chunks queued between the hashing and writing threads.
const QUEUE_DEPTH: usize = 16;
/// Staged partial transfers older than this are discarded at start-up.
const STAGING_MAX_AGE_DAYS: u64 = 14;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{source_desc}: {source}")]
    Container {
        source_desc: String,
        #[source]
        source: container::Error,
    },
    #[error("{source_desc}: {source}; try again to resume the transfer")]
    Transfer {
        source_desc: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Trust(#[from] trust::Error),
    #[error(transparent)]
    Rule(#[from] crate::domain::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(
        "payload ended after {got} of {expected} bytes; the transfer was cut. \
         Run the install again: it resumes at byte {got}"
    )]
    Truncated { got: u64, expected: u64 },
    #[error(
        "the file ends after {got} of the {expected} payload bytes its manifest declares. \
         Copy it again; if the copy ends at the same byte, the manifest's size is wrong \
         and the bundle cannot install: ask the vendor"
    )]
    ShortFile { got: u64, expected: u64 },
    #[error(
        "payload chunk {index} does not match its signed SHA-256; nothing of it was written. \
         The bundle is corrupt or was altered: fetch it again"
    )]
    ChunkMismatch { index: u64 },
    #[error("payload is longer than the {expected} bytes its manifest declares; refused")]
    TooLong { expected: u64 },
    #[error(
        "file {path} does not match its signed SHA-256 (the manifest's file hash or size is \
         wrong, though every chunk matched); nothing of the bundle was installed. \
         Ask the vendor for a corrected bundle"
    )]
    FileMismatch { path: String },
    #[error("staged data at {0} does not match its progress record; starting over")]
    ResumeMismatch(PathBuf),
    #[error("another berth process is using {0}; wait for it to finish")]
    Busy(PathBuf),
    #[error("no trust root: pass --trust with the facility's root.json the first time")]
    NoRoot,
    #[error(
        "{0} is missing: this tablet's identity is gone, and a new key would make it a different tablet. \
         Nothing was changed. Restore device.pk8 from a backup, or have facility IT re-enrol the tablet: \
         `berth recover --data DIR`, set it up again with `berth install --trust root.json --data DIR`, \
         then enrol the new device key at the dock"
    )]
    DeviceKeyMissing(PathBuf),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A cut transfer: what was verified is kept, and running again
    /// resumes.
    pub fn resumable(&self) -> bool {
        matches!(self, Error::Truncated { .. } | Error::Transfer { .. })
    }

    /// The bytes themselves were refused (not a cut transfer): staging
    /// for them is removed, and running again with the same file cannot
    /// succeed. A whole file that ends early is one: the tablet cannot tell
    /// a short copy from a manifest that lies, and keeps nothing of it.
    pub fn refuses_content(&self) -> bool {
        matches!(
            self,
            Error::ChunkMismatch { .. }
                | Error::FileMismatch { .. }
                | Error::ShortFile { .. }
                | Error::TooLong { .. }
                | Error::Internal(_)
        )
    }
}

/// A payload that ends early in a file is a short file, not a cut
/// transfer: running again cannot help unless the file is copied again.
fn short_file(e: Error, whole: bool) -> Error {
    match e {
        Error::Truncated { got, expected } if whole => Error::ShortFile { got, expected },
        e => e,
    }
}

/// Check a payload as an install would (every chunk, every file, nothing
/// after the end) without writing any of it.
fn verify_only(r: &mut dyn Read, m: &crate::domain::Manifest, desc: &str) -> Result<()> {
    let mut files = FileHashes::new(m);
    let mut buf = Vec::with_capacity(m.chunk_size as usize);
    for index in 0..m.expected_chunks() {
        buf.resize(m.chunk_len(index) as usize, 0);
        read_full(r, &mut buf, index, m, desc)?;
        if trust::sha256(&buf) != m.chunks[index as usize] {
            return Err(Error::ChunkMismatch { index });
        }
        files.feed(&buf)?;
    }
    files.finish()?;
    check_end(r, m, desc)
}

/// The signed size is the end: anything after it is refused.
fn check_end(r: &mut dyn Read, m: &crate::domain::Manifest, desc: &str) -> Result<()> {
    match crate::bundle::at_end(r) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::TooLong {
            expected: m.total_size,
        }),
        Err(e) => Err(Error::Transfer {
            source_desc: desc.into(),
            source: e,
        }),
    }
}

pub use crate::failpoint;

/// What an install did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Installed {
        bundle_id: String,
        version: u64,
        manifest_sha256: String,
        files: usize,
        bytes: u64,
        /// First chunk fetched in this attempt (non-zero after a resume).
        resumed_at_chunk: u64,
        /// The version this one replaced, if any.
        replaced: Option<String>,
    },
    AlreadyCurrent {
        bundle_id: String,
        version: u64,
    },
}

/// Paths inside a tablet data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }
    pub fn db(&self) -> PathBuf {
        self.root.join("berth.sqlite")
    }
    pub fn content_store(&self) -> PathBuf {
        self.root.join("content").join("store")
    }
    pub fn staging(&self) -> PathBuf {
        self.root.join("content").join(".staging")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("berth.lock")
    }

    pub fn create(&self) -> Result<()> {
        for d in [self.content_store(), self.staging()] {
            fs::create_dir_all(&d).map_err(|source| Error::Io { path: d, source })?;
        }
        Ok(())
    }
}

/// Remove what a crash can leave: store directories no current bundle
/// points at, staging directories with no durable progress (or too old, or
/// already installed), and temporary files. Returns what was removed.
pub fn clean_orphans(data: &DataDir, store: &Store) -> Result<Vec<PathBuf>> {
    let referenced: std::collections::BTreeSet<String> =
        store.referenced_content()?.into_iter().collect();
    let mut removed = Vec::new();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let store_dir = data.content_store();
    for e in fs::read_dir(&store_dir).map_err(io(&store_dir))? {
        let e = e.map_err(io(&store_dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        if !referenced.contains(&name) {
            remove_any(&e.path())?;
            removed.push(e.path());
        }
    }
    let staging = data.staging();
    let max_age = std::time::Duration::from_secs(STAGING_MAX_AGE_DAYS * 86400);
    for e in fs::read_dir(&staging).map_err(io(&staging))? {
        let e = e.map_err(io(&staging))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        let resumable = e.file_type().map(|t| t.is_dir()).unwrap_or(false)
            && p.join("progress").is_file()
            && p.join("files").is_dir()
            && !referenced.contains(&name)
            && fs::metadata(p.join("progress"))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age < max_age);
        if !resumable {
            remove_any(&p)?;
            removed.push(p);
        }
    }
    if !removed.is_empty() {
        sync_dir(&store_dir)?;
        sync_dir(&staging)?;
    }
    Ok(removed)
}

fn remove_any(p: &Path) -> Result<()> {
    let r = match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => return Ok(()),
    };
    r.map_err(|source| Error::Io {
        path: p.to_path_buf(),
        source,
    })
}

/// Everything an install needs from the tablet.
pub struct Installer<'a> {
    pub data: &'a DataDir,
    pub store: &'a mut Store,
    pub root: &'a TrustedRoot,
    pub target: &'a InstallTarget,
    /// Trusted time for expiry checks.
    pub now: DateTime<Utc>,
    /// The clock state to save with the install.
    pub clock: ClockState,
}

impl Installer<'_> {
    /// Install one bundle from any source.
    pub fn install(&mut self, source: &mut dyn BundleSource) -> Result<Outcome> {
        let desc = source.describe();
        let whole = source.is_whole();
        let header = {
            let r = source.open_at(0).map_err(|e| Error::Transfer {
                source_desc: desc.clone(),
                source: e,
            })?;
            RawHeader::read_from(&mut BufReader::new(r)).map_err(|e| match e {
                container::Error::Io(source) => Error::Transfer {
                    source_desc: desc.clone(),
                    source,
                },
                source => Error::Container {
                    source_desc: desc.clone(),
                    source,
                },
            })?
        };
        let vh = trust::roles::verify_header(
            self.root,
            &header.manifest,
            &header.delegation,
            &header.approvals,
            self.target,
            self.now,
        )?;
        let m = &vh.manifest;
        let decision = rollback_check(
            self.store.high_water(&m.bundle_id)?,
            m.version,
            vh.manifest_sha256,
        )?;
        // The same version again installs only when it is not shown now
        // (its approval was withdrawn, then given again).
        let shown = self
            .store
            .current_bundles()?
            .iter()
            .any(|b| b.manifest_sha256 == vh.manifest_sha256.to_hex());
        if decision == Decision::AlreadyCurrent && shown {
            // "Already current" says the offered file is sound: its payload
            // is checked as a fresh install would check it, and not written.
            let mut r = source
                .open_at(header.encoded_len())
                .map_err(|e| Error::Transfer {
                    source_desc: desc.clone(),
                    source: e,
                })?;
            verify_only(&mut r, m, &desc).map_err(|e| short_file(e, whole))?;
            return Ok(Outcome::AlreadyCurrent {
                bundle_id: m.bundle_id.to_string(),
                version: m.version,
            });
        }
        failpoint("install:after-header");

        let hash = vh.manifest_sha256.to_hex();
        let staging_root = self.data.staging();
        let staging = Staging::new(&staging_root, &hash);
        let mut done = staging.chunks_done(m);
        let mut writer = FileWriter::new(m, &staging.files_dir);
        if done > 0 {
            let pos = (done * u64::from(m.chunk_size)).min(m.total_size);
            if let Err(e) = writer.resume_at(pos, done) {
                tracing::warn!("cannot resume: {e}; starting over");
                done = 0;
                writer = FileWriter::new(m, &staging.files_dir);
            }
        }
        if done == 0 {
            staging.reset(&staging_root)?;
        }
        let resumed_at_chunk = done;
        // The last chunk may be short: a resume after it starts at the
        // payload's end, where trailing bytes are still seen.
        let offset = header.encoded_len() + (done * u64::from(m.chunk_size)).min(m.total_size);
        let streamed = (|| {
            let mut r = source.open_at(offset).map_err(|e| Error::Transfer {
                source_desc: desc.clone(),
                source: e,
            })?;
            stream_payload(&mut r, m, done, &mut writer, &staging, &desc)?;
            writer.finish()
        })();
        let streamed = streamed.map_err(|e| short_file(e, whole));
        if let Err(e) = streamed {
            // Only a cut transfer keeps its staging for the resume; one
            // refused for its content leaves nothing behind.
            if e.refuses_content() {
                drop(writer);
                remove_any(&staging.dir)?;
                sync_dir(&staging_root)?;
            }
            return Err(e);
        }
        failpoint("install:after-stage");

        // Rename into the content-addressed store.
        let store_dir = self.data.content_store();
        let target = store_dir.join(&hash);
        remove_any(&target)?;
        fs::rename(&staging.files_dir, &target).map_err(|source| Error::Io {
            path: target.clone(),
            source,
        })?;
        sync_dir(&store_dir)?;
        remove_any(&staging.dir)?;
        sync_dir(&staging_root)?;
        failpoint("install:after-rename");

        // The linearization point.
        let approval_env = header
            .approvals
            .iter()
            .find(|a| self.root.verify_approval(a).is_ok_and(|d| d == vh.approval))
            .cloned()
            .unwrap_or_default();
        // The clock is saved with the install; only the dock's signed time
        // may raise its anchor (a facility machine with a wrong clock must
        // never push tablets into the future).
        let clock = self.clock.clone();
        let replaced = self.store.record_install(
            &InstallRecord {
                manifest: m,
                manifest_sha256: vh.manifest_sha256,
                manifest_envelope: &header.manifest,
                approval_envelope: &approval_env,
                installed_at: self.now,
                clock: &clock,
            },
            || failpoint("install:before-commit"),
        )?;
        self.clock = clock;
        failpoint("install:after-commit");
        if let Some(old) = &replaced
            && *old != hash
        {
            remove_any(&store_dir.join(old))?;
        }
        Ok(Outcome::Installed {
            bundle_id: m.bundle_id.to_string(),
            version: m.version,
            manifest_sha256: hash,
            files: m.files.len(),
            bytes: m.total_size,
            resumed_at_chunk,
            replaced,
        })
    }
}

/// Read, verify and write chunks `first..` of the payload. Hashing happens
/// on this thread and writing on another, so the two overlap. Whatever was
/// verified and written before an error is checkpointed for the resume.
fn stream_payload(
    r: &mut dyn Read,
    m: &crate::domain::Manifest,
    first: u64,
    writer: &mut FileWriter<'_>,
    staging: &Staging,
    desc: &str,
) -> Result<()> {
    let chunk_size = m.chunk_size as usize;
    let per_checkpoint = (CHECKPOINT_BYTES / u64::from(m.chunk_size)).max(1);
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE_DEPTH);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        let handle = s.spawn(move || -> Result<()> {
            // Checkpoints fsync on a third thread so writing never waits
            // for the disk; at most one checkpoint is in flight.
            let mut in_flight: Option<std::thread::ScopedJoinHandle<'_, Result<()>>> = None;
            let join = |h: std::thread::ScopedJoinHandle<'_, Result<()>>| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("sync thread panicked".into())))
            };
            let mut since = 0u64;
            let mut result = Ok(());
            for chunk in rx {
                if let Err(e) = writer.write_chunk(&chunk) {
                    result = Err(e);
                    break;
                }
                since += 1;
                if since == per_checkpoint {
                    since = 0;
                    if let Some(h) = in_flight.take() {
                        join(h)?;
                    }
                    let batch = writer.sync_batch()?;
                    in_flight = Some(s.spawn(move || batch.run(staging)));
                }
                let _ = back_tx.send(chunk);
            }
            if let Some(h) = in_flight.take() {
                join(h)?;
            }
            // Make whatever was verified and written durable, even when the
            // transfer or a write failed, so the next attempt resumes here.
            if since > 0 {
                writer.checkpoint(staging)?;
            }
            result
        });
        let read_result = (|| -> Result<()> {
            for index in first..m.expected_chunks() {
                let len = m.chunk_len(index) as usize;
                let mut buf = back_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(chunk_size));
                buf.resize(len, 0);
                read_full(r, &mut buf, index, m, desc)?;
                if trust::sha256(&buf) != m.chunks[index as usize] {
                    return Err(Error::ChunkMismatch { index });
                }
                if tx.send(buf).is_err() {
                    // The writer stopped; its error is reported below.
                    return Ok(());
                }
            }
            Ok(())
        })();
        drop(tx);
        let write_result = handle
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("writer thread panicked".into())));
        read_result.and(write_result)
    })?;
    check_end(r, m, desc)
}

fn read_full(
    r: &mut dyn Read,
    buf: &mut [u8],
    index: u64,
    m: &crate::domain::Manifest,
    desc: &str,
) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::Truncated {
                    got: index * u64::from(m.chunk_size) + filled as u64,
                    expected: m.total_size,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Transfer {
                    source_desc: desc.into(),
                    source: e,
                });
            }
        }
    }
    Ok(())
}
