//! Audit rows: append inside the caller's transaction, list, and the
//! schema-2 hook that moves schema-1 events into the chain.

use super::CachedSql;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::ts;
use crate::audit::{AuditEntry, GENESIS, entry_hash};
use crate::domain::Sha256;

/// Append one entry after the current last one. Call inside a transaction
/// so the read of the last hash and the insert are one step.
pub(crate) fn append(
    conn: &Connection,
    at: DateTime<Utc>,
    person: Option<&str>,
    kind: &str,
    detail: &str,
) -> rusqlite::Result<u64> {
    let last: Option<(i64, String)> = conn
        .cached_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (
            s as u64 + 1,
            Sha256::from_hex(&h)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        ),
        None => (1, GENESIS),
    };
    // Round-trip the time through its stored form so the hash matches what
    // a verifier reads back.
    let at_s = ts(&at);
    let at = DateTime::parse_from_rfc3339(&at_s)
        .expect("own format")
        .with_timezone(&Utc);
    let hash = entry_hash(seq, &prev, &at, person, kind, detail);
    conn.cached_exec(
        "INSERT INTO audit (seq, at, person, kind, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq as i64, at_s, person, kind, detail, prev.to_hex(), hash.to_hex()],
    )?;
    crate::failpoint("audit:after-insert");
    Ok(seq)
}

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

pub(crate) fn list(
    conn: &Connection,
    person: Option<&str>,
    kind: Option<&str>,
    after: u64,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, person, kind, detail, prev_hash, hash FROM audit \
         WHERE seq > ?1 AND (?2 IS NULL OR person = ?2) AND (?3 IS NULL OR kind = ?3) ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![after as i64, person, kind], |r| {
        let at: String = r.get(1)?;
        let prev: String = r.get(5)?;
        let hash: String = r.get(6)?;
        Ok(AuditEntry {
            seq: r.get::<_, i64>(0)? as u64,
            at: DateTime::parse_from_rfc3339(&at)
                .map_err(bad)?
                .with_timezone(&Utc),
            person: r.get(2)?,
            kind: r.get(3)?,
            detail: r.get(4)?,
            prev: Sha256::from_hex(&prev).map_err(bad)?,
            hash: Sha256::from_hex(&hash).map_err(bad)?,
        })
    })?;
    rows.collect()
}

/// Schema 2 hook: chain the schema-1 events, then drop their table and make
/// the audit table append-only.
pub(crate) fn move_events_into_audit(tx: &Transaction) -> rusqlite_migration::HookResult {
    let events: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT at, kind, detail FROM events ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (at, kind, detail) in events {
        let at = DateTime::parse_from_rfc3339(&at)
            .map_err(|e| rusqlite_migration::HookError::Hook(format!("event time {at:?}: {e}")))?
            .with_timezone(&Utc);
        append(tx, at, None, &kind, &detail)?;
    }
    tx.execute_batch(
        "DROP TABLE events;
         CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
         CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    )?;
    Ok(())
}
