//! The tablet's state, opened from its data directory: store, trust root,
//! trusted clock and installer, behind one type the binaries use.

mod content;
mod messages;
mod people;
pub mod sync;

pub use crate::store::{Bookmark, ContactRequestRow, PlayerState, ThreadItem, ThreadSummary};
pub use content::{
    AlbumRow, BookCard, BookView, CertificateCard, Completed, ContentRefusal, CourseCard,
    CourseStep, CourseView, LessonView, Library, TrackRow,
};
pub use messages::{Letters, Queued};
pub use people::{
    DocOutcome, EnrolmentTicket, Error as CoreError, LoginError, LoginOutcome, People,
    PersonSummary, Refusal, Session,
};
pub use sync::{PullState, SyncSide};

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::device::clock::ClockSource;
use crate::domain::time::{self, ClockState};
use crate::domain::{GroupId, TabletModel};
use crate::install::{DataDir, Error, Installer, Outcome, Result, clean_orphans};
use crate::store::{InstalledBundle, Store};
use crate::sync::BundleSource;
use crate::trust::roles::InstallTarget;
use crate::trust::{MAX_ENVELOPE_BYTES, TrustedRoot};

/// The tablet model this build runs on.
pub const DEFAULT_MODEL: &str = "berth-t1";

pub struct TabletOptions {
    /// The facility's root.json: required the first time, and used to
    /// rotate to a newer root later (intermediate versions are read from a
    /// `roots/` directory beside it).
    pub trust_file: Option<PathBuf>,
    pub groups: Vec<GroupId>,
    pub model: TabletModel,
}

impl Default for TabletOptions {
    fn default() -> Self {
        TabletOptions {
            trust_file: None,
            groups: vec![GroupId::parse("facility").expect("valid group")],
            model: TabletModel::parse(DEFAULT_MODEL).expect("valid model"),
        }
    }
}

/// What opening the tablet did besides opening it.
#[derive(Debug, Default)]
pub struct OpenReport {
    pub orphans_removed: Vec<PathBuf>,
    pub root_rotated: Option<(u64, u64)>,
}

pub struct Tablet {
    data: DataDir,
    store: Store,
    root: TrustedRoot,
    /// Made on the tablet at first start and never exported. Signs what the
    /// tablet sends (audit exports now; messages and certificates later).
    device_key: crate::trust::SigningKey,
    target: InstallTarget,
    clock: Box<dyn ClockSource>,
    _lock: File,
}

/// The device key: made once, when the tablet is first set up. A tablet
/// that already trusts a root and has lost its key is refused, never
/// silently given a new identity.
fn load_or_create_device_key(data: &DataDir, fresh: bool) -> Result<crate::trust::SigningKey> {
    let p = data.root.join("device.pk8");
    Ok(if p.exists() {
        crate::trust::SigningKey::load(&p)?
    } else if fresh {
        crate::trust::SigningKey::generate_to_file(&p)?
    } else {
        return Err(Error::DeviceKeyMissing(p));
    })
}

