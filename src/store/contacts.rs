//! Repositories for contact requests: the ones made here (with their
//! signed envelope until the dock has them) and their states.

use super::CachedSql;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, audit, ts};
use crate::domain::contacts::RequestState;

/// A contact request as the person's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRequestRow {
    pub id: String,
    pub person: String,
    /// `add` or `remove`.
    pub kind: String,
    pub name: String,
    pub relationship: String,
    pub email: String,
    pub contact: String,
    pub state: RequestState,
    pub reason: String,
    pub asked_at: String,
}

/// A request to keep, signed.
pub struct NewContactRequest<'a> {
    pub id: &'a str,
    pub person: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub relationship: &'a str,
    pub email: &'a str,
    pub contact: &'a str,
    pub asked_at: DateTime<Utc>,
    pub envelope: &'a [u8],
}

impl Store {
    /// Keep a new request and note it in the audit log (by id and kind,
    /// never the contact's address), in one transaction.
    pub fn add_contact_request(&mut self, r: &NewContactRequest<'_>) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec(
                "INSERT INTO contact_requests (id, person, kind, name, relationship, email, contact, state, \
                 asked_at, updated_at, envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'asked', ?8, ?8, ?9)",
                params![r.id, r.person, r.kind, r.name, r.relationship, r.email, r.contact, ts(&r.asked_at), r.envelope],
            )?;
            audit::append(
                tx,
                r.asked_at,
                Some(r.person),
                crate::audit::kind::CONTACT_REQUESTED,
                &format!("{} request {}", r.kind, r.id),
            )?;
            Ok(())
        })
    }

    /// A person's requests, newest first.
    pub fn contact_requests_for(&self, person: &str) -> Result<Vec<ContactRequestRow>> {
        self.list(
            "SELECT id, person, kind, name, relationship, email, contact, state, reason, asked_at \
             FROM contact_requests WHERE person = ?1 ORDER BY asked_at DESC, id",
            [person],
            |r| {
                let state: String = r.get(7)?;
                Ok(ContactRequestRow {
                    id: r.get(0)?,
                    person: r.get(1)?,
                    kind: r.get(2)?,
                    name: r.get(3)?,
                    relationship: r.get(4)?,
                    email: r.get(5)?,
                    contact: r.get(6)?,
                    state: RequestState::parse(&state).unwrap_or(RequestState::Asked),
                    reason: r.get(8)?,
                    asked_at: r.get(9)?,
                })
            },
        )
    }

    /// Requests made here that the dock has not acknowledged: (id, envelope).
    pub fn pending_contact_requests(&self, limit: usize) -> Result<Vec<(String, Vec<u8>)>> {
        self.list(
            "SELECT id, envelope FROM contact_requests WHERE uploaded_at IS NULL AND envelope IS NOT NULL \
             ORDER BY asked_at, id LIMIT ?1",
            [limit.min(i64::MAX as usize) as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The dock holds these requests: they are in review there (the feed
    /// brings what staff decided).
    pub fn mark_contact_requests_uploaded(
        &mut self,
        ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<usize> {
        self.tx_run(|tx| {
            let mut n = 0;
            for id in ids {
                n += tx.cached_exec(
                    "UPDATE contact_requests SET uploaded_at = ?2, \
                     state = CASE WHEN state = 'asked' THEN 'in-review' ELSE state END, updated_at = ?2 \
                     WHERE id = ?1 AND uploaded_at IS NULL",
                    params![id, ts(&at)],
                )?;
            }
            Ok(n)
        })
    }
}

/// A feed entry's word on a request: move it forward (never back), or
/// keep it when it was made on another tablet.
pub(super) fn apply_request_state(
    tx: &rusqlite::Transaction<'_>,
    person: &str,
    id: &str,
    name: &str,
    next: RequestState,
    reason: &str,
    at: &str,
) -> rusqlite::Result<()> {
    let current: Option<String> = tx
        .cached_row(
            "SELECT state FROM contact_requests WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    match current.as_deref().map(RequestState::parse) {
        None => {
            tx.cached_exec(
                "INSERT INTO contact_requests (id, person, kind, name, state, reason, asked_at, updated_at, uploaded_at) \
                 VALUES (?1, ?2, 'add', ?3, ?4, ?5, ?6, ?6, ?6)",
                params![id, person, name, next.as_str(), reason, at],
            )?;
        }
        Some(Some(cur)) if cur.can_become(next) => {
            tx.cached_exec(
                "UPDATE contact_requests SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, next.as_str(), reason, at],
            )?;
        }
        Some(_) => {}
    }
    Ok(())
}
