//! Repositories for dock sync: the upload queue, acks, the message feed
//! with its cursors, and the threads the Messages page shows.

use super::CachedSql;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, audit, ts};
use crate::domain::messages::{LetterState, OutState};
use crate::domain::sync::{FeedEntry, FeedItem};

/// One contact's thread, for the thread list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadSummary {
    pub contact: String,
    pub unread: u32,
    pub letters: u32,
    pub last_at: String,
}

/// One letter in a thread, either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadItem {
    pub id: String,
    pub outgoing: bool,
    pub attorney: bool,
    pub body: String,
    /// Outgoing: the letter's state. Incoming: `Received`.
    pub state: LetterState,
    pub reason: String,
    /// Outgoing: when it was written. Incoming: when it reached this tablet
    /// (trusted time; an email's own Date header is the sender's claim).
    pub at: String,
    pub unread: bool,
    /// Incoming: the email's subject, or "".
    pub subject: String,
    /// Incoming: attachments the gateway left out.
    pub removed: Vec<crate::domain::sync::RemovedPart>,
}

/// A letter-state column, read as its enum; a value no version wrote is
/// a conversion error, not a state.
pub(crate) fn letter_state(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<LetterState> {
    let text: String = r.get(i)?;
    LetterState::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown letter state {text:?}").into(),
        )
    })
}

pub(crate) fn out_state(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<OutState> {
    match letter_state(r, i)? {
        LetterState::Out(s) => Ok(s),
        LetterState::Received => Err(rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            "a received letter in the outbox".into(),
        )),
    }
}

