//! The signed documents of the trust model, as they are after verification.
//! Every struct denies unknown fields, and every document has a `validate`
//! that checks the rules a signature cannot: counts, sizes, consistency.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Error;
use super::names::{BundleId, ContentType, FacilityId, GroupId, SafePath, TabletModel, VendorId};

/// Raw 32-byte value serialized as 64 lowercase hex digits.
macro_rules! hex32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
            pub fn from_hex(s: &str) -> Result<Self, Error> {
                let mut out = [0u8; 32];
                if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(Error::BadName {
                        what: stringify!($name),
                        value: s.chars().take(80).collect(),
                        why: "expected 64 lowercase hex digits".into(),
                    });
                }
                hex::decode_to_slice(s, &mut out).map_err(|e| Error::BadName {
                    what: stringify!($name),
                    value: s.chars().take(80).collect(),
                    why: e.to_string(),
                })?;
                Ok(Self(out))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

hex32!(
    /// An Ed25519 public key. It is also the key's id: thresholds count
    /// distinct values of this type.
    PublicKey
);
hex32!(
    /// A SHA-256 digest.
    Sha256
);

/// Most keys one role may list.
pub const MAX_ROLE_KEYS: usize = 16;
/// Most files one bundle may hold.
pub const MAX_FILES: usize = 10_000;
/// Most groups one approval may name.
pub const MAX_GROUPS: usize = 64;
/// Smallest and largest allowed chunk size.
pub const MIN_CHUNK_SIZE: u32 = 1024;
pub const MAX_CHUNK_SIZE: u32 = 4 * 1024 * 1024;
/// Hard cap on a bundle's payload, whatever a delegation allows.
pub const MAX_TOTAL_SIZE: u64 = 64 * 1024 * 1024 * 1024;
/// Longest title, in bytes.
pub const MAX_TITLE_LEN: usize = 200;

fn invalid(doc: &'static str, why: impl Into<String>) -> Error {
    Error::Invalid {
        doc,
        why: why.into(),
    }
}

/// Keys and threshold of one role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleKeys {
    pub keys: Vec<PublicKey>,
    pub threshold: u32,
}

impl RoleKeys {
    pub fn single(key: PublicKey) -> Self {
        RoleKeys {
            keys: vec![key],
            threshold: 1,
        }
    }

    fn validate(&self, role: &str) -> Result<(), Error> {
        let distinct: BTreeSet<_> = self.keys.iter().collect();
        if distinct.len() != self.keys.len() {
            return Err(invalid("root", format!("role {role} lists a key twice")));
        }
        if self.keys.is_empty() || self.keys.len() > MAX_ROLE_KEYS {
            return Err(invalid(
                "root",
                format!("role {role} must list 1 to {MAX_ROLE_KEYS} keys"),
            ));
        }
        if self.threshold == 0 || self.threshold as usize > self.keys.len() {
            return Err(invalid(
                "root",
                format!(
                    "role {role} has threshold {} but {} keys",
                    self.threshold,
                    self.keys.len()
                ),
            ));
        }
        Ok(())
    }
}

/// The facility's roles. Each key may serve one role only, so a key that
/// signs policies can never sign approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub root: RoleKeys,
    pub approval: RoleKeys,
    pub policy: RoleKeys,
    pub roster: RoleKeys,
    pub contacts: RoleKeys,
    pub messaging: RoleKeys,
    pub dock: RoleKeys,
}

impl Roles {
    pub fn named(&self) -> [(&'static str, &RoleKeys); 7] {
        [
            ("root", &self.root),
            ("approval", &self.approval),
            ("policy", &self.policy),
            ("roster", &self.roster),
            ("contacts", &self.contacts),
            ("messaging", &self.messaging),
            ("dock", &self.dock),
        ]
    }
}

/// The facility root of trust (`root.json`). Version N+1 must be signed by
/// a threshold of version N's root keys and of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootDoc {
    pub facility: FacilityId,
    pub version: u64,
    pub expires: DateTime<Utc>,
    pub roles: Roles,
}

