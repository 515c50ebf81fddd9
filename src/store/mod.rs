//! The tablet's SQLite store: connection setup, migrations, repositories.
//!
//! Architecture invariant: SQL lives here and nowhere else. Callers get
//! domain types back. Every write that matters is one transaction, and the
//! connection runs with `journal_mode=WAL` and `synchronous=FULL`, so a
//! committed transaction survives a power cut.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use crate::domain::rules::HighWater;
use crate::domain::time::ClockState;
use crate::domain::{BundleId, Manifest, Sha256};

mod audit;
mod contacts;
mod content;
mod messages;
mod people;
mod sync;

pub use contacts::{ContactRequestRow, NewContactRequest};
pub use content::{Bookmark, CatalogueRow, CertificateRow, PlayerState, QuizBest, SearchFilter};
pub use messages::{NewLetter, OutboxRow};
pub use people::{PersonRow, UsageRow};
pub use sync::{ThreadItem, ThreadSummary};

/// Numbered migrations, in order. Append only; never edit a shipped one.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_init.sql")),
        M::up_with_hook(
            include_str!("migrations/0002_people_policy_audit.sql"),
            audit::move_events_into_audit,
        ),
        M::up(include_str!("migrations/0003_messages.sql")),
        M::up(include_str!("migrations/0004_sync.sql")),
        M::up(include_str!("migrations/0005_content.sql")),
        M::up(include_str!("migrations/0006_mail_subject.sql")),
        M::up(include_str!("migrations/0007_tablet_settings.sql")),
        M::up(include_str!("migrations/0008_catalogue_ids.sql")),
        M::up(include_str!("migrations/0009_contact_requests.sql")),
    ])
}