fn cursor_in(tx: &rusqlite::Connection, name: &str) -> rusqlite::Result<u64> {
    Ok(tx
        .cached_row(
            "SELECT value FROM sync_cursors WHERE name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0) as u64)
}

fn set_cursor_in(tx: &rusqlite::Connection, name: &str, value: u64) -> rusqlite::Result<()> {
    tx.cached_exec(
        "INSERT INTO sync_cursors (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value as i64],
    )?;
    Ok(())
}

/// Move a letter's state forward in one of the two letter tables; a state
/// that would move it back is ignored (an older entry, or a replay).
fn advance_state(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    id: &str,
    next: OutState,
    reason: &str,
    at: &str,
) -> rusqlite::Result<()> {
    let current: Option<String> = tx
        .cached_row(
            &format!("SELECT state FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(cur) = current.as_deref().and_then(OutState::parse) {
        if cur.can_become(next) {
            tx.cached_exec(
                &format!(
                    "UPDATE {table} SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1"
                ),
                params![id, next.as_str(), reason, at],
            )?;
        }
    }
    Ok(())
}

impl Store {
    pub fn cursor(&self, name: &str) -> Result<u64> {
        cursor_in(&self.conn, name).map_err(self.sq())
    }

    pub fn set_cursor(&mut self, name: &str, value: u64) -> Result<()> {
        set_cursor_in(&self.conn, name, value).map_err(self.sq())
    }

    /// Use per person and day, newest first, at most `limit` rows:
    /// (person, day, metered secs, free secs, letters).
    pub fn usage_days(&self, limit: usize) -> Result<Vec<(String, String, u64, u64, u32)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT person, day, metered_secs, free_secs, messages FROM daily_usage \
                 ORDER BY day DESC, person LIMIT ?1",
            )
            .map_err(self.sq())?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                    r.get::<_, i64>(4)? as u32,
                ))
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.sq())
    }

    /// How many letters wait to leave.
    pub fn queued_count(&self) -> Result<usize> {
        self.conn
            .cached_row(
                "SELECT COUNT(*) FROM outbox WHERE state = 'queued'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(self.sq())
    }

    /// Letters waiting to leave, oldest first: (seq, signed envelope).
    pub fn queued_letters(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT seq, envelope FROM outbox WHERE seq > ?1 AND state = 'queued' \
                 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.sq())?;
        let rows = st
            .query_map([after as i64, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.sq())
    }

    /// The dock acknowledged these letters: mark them uploaded in one
    /// transaction. Letters already further along stay where they are.
    pub fn mark_uploaded(
        &mut self,
        seqs: &[u64],
        through: u64,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.tx_run(|tx| {
            let mut n = 0;
            for s in seqs.iter().filter(|s| **s <= through) {
                n += tx
                    .prepare_cached(
                        "UPDATE outbox SET state = 'uploaded', updated_at = ?2 WHERE seq = ?1 AND state = 'queued'",
                    )?
                    .execute(params![*s as i64, ts(&at)])?;
            }
            if n > 0 {
                audit::append(
                    tx,
                    at,
                    None,
                    crate::audit::kind::MESSAGE_UPLOADED,
                    &format!("{n} letter(s) acknowledged by the dock through seq {through}"),
                )?;
            }
            Ok(n)
        })
    }

    /// The feed cursor of each person named.
    pub fn feed_cursors(&self, people: &[String]) -> Result<BTreeMap<String, u64>> {
        people
            .iter()
            .map(|p| Ok((p.clone(), self.cursor(&format!("feed:{p}"))?)))
            .collect()
    }

    /// Every accepted document's version, keyed `kind/scope`.
    pub fn document_versions(&self) -> Result<BTreeMap<String, u64>> {
        let mut st = self
            .conn
            .prepare("SELECT kind, scope, version FROM documents")
            .map_err(self.sq())?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    format!("{}/{}", r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.sq())
    }

    /// Apply verified feed entries and raise each person's cursor, in one
    /// transaction. Entries at or below a cursor were applied before and
    /// are skipped; inserts are by id, so applying twice changes nothing.
    pub fn apply_feed(
        &mut self,
        entries: &[FeedEntry],
        through: &BTreeMap<String, u64>,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.apply_feed_with(entries, &BTreeMap::new(), through, at)
    }

    /// [`Store::apply_feed`] with the entitlement receipts among the
    /// entries, already verified by the caller: (person, seq) → (receipt
    /// id, item, envelope).
    pub fn apply_feed_with(
        &mut self,
        entries: &[FeedEntry],
        receipts: &BTreeMap<(String, u64), (String, String, Vec<u8>)>,
        through: &BTreeMap<String, u64>,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        let now = ts(&at);
        self.tx_run(|tx| {
            let mut applied = 0;
            let mut cursors: BTreeMap<String, u64> = BTreeMap::new();
            for e in entries {
                let person = e.person.as_str();
                let name = format!("feed:{person}");
                let cursor = match cursors.get(&name) {
                    Some(c) => *c,
                    None => cursor_in(tx, &name)?,
                };
                if e.seq <= cursor {
                    continue;
                }
                match &e.item {
                    FeedItem::Received {
                        id,
                        contact,
                        attorney,
                        body,
                        sent_at,
                        subject,
                        removed,
                    } => {
                        let removed = serde_json::to_string(removed).unwrap_or_else(|_| "[]".into());
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO inbox (id, feed_seq, person, contact, attorney, body, sent_at, received_at, subject, removed) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        )?
                        .execute(params![id, e.seq as i64, person, contact.as_str(), *attorney as i64, body, ts(sent_at), now, subject, removed],
                        )?;
                    }
                    FeedItem::Sent { message: m } => {
                        let here: bool = tx
                            .prepare_cached("SELECT 1 FROM outbox WHERE id = ?1")?
                            .query_row([&m.id], |_| Ok(()))
                            .optional()?
                            .is_some();
                        if !here {
                            tx.prepare_cached(
                                "INSERT OR IGNORE INTO sent_elsewhere (id, tablet, person, contact, attorney, body, state, written_at, updated_at) \
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'uploaded', ?7, ?8)",
                            )?
                            .execute(params![m.id, m.tablet.to_hex(), person, m.contact.as_str(), m.attorney as i64, m.body, ts(&m.written_at), now],
                            )?;
                        }
                    }
                    FeedItem::Entitlement { .. } => {
                        // Only receipts the tablet verified are kept.
                        let Some((id, item, env)) = receipts.get(&(person.to_string(), e.seq)) else {
                            continue;
                        };
                        if Store::add_entitlement_in(tx, id, person, item, env, at)? {
                            audit::append(tx, at, Some(person), crate::audit::kind::ENTITLEMENT, &format!("{item} (receipt {id})"))?;
                        }
                    }
                    FeedItem::State { id, state, reason } => {
                        advance_state(tx, "outbox", id, *state, reason, &now)?;
                        advance_state(tx, "sent_elsewhere", id, *state, reason, &now)?;
                    }
                    FeedItem::ContactRequest { id, name, state, reason } => {
                        super::contacts::apply_request_state(tx, person, id, name, *state, reason, &now)?;
                    }
                }
                cursors.insert(name, e.seq);
                applied += 1;
            }
            for (person, value) in through {
                let name = format!("feed:{person}");
                let held = match cursors.get(&name) {
                    Some(c) => *c,
                    None => cursor_in(tx, &name)?,
                };
                cursors.insert(name, held.max(*value));
            }
            for (name, value) in cursors {
                set_cursor_in(tx, &name, value)?;
            }
            Ok(applied)
        })
    }

    /// A person's threads, most recent first, with unread counts.
    pub fn threads(&self, person: &str) -> Result<Vec<ThreadSummary>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT contact, SUM(unread), COUNT(*), MAX(at) FROM ( \
                   SELECT contact, 0 AS unread, written_at AS at FROM outbox WHERE person = ?1 \
                   UNION ALL SELECT contact, 0, written_at FROM sent_elsewhere WHERE person = ?1 \
                   UNION ALL SELECT contact, 1 - read, received_at FROM inbox WHERE person = ?1 \
                 ) GROUP BY contact ORDER BY MAX(at) DESC",
            )
            .map_err(self.sq())?;
        let rows = st
            .query_map([person], |r| {
                Ok(ThreadSummary {
                    contact: r.get(0)?,
                    unread: r.get::<_, i64>(1)? as u32,
                    letters: r.get::<_, i64>(2)? as u32,
                    last_at: r.get(3)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.sq())
    }

    /// One thread, oldest first.
    pub fn thread(&self, person: &str, contact: &str) -> Result<Vec<ThreadItem>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, 1, attorney, body, state, reason, written_at, 0, '', '[]' FROM outbox WHERE person = ?1 AND contact = ?2 \
                 UNION ALL SELECT id, 1, attorney, body, state, reason, written_at, 0, '', '[]' FROM sent_elsewhere WHERE person = ?1 AND contact = ?2 \
                 UNION ALL SELECT id, 0, attorney, body, 'received', '', received_at, 1 - read, subject, removed FROM inbox WHERE person = ?1 AND contact = ?2 \
                 ORDER BY 7, 1",
            )
            .map_err(self.sq())?;
        let rows = st
            .query_map([person, contact], |r| {
                Ok(ThreadItem {
                    id: r.get(0)?,
                    outgoing: r.get::<_, i64>(1)? != 0,
                    attorney: r.get::<_, i64>(2)? != 0,
                    body: r.get(3)?,
                    state: letter_state(r, 4)?,
                    reason: r.get(5)?,
                    at: r.get(6)?,
                    unread: r.get::<_, i64>(7)? != 0,
                    subject: r.get(8)?,
                    removed: serde_json::from_str(&r.get::<_, String>(9)?).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            9,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.sq())
    }

    pub fn mark_thread_read(&mut self, person: &str, contact: &str) -> Result<()> {
        self.conn
            .cached_exec(
                "UPDATE inbox SET read = 1 WHERE person = ?1 AND contact = ?2 AND read = 0",
                [person, contact],
            )
            .map_err(self.sq())?;
        Ok(())
    }
}
