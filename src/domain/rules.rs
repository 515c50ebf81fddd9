//! Install rules that need no I/O: rollback protection and expiry.

use chrono::{DateTime, Utc};

use super::{Error, Sha256};

/// What the store knows about a bundle id before an install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HighWater {
    pub version: u64,
    pub manifest_sha256: Sha256,
}

/// What to do with an incoming bundle version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Newer than anything seen: install it.
    Install,
    /// Exactly the current version and content: nothing to do.
    AlreadyCurrent,
}

/// Versions only rise. The same version with other content is refused,
/// because a vendor that signs two different bundles under one version is
/// either compromised or broken.
pub fn rollback_check(
    high: Option<HighWater>,
    version: u64,
    manifest_sha256: Sha256,
) -> Result<Decision, Error> {
    match high {
        None => Ok(Decision::Install),
        Some(h) if version > h.version => Ok(Decision::Install),
        Some(h) if version == h.version && manifest_sha256 == h.manifest_sha256 => {
            Ok(Decision::AlreadyCurrent)
        }
        Some(h) if version == h.version => Err(Error::Refused(format!(
            "version {version} is already installed with different content \
             (installed manifest {}, offered {manifest_sha256}); the vendor must publish a new version",
            h.manifest_sha256
        ))),
        Some(h) => Err(Error::Refused(format!(
            "version {version} is older than installed version {}; rollback refused",
            h.version
        ))),
    }
}

/// Refuse anything whose expiry is at or before trusted `now`.
pub fn not_expired(what: &str, expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
    if expires <= now {
        return Err(Error::Expired {
            what: what.to_string(),
            expired: expires,
            now,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_table() {
        let h = |v| HighWater {
            version: v,
            manifest_sha256: Sha256([1; 32]),
        };
        let a = Sha256([1; 32]);
        let b = Sha256([2; 32]);
        assert_eq!(rollback_check(None, 1, a), Ok(Decision::Install));
        assert_eq!(rollback_check(Some(h(1)), 2, b), Ok(Decision::Install));
        assert_eq!(
            rollback_check(Some(h(2)), 2, a),
            Ok(Decision::AlreadyCurrent)
        );
        assert!(rollback_check(Some(h(2)), 2, b).is_err());
        assert!(rollback_check(Some(h(2)), 1, a).is_err());
    }
}
