//! The audit log's hash chain. Each entry's hash covers its fields and the
//! previous entry's hash, so editing, deleting or reordering any entry
//! breaks every hash after it. The store keeps the rows; this module says
//! what a valid chain is.

use chrono::{DateTime, Utc};

use crate::domain::Sha256;

/// The `prev` of the first entry.
pub const GENESIS: Sha256 = Sha256([0; 32]);

/// Kinds of entries. Message bodies never appear in the log, only ids.
pub mod kind {
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login-failed";
    pub const ENROLLED: &str = "enrolled";
    pub const PIN_CHANGED: &str = "pin-changed";
    pub const LOGOUT: &str = "logout";
    pub const POLICY_ACCEPTED: &str = "policy-accepted";
    pub const ROSTER_ACCEPTED: &str = "roster-accepted";
    pub const DOCUMENT_REFUSED: &str = "document-refused";
    pub const BUNDLE_INSTALLED: &str = "bundle-installed";
    pub const BUNDLE_REFUSED: &str = "bundle-refused";
    pub const ROOT_ACCEPTED: &str = "root-accepted";
    pub const TAMPER: &str = "tamper";
    pub const MESSAGE_QUEUED: &str = "message-queued";
    pub const MESSAGE_UPLOADED: &str = "message-uploaded";
    pub const SYNC: &str = "sync";
    pub const FEED_REFUSED: &str = "feed-entry-refused";
    pub const BUNDLE_REMOVED: &str = "bundle-removed";
    pub const CONTENT_SKIPPED: &str = "content-skipped";
    pub const QUIZ: &str = "quiz";
    pub const CERTIFICATE: &str = "certificate";
    pub const ENTITLEMENT: &str = "entitlement";
    pub const CONTACT_REQUESTED: &str = "contact-requested";
    /// The dock set the tablet's groups (its enrolment, or a move).
    pub const GROUPS_SET: &str = "groups-set";
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub person: Option<String>,
    pub kind: String,
    pub detail: String,
    pub prev: Sha256,
    pub hash: Sha256,
}

/// The hash of an entry: SHA-256 of the JSON array
/// `["berth-audit-v1", seq, prev, at, person, kind, detail]`.
pub fn entry_hash(
    seq: u64,
    prev: &Sha256,
    at: &DateTime<Utc>,
    person: Option<&str>,
    kind: &str,
    detail: &str,
) -> Sha256 {
    let canonical = serde_json::to_vec(&(
        "berth-audit-v1",
        seq,
        prev.to_hex(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        person,
        kind,
        detail,
    ))
    .expect("tuple serializes");
    crate::trust::sha256(&canonical)
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log entry {seq}: {what}")]
pub struct ChainBreak {
    pub seq: u64,
    pub what: String,
}

/// Check a whole log, oldest first: sequence numbers consecutive from 1,
/// each `prev` the hash before it, each hash right.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), ChainBreak> {
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        if e.seq != expected_seq {
            return Err(ChainBreak {
                seq: e.seq,
                what: format!("expected entry {expected_seq}: an entry was deleted or reordered"),
            });
        }
        if e.prev != prev {
            return Err(ChainBreak {
                seq: e.seq,
                what: "does not link to the entry before it".into(),
            });
        }
        let h = entry_hash(
            e.seq,
            &e.prev,
            &e.at,
            e.person.as_deref(),
            &e.kind,
            &e.detail,
        );
        if h != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                what: "its content was changed after it was written".into(),
            });
        }
        prev = e.hash;
    }
    Ok(())
}
