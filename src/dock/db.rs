//! The dock's SQLite database: the only place dock SQL lives.

use crate::sql::CachedSql;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{M, Migrations};

use super::{Error, Result};
use crate::domain::people::PersonId;
use crate::domain::sync::{FeedEntry, FeedItem};
use crate::domain::time::ts;

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_dock.sql")),
        M::up(include_str!("migrations/0002_content.sql")),
        M::up(include_str!("migrations/0003_mail.sql")),
        M::up(include_str!("migrations/0004_relay.sql")),
        M::up(include_str!("migrations/0005_pending.sql")),
        M::up(include_str!("migrations/0006_staff.sql")),
        M::up(include_str!("migrations/0007_contacts.sql")),
    ])
}

pub struct DockDb {
    conn: Connection,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TabletRow {
    pub key: String,
    pub name: String,
    pub groups: Vec<String>,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub last_sync: Option<String>,
    pub app_version: String,
    pub battery: Option<i64>,
    pub tamper_events: i64,
    pub audit_through: u64,
}

/// How many not-yet-enrolled tablets the dock remembers.
pub const MAX_PENDING: i64 = 1000;

/// A tablet that tried to sync before it was enrolled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTablet {
    pub key: String,
    pub code: String,
    pub first_seen: String,
    pub last_seen: String,
    pub attempts: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterRow {
    pub id: String,
    pub tablet: String,
    pub seq: u64,
    pub person: String,
    pub contact: String,
    pub attorney: bool,
    pub written_at: String,
    pub received_at: String,
    pub envelope: Vec<u8>,
    pub state: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundRow {
    pub id: String,
    /// SHA-256 of the raw message: the same bytes to the same person are
    /// one letter.
    pub content_sha256: String,
    pub message_id: String,
    pub person: String,
    pub contact: String,
    pub attorney: bool,
    pub sender: String,
    pub subject: String,
    pub body: String,
    /// Parts left out (attachments), as JSON `[{"name", "bytes"}]`.
    pub removed: Vec<super::mail::Removed>,
    pub sent_at: String,
    pub received_at: String,
    pub state: String,
    pub reason: String,
}

/// A page of a person's feed for one tablet.
pub struct FeedPage {
    pub entries: Vec<Vec<u8>>,
    /// The highest seq examined, sent or left out.
    pub through: u64,
    pub examined: usize,
    pub more: bool,
}

pub struct ContactRow {
    pub contact: String,
    pub name: String,
    pub email: String,
    pub attorney: bool,
}

/// A verified letter ready to store.
pub struct NewLetter<'a> {
    pub id: &'a str,
    pub seq: u64,
    pub person: &'a str,
    pub contact: &'a str,
    pub attorney: bool,
    pub written_at: DateTime<Utc>,
    pub envelope: &'a [u8],
    /// Set when the letter cannot be delivered (contact no longer approved).
    pub rejected: Option<&'a str>,
    pub message: &'a crate::domain::messages::OutboundMessage,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleRow {
    pub manifest_sha256: String,
    pub bundle_id: String,
    pub version: u64,
    pub vendor: String,
    pub content_type: String,
    pub size: u64,
    pub state: String,
    pub groups: Vec<String>,
    pub uploaded_at: String,
}

fn split_groups(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// An uploaded certificate: (id, person, course, received, envelope).
pub type CertificateRecord = (String, String, String, String, Vec<u8>);

/// Append a signed entry to a person's feed; the entry carries its own seq.
pub fn append_feed(
    tx: &Transaction<'_>,
    person: &str,
    at: DateTime<Utc>,
    item: FeedItem,
    sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
) -> rusqlite::Result<u64> {
    let entry = reserve_feed(tx, person, at, item)?;
    tx.prepare_cached("UPDATE feed SET envelope = ?2 WHERE seq = ?1")?
        .execute(params![entry.seq as i64, sign(&entry)])?;
    Ok(entry.seq)
}

/// Give a feed entry its sequence number: a row whose envelope the same
/// transaction fills in once the entry is signed (an unsigned row never
/// commits, so no reader sees one).
fn reserve_feed(
    tx: &Transaction<'_>,
    person: &str,
    at: DateTime<Utc>,
    item: FeedItem,
) -> rusqlite::Result<FeedEntry> {
    let origin = match &item {
        FeedItem::Sent { message } => message.tablet.to_hex(),
        _ => String::new(),
    };
    tx.prepare_cached("INSERT INTO feed (person, origin, envelope) VALUES (?1, ?2, x'')")?
        .execute([person, &origin])?;
    let seq = tx.last_insert_rowid() as u64;
    let entry = FeedEntry {
        seq,
        person: PersonId::parse(person).map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(e.to_string())))
        })?,
        at,
        item,
    };
    Ok(entry)
}

pub fn set_roster_people(
    tx: &Transaction<'_>,
    roster: &str,
    people: &[(String, String)],
) -> rusqlite::Result<()> {
    tx.cached_exec("DELETE FROM roster_people WHERE roster = ?1", [roster])?;
    for (p, name) in people {
        tx.cached_exec(
            "INSERT INTO roster_people (person, name, roster) VALUES (?1, ?2, ?3) \
             ON CONFLICT (person) DO UPDATE SET name = excluded.name, roster = excluded.roster",
            [p, name, roster],
        )?;
    }
    Ok(())
}

pub fn set_contacts(
    tx: &Transaction<'_>,
    person: &str,
    rows: &[ContactRow],
) -> rusqlite::Result<()> {
    tx.cached_exec("DELETE FROM contacts WHERE person = ?1", [person])?;
    for c in rows {
        tx.cached_exec(
            "INSERT INTO contacts (person, contact, name, email, attorney) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![person, c.contact, c.name, c.email.to_ascii_lowercase(), c.attorney as i64],
        )?;
    }
    Ok(())
}

const TABLET_COLS: &str = "key, name, groups, enrolled_at, revoked_at, last_sync, app_version, battery, tamper_events, audit_through";

fn tablet_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TabletRow> {
    Ok(TabletRow {
        key: r.get(0)?,
        name: r.get(1)?,
        groups: split_groups(r.get(2)?),
        enrolled_at: r.get(3)?,
        revoked_at: r.get(4)?,
        last_sync: r.get(5)?,
        app_version: r.get(6)?,
        battery: r.get(7)?,
        tamper_events: r.get(8)?,
        audit_through: r.get::<_, i64>(9)? as u64,
    })
}

const LETTER_COLS: &str =
    "id, tablet, seq, person, contact, attorney, written_at, received_at, envelope, state, reason";