/// Timestamps are stored as RFC 3339 with nanoseconds, so they read back
/// exactly (the audit chain hashes them).
pub(crate) use crate::domain::time::ts;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path} could not be migrated: {source}")]
    Migration {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error(
        "database {path} failed its integrity check ({detail}); run `berth recover --data DIR` \
         to set it aside and start clean, then dock the tablet to restore from the facility"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("database {path} holds a bad value in {what}: {why}")]
    BadValue {
        path: PathBuf,
        what: &'static str,
        why: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One installed bundle, as the store records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledBundle {
    pub bundle_id: String,
    pub version: u64,
    pub manifest_sha256: String,
    pub content_type: String,
    pub vendor: String,
    pub title: String,
    pub total_size: u64,
    pub file_count: u64,
}

/// Everything an install commits, in one transaction.
pub struct InstallRecord<'a> {
    pub manifest: &'a Manifest,
    pub manifest_sha256: Sha256,
    pub manifest_envelope: &'a [u8],
    pub approval_envelope: &'a [u8],
    pub installed_at: DateTime<Utc>,
    pub clock: &'a ClockState,
}

pub(crate) use crate::sql::{CachedSql, STATEMENT_CACHE};

/// Write the damage record durably (a temporary file, fsynced, renamed).
fn record_damage(db: &Path, detail: &str) -> std::io::Result<()> {
    use std::io::Write;
    let marker = damage_marker(db);
    let dir = marker
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(detail.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&marker).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Where [`Store::check_all`] records damage it found: beside the
/// database, moved aside with it by `berth recover`.
pub fn damage_marker(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-damaged", db.display()))
}

impl Store {
    /// Open (creating if needed), migrate, and check integrity.
    pub fn open(path: &Path) -> Result<Self> {
        // Damage shows up as "not a database" or "corrupt" on the first
        // statement; name the recovery rather than the SQLite code.
        let sq = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Error::Corrupt {
                    path: path.to_path_buf(),
                    detail: source.to_string(),
                }
            }
            _ => Error::Sqlite {
                path: path.to_path_buf(),
                source,
            },
        };
        let conn = Connection::open(path).map_err(sq)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sq)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sq)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sq)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        // Damage the background check found earlier is refused until the
        // database is set aside.
        if let Ok(detail) = std::fs::read_to_string(damage_marker(path)) {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: format!(
                    "found by the full check while the tablet ran: {}",
                    detail.trim()
                ),
            });
        }
        // A file too damaged to even answer the check is corrupt as well.
        let detail = store.open_check().unwrap_or_else(|e| match e {
            Error::Sqlite { source, .. } => source.to_string(),
            other => other.to_string(),
        });
        if detail != "ok" {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail,
            });
        }
        let mut store = store;
        migrations()
            .to_latest(&mut store.conn)
            .map_err(|source| Error::Migration {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sq(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn bad(&self, what: &'static str, why: impl ToString) -> Error {
        Error::BadValue {
            path: self.path.clone(),
            what,
            why: why.to_string(),
        }
    }

    /// `PRAGMA integrity_check`: "ok", or the first problem found.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .cached_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(self.sq())
    }

    /// The check at every open: `PRAGMA integrity_check` of each table
    /// that holds people's own records (letters, progress, entitlements,
    /// PINs, the audit log, the clock, sync state), with its indexes. Left
    /// to [`Store::check_all`], which the shell runs in the background: the
    /// catalogue and its search indexes (rebuilt from the installed bundles
    /// at start) and the installed bundles' rows with their signed
    /// manifests (a record, never read back; the dock can send any bundle
    /// again). On a full tablet those are nearly all of the file: with
    /// 100,000 items, 130 MB and 0.7 s to check, against 20 ms for a start.
    fn open_check(&self) -> Result<String> {
        let tables = self.list_names(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'catalogue%' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'bundles' ORDER BY name",
        )?;
        for t in tables {
            let r: String = self
                .conn
                .query_row(
                    &format!("PRAGMA integrity_check(\"{}\")", t.replace('"', "\"\"")),
                    [],
                    |r| r.get(0),
                )
                .map_err(self.sq())?;
            if r != "ok" {
                return Ok(r);
            }
        }
        Ok("ok".into())
    }

    fn list_names(&self, sql: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(sql).map_err(self.sq())?;
        let rows = st
            .query_map([], |r| r.get(0))
            .map_err(self.sq())?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.sq())?;
        Ok(rows)
    }

    /// The whole `PRAGMA integrity_check` of the database at `path`, on a
    /// read-only connection of its own (beside a running tablet). Damage
    /// is recorded beside the database, so the next [`Store::open`]
    /// refuses it with the recovery; "ok" or the problem found.
    pub fn check_all(path: &Path) -> Result<String> {
        let sq = |source| Error::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sq)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sq)?;
        // Only what SQLite calls damage is recorded: a busy or unreadable
        // file is an error to report, not a reason to refuse the next start.
        let detail = match conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)) {
            Ok(d) => d,
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
                ) =>
            {
                e.to_string()
            }
            Err(e) => return Err(sq(e)),
        };
        if detail != "ok" {
            record_damage(path, &detail).map_err(|e| Error::BadValue {
                path: damage_marker(path),
                what: "the damage record",
                why: e.to_string(),
            })?;
        }
        Ok(detail)
    }

    // ---- trust root ----

    /// The envelope bytes of the newest accepted root, if any.
    pub fn trust_root(&self) -> Result<Option<Vec<u8>>> {
        self.conn
            .cached_row(
                "SELECT envelope FROM trust_root ORDER BY version DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sq())
    }

    pub fn save_trust_root(
        &mut self,
        version: u64,
        facility: &str,
        envelope: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.transaction().map_err(|source| Error::Sqlite {
            path: self.path.clone(),
            source,
        })?;
        tx.cached_exec(
            "INSERT INTO trust_root (version, facility, envelope, accepted_at) VALUES (?1, ?2, ?3, ?4)",
            params![version as i64, facility, envelope, now.to_rfc3339()],
        )
        .and_then(|_| {
            audit::append(
                &tx,
                now,
                None,
                crate::audit::kind::ROOT_ACCEPTED,
                &format!("facility {facility} root version {version}"),
            )
        })
        .and_then(|_| tx.commit())
        .map_err(self.sq())
    }

    // ---- bundles ----

    pub fn high_water(&self, bundle_id: &BundleId) -> Result<Option<HighWater>> {
        let row: Option<(i64, String)> = self
            .conn
            .cached_row(
                "SELECT version, manifest_sha256 FROM high_water WHERE bundle_id = ?1",
                [bundle_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sq())?;
        row.map(|(v, h)| {
            Ok(HighWater {
                version: v as u64,
                manifest_sha256: Sha256::from_hex(&h).map_err(|e| self.bad("high_water", e))?,
            })
        })
        .transpose()
    }

    /// The current bundles, by id.
    pub fn current_bundles(&self) -> Result<Vec<InstalledBundle>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT b.bundle_id, b.version, b.manifest_sha256, b.content_type, b.vendor, \
                 b.title, b.total_size, b.file_count \
                 FROM current_bundle c JOIN bundles b ON b.manifest_sha256 = c.manifest_sha256 \
                 ORDER BY b.bundle_id",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(InstalledBundle {
                    bundle_id: r.get(0)?,
                    version: r.get::<_, i64>(1)? as u64,
                    manifest_sha256: r.get(2)?,
                    content_type: r.get(3)?,
                    vendor: r.get(4)?,
                    title: r.get(5)?,
                    total_size: r.get::<_, i64>(6)? as u64,
                    file_count: r.get::<_, i64>(7)? as u64,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.sq())
    }

    /// Record an install: the bundle row, the current pointer, the
    /// high-water mark, the clock and an event, in one transaction.
    /// `before_commit` runs inside the transaction just before COMMIT; the
    /// kill-9 tests use it as a failpoint.
    pub fn record_install(
        &mut self,
        rec: &InstallRecord<'_>,
        before_commit: impl FnOnce(),
    ) -> Result<Option<String>> {
        let path = self.path.clone();
        let sq = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let m = rec.manifest;
        let tx = self.conn.transaction().map_err(sq)?;
        let previous: Option<String> = tx
            .cached_row(
                "SELECT manifest_sha256 FROM current_bundle WHERE bundle_id = ?1",
                [m.bundle_id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sq)?;
        let hash = rec.manifest_sha256.to_hex();
        tx.cached_exec(
            "INSERT INTO bundles (manifest_sha256, bundle_id, version, content_type, vendor, title, \
             total_size, file_count, manifest_envelope, approval_envelope, installed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (manifest_sha256) DO UPDATE SET approval_envelope = excluded.approval_envelope, \
             installed_at = excluded.installed_at",
            params![
                hash,
                m.bundle_id.as_str(),
                m.version as i64,
                m.content_type.as_str(),
                m.vendor.as_str(),
                m.title,
                m.total_size as i64,
                m.files.len() as i64,
                rec.manifest_envelope,
                rec.approval_envelope,
                rec.installed_at.to_rfc3339(),
            ],
        )
        .map_err(sq)?;
        tx.cached_exec(
            "INSERT INTO current_bundle (bundle_id, manifest_sha256) VALUES (?1, ?2) \
             ON CONFLICT (bundle_id) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256",
            params![m.bundle_id.as_str(), hash],
        )
        .map_err(sq)?;
        tx.cached_exec(
            "INSERT INTO high_water (bundle_id, version, manifest_sha256) VALUES (?1, ?2, ?3) \
             ON CONFLICT (bundle_id) DO UPDATE SET version = excluded.version, \
             manifest_sha256 = excluded.manifest_sha256 WHERE excluded.version > high_water.version",
            params![m.bundle_id.as_str(), m.version as i64, hash],
        )
        .map_err(sq)?;
        save_clock(&tx, rec.clock).map_err(sq)?;
        audit::append(
            &tx,
            rec.installed_at,
            None,
            crate::audit::kind::BUNDLE_INSTALLED,
            &format!("{} version {} ({})", m.bundle_id, m.version, hash),
        )
        .map_err(sq)?;
        before_commit();
        tx.commit().map_err(sq)?;
        Ok(previous)
    }

    /// Manifest hashes that some current bundle points at.
    /// The approval stored with an installed manifest.
    pub fn approval_envelope(&self, manifest_sha256: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .cached_row(
                "SELECT approval_envelope FROM bundles WHERE manifest_sha256 = ?1",
                [manifest_sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sq())
    }

    pub fn referenced_content(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT manifest_sha256 FROM current_bundle")
            .map_err(self.sq())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.sq())
    }

    // ---- clock ----

    pub fn clock(&self) -> Result<Option<ClockState>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .cached_row(
                "SELECT last_trusted, boot_id, monotonic_ms FROM clock WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.sq())?;
        row.map(|(t, b, m)| {
            Ok(ClockState {
                last_trusted: DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| self.bad("clock", e))?
                    .with_timezone(&Utc),
                boot_id: b,
                monotonic_ms: m as u64,
            })
        })
        .transpose()
    }

    pub fn save_clock(&mut self, state: &ClockState) -> Result<()> {
        save_clock(&self.conn, state).map_err(self.sq())
    }

    // ---- audit ----

    /// Append one audit entry (its own transaction).
    pub fn audit(
        &mut self,
        at: DateTime<Utc>,
        person: Option<&str>,
        kind: &str,
        detail: &str,
    ) -> Result<u64> {
        let path = self.path.clone();
        let sq = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sq)?;
        let seq = audit::append(&tx, at, person, kind, detail).map_err(sq)?;
        tx.commit().map_err(sq)?;
        Ok(seq)
    }

    /// The whole log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<crate::audit::AuditEntry>> {
        audit::list(&self.conn, None, None, 0).map_err(self.sq())
    }

    /// One person's entries, oldest first.
    pub fn audit_for(&self, person: &str) -> Result<Vec<crate::audit::AuditEntry>> {
        audit::list(&self.conn, Some(person), None, 0).map_err(self.sq())
    }

    /// Entries of one kind, oldest first.
    pub fn audit_of_kind(&self, kind: &str) -> Result<Vec<crate::audit::AuditEntry>> {
        audit::list(&self.conn, None, Some(kind), 0).map_err(self.sq())
    }

    /// Entries after `seq`, for export to the dock.
    pub fn audit_since(&self, seq: u64) -> Result<Vec<crate::audit::AuditEntry>> {
        audit::list(&self.conn, None, None, seq).map_err(self.sq())
    }
}

fn save_clock(conn: &Connection, s: &ClockState) -> rusqlite::Result<()> {
    conn.cached_exec(
        "INSERT INTO clock (id, last_trusted, boot_id, monotonic_ms) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET last_trusted = excluded.last_trusted, \
         boot_id = excluded.boot_id, monotonic_ms = excluded.monotonic_ms",
        params![
            s.last_trusted.to_rfc3339(),
            s.boot_id,
            s.monotonic_ms as i64
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn opens_twice_and_keeps_clock() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.sqlite");
        let s = ClockState {
            last_trusted: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            boot_id: "b".into(),
            monotonic_ms: 7,
        };
        Store::open(&p).unwrap().save_clock(&s).unwrap();
        let st = Store::open(&p).unwrap();
        assert_eq!(st.clock().unwrap(), Some(s));
        assert_eq!(st.integrity_check().unwrap(), "ok");
    }
}