pub(crate) fn read_capped(path: &Path, cap: usize) -> Result<Vec<u8>> {
    crate::bundle::read_capped(path, cap).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Tablet {
    pub fn open(
        data: DataDir,
        opts: TabletOptions,
        clock: Box<dyn ClockSource>,
    ) -> Result<(Self, OpenReport)> {
        // A fresh tablet is tied to its facility by the first root it
        // stores: one that fails any check must leave nothing behind, so it
        // is checked before the directory, database or key exist.
        if !data.db().exists() {
            let file = opts.trust_file.as_ref().ok_or(Error::NoRoot)?;
            let r = TrustedRoot::bootstrap(&read_capped(file, MAX_ENVELOPE_BYTES)?)?;
            r.check_not_expired(clock.read().rtc)?;
        }
        data.create()?;
        let lock_path = data.lock_file();
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| Error::Io {
                path: lock_path.clone(),
                source,
            })?;
        // Another process may be finishing (or a fork may briefly hold a
        // copy of a closing descriptor): wait a little before giving up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while lock.try_lock().is_err() {
            if std::time::Instant::now() >= deadline {
                return Err(Error::Busy(data.root.clone()));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut store = Store::open(&data.db())?;
        let mut report = OpenReport {
            orphans_removed: clean_orphans(&data, &store)?,
            ..Default::default()
        };
        let stored = store
            .trust_root()?
            .map(|b| TrustedRoot::bootstrap(&b))
            .transpose()?;
        let fresh = stored.is_none();
        // Checked before anything below writes.
        if !fresh && !data.root.join("device.pk8").exists() {
            return Err(Error::DeviceKeyMissing(data.root.join("device.pk8")));
        }
        let now = Utc::now();
        let root = match (stored, &opts.trust_file) {
            (None, None) => return Err(Error::NoRoot),
            (Some(r), None) => r,
            (None, Some(file)) => {
                let r = TrustedRoot::bootstrap(&read_capped(file, MAX_ENVELOPE_BYTES)?)?;
                r.check_not_expired(clock.read().rtc)?;
                store.save_trust_root(
                    r.doc().version,
                    r.doc().facility.as_str(),
                    r.envelope_bytes(),
                    now,
                )?;
                r
            }
            (Some(current), Some(file)) => {
                let offered = read_capped(file, MAX_ENVELOPE_BYTES)?;
                let candidate = TrustedRoot::bootstrap(&offered)?;
                let (from, to) = (current.doc().version, candidate.doc().version);
                if to == from && offered != current.envelope_bytes() {
                    return Err(crate::trust::Error::Rotation(format!(
                        "{} is root version {to} but differs from the version {to} this tablet trusts",
                        file.display()
                    ))
                    .into());
                }
                // Verify the whole chain, and the newest root's expiry,
                // before any of it is stored: a root that fails a check
                // is never kept.
                let mut root = current;
                let mut chain = Vec::new();
                for v in (from + 1)..=to {
                    let bytes = if v == to {
                        offered.clone()
                    } else {
                        let p = intermediate_root(file, v);
                        if !p.exists() {
                            return Err(crate::trust::Error::Rotation(format!(
                                "{} is root version {to}, and this tablet trusts version {from}: \
                                 it needs every version between, but {} is not there",
                                file.display(),
                                p.display()
                            ))
                            .into());
                        }
                        read_capped(&p, MAX_ENVELOPE_BYTES)?
                    };
                    root = root.update(&bytes)?;
                    chain.push((v, bytes));
                }
                if to > from {
                    root.check_not_expired(clock.read().rtc)?;
                }
                for (v, bytes) in &chain {
                    store.save_trust_root(*v, root.doc().facility.as_str(), bytes, now)?;
                }
                if to > from {
                    report.root_rotated = Some((from, to));
                }
                root
            }
        };
        store.add_tablet_groups(
            &opts
                .groups
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>(),
        )?;
        let mut groups: Vec<GroupId> = store
            .tablet_groups()?
            .iter()
            .filter_map(|g| GroupId::parse(g).ok())
            .collect();
        let facility = GroupId::parse("facility").expect("valid group");
        if !groups.contains(&facility) {
            groups.push(facility);
        }
        let device_key = load_or_create_device_key(&data, fresh)?;
        let mut tablet = Tablet {
            data,
            store,
            root,
            device_key,
            target: InstallTarget {
                groups,
                model: opts.model,
            },
            clock,
            _lock: lock,
        };
        // Catalogue entries are derived state: anything installed but not
        // yet indexed (a crash right after an install) is indexed now.
        if let Err(e) = tablet.library().index_content() {
            tracing::error!("indexing content: {e}");
        }
        Ok((tablet, report))
    }

    /// Read the clocks, record a tamper event if the RTC went back, and
    /// return trusted time with the state to persist.
    fn read_clock(&mut self) -> Result<(DateTime<Utc>, ClockState)> {
        let saved = self.store.clock()?;
        let reading = self.clock.read();
        let (now, state, tamper) = time::advance(saved.as_ref(), &reading);
        if let Some(t) = tamper {
            self.store.audit(
                now,
                None,
                crate::audit::kind::TAMPER,
                &format!(
                    "RTC reads {} but trusted time is {}; the clock was moved back",
                    t.rtc.to_rfc3339(),
                    t.trusted.to_rfc3339()
                ),
            )?;
        }
        if time::needs_save(saved.as_ref(), &state) {
            self.store.save_clock(&state)?;
        }
        Ok((now, state))
    }

    /// Trusted time now (and persist the clock).
    pub fn trusted_now(&mut self) -> Result<DateTime<Utc>> {
        Ok(self.read_clock()?.0)
    }

    /// Install one bundle through the single verified path.
    pub fn install(&mut self, source: &mut dyn BundleSource) -> Result<Outcome> {
        let (now, clock) = self.read_clock()?;
        let result = Installer {
            data: &self.data,
            store: &mut self.store,
            root: &self.root,
            target: &self.target,
            now,
            clock,
        }
        .install(source);
        if let Ok(Outcome::Installed { bundle_id, .. }) = &result
            && let Err(e) = self.library().index_content()
        {
            tracing::error!("indexing {bundle_id}: {e}");
        }
        if let Err(e) = &result {
            // Best effort: the refusal itself must not be lost, but failing
            // to log it must not hide the original error either.
            let _ = self.store.audit(
                now,
                None,
                crate::audit::kind::BUNDLE_REFUSED,
                &format!("{}: {e}", source.describe()),
            );
        }
        result
    }

    pub fn installed(&self) -> Result<Vec<InstalledBundle>> {
        Ok(self.store.current_bundles()?)
    }

    /// Where an installed bundle's files are.
    pub fn content_path(&self, manifest_sha256: &str) -> PathBuf {
        self.data.content_store().join(manifest_sha256)
    }

    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// SQLite's own check of the database file ("ok" when sound).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.store.integrity_check()?)
    }

    /// The full integrity check, on a thread and a read-only connection of
    /// its own, while the tablet runs: opening checks only what cannot be
    /// rebuilt. Damage found here is recorded, and the next start refuses
    /// the database with the recovery.
    /// It starts after `delay`, so it never competes with start-up.
    pub fn check_in_background(
        &self,
        delay: std::time::Duration,
    ) -> std::thread::JoinHandle<Result<String>> {
        let db = self.store.path().to_path_buf();
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let r = Store::check_all(&db);
            match &r {
                Ok(d) if d == "ok" => tracing::info!("full integrity check: ok"),
                Ok(d) => tracing::error!(
                    "full integrity check of {}: {d}; the next start refuses it (berth recover)",
                    db.display()
                ),
                Err(e) => tracing::error!("full integrity check: {e}"),
            }
            Ok(r?)
        })
    }

    pub fn data(&self) -> &DataDir {
        &self.data
    }

    /// The groups this tablet belongs to.
    pub fn groups(&self) -> &[GroupId] {
        &self.target.groups
    }

    pub fn device_public_key(&self) -> crate::domain::PublicKey {
        self.device_key.public()
    }
}

/// Where root version `v` lies beside an offered root file: in `roots/`
/// next to it (`root.json` and `roots/N.root.json`, as the facility
/// publishes them), or next to it when the offered file is itself in
/// `roots/`.
fn intermediate_root(offered: &Path, v: u64) -> std::path::PathBuf {
    let dir = offered.parent().unwrap_or(Path::new("."));
    let name = format!("{v}.root.json");
    if dir.file_name().is_some_and(|n| n == "roots") && !dir.join("roots").exists() {
        dir.join(name)
    } else {
        dir.join("roots").join(name)
    }
}
