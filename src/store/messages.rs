//! Repositories for letters: drafts, the outbox and contact lists.

use super::CachedSql;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, audit, ts};
use crate::domain::messages::OutState;

/// A letter in the outbox, as the person's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub seq: u64,
    pub person: String,
    pub contact: String,
    pub attorney: bool,
    pub body: String,
    pub state: OutState,
    pub reason: String,
    pub written_at: String,
    pub envelope: Vec<u8>,
}

/// A letter to queue. `sign` receives the sequence number the store gives
/// it and returns the signed envelope, so number and signature are made in
/// the same transaction.
pub struct NewLetter<'a> {
    pub id: &'a str,
    pub person: &'a str,
    pub contact: &'a str,
    pub attorney: bool,
    pub body: &'a str,
    pub written_at: DateTime<Utc>,
    /// The facility-local day, for the daily quota.
    pub day: &'a str,
}

impl Store {
    pub fn save_draft(
        &mut self,
        person: &str,
        contact: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT INTO drafts (person, contact, body, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (person, contact) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![person, contact, body, ts(&at)],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    pub fn draft(&self, person: &str, contact: &str) -> Result<Option<String>> {
        self.conn
            .cached_row(
                "SELECT body FROM drafts WHERE person = ?1 AND contact = ?2",
                [person, contact],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sq())
    }

    /// Queue a letter in one transaction: next sequence number, signed
    /// envelope, outbox row, draft removed, quota counted (not for attorney
    /// mail), and an audit entry that names the letter's id, never its body.
    pub fn queue_letter(
        &mut self,
        l: &NewLetter<'_>,
        sign: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64> {
        self.tx_run(|tx| {
            let seq: i64 = tx.cached_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox", [], |r| r.get(0))?;
            let envelope = sign(seq as u64);
            tx.cached_exec(
                "INSERT INTO outbox (id, seq, person, contact, attorney, body, state, written_at, updated_at, envelope) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7, ?8)",
                params![l.id, seq, l.person, l.contact, l.attorney as i64, l.body, ts(&l.written_at), envelope],
            )?;
            tx.cached_exec("DELETE FROM drafts WHERE person = ?1 AND contact = ?2", [l.person, l.contact])?;
            if !l.attorney {
                tx.cached_exec("INSERT OR IGNORE INTO daily_usage (person, day) VALUES (?1, ?2)", [l.person, l.day])?;
                tx.cached_exec(
                    "UPDATE daily_usage SET messages = messages + 1 WHERE person = ?1 AND day = ?2",
                    [l.person, l.day],
                )?;
            }
            audit::append(tx, l.written_at, Some(l.person), crate::audit::kind::MESSAGE_QUEUED, l.id)?;
            Ok(seq as u64)
        })
    }

    /// A person's letters, newest first.
    pub fn outbox_for(&self, person: &str) -> Result<Vec<OutboxRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, seq, person, contact, attorney, body, state, reason, written_at, envelope \
                 FROM outbox WHERE person = ?1 ORDER BY seq DESC",
            )
            .map_err(self.sq())?;
        let rows = stmt
            .query_map([person], |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    seq: r.get::<_, i64>(1)? as u64,
                    person: r.get(2)?,
                    contact: r.get(3)?,
                    attorney: r.get::<_, i64>(4)? != 0,
                    body: r.get(5)?,
                    state: super::sync::out_state(r, 6)?,
                    reason: r.get(7)?,
                    written_at: r.get(8)?,
                    envelope: r.get(9)?,
                })
            })
            .map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.sq())
    }

    /// Store a verified contact list and return to the writer every queued
    /// letter to a contact it no longer lists, in one transaction.
    /// Returns how many letters came back.
    #[allow(clippy::too_many_arguments)]
    pub fn accept_contacts(
        &mut self,
        person: &str,
        version: u64,
        sha256: &str,
        envelope: &[u8],
        kept: &[String],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.tx_run(|tx| {
            let scope = format!("person:{}", person.to_ascii_lowercase());
            tx.cached_exec(
                "INSERT INTO documents (kind, scope, version, sha256, envelope, accepted_at) VALUES ('contacts', ?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (kind, scope) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, \
                 envelope = excluded.envelope, accepted_at = excluded.accepted_at",
                params![scope, version as i64, sha256, envelope, ts(&at)],
            )?;
            let queued: Vec<(String, String)> = {
                let mut stmt = tx.prepare("SELECT id, contact FROM outbox WHERE person = ?1 AND state = 'queued'")?;
                let rows = stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut returned = 0;
            for (id, contact) in queued {
                if !kept.contains(&contact) {
                    tx.cached_exec(
                        "UPDATE outbox SET state = 'returned', reason = ?2, updated_at = ?3 WHERE id = ?1",
                        params![id, reason, ts(&at)],
                    )?;
                    returned += 1;
                }
            }
            audit::append(
                tx,
                at,
                Some(person),
                "contacts-accepted",
                &format!("version {version}; {returned} queued letter(s) returned"),
            )?;
            Ok(returned)
        })
    }
}