fn letter_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LetterRow> {
    Ok(LetterRow {
        id: r.get(0)?,
        tablet: r.get(1)?,
        seq: r.get::<_, i64>(2)? as u64,
        person: r.get(3)?,
        contact: r.get(4)?,
        attorney: r.get::<_, i64>(5)? != 0,
        written_at: r.get(6)?,
        received_at: r.get(7)?,
        envelope: r.get(8)?,
        state: r.get(9)?,
        reason: r.get(10)?,
    })
}

const INBOUND_COLS: &str = "id, message_id, person, contact, attorney, sender, subject, body, sent_at, received_at, state, reason, content_sha256, removed";

fn inbound_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboundRow> {
    Ok(InboundRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        person: r.get(2)?,
        contact: r.get(3)?,
        attorney: r.get::<_, i64>(4)? != 0,
        sender: r.get(5)?,
        subject: r.get(6)?,
        body: r.get(7)?,
        sent_at: r.get(8)?,
        received_at: r.get(9)?,
        state: r.get(10)?,
        reason: r.get(11)?,
        content_sha256: r.get(12)?,
        removed: serde_json::from_str(&r.get::<_, String>(13)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, Box::new(e))
        })?,
    })
}

impl DockDb {
    /// Make a new, empty dock database at `path` (which must not exist).
    pub fn create(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        Self::setup(conn)
    }

    /// Open the dock database at `path`. It must exist and be a dock
    /// database: a missing or empty file is refused, so a mistyped path or
    /// a lost disk never silently starts a new, empty dock.
    pub fn open(path: &Path) -> Result<Self> {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if len == 0 {
            let dir = path.parent().unwrap_or(Path::new("."));
            return Err(Error::Refused(format!(
                "{} {}; nothing was changed. A new dock is made only by `berth-dock init --dir FACILITY --data {}`; \
                 if this dock had data, restore dock.db from its backup",
                path.display(),
                if path.exists() {
                    "is empty"
                } else {
                    "does not exist"
                },
                dir.display()
            )));
        }
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        Self::setup(conn)
    }

