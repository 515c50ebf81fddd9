//! Keys, envelopes and the verification of signed documents.
//!
//! Architecture invariant: this is the only module that calls `ring`.
//! Everything from outside the tablet passes through [`envelope::Envelope::verify`]
//! before a single field of its payload is parsed.

pub mod channel;
#[cfg(feature = "console")]
pub mod console_tls;
pub mod digest;
pub mod envelope;
pub mod keys;
pub mod password;
pub mod roles;
pub mod secret;
pub mod signed;

use std::path::PathBuf;

pub use digest::{Hasher, sha256};
pub use envelope::{Envelope, MAX_ENVELOPE_BYTES, Verified};
pub use keys::{SigningKey, device_code};
pub use roles::{TrustedRoot, VerifiedHeader};

/// Payload types. The type is inside the signed bytes (PAE), so a document
/// signed as one type never verifies as another.
pub mod payload_type {
    pub const ROOT: &str = "application/vnd.berth.root+json";
    pub const DELEGATION: &str = "application/vnd.berth.delegation+json";
    pub const MANIFEST: &str = "application/vnd.berth.manifest+json";
    pub const APPROVAL: &str = "application/vnd.berth.approval+json";
    pub const ROSTER: &str = "application/vnd.berth.roster+json";
    pub const POLICY: &str = "application/vnd.berth.policy+json";
    pub const CONTACTS: &str = "application/vnd.berth.contacts+json";
    pub const MESSAGE: &str = "application/vnd.berth.message+json";
    pub const AUDIT_EXPORT: &str = "application/vnd.berth.audit-export+json";
    /// A sync request, signed by the device key.
    pub const SYNC_REQUEST: &str = "application/vnd.berth.sync-request+json";
    /// A dock reply (hello with signed time, ack, offer), signed by a dock key.
    pub const SYNC_REPLY: &str = "application/vnd.berth.sync-reply+json";
    /// One entry of a person's message feed, signed by the messaging key.
    pub const FEED_ENTRY: &str = "application/vnd.berth.feed-entry+json";
    /// A music entitlement receipt, signed by the facility's approval role.
    pub const ENTITLEMENT: &str = "application/vnd.berth.entitlement+json";
    /// A course certificate, signed by the device key where it was earned.
    pub const CERTIFICATE: &str = "application/vnd.berth.certificate+json";
    /// A contact request, signed by the device key of the tablet it was made on.
    pub const CONTACT_REQUEST: &str = "application/vnd.berth.contact-request+json";
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {path}: {why}")]
    KeyFile { path: PathBuf, why: String },
    #[error("could not generate a key: the system random source failed")]
    Random,
    #[error("envelope is {size} bytes, over the {cap}-byte cap; refusing to read it")]
    TooLarge { size: usize, cap: usize },
    #[error("malformed envelope: {0}")]
    Envelope(String),
    #[error("wrong payload type: expected {expected}, found {found:?}; this file is not a {what}")]
    WrongPayloadType {
        expected: &'static str,
        found: String,
        what: &'static str,
    },
    #[error(
        "{what}: {valid} valid signature(s) from the {role} role, {needed} needed; \
         it was not signed by the facility's current {role} key(s)"
    )]
    Threshold {
        what: &'static str,
        role: String,
        valid: usize,
        needed: u32,
    },
    #[error("signed {what} does not parse: {why}")]
    Payload { what: &'static str, why: String },
    #[error(transparent)]
    Rule(#[from] crate::domain::Error),
    #[error("root rotation refused: {0}")]
    Rotation(String),
    #[error("hashing a password failed: {0}")]
    Password(String),
    #[error("the console's TLS: {0}")]
    Tls(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Map `f` over `items` on every core, keeping order. Signature checks of a
/// batch are independent; on a two-core tablet or dock this halves them.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || items.len() < 64 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| s.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a verifier thread panicked"))
            .collect()
    })
}