impl RootDoc {
    pub fn validate(&self) -> Result<(), Error> {
        if self.version == 0 {
            return Err(invalid("root", "version must be 1 or more"));
        }
        let mut seen = BTreeSet::new();
        for (name, role) in self.roles.named() {
            role.validate(name)?;
            for k in &role.keys {
                if !seen.insert(*k) {
                    return Err(invalid(
                        "root",
                        format!("key {k} serves more than one role (again in {name})"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The approval role's grant to a vendor: which key, which content types,
/// how large, until when. Signed by the approval role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationDoc {
    pub facility: FacilityId,
    pub vendor: VendorId,
    pub key: PublicKey,
    pub content_types: Vec<ContentType>,
    pub max_bundle_bytes: u64,
    pub issued: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

impl DelegationDoc {
    pub fn validate(&self) -> Result<(), Error> {
        if self.content_types.is_empty() {
            return Err(invalid(
                "delegation",
                "content_types is empty; it must name education, books or music",
            ));
        }
        if self.max_bundle_bytes == 0 || self.max_bundle_bytes > MAX_TOTAL_SIZE {
            return Err(invalid(
                "delegation",
                format!("max_bundle_bytes must be 1 to {MAX_TOTAL_SIZE}"),
            ));
        }
        if self.expires <= self.issued {
            return Err(invalid("delegation", "expires must be after issued"));
        }
        Ok(())
    }

    /// May this delegation's vendor publish `manifest`?
    pub fn permits(&self, manifest: &Manifest) -> Result<(), Error> {
        if manifest.vendor != self.vendor {
            return Err(Error::Refused(format!(
                "manifest names vendor {} but the delegation is for {}",
                manifest.vendor, self.vendor
            )));
        }
        if !self.content_types.contains(&manifest.content_type) {
            return Err(Error::Refused(format!(
                "vendor {} is not delegated content type {} (allowed: {})",
                self.vendor,
                manifest.content_type,
                self.content_types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if manifest.total_size > self.max_bundle_bytes {
            return Err(Error::Refused(format!(
                "total_size is {} bytes, but the delegation's max_bundle_bytes lets vendor {} publish at most {}",
                manifest.total_size, self.vendor, self.max_bundle_bytes
            )));
        }
        Ok(())
    }
}

/// One file in a bundle's payload, in payload order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: SafePath,
    pub size: u64,
    pub sha256: Sha256,
}

/// A vendor's description of one bundle version. Its SHA-256 (over the exact
/// signed payload bytes) is what facility approvals counter-sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub bundle_id: BundleId,
    pub version: u64,
    pub content_type: ContentType,
    pub vendor: VendorId,
    pub title: String,
    pub tablet_model: TabletModel,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub chunk_size: u32,
    pub total_size: u64,
    pub chunks: Vec<Sha256>,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn validate(&self) -> Result<(), Error> {
        let m = |why: String| invalid("manifest", why);
        if self.version == 0 {
            return Err(m("version must be 1 or more".into()));
        }
        if self.title.len() > MAX_TITLE_LEN || self.title.chars().any(char::is_control) {
            return Err(m(format!(
                "title must be at most {MAX_TITLE_LEN} bytes with no control characters"
            )));
        }
        if !self.chunk_size.is_power_of_two()
            || !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size)
        {
            return Err(m(format!(
                "chunk_size {} must be a power of two from {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE}",
                self.chunk_size
            )));
        }
        if self.total_size > MAX_TOTAL_SIZE {
            return Err(m(format!("total_size exceeds {MAX_TOTAL_SIZE}")));
        }
        if self.files.is_empty() || self.files.len() > MAX_FILES {
            return Err(m(format!(
                "files must list 1 to {MAX_FILES} files, not {}",
                self.files.len()
            )));
        }
        let sum = self
            .files
            .iter()
            .try_fold(0u64, |acc, f| acc.checked_add(f.size))
            .ok_or_else(|| m("file sizes overflow".into()))?;
        if sum != self.total_size {
            return Err(m(format!(
                "file sizes add up to {sum} but total_size is {}",
                self.total_size
            )));
        }
        if self.chunks.len() as u64 != self.expected_chunks() {
            return Err(m(format!(
                "chunks: {} bytes in chunks of {} need {} chunk hashes, not {}",
                self.total_size,
                self.chunk_size,
                self.expected_chunks(),
                self.chunks.len()
            )));
        }
        // No duplicate paths, and no file may also be a directory of another.
        let paths: BTreeSet<&str> = self.files.iter().map(|f| f.path.as_str()).collect();
        if paths.len() != self.files.len() {
            let mut seen = BTreeSet::new();
            let twice = self
                .files
                .iter()
                .find(|f| !seen.insert(f.path.as_str()))
                .map(|f| f.path.as_str())
                .unwrap_or_default();
            return Err(m(format!("files: path `{twice}` is listed twice")));
        }
        for f in &self.files {
            let mut prefix = String::new();
            for c in f.path.components() {
                if !prefix.is_empty() && paths.contains(prefix.as_str()) {
                    return Err(m(format!(
                        "files: path `{}` is both a file and the directory of `{}`",
                        prefix, f.path
                    )));
                }
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(c);
            }
        }
        if self.expires <= self.created {
            return Err(m("expires must be after created".into()));
        }
        Ok(())
    }

    pub fn expected_chunks(&self) -> u64 {
        self.total_size.div_ceil(u64::from(self.chunk_size.max(1)))
    }

    /// Length of chunk `i` (the last one may be short).
    pub fn chunk_len(&self, i: u64) -> u64 {
        let start = i * u64::from(self.chunk_size);
        (self.total_size - start).min(u64::from(self.chunk_size))
    }
}

/// The facility's counter-signature of one manifest hash, for some groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDoc {
    pub facility: FacilityId,
    pub bundle_id: BundleId,
    pub version: u64,
    pub manifest_sha256: Sha256,
    pub groups: Vec<GroupId>,
    pub approved_at: DateTime<Utc>,
}

impl ApprovalDoc {
    pub fn validate(&self) -> Result<(), Error> {
        if self.groups.is_empty() || self.groups.len() > MAX_GROUPS {
            return Err(invalid(
                "approval",
                format!("it must name 1 to {MAX_GROUPS} groups"),
            ));
        }
        Ok(())
    }

    pub fn covers(&self, tablet_groups: &[GroupId]) -> bool {
        self.groups.iter().any(|g| tablet_groups.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: &[(&str, u64)], chunk: u32) -> Manifest {
        let total: u64 = files.iter().map(|f| f.1).sum();
        let chunks = total.div_ceil(chunk as u64) as usize;
        Manifest {
            bundle_id: BundleId::parse("acme.x").unwrap(),
            version: 1,
            content_type: ContentType::Education,
            vendor: VendorId::parse("acme").unwrap(),
            title: "X".into(),
            tablet_model: TabletModel::parse("any").unwrap(),
            created: DateTime::from_timestamp(0, 0).unwrap(),
            expires: DateTime::from_timestamp(10, 0).unwrap(),
            chunk_size: chunk,
            total_size: total,
            chunks: vec![Sha256([0; 32]); chunks],
            files: files
                .iter()
                .map(|(p, s)| FileEntry {
                    path: SafePath::parse(p).unwrap(),
                    size: *s,
                    sha256: Sha256([0; 32]),
                })
                .collect(),
        }
    }

    #[test]
    fn manifest_consistency_rules() {
        assert!(
            manifest(&[("a", 3000), ("b/c", 10)], 1024)
                .validate()
                .is_ok()
        );
        assert!(manifest(&[("a", 0)], 1024).validate().is_ok());
        let mut m = manifest(&[("a", 3000)], 1024);
        m.chunks.pop();
        assert!(m.validate().is_err(), "missing chunk hash");
        let mut m = manifest(&[("a", 3000)], 1024);
        m.total_size += 1;
        assert!(m.validate().is_err(), "size mismatch");
        assert!(manifest(&[("a", 1), ("a/b", 1)], 1024).validate().is_err());
        assert!(manifest(&[("a", 1), ("a", 1)], 1024).validate().is_err());
        assert!(
            manifest(&[("a", 1)], 1000).validate().is_err(),
            "not a power of two"
        );
    }

    #[test]
    fn root_rejects_shared_keys_and_bad_thresholds() {
        let k = |b| PublicKey([b; 32]);
        let mut roles = Roles {
            root: RoleKeys {
                keys: vec![k(1), k(2), k(3)],
                threshold: 2,
            },
            approval: RoleKeys::single(k(4)),
            policy: RoleKeys::single(k(5)),
            roster: RoleKeys::single(k(6)),
            contacts: RoleKeys::single(k(7)),
            messaging: RoleKeys::single(k(8)),
            dock: RoleKeys::single(k(9)),
        };
        let root = |roles: &Roles| RootDoc {
            facility: FacilityId::parse("f").unwrap(),
            version: 1,
            expires: DateTime::from_timestamp(10, 0).unwrap(),
            roles: roles.clone(),
        };
        assert!(root(&roles).validate().is_ok());
        roles.policy = RoleKeys::single(k(4));
        assert!(root(&roles).validate().is_err(), "key in two roles");
        roles.policy = RoleKeys::single(k(5));
        roles.root.threshold = 4;
        assert!(root(&roles).validate().is_err());
        roles.root.threshold = 2;
        roles.root.keys = vec![k(1), k(1), k(3)];
        assert!(root(&roles).validate().is_err(), "duplicate key");
    }
}