    /// `PRAGMA integrity_check`: Ok, or what SQLite found wrong.
    pub fn integrity_check(&self) -> Result<std::result::Result<(), String>> {
        let mut st = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(Ok(()))
        } else {
            Ok(Err(rows.into_iter().take(5).collect::<Vec<_>>().join("; ")))
        }
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(crate::sql::STATEMENT_CACHE);
        migrations().to_latest(&mut conn)?;
        Ok(DockDb { conn })
    }

    /// Run `f` in one IMMEDIATE transaction (writers queue at BEGIN rather
    /// than fail at COMMIT). Writers in this process queue on a mutex
    /// first: SQLite's busy handler backs off in sleeps of up to 100 ms,
    /// which would make fifty docking tablets slower than one after another.
    pub fn tx<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        static WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = WRITERS.lock().unwrap_or_else(|p| p.into_inner());
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- tablets ----

    pub fn enroll(
        &mut self,
        key: &str,
        name: &str,
        groups: &str,
        audit: &StaffAuditNew<'_>,
    ) -> Result<()> {
        let at = audit.at;
        self.tx(|tx| {
            if let Some(existing) = tx
                .cached_row("SELECT name FROM tablets WHERE key = ?1 OR name = ?2", [key, name], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
            {
                return Err(Error::Refused(format!(
                    "that key or name is already enrolled (as {existing}); revoke it first or pick another name"
                )));
            }
            tx.cached_exec(
                "INSERT INTO tablets (key, name, groups, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
                params![key, name, groups, ts(&at)],
            )?;
            tx.cached_exec("DELETE FROM pending_tablets WHERE key = ?1", [key])?;
            append_staff_audit(tx, audit)
        })
    }

    pub fn revoke(&mut self, tablet: &str, audit: &StaffAuditNew<'_>) -> Result<()> {
        self.tx(|tx| {
            let n = tx.cached_exec(
                "UPDATE tablets SET revoked_at = ?2 WHERE (key = ?1 OR name = ?1) AND revoked_at IS NULL",
                params![tablet, ts(&audit.at)],
            )?;
            if n == 0 {
                return Err(Error::NotFound {
                    what: "enrolled, unrevoked tablet",
                    id: tablet.into(),
                    hint: "see `berth-facility tablets --data D` for names and keys; nothing was changed",
                });
            }
            append_staff_audit(tx, audit)
        })
    }

    /// A tablet that is not enrolled tried to sync: remember its key and
    /// code for staff (at most [`MAX_PENDING`] kept, the most recent).
    pub fn note_unenrolled(&mut self, key: &str, code: &str, at: DateTime<Utc>) -> Result<()> {
        self.tx(|tx| {
            tx.cached_exec(
                "INSERT INTO pending_tablets (key, code, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (key) DO UPDATE SET last_seen = ?3, attempts = attempts + 1",
                params![key, code, ts(&at)],
            )?;
            tx.cached_exec(
                "DELETE FROM pending_tablets WHERE key NOT IN
                 (SELECT key FROM pending_tablets ORDER BY last_seen DESC LIMIT ?1)",
                [MAX_PENDING],
            )?;
            Ok(())
        })
    }

    /// Tablets waiting to be enrolled, the most recently seen first.
    pub fn pending_tablets(&self) -> Result<Vec<PendingTablet>> {
        let mut st = self.conn.prepare(
            "SELECT key, code, first_seen, last_seen, attempts FROM pending_tablets
             ORDER BY last_seen DESC, key",
        )?;
        let rows = st.query_map([], |r| {
            Ok(PendingTablet {
                key: r.get(0)?,
                code: r.get(1)?,
                first_seen: r.get(2)?,
                last_seen: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn tablets(&self) -> Result<Vec<TabletRow>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {TABLET_COLS} FROM tablets ORDER BY name"))?;
        let rows = st.query_map([], tablet_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn tablet(&self, key: &str) -> Result<Option<TabletRow>> {
        Ok(self
            .conn
            .cached_row(
                &format!("SELECT {TABLET_COLS} FROM tablets WHERE key = ?1"),
                [key],
                tablet_row,
            )
            .optional()?)
    }

    pub fn record_report(
        &mut self,
        key: &str,
        at: DateTime<Utc>,
        report: &crate::domain::sync::TabletReport,
        audit: Option<(u64, u64, &[u8])>,
    ) -> Result<u64> {
        self.tx(|tx| {
            tx.cached_exec(
                "UPDATE tablets SET last_sync = ?2, app_version = ?3, battery = ?4, tamper_events = ?5 WHERE key = ?1",
                params![
                    key,
                    ts(&at),
                    report.app_version,
                    report.battery_percent.map(i64::from),
                    report.tamper_events as i64
                ],
            )?;
            for u in &report.usage {
                tx.prepare_cached(
                    "INSERT INTO usage (tablet, person, day, metered_secs, free_secs, letters) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (tablet, person, day) DO UPDATE SET \
                     metered_secs = MAX(metered_secs, excluded.metered_secs), \
                     free_secs = MAX(free_secs, excluded.free_secs), letters = MAX(letters, excluded.letters)",
                )?
                .execute(params![
                    key,
                    u.person.as_str(),
                    u.day,
                    u.metered_secs as i64,
                    u.free_secs as i64,
                    u.letters as i64
                ])?;
            }
            if let Some((from, through, envelope)) = audit {
                tx.cached_exec(
                    "INSERT INTO reports (tablet, received_at, audit_from, envelope) VALUES (?1, ?2, ?3, ?4)",
                    params![key, ts(&at), from as i64, envelope],
                )?;
                tx.cached_exec(
                    "UPDATE tablets SET audit_through = MAX(audit_through, ?2) WHERE key = ?1",
                    params![key, through as i64],
                )?;
            }
            Ok(tx.cached_row("SELECT audit_through FROM tablets WHERE key = ?1", [key], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        })
    }

    /// A person's reported use per day, across tablets:
    /// (day, metered secs, free secs, letters).
    pub fn usage_of(&self, person: &str) -> Result<Vec<(String, u64, u64, u32)>> {
        let mut st = self.conn.prepare(
            "SELECT day, SUM(metered_secs), SUM(free_secs), SUM(letters) FROM usage \
             WHERE person = ?1 GROUP BY day ORDER BY day",
        )?;
        let rows = st.query_map([person], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u32,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn touch(&mut self, key: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE tablets SET last_sync = ?2 WHERE key = ?1",
            params![key, ts(&at)],
        )?;
        Ok(())
    }

    // ---- documents ----

    pub fn publish(
        &mut self,
        kind: &str,
        scope: &str,
        version: u64,
        envelope: &[u8],
        at: DateTime<Utc>,
        extra: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<()> {
        self.tx(|tx| {
            if publish_in(tx, kind, scope, version, envelope, at)? {
                extra(tx)?;
            }
            Ok(())
        })
    }

    /// The people a tablet in `groups` serves: those on rosters for its groups.
    pub fn people_for(&self, groups: &[String]) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT person, roster FROM roster_people ORDER BY person")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (p, roster) = row?;
            if groups.contains(&roster) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Documents a tablet should hold: rosters and policies of its groups,
    /// and the policies and contact lists of its people.
    pub fn documents_for(
        &self,
        groups: &[String],
        people: &[String],
    ) -> Result<Vec<(String, String, u64, Vec<u8>)>> {
        let mut st = self.conn.prepare(
            "SELECT kind, scope, version, envelope FROM documents ORDER BY kind DESC, scope",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        let person_scopes: Vec<String> = people
            .iter()
            .map(|p| format!("person:{}", p.to_ascii_lowercase()))
            .collect();
        let mut out = Vec::new();
        for row in rows {
            let d = row?;
            let wanted = match d.0.as_str() {
                "roster" => groups.contains(&d.1),
                "policy" => groups.contains(&d.1) || person_scopes.contains(&d.1),
                "contacts" => person_scopes.contains(&d.1),
                _ => false,
            };
            if wanted {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub fn contacts_of(&self, person: &str) -> Result<Vec<(String, String, String, bool)>> {
        let mut st = self.conn.prepare(
            "SELECT contact, name, email, attorney FROM contacts WHERE person = ?1 ORDER BY contact",
        )?;
        let rows = st.query_map([person], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A person on a published roster, by id in any case: (id, name).
    pub fn person(&self, person: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .cached_row(
                "SELECT person, name FROM roster_people WHERE lower(person) = lower(?1)",
                [person],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    // ---- letters ----

    /// Store a batch of verified letters in one transaction. A letter whose
    /// (tablet, seq) is held already must be the same letter; it counts as
    /// `already`. New letters enter review and the writer's feed.
    pub fn store_letters(
        &mut self,
        tablet: &str,
        letters: &[NewLetter<'_>],
        at: DateTime<Utc>,
        sign: &(dyn Fn(&FeedEntry) -> Vec<u8> + Sync),
    ) -> Result<(u32, u32)> {
        self.tx(|tx| {
            let (mut stored, mut already) = (0, 0);
            // Each letter's two feed entries get their sequence numbers
            // here, and are signed together below, on every core.
            let mut entries: Vec<FeedEntry> = Vec::with_capacity(letters.len() * 2);
            for l in letters {
                let held: Option<(String, Vec<u8>)> = tx
                    .prepare_cached("SELECT id, envelope FROM letters WHERE tablet = ?1 AND seq = ?2")?
                    .query_row(params![tablet, l.seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((id, env)) = held {
                    if id != l.id || env != l.envelope {
                        return Err(Error::Refused(format!(
                            "this tablet already sent a different letter with sequence number {}; nothing was stored",
                            l.seq
                        )));
                    }
                    already += 1;
                    continue;
                }
                let (state, reason) = match l.rejected {
                    Some(r) => ("rejected", r),
                    None => ("in-review", ""),
                };
                tx.prepare_cached(&format!(
                    "INSERT INTO letters ({LETTER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ))?
                .execute(params![
                        l.id,
                        tablet,
                        l.seq as i64,
                        l.person,
                        l.contact,
                        l.attorney as i64,
                        ts(&l.written_at),
                        ts(&at),
                        l.envelope,
                        state,
                        reason
                    ],
                )
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        Error::Refused(format!(
                            "letter id {} is already held from another tablet; nothing was stored",
                            l.id
                        ))
                    }
                    e => e.into(),
                })?;
                entries.push(reserve_feed(
                    tx,
                    l.person,
                    at,
                    FeedItem::Sent {
                        message: l.message.clone(),
                    },
                )?);
                entries.push(reserve_feed(
                    tx,
                    l.person,
                    at,
                    FeedItem::State {
                        id: l.id.to_string(),
                        state: crate::domain::messages::OutState::parse(state)
                            .expect("known state"),
                        reason: reason.to_string(),
                    },
                )?);
                stored += 1;
            }
            let signed = crate::trust::par_map(&entries, |e| sign(e));
            let mut set = tx.prepare_cached("UPDATE feed SET envelope = ?2 WHERE seq = ?1")?;
            for (e, env) in entries.iter().zip(signed) {
                set.execute(params![e.seq as i64, env])?;
            }
            Ok((stored, already))
        })
    }

    pub fn letters(&self, state: Option<&str>) -> Result<Vec<LetterRow>> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {LETTER_COLS} FROM letters WHERE ?1 IS NULL OR state = ?1 ORDER BY received_at, tablet, seq"
        ))?;
        let rows = st.query_map([state], letter_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn letter(&self, id: &str) -> Result<Option<LetterRow>> {
        Ok(self
            .conn
            .cached_row(
                &format!("SELECT {LETTER_COLS} FROM letters WHERE id = ?1"),
                [id],
                letter_row,
            )
            .optional()?)
    }

    /// Approved letters due for the relay: (id, last error, attempts).
    pub fn letters_to_send(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(String, u32)>> {
        let mut st = self.conn.prepare(
            "SELECT id, attempts FROM letters WHERE state = 'approved' \
             AND (next_attempt IS NULL OR next_attempt <= ?1) ORDER BY reviewed_at, id LIMIT ?2",
        )?;
        let rows = st.query_map(params![ts(&now), limit as i64], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u32))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The relay accepted the letter: 'sent', and the writer's feed says so.
    pub fn mark_sent(
        &mut self,
        id: &str,
        at: DateTime<Utc>,
        sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
    ) -> Result<bool> {
        self.tx(|tx| {
            let person: Option<String> = tx
                .cached_row(
                    "SELECT person FROM letters WHERE id = ?1 AND state = 'approved'",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(person) = person else {
                return Ok(false);
            };
            tx.cached_exec(
                "UPDATE letters SET state = 'sent', sent_at = ?2, last_error = '' WHERE id = ?1",
                params![id, ts(&at)],
            )?;
            append_feed(
                tx,
                &person,
                at,
                FeedItem::State {
                    id: id.to_string(),
                    state: crate::domain::messages::OutState::Sent,
                    reason: String::new(),
                },
                sign,
            )?;
            Ok(true)
        })
    }

    /// A try failed: count it, say why, and when to try again.
    pub fn mark_send_failed(
        &mut self,
        id: &str,
        attempts: u32,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE letters SET attempts = ?2, next_attempt = ?3, last_error = ?4 WHERE id = ?1 AND state = 'approved'",
            params![id, attempts as i64, ts(&next), error],
        )?;
        Ok(())
    }

    /// (attempts, last error, sent at) of a letter.
    pub fn relay_status(&self, id: &str) -> Result<Option<(u32, String, Option<String>)>> {
        Ok(self
            .conn
            .cached_row(
                "SELECT attempts, last_error, sent_at FROM letters WHERE id = ?1",
                [id],
                |r| Ok((r.get::<_, i64>(0)? as u32, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Decide a letter in review: new state, reason and reviewer, and the
    /// writer's feed entry, in one transaction. `then` runs inside it (the
    /// gateway writes the .eml there, so a crash leaves both or neither
    /// marked).
    #[allow(clippy::too_many_arguments)]
    pub fn decide_letter(
        &mut self,
        id: &str,
        state: crate::domain::messages::OutState,
        reason: &str,
        by: &StaffAuditNew<'_>,
        sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
        then: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let at = by.at;
        self.tx(|tx| {
            let (person, current): (String, String) = tx
                .cached_row("SELECT person, state FROM letters WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| Error::NotFound {
                    what: "letter",
                    id: id.into(),
                    hint: "see `berth-facility review list --data D`",
                })?;
            if current != "in-review" {
                return Err(Error::Refused(format!(
                    "letter {id} is {current}, not in review; nothing changed"
                )));
            }
            tx.cached_exec(
                "UPDATE letters SET state = ?2, reason = ?3, reviewed_by = ?4, reviewed_at = ?5 WHERE id = ?1",
                params![id, state.as_str(), reason, by.actor, ts(&at)],
            )?;
            append_staff_audit(tx, by)?;
            append_feed(
                tx,
                &person,
                at,
                FeedItem::State {
                    id: id.into(),
                    state,
                    reason: reason.into(),
                },
                sign,
            )?;
            then()
        })
    }

    // ---- inbound mail ----

    pub fn insert_inbound(&mut self, row: &InboundRow) -> Result<bool> {
        let n = self.conn.cached_exec(
            &format!(
                "INSERT OR IGNORE INTO inbound ({INBOUND_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            params![
                row.id,
                row.message_id,
                row.person,
                row.contact,
                row.attorney as i64,
                row.sender,
                row.subject,
                row.body,
                row.sent_at,
                row.received_at,
                row.state,
                row.reason,
                row.content_sha256,
                serde_json::to_string(&row.removed).unwrap_or_else(|_| "[]".into()),
            ],
        )?;
        Ok(n == 1)
    }

    pub fn inbound(&self, state: Option<&str>) -> Result<Vec<InboundRow>> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {INBOUND_COLS} FROM inbound WHERE ?1 IS NULL OR state = ?1 ORDER BY received_at, id"
        ))?;
        let rows = st.query_map([state], inbound_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn inbound_one(&self, id: &str) -> Result<Option<InboundRow>> {
        Ok(self
            .conn
            .cached_row(
                &format!("SELECT {INBOUND_COLS} FROM inbound WHERE id = ?1"),
                [id],
                inbound_row,
            )
            .optional()?)
    }

    /// Decide inbound mail; approval puts it in the person's feed.
    pub fn decide_inbound(
        &mut self,
        id: &str,
        approve: bool,
        reason: &str,
        by: &StaffAuditNew<'_>,
        sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
    ) -> Result<()> {
        let at = by.at;
        self.tx(|tx| {
            let row = tx
                .cached_row(
                    &format!("SELECT {INBOUND_COLS} FROM inbound WHERE id = ?1"),
                    [id],
                    inbound_row,
                )
                .optional()?
                .ok_or_else(|| Error::NotFound {
                    what: "message",
                    id: id.into(),
                    hint: "see `berth-facility review list --data D`",
                })?;
            if row.state != "in-review" {
                return Err(Error::Refused(format!(
                    "message {id} is {}, not in review; nothing changed",
                    row.state
                )));
            }
            let state = if approve { "delivered" } else { "rejected" };
            tx.cached_exec(
                "UPDATE inbound SET state = ?2, reason = ?3, reviewed_by = ?4, reviewed_at = ?5 WHERE id = ?1",
                params![id, state, reason, by.actor, ts(&at)],
            )?;
            append_staff_audit(tx, by)?;
            if approve {
                let sent_at = DateTime::parse_from_rfc3339(&row.sent_at)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(at);
                append_feed(
                    tx,
                    &row.person,
                    at,
                    FeedItem::Received {
                        id: row.id.clone(),
                        contact: crate::domain::messages::ContactId::parse(&row.contact)?,
                        attorney: row.attorney,
                        body: row.body.clone(),
                        sent_at,
                        subject: row.subject.clone(),
                        removed: row
                            .removed
                            .iter()
                            .map(|r| crate::domain::sync::RemovedPart {
                                name: r.name.clone(),
                                bytes: r.bytes,
                            })
                            .collect(),
                    },
                    sign,
                )?;
            }
            Ok(())
        })
    }

    // ---- feed ----

    /// Up to `limit` entries after `cursor`, leaving out copies of
    /// `tablet`'s own letters. Returns the entries and the highest seq
    /// examined (the cursor the tablet may move to).
    pub fn feed_after(
        &self,
        person: &str,
        cursor: u64,
        limit: usize,
        tablet: &str,
    ) -> Result<FeedPage> {
        let mut st = self.conn.prepare(
            "SELECT seq, origin, envelope FROM feed WHERE person = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![person, cursor as i64, limit as i64 + 1], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut page = FeedPage {
            entries: Vec::new(),
            through: cursor,
            examined: 0,
            more: false,
        };
        for row in rows {
            let (seq, origin, env) = row?;
            if page.examined == limit {
                page.more = true;
                break;
            }
            page.examined += 1;
            page.through = seq;
            if origin != tablet {
                page.entries.push(env);
            }
        }
        Ok(page)
    }

    // ---- bundles ----

    pub fn insert_bundle(&mut self, b: &BundleRow) -> Result<bool> {
        let n = self.conn.cached_exec(
            "INSERT OR IGNORE INTO bundles (manifest_sha256, bundle_id, version, vendor, content_type, size, state, groups, uploaded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                b.manifest_sha256,
                b.bundle_id,
                b.version as i64,
                b.vendor,
                b.content_type,
                b.size as i64,
                b.state,
                b.groups.join(" "),
                b.uploaded_at
            ],
        )?;
        Ok(n == 1)
    }

    pub fn bundles(&self, state: Option<&str>) -> Result<Vec<BundleRow>> {
        let mut st = self.conn.prepare(
            "SELECT manifest_sha256, bundle_id, version, vendor, content_type, size, state, groups, uploaded_at \
             FROM bundles WHERE ?1 IS NULL OR state = ?1 ORDER BY uploaded_at, bundle_id",
        )?;
        let rows = st.query_map([state], |r| {
            Ok(BundleRow {
                manifest_sha256: r.get(0)?,
                bundle_id: r.get(1)?,
                version: r.get::<_, i64>(2)? as u64,
                vendor: r.get(3)?,
                content_type: r.get(4)?,
                size: r.get::<_, i64>(5)? as u64,
                state: r.get(6)?,
                groups: split_groups(r.get(7)?),
                uploaded_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Withdraw every approved version of a bundle. Returns how many.
    pub fn withdraw_bundle(&mut self, bundle_id: &str, at: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.cached_exec(
            "UPDATE bundles SET state = 'withdrawn', approved_at = ?2 WHERE bundle_id = ?1 AND state = 'approved'",
            params![bundle_id, ts(&at)],
        )?)
    }

    /// Keep uploaded certificates; a resend finds them held.
    pub fn store_certificates(
        &mut self,
        tablet: &str,
        certs: &[(&str, &str, &str, &[u8])],
        at: DateTime<Utc>,
    ) -> Result<(u32, u32)> {
        self.tx(|tx| {
            let (mut stored, mut already) = (0, 0);
            for (id, person, course, env) in certs {
                let n = tx.cached_exec(
                    "INSERT OR IGNORE INTO certificates (id, tablet, person, course, envelope, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![id, tablet, person, course, env, ts(&at)],
                )?;
                if n > 0 {
                    stored += 1;
                } else {
                    already += 1;
                }
            }
            Ok((stored, already))
        })
    }

    /// (id, person, course, received, envelope) of every certificate, newest first.
    pub fn certificates(&self) -> Result<Vec<CertificateRecord>> {
        let mut st = self.conn.prepare(
            "SELECT id, person, course, received_at, envelope FROM certificates ORDER BY received_at DESC, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keep a verified entitlement receipt and put it in the person's
    /// feed, once. `false` if the receipt was already held.
    pub fn grant_entitlement(
        &mut self,
        id: &str,
        person: &str,
        item: &str,
        envelope: &[u8],
        at: DateTime<Utc>,
        sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
    ) -> Result<bool> {
        self.tx(|tx| {
            let n = tx.cached_exec(
                "INSERT OR IGNORE INTO entitlements (id, person, item, envelope, issued_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, person, item, envelope, ts(&at)],
            )?;
            if n > 0 {
                let receipt = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, envelope);
                append_feed(tx, person, at, FeedItem::Entitlement { receipt }, sign)?;
            }
            Ok(n > 0)
        })
    }

    /// (id, item, issued) of a person's entitlements.
    pub fn entitlements_of(&self, person: &str) -> Result<Vec<(String, String, String)>> {
        let mut st = self.conn.prepare(
            "SELECT id, item, issued_at FROM entitlements WHERE person = ?1 ORDER BY issued_at, id",
        )?;
        let rows = st.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn mark_bundle_approved(
        &mut self,
        sha: &str,
        groups: &[String],
        size: u64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE bundles SET state = 'approved', groups = ?2, approved_at = ?3, size = ?4 WHERE manifest_sha256 = ?1",
            params![sha, groups.join(" "), ts(&at), size as i64],
        )?;
        Ok(())
    }

    // ---- refusals ----

    pub fn log_refusal(&mut self, at: DateTime<Utc>, what: &str, reason: &str) -> Result<()> {
        self.conn.cached_exec(
            "INSERT INTO refusals (at, what, reason) VALUES (?1, ?2, ?3)",
            params![ts(&at), what, reason],
        )?;
        Ok(())
    }

    pub fn refusals(&self) -> Result<Vec<(String, String, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT at, what, reason FROM refusals ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

// ---- staff (issue 17): accounts and the hash-chained staff audit ----

/// A staff account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRow {
    pub username: String,
    pub display_name: String,
    /// Role names, comma-separated.
    pub roles: String,
    pub password_hash: String,
    pub must_change: bool,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
}

/// One row of the staff audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub prev_sha256: String,
    pub sha256: String,
}

/// What a staff action writes to the trail (the chain fields are added
/// under the write lock).
pub struct StaffAuditNew<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

const STAFF_COLS: &str = "username, display_name, roles, password_hash, must_change, created_at, \
                          disabled_at, failed_logins, locked_until";

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        username: r.get(0)?,
        display_name: r.get(1)?,
        roles: r.get(2)?,
        password_hash: r.get(3)?,
        must_change: r.get(4)?,
        created_at: r.get(5)?,
        disabled_at: r.get(6)?,
        failed_logins: r.get(7)?,
        locked_until: r.get(8)?,
    })
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffAuditRow> {
    Ok(StaffAuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        detail: r.get(5)?,
        prev_sha256: r.get(6)?,
        sha256: r.get(7)?,
    })
}

/// Append one row to the staff trail inside `tx`, chained to the last.
fn append_staff_audit(tx: &Transaction<'_>, e: &StaffAuditNew<'_>) -> Result<()> {
    let prev: String = tx
        .query_row(
            "SELECT sha256 FROM staff_audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| super::staff::GENESIS.to_string());
    let at = ts(&e.at);
    let hash = super::staff::chain_hash(&prev, &at, e.actor, e.action, e.target, e.detail);
    tx.cached_exec(
        "INSERT INTO staff_audit (at, actor, action, target, detail, prev_sha256, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![at, e.actor, e.action, e.target, e.detail, prev, hash],
    )?;
    Ok(())
}

impl DockDb {
    pub fn staff_member(&self, username: &str) -> Result<Option<StaffRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {STAFF_COLS} FROM staff WHERE username = ?1"),
                [username],
                staff_row,
            )
            .optional()?)
    }

    pub fn staff_list(&self) -> Result<Vec<StaffRow>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {STAFF_COLS} FROM staff ORDER BY username"))?;
        let rows = st.query_map([], staff_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A new account and its audit row, together. Refused (`Ok(false)`)
    /// when the name is taken.
    pub fn staff_insert(&mut self, row: &StaffRow, audit: &StaffAuditNew<'_>) -> Result<bool> {
        self.tx(|tx| {
            let n = tx.cached_exec(
                &format!(
                    "INSERT INTO staff ({STAFF_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (username) DO NOTHING"
                ),
                params![
                    row.username,
                    row.display_name,
                    row.roles,
                    row.password_hash,
                    row.must_change,
                    row.created_at,
                    row.disabled_at,
                    row.failed_logins,
                    row.locked_until
                ],
            )?;
            if n == 1 {
                append_staff_audit(tx, audit)?;
            }
            Ok(n == 1)
        })
    }

    /// Change an account (the closure's row replaces the stored one) and
    /// write its audit row, in one transaction. `audit` None: a change
    /// that is not a staff action (a failed login's count).
    pub fn staff_update(
        &mut self,
        username: &str,
        change: impl FnOnce(&mut StaffRow),
        end_sessions: bool,
        audit: Option<&StaffAuditNew<'_>>,
    ) -> Result<Option<StaffRow>> {
        self.tx(|tx| {
            let Some(mut row) = tx
                .query_row(
                    &format!("SELECT {STAFF_COLS} FROM staff WHERE username = ?1"),
                    [username],
                    staff_row,
                )
                .optional()?
            else {
                return Ok(None);
            };
            change(&mut row);
            tx.cached_exec(
                "UPDATE staff SET display_name = ?2, roles = ?3, password_hash = ?4, must_change = ?5,
                 disabled_at = ?6, failed_logins = ?7, locked_until = ?8 WHERE username = ?1",
                params![
                    row.username,
                    row.display_name,
                    row.roles,
                    row.password_hash,
                    row.must_change,
                    row.disabled_at,
                    row.failed_logins,
                    row.locked_until
                ],
            )?;
            if end_sessions || row.disabled_at.is_some() {
                tx.cached_exec("DELETE FROM staff_sessions WHERE username = ?1", [username])?;
            }
            if let Some(a) = audit {
                append_staff_audit(tx, a)?;
            }
            Ok(Some(row))
        })
    }

    pub fn staff_session_insert(
        &mut self,
        digest: &str,
        username: &str,
        csrf: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.cached_exec(
            "INSERT INTO staff_sessions (token_sha256, username, csrf, created_at, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![digest, username, csrf, ts(&at)],
        )?;
        Ok(())
    }

    /// (username, csrf, last seen) of a session.
    pub fn staff_session_get(&self, digest: &str) -> Result<Option<(String, String, String)>> {
        Ok(self
            .conn
            .cached_row(
                "SELECT username, csrf, last_seen FROM staff_sessions WHERE token_sha256 = ?1",
                [digest],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    pub fn staff_session_touch(&mut self, digest: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE staff_sessions SET last_seen = ?2 WHERE token_sha256 = ?1",
            params![digest, ts(&at)],
        )?;
        Ok(())
    }

    pub fn staff_session_delete(&mut self, digest: &str) -> Result<()> {
        self.conn.cached_exec(
            "DELETE FROM staff_sessions WHERE token_sha256 = ?1",
            [digest],
        )?;
        Ok(())
    }

    /// End a session and record it, together.
    pub fn staff_session_end(&mut self, digest: &str, audit: &StaffAuditNew<'_>) -> Result<()> {
        self.tx(|tx| {
            tx.cached_exec(
                "DELETE FROM staff_sessions WHERE token_sha256 = ?1",
                [digest],
            )?;
            append_staff_audit(tx, audit)
        })
    }

    pub fn staff_audit_append(&mut self, audit: &StaffAuditNew<'_>) -> Result<()> {
        self.tx(|tx| append_staff_audit(tx, audit))
    }

    /// The trail's rows about one target (a letter, an account), in order.
    pub fn staff_audit_target(&self, target: &str) -> Result<Vec<StaffAuditRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, at, actor, action, target, detail, prev_sha256, sha256 FROM staff_audit
             WHERE target = ?1 ORDER BY seq LIMIT 1000",
        )?;
        let rows = st.query_map([target], audit_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The trail in order, optionally one actor's, from `after` on.
    pub fn staff_audit(
        &self,
        actor: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StaffAuditRow>> {
        let mut st = self.conn.prepare(
            "SELECT seq, at, actor, action, target, detail, prev_sha256, sha256 FROM staff_audit
             WHERE seq > ?1 AND (?2 IS NULL OR actor = ?2) ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![after, actor, limit], audit_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

// ---- contacts (issue 17): requests, invitations, the no-contact list ----

const REQUEST_COLS: &str = "id, tablet, person, kind, name, relationship, email, contact, asked_at, \
     received_at, state, reason, flag, invited_at, invite_sent_at, invite_error, decided_by, updated_at";

/// A contact request as the dock holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRequestRow {
    pub id: String,
    pub tablet: String,
    pub person: String,
    /// `add` or `remove`.
    pub kind: String,
    pub name: String,
    pub relationship: String,
    pub email: String,
    pub contact: String,
    pub asked_at: String,
    pub received_at: String,
    pub state: String,
    /// What the person reads.
    pub reason: String,
    /// For staff only: why the dock refused it on its own.
    pub flag: String,
    pub invited_at: Option<String>,
    pub invite_sent_at: Option<String>,
    pub invite_error: String,
    pub decided_by: String,
    pub updated_at: String,
}

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContactRequestRow> {
    Ok(ContactRequestRow {
        id: r.get(0)?,
        tablet: r.get(1)?,
        person: r.get(2)?,
        kind: r.get(3)?,
        name: r.get(4)?,
        relationship: r.get(5)?,
        email: r.get(6)?,
        contact: r.get(7)?,
        asked_at: r.get(8)?,
        received_at: r.get(9)?,
        state: r.get(10)?,
        reason: r.get(11)?,
        flag: r.get(12)?,
        invited_at: r.get(13)?,
        invite_sent_at: r.get(14)?,
        invite_error: r.get(15)?,
        decided_by: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

/// A request the dock has not seen before.
pub struct NewContactRequest<'a> {
    pub id: &'a str,
    pub tablet: &'a str,
    pub person: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub relationship: &'a str,
    pub email: &'a str,
    pub contact: &'a str,
    pub asked_at: DateTime<Utc>,
    pub envelope: &'a [u8],
}

/// A request moving on: to `state`, if its state now may become it.
pub struct RequestUpdate<'a> {
    pub id: &'a str,
    pub state: crate::domain::contacts::RequestState,
    pub reason: &'a str,
    /// Set the contact's id (on acceptance).
    pub contact: Option<&'a str>,
    /// Set the invitation's token hash and time (on approval).
    pub token_sha256: Option<&'a str>,
    pub decided_by: &'a str,
}

/// A new signed contact list for a person, and the rows it holds.
pub struct ListPublish<'a> {
    pub person: &'a str,
    pub version: u64,
    pub envelope: &'a [u8],
    pub rows: Vec<ContactRow>,
}

/// Everything one contact decision changes, written in one transaction:
/// the old state or the new one, never half.
#[derive(Default)]
pub struct ContactChange<'a> {
    pub insert: Option<(NewContactRequest<'a>, crate::domain::contacts::RequestState)>,
    /// With `insert`: the reason and the staff-only flag it is stored with.
    pub insert_reason: &'a str,
    pub insert_flag: &'a str,
    pub updates: Vec<RequestUpdate<'a>>,
    pub list: Option<ListPublish<'a>>,
    /// Entries for the person's feed.
    pub feed: Vec<(String, FeedItem)>,
    pub audit: Vec<StaffAuditNew<'a>>,
    /// An address that blocked the facility, and the request it answered.
    pub block: Option<(&'a str, &'a str)>,
    /// A refusal to log for staff: (what, reason).
    pub refusal: Option<(String, String)>,
}

/// Store `envelope` as the newest document of its kind and scope, unless a
/// newer one is held. Ok(false) when exactly this version is held.
fn publish_in(
    tx: &Transaction<'_>,
    kind: &str,
    scope: &str,
    version: u64,
    envelope: &[u8],
    at: DateTime<Utc>,
) -> Result<bool> {
    let held: Option<(i64, Vec<u8>)> = tx
        .cached_row(
            "SELECT version, envelope FROM documents WHERE kind = ?1 AND scope = ?2",
            [kind, scope],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((v, bytes)) = held {
        let v = v as u64;
        if version < v || (version == v && bytes != envelope) {
            return Err(Error::Refused(format!(
                "the dock holds {kind} {scope} version {v}; publish a higher version than that"
            )));
        }
        if version == v {
            return Ok(false);
        }
    }
    tx.cached_exec(
        "INSERT INTO documents (kind, scope, version, envelope, published_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (kind, scope) DO UPDATE SET version = excluded.version, envelope = excluded.envelope, \
         published_at = excluded.published_at",
        params![kind, scope, version as i64, envelope, ts(&at)],
    )?;
    Ok(true)
}

impl DockDb {
    pub fn contact_request(&self, id: &str) -> Result<Option<ContactRequestRow>> {
        Ok(self
            .conn
            .cached_row(
                &format!("SELECT {REQUEST_COLS} FROM contact_requests WHERE id = ?1"),
                [id],
                request_row,
            )
            .optional()?)
    }

    /// Requests, oldest first; with `state`, only those in it; with
    /// `person`, only theirs.
    pub fn contact_requests(
        &self,
        state: Option<&str>,
        person: Option<&str>,
    ) -> Result<Vec<ContactRequestRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {REQUEST_COLS} FROM contact_requests \
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR lower(person) = lower(?2)) \
             ORDER BY received_at, id"
        ))?;
        let rows = st.query_map(params![state, person], request_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The request by its invitation token's hash, if one is waiting.
    pub fn request_by_token(&self, token_sha256: &str) -> Result<Option<ContactRequestRow>> {
        Ok(self
            .conn
            .cached_row(
                &format!("SELECT {REQUEST_COLS} FROM contact_requests WHERE token_sha256 = ?1"),
                [token_sha256],
                request_row,
            )
            .optional()?)
    }

    /// The signed contact list held for a person: (version, envelope).
    pub fn contact_list(&self, person: &str) -> Result<Option<(u64, Vec<u8>)>> {
        let scope = format!("person:{}", person.to_ascii_lowercase());
        Ok(self
            .conn
            .cached_row(
                "SELECT version, envelope FROM documents WHERE kind = 'contacts' AND scope = ?1",
                [scope],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn is_blocked(&self, email: &str) -> Result<bool> {
        Ok(self
            .conn
            .cached_row(
                "SELECT 1 FROM contact_blocks WHERE email = ?1",
                [email],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Apply one contact decision in one transaction. An update whose
    /// request may not move to its new state refuses the whole change.
    pub fn contact_change(
        &mut self,
        c: ContactChange<'_>,
        at: DateTime<Utc>,
        sign: &dyn Fn(&FeedEntry) -> Vec<u8>,
        then: impl FnOnce() -> Result<()>,
    ) -> Result<bool> {
        use crate::domain::contacts::RequestState;
        self.tx(|tx| {
            if let Some((r, state)) = &c.insert {
                let n = tx.cached_exec(
                    "INSERT OR IGNORE INTO contact_requests (id, tablet, person, kind, name, relationship, email, \
                     contact, asked_at, received_at, envelope, state, reason, flag, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?10)",
                    params![
                        r.id, r.tablet, r.person, r.kind, r.name, r.relationship, r.email, r.contact,
                        ts(&r.asked_at), ts(&at), r.envelope, state.as_str(), c.insert_reason, c.insert_flag
                    ],
                )?;
                if n == 0 {
                    // Held from an earlier try: nothing else changes.
                    return Ok(false);
                }
            }
            for u in &c.updates {
                let current: String = tx
                    .cached_row("SELECT state FROM contact_requests WHERE id = ?1", [u.id], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| Error::NotFound {
                        what: "contact request",
                        id: u.id.into(),
                        hint: "see `berth-facility contacts requests --data D`",
                    })?;
                let from = RequestState::parse(&current).ok_or_else(|| {
                    Error::Refused(format!("contact request {} has an unknown state {current:?}", u.id))
                })?;
                if !from.can_become(u.state) {
                    return Err(Error::Refused(format!(
                        "contact request {} is {current}; it cannot become {}. Nothing was changed",
                        u.id,
                        u.state.as_str()
                    )));
                }
                tx.cached_exec(
                    "UPDATE contact_requests SET state = ?2, reason = ?3, contact = COALESCE(?4, contact), \
                     token_sha256 = COALESCE(?5, token_sha256), \
                     invited_at = CASE WHEN ?5 IS NULL THEN invited_at ELSE ?6 END, \
                     decided_by = CASE WHEN ?7 = '' THEN decided_by ELSE ?7 END, updated_at = ?6 WHERE id = ?1",
                    params![u.id, u.state.as_str(), u.reason, u.contact, u.token_sha256, ts(&at), u.decided_by],
                )?;
            }
            if let Some(l) = &c.list {
                let scope = format!("person:{}", l.person.to_ascii_lowercase());
                publish_in(tx, "contacts", &scope, l.version, l.envelope, at)?;
                set_contacts(tx, l.person, &l.rows)?;
            }
            for (person, item) in &c.feed {
                append_feed(tx, person, at, item.clone(), sign)?;
            }
            for a in &c.audit {
                append_staff_audit(tx, a)?;
            }
            if let Some((email, request)) = c.block {
                tx.cached_exec(
                    "INSERT OR IGNORE INTO contact_blocks (email, blocked_at, request) VALUES (?1, ?2, ?3)",
                    params![email, ts(&at), request],
                )?;
            }
            if let Some((what, reason)) = &c.refusal {
                tx.cached_exec(
                    "INSERT INTO refusals (at, what, reason) VALUES (?1, ?2, ?3)",
                    params![ts(&at), what, reason],
                )?;
            }
            then()?;
            Ok(true)
        })
    }

    /// Invitations approved and not yet accepted by the relay, due now:
    /// (request id, tries so far).
    pub fn invitations_to_send(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, u32)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, invite_attempts FROM contact_requests \
             WHERE state = 'invited' AND invite_sent_at IS NULL \
             AND (invite_next_try IS NULL OR invite_next_try <= ?1) ORDER BY invited_at LIMIT ?2",
        )?;
        let rows = st.query_map(params![ts(&now), limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn mark_invitation_sent(&mut self, id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE contact_requests SET invite_sent_at = ?2, invite_error = '' WHERE id = ?1",
            params![id, ts(&at)],
        )?;
        Ok(())
    }

    pub fn mark_invitation_failed(
        &mut self,
        id: &str,
        attempts: u32,
        next: DateTime<Utc>,
        why: &str,
    ) -> Result<()> {
        self.conn.cached_exec(
            "UPDATE contact_requests SET invite_attempts = ?2, invite_next_try = ?3, invite_error = ?4 WHERE id = ?1",
            params![id, attempts, ts(&next), why],
        )?;
        Ok(())
    }

    // ---- the no-contact list ----

    /// (id, person, kind, name, email, address, added by, added at).
    pub fn no_contact(&self, person: Option<&str>) -> Result<Vec<NoContactRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, person, kind, name, email, address, added_by, added_at FROM no_contact \
             WHERE ?1 IS NULL OR lower(person) = lower(?1) ORDER BY person, id",
        )?;
        let rows = st.query_map(params![person], |r| {
            Ok(NoContactRow {
                id: r.get(0)?,
                person: r.get(1)?,
                kind: r.get(2)?,
                name: r.get(3)?,
                email: r.get(4)?,
                address: r.get(5)?,
                added_by: r.get(6)?,
                added_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Is this address on anyone's no-contact list? (person, entry id).
    pub fn no_contact_by_email(&self, email: &str) -> Result<Vec<(String, i64)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT person, id FROM no_contact WHERE email = ?1 AND email != ''")?;
        let rows = st.query_map([email], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn no_contact_add(
        &mut self,
        person: &str,
        e: &crate::domain::contacts::NoContactEntry,
        audit: &StaffAuditNew<'_>,
    ) -> Result<i64> {
        self.tx(|tx| {
            tx.cached_exec(
                "INSERT INTO no_contact (person, kind, name, email, address, added_by, added_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    person,
                    e.kind.as_str(),
                    e.name,
                    e.email,
                    e.address,
                    audit.actor,
                    ts(&audit.at)
                ],
            )?;
            let id = tx.last_insert_rowid();
            append_staff_audit(tx, audit)?;
            Ok(id)
        })
    }

    pub fn no_contact_remove(&mut self, id: i64, audit: &StaffAuditNew<'_>) -> Result<()> {
        self.tx(|tx| {
            let n = tx.cached_exec("DELETE FROM no_contact WHERE id = ?1", [id])?;
            if n == 0 {
                return Err(Error::NotFound {
                    what: "no-contact entry",
                    id: id.to_string(),
                    hint: "see `berth-facility contacts no-contact list --data D`",
                });
            }
            append_staff_audit(tx, audit)?;
            Ok(())
        })
    }
}

/// One entry of a person's no-contact list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoContactRow {
    pub id: i64,
    pub person: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub address: String,
    pub added_by: String,
    pub added_at: String,
}
