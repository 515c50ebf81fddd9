//! Pure types and rules. Architecture invariant: nothing here does I/O or
//! names `ring`, `rusqlite` or Slint. Signed documents are plain serde
//! structs; whether their bytes were signed is decided in `trust`.

pub mod contacts;
pub mod content;
pub mod docs;
pub mod login;
pub mod messages;
pub mod names;
pub mod people;
pub mod policy;
pub mod rules;
pub mod staff;
pub mod strict;
pub mod sync;
pub mod text;
pub mod time;

pub use docs::{
    ApprovalDoc, DelegationDoc, FileEntry, Manifest, PublicKey, RoleKeys, Roles, RootDoc, Sha256,
};
pub use names::{
    BundleId, ContentType, DeviceCode, FacilityId, GroupId, SafePath, TabletModel, VendorId,
};

/// A document or name broke a rule. Each message says what and how to fix it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("unsafe path {path}: {why}; bundle paths are 1-8 components of A-Z a-z 0-9 . _ -")]
    UnsafePath { path: String, why: String },
    #[error("invalid {what} {value:?}: {why}")]
    BadName {
        what: &'static str,
        value: String,
        why: String,
    },
    #[error("invalid {doc}: {why}")]
    Invalid { doc: &'static str, why: String },
    #[error("{what} expired at {expired} (trusted time is {now}); ask for a newer one")]
    Expired {
        what: String,
        expired: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    },
    #[error("{0}")]
    Refused(String),
}
