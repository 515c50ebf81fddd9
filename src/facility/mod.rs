//! Facility IT's side: the key directory, root rotation, vendor
//! delegations, and approvals of vendor bundles.
//!
//! A facility directory `F` holds:
//! ```text
//! F/root.json            the current signed root (give this to tablets)
//! F/roots/N.root.json    every root version, for tablets catching up
//! F/keys/ROLE.pk8        one key per role (root-1..3, approval, policy, …)
//! F/keys/retired/vN/     root keys replaced by a rotation
//! F/delegations/KEY.delegation  every delegation issued, by vendor key:
//!                        the dock lets these keys upload (and no stranger)
//! ```
//! In production the root keys live offline (one per officer); this layout
//! keeps them together so a demo and the tests can run unattended.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::bundle::{self, RawHeader, pack};
use crate::domain::{
    ApprovalDoc, ContentType, DelegationDoc, FacilityId, GroupId, PublicKey, RoleKeys, Roles,
    RootDoc, VendorId,
};
use crate::trust::{self, Envelope, MAX_ENVELOPE_BYTES, SigningKey, TrustedRoot, payload_type};

/// Signing roles besides root, in the order `init` creates them.
pub const ROLES: [&str; 6] = [
    "approval",
    "policy",
    "roster",
    "contacts",
    "messaging",
    "dock",
];
/// Root keys created by `init` and by each rotation, and how many must sign.
pub const ROOT_KEYS: usize = 3;
pub const ROOT_THRESHOLD: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} already holds a facility (root.json exists); choose an empty directory")]
    Exists(PathBuf),
    #[error(
        "{0} is not a facility directory (no root.json); run `berth-facility init --dir {0}` first"
    )]
    NotFacility(PathBuf),
    #[error(
        "key for role {role} in {path} does not match the current root; the directory is inconsistent"
    )]
    WrongKey { role: String, path: PathBuf },
    #[error("{path}: {why}")]
    BadInput { path: PathBuf, why: String },
    #[error(transparent)]
    Trust(#[from] trust::Error),
    #[error(transparent)]
    Bundle(#[from] bundle::Error),
    #[error(transparent)]
    Rule(#[from] crate::domain::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `bytes` to `path` atomically (temp file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::bundle::write_atomic(path, bytes).map_err(io(path))
}

/// Read at most `cap` bytes of a file, refusing larger ones.
pub fn read_capped(path: &Path, cap: usize) -> Result<Vec<u8>> {
    crate::bundle::read_capped(path, cap).map_err(io(path))
}

/// Read a public key file: 64 hex digits (surrounding white space allowed).
pub fn read_public_key(path: &Path) -> Result<PublicKey> {
    let bytes = read_capped(path, 1024)?;
    let text = String::from_utf8_lossy(&bytes);
    PublicKey::from_hex(text.trim()).map_err(|e| Error::BadInput {
        path: path.to_path_buf(),
        why: format!(
            "{e}; a public key file holds the 64 hex digits `berth-vendor keygen` printed"
        ),
    })
}

pub struct Facility {
    dir: PathBuf,
    root: TrustedRoot,
}

/// Result of `verify`.
#[derive(Debug)]
pub struct BundleReport {
    pub manifest: crate::domain::Manifest,
    pub manifest_sha256: crate::domain::Sha256,
    pub delegation: DelegationDoc,
    /// Each approval envelope: its groups if valid for this manifest, or why not.
    pub approvals: Vec<std::result::Result<ApprovalDoc, String>>,
}

impl Facility {
    pub fn root_path(dir: &Path) -> PathBuf {
        dir.join("root.json")
    }

    fn keys_dir(&self) -> PathBuf {
        self.dir.join("keys")
    }

    /// Create a facility: keys for every role and root version 1.
    pub fn init(dir: &Path, facility: FacilityId, expires: DateTime<Utc>) -> Result<Self> {
        if Self::root_path(dir).exists() {
            return Err(Error::Exists(dir.to_path_buf()));
        }
        let keys = dir.join("keys");
        fs::create_dir_all(&keys).map_err(io(&keys))?;
        fs::create_dir_all(dir.join("roots")).map_err(io(dir))?;
        let make_key = |name: &str| -> Result<SigningKey> {
            let p = keys.join(format!("{name}.pk8"));
            if p.exists() {
                // Left by an init that was interrupted: reuse it.
                return Ok(SigningKey::load(&p)?);
            }
            Ok(SigningKey::generate_to_file(&p)?)
        };
        let root_keys: Vec<SigningKey> = (1..=ROOT_KEYS)
            .map(|i| make_key(&format!("root-{i}")))
            .collect::<Result<_>>()?;
        let mut role_keys = Vec::new();
        for r in ROLES {
            role_keys.push(RoleKeys::single(make_key(r)?.public()));
        }
        let [approval, policy, roster, contacts, messaging, dock] =
            <[RoleKeys; 6]>::try_from(role_keys).expect("six roles");
        let doc = RootDoc {
            facility,
            version: 1,
            expires,
            roles: Roles {
                root: RoleKeys {
                    keys: root_keys.iter().map(|k| k.public()).collect(),
                    threshold: ROOT_THRESHOLD,
                },
                approval,
                policy,
                roster,
                contacts,
                messaging,
                dock,
            },
        };
        doc.validate()?;
        let payload = serde_json::to_vec(&doc).expect("root serializes");
        let signers: Vec<&SigningKey> = root_keys.iter().collect();
        let env = Envelope::sign(payload_type::ROOT, payload, &signers).to_bytes();
        let root = TrustedRoot::bootstrap(&env)?;
        write_atomic(&dir.join("roots").join("1.root.json"), &env)?;
        write_atomic(&Self::root_path(dir), &env)?;
        Ok(Facility {
            dir: dir.to_path_buf(),
            root,
        })
    }

    pub fn open(dir: &Path) -> Result<Self> {
        let p = Self::root_path(dir);
        if !p.exists() {
            return Err(Error::NotFacility(dir.to_path_buf()));
        }
        let root = TrustedRoot::bootstrap(&read_capped(&p, MAX_ENVELOPE_BYTES)?)?;
        let f = Facility {
            dir: dir.to_path_buf(),
            root,
        };
        f.finish_interrupted_rotation()?;
        Ok(f)
    }

    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// Write the dock's kit to `out`: what a dock (and its console) needs
    /// and nothing more. The current root and every earlier one (tablets
    /// catching up), every delegation (which vendor keys may upload), and
    /// the online keys: approval, policy, roster, contacts, messaging and
    /// dock. Never a root key: those stay with the offline CLI. Run again
    /// after a rotation or a new delegation; it replaces what it wrote.
    /// Returns the files written, relative to `out`.
    pub fn export_dock_kit(&self, out: &Path) -> Result<Vec<PathBuf>> {
        if out.canonicalize().ok() == self.dir.canonicalize().ok() {
            return Err(Error::BadInput {
                path: out.to_path_buf(),
                why: "the kit must go to another directory than the facility's".into(),
            });
        }
        let mut written = Vec::new();
        let mut copy = |rel: PathBuf| -> Result<()> {
            let from = self.dir.join(&rel);
            let bytes = read_capped(&from, 1 << 20)?;
            let to = out.join(&rel);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            write_atomic(&to, &bytes)?;
            written.push(rel);
            Ok(())
        };
        for role in ROLES {
            // Checked against the root before it is copied.
            self.key(role)?;
            copy(PathBuf::from("keys").join(format!("{role}.pk8")))?;
        }
        for sub in ["roots", "delegations"] {
            let dir = self.dir.join(sub);
            if !dir.is_dir() {
                continue;
            }
            let mut names: Vec<String> = fs::read_dir(&dir)
                .map_err(io(&dir))?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                copy(PathBuf::from(sub).join(n))?;
            }
        }
        // The root last: a kit cut short has no root.json and no dock opens it.
        copy(PathBuf::from("root.json"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for r in &written {
                if r.starts_with("keys") {
                    let p = out.join(r);
                    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).map_err(io(&p))?;
                }
            }
        }
        Ok(written)
    }

    /// Load the key for `role`, checking that the root lists it.
    pub fn key(&self, role: &str) -> Result<SigningKey> {
        let path = self.keys_dir().join(format!("{role}.pk8"));
        let key = SigningKey::load(&path)?;
        let listed = self.root.doc().roles.named().into_iter().any(|(name, r)| {
            (name == role || (name == "root" && role.starts_with("root-")))
                && r.keys.contains(&key.public())
        });
        if !listed {
            return Err(Error::WrongKey {
                role: role.into(),
                path,
            });
        }
        Ok(key)
    }

    /// Sign a document with the key of `role` as `payload_type`.
    fn sign_as<T: serde::Serialize>(
        &self,
        role: &str,
        payload_type: &str,
        doc: &T,
    ) -> Result<Vec<u8>> {
        let key = self.key(role)?;
        let payload = serde_json::to_vec(doc).expect("documents serialize");
        Ok(Envelope::sign(payload_type, payload, &[&key]).to_bytes())
    }

    fn root_keys(&self) -> Result<Vec<SigningKey>> {
        (1..=ROOT_KEYS)
            .map(|i| self.key(&format!("root-{i}")))
            .collect()
    }

    /// Sign a delegation for a vendor key.
    #[allow(clippy::too_many_arguments)]
    pub fn delegate(
        &self,
        vendor: VendorId,
        key: PublicKey,
        content_types: Vec<ContentType>,
        max_bundle_bytes: u64,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        let mut content_types = content_types;
        content_types.sort();
        content_types.dedup();
        let doc = DelegationDoc {
            facility: self.root.doc().facility.clone(),
            vendor,
            key,
            content_types,
            max_bundle_bytes,
            issued: now,
            expires,
        };
        doc.validate()?;
        if self
            .root
            .doc()
            .roles
            .named()
            .iter()
            .any(|(_, r)| r.keys.contains(&key))
        {
            return Err(crate::domain::Error::Refused(
                "that key is one of the facility's own role keys; a vendor needs its own key"
                    .into(),
            )
            .into());
        }
        let env = self.sign_as("approval", payload_type::DELEGATION, &doc)?;
        let dir = self.dir.join("delegations");
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        write_atomic(&dir.join(format!("{}.delegation", key.to_hex())), &env)?;
        Ok(env)
    }

    /// Verify a bundle fully: vendor half, every payload chunk, approvals.
    pub fn verify(&self, bundle_path: &Path, now: DateTime<Utc>) -> Result<BundleReport> {
        let (header, mut r) = bundle::open_bundle(bundle_path)?;
        let v = self
            .root
            .verify_vendor_part(&header.manifest, &header.delegation, now)?;
        bundle::verify_payload(&mut r, &v.manifest, None, bundle_path)?;
        let approvals = header
            .approvals
            .iter()
            .map(|a| match self.root.verify_approval(a) {
                Ok(d) if d.manifest_sha256 == v.manifest_sha256 => Ok(d),
                Ok(_) => Err("approval is for a different manifest".to_string()),
                Err(e) => Err(e.to_string()),
            })
            .collect();
        Ok(BundleReport {
            manifest: v.manifest,
            manifest_sha256: v.manifest_sha256,
            delegation: v.delegation,
            approvals,
        })
    }

    /// Verify a vendor bundle and write it to `out` with this facility's
    /// approval for `groups` added.
    pub fn approve(
        &self,
        bundle_path: &Path,
        groups: Vec<GroupId>,
        out: &Path,
        now: DateTime<Utc>,
    ) -> Result<ApprovalDoc> {
        let (header, _) = bundle::open_bundle(bundle_path)?;
        let v = self
            .root
            .verify_vendor_part(&header.manifest, &header.delegation, now)?;
        let doc = ApprovalDoc {
            facility: self.root.doc().facility.clone(),
            bundle_id: v.manifest.bundle_id.clone(),
            version: v.manifest.version,
            manifest_sha256: v.manifest_sha256,
            groups,
            approved_at: now,
        };
        doc.validate()?;
        let env = self.sign_as("approval", payload_type::APPROVAL, &doc)?;
        // Keep earlier approvals that are still valid for this manifest.
        let mut approvals: Vec<Vec<u8>> = header
            .approvals
            .iter()
            .filter(|a| {
                self.root
                    .verify_approval(a)
                    .is_ok_and(|d| d.manifest_sha256 == v.manifest_sha256)
            })
            .cloned()
            .collect();
        approvals.push(env);
        if approvals.len() > bundle::container::MAX_APPROVALS as usize {
            approvals.remove(0);
        }
        let new_header = RawHeader {
            manifest: header.manifest,
            delegation: header.delegation,
            approvals,
        };
        pack::rewrite_with_header(bundle_path, &new_header, &v.manifest, out)?;
        Ok(doc)
    }

    /// Replace the root keys: root N+1 lists three new root keys (other
    /// roles unchanged) and is signed by a threshold of the old and of the
    /// new root keys. Returns (old, new) version.
    pub fn rotate_root(&mut self, expires: DateTime<Utc>) -> Result<(u64, u64)> {
        let old_keys = self.root_keys()?;
        let old = self.root.doc().clone();
        let next = old.version + 1;
        let staging = self.keys_dir().join(format!("rotating-v{next}"));
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        let new_keys: Vec<SigningKey> = (1..=ROOT_KEYS)
            .map(|i| {
                let p = staging.join(format!("root-{i}.pk8"));
                if p.exists() {
                    Ok(SigningKey::load(&p)?)
                } else {
                    Ok(SigningKey::generate_to_file(&p)?)
                }
            })
            .collect::<Result<_>>()?;
        let mut doc = old.clone();
        doc.version = next;
        doc.expires = expires;
        doc.roles.root = RoleKeys {
            keys: new_keys.iter().map(|k| k.public()).collect(),
            threshold: ROOT_THRESHOLD,
        };
        doc.validate()?;
        let payload = serde_json::to_vec(&doc).expect("root serializes");
        let mut signers: Vec<&SigningKey> = old_keys
            .iter()
            .take(old.roles.root.threshold as usize)
            .collect();
        signers.extend(new_keys.iter());
        let env = Envelope::sign(payload_type::ROOT, payload, &signers).to_bytes();
        let root = self.root.update(&env)?;
        write_atomic(
            &self.dir.join("roots").join(format!("{next}.root.json")),
            &env,
        )?;
        write_atomic(&Self::root_path(&self.dir), &env)?;
        self.root = root;
        self.finish_interrupted_rotation()?;
        Ok((old.version, next))
    }

    /// After root.json names version N, move keys/rotating-vN into place
    /// and retire the old root keys. Safe to repeat.
    fn finish_interrupted_rotation(&self) -> Result<()> {
        let v = self.root.doc().version;
        let staging = self.keys_dir().join(format!("rotating-v{v}"));
        if !staging.is_dir() {
            return Ok(());
        }
        let retired = self.keys_dir().join("retired").join(format!("v{}", v - 1));
        fs::create_dir_all(&retired).map_err(io(&retired))?;
        for i in 1..=ROOT_KEYS {
            let name = format!("root-{i}.pk8");
            let new = staging.join(&name);
            let cur = self.keys_dir().join(&name);
            if new.exists() {
                if cur.exists() {
                    fs::rename(&cur, retired.join(&name)).map_err(io(&cur))?;
                }
                fs::rename(&new, &cur).map_err(io(&new))?;
            }
        }
        fs::remove_dir(&staging).map_err(io(&staging))?;
        Ok(())
    }
}

/// `roster.toml`, as facility staff write it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterToml {
    group: GroupId,
    version: u64,
    #[serde(rename = "person", default)]
    people: Vec<PersonToml>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonToml {
    id: crate::domain::people::PersonId,
    name: String,
    language: crate::domain::people::Language,
    unit: GroupId,
    /// The one-time enrolment code handed to the person: 6 to 12 digits.
    code: String,
}

/// `policy.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyToml {
    scope: GroupId,
    version: u64,
    #[serde(default)]
    rules: crate::domain::policy::Rules,
}

fn read_toml(path: &Path) -> Result<String> {
    let bytes = read_capped(path, MAX_TOML_BYTES)?;
    String::from_utf8(bytes).map_err(|_| Error::BadInput {
        path: path.to_path_buf(),
        why: "the file is not UTF-8 text".into(),
    })
}

/// The largest TOML source staff may sign.
pub const MAX_TOML_BYTES: usize = 1 << 20;

fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    if text.len() > MAX_TOML_BYTES {
        return Err(Error::BadInput {
            path: path.to_path_buf(),
            why: format!("the file is over {MAX_TOML_BYTES} bytes"),
        });
    }
    toml::from_str(text).map_err(|e| Error::BadInput {
        path: path.to_path_buf(),
        why: e.to_string(),
    })
}

/// A roster from its TOML source (`path` only names it in errors), checked
/// as it will be signed. `stretch` turns each enrolment code into its
/// stored secret (PBKDF2 in `sign_roster`).
pub fn roster_from_toml(
    facility: FacilityId,
    text: &str,
    path: &Path,
    now: DateTime<Utc>,
    stretch: &dyn Fn(&str) -> Result<crate::domain::people::EnrolmentSecret>,
) -> Result<crate::domain::people::RosterDoc> {
    use crate::domain::people::{RosterDoc, RosterEntry};
    let src: RosterToml = parse_toml(text, path)?;
    let mut people = Vec::new();
    for p in src.people {
        if !(6..=12).contains(&p.code.len()) || !p.code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::BadInput {
                path: path.to_path_buf(),
                why: format!("{}: the enrolment code must be 6 to 12 digits", p.id),
            });
        }
        people.push(RosterEntry {
            id: p.id,
            display_name: p.name,
            language: p.language,
            unit: p.unit,
            enrolment: stretch(&p.code)?,
        });
    }
    let doc = RosterDoc {
        facility,
        group: src.group,
        version: src.version,
        issued: now,
        people,
    };
    doc.validate()?;
    Ok(doc)
}

/// A policy from its TOML source, checked as it will be signed.
pub fn policy_from_toml(
    facility: FacilityId,
    text: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<crate::domain::policy::PolicyDoc> {
    let src: PolicyToml = parse_toml(text, path)?;
    let doc = crate::domain::policy::PolicyDoc {
        facility,
        scope: src.scope,
        version: src.version,
        issued: now,
        rules: src.rules,
    };
    doc.validate()?;
    Ok(doc)
}

/// A person's contact list from its TOML source, checked as it will be signed.
pub fn contacts_from_toml(
    facility: FacilityId,
    text: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<crate::domain::messages::ContactListDoc> {
    let src: ContactsToml = parse_toml(text, path)?;
    let doc = crate::domain::messages::ContactListDoc {
        facility,
        person: src.person,
        version: src.version,
        issued: now,
        contacts: src.contacts,
    };
    doc.validate()?;
    Ok(doc)
}

impl Facility {
    /// Sign a roster from its TOML source. Enrolment codes are stretched
    /// with PBKDF2 and a fresh salt; the roster never holds them in clear.
    /// A music entitlement receipt for one person, signed by the approval
    /// role. It names the album's or track's vendor-neutral id, so it plays
    /// from any vendor's bundle that carries the item, on any tablet.
    pub fn sign_entitlement(
        &self,
        person: crate::domain::people::PersonId,
        item: crate::domain::content::EntitledItem,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, crate::domain::content::EntitlementDoc)> {
        let doc = crate::domain::content::EntitlementDoc {
            facility: self.root.doc().facility.clone(),
            id: uuid::Uuid::new_v4().to_string(),
            person,
            item,
            issued: now,
        };
        Ok((
            self.sign_as("approval", payload_type::ENTITLEMENT, &doc)?,
            doc,
        ))
    }

    pub fn sign_roster(
        &self,
        toml_path: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, crate::domain::people::RosterDoc)> {
        let stretch = |code: &str| -> Result<crate::domain::people::EnrolmentSecret> {
            let s = trust::secret::stretch(code)?;
            Ok(crate::domain::people::EnrolmentSecret {
                salt: hex::encode(s.salt),
                iterations: s.iterations,
                hash: hex::encode(s.hash),
            })
        };
        let doc = roster_from_toml(
            self.root.doc().facility.clone(),
            &read_toml(toml_path)?,
            toml_path,
            now,
            &stretch,
        )?;
        Ok((self.sign_as("roster", payload_type::ROSTER, &doc)?, doc))
    }

    /// Sign a policy from its TOML source.
    pub fn sign_policy(
        &self,
        toml_path: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, crate::domain::policy::PolicyDoc)> {
        let doc = policy_from_toml(
            self.root.doc().facility.clone(),
            &read_toml(toml_path)?,
            toml_path,
            now,
        )?;
        Ok((self.sign_as("policy", payload_type::POLICY, &doc)?, doc))
    }

    /// Read a signed policy file and verify it under this facility's root.
    pub fn read_policy(&self, path: &Path) -> Result<crate::domain::policy::PolicyDoc> {
        Ok(self
            .root
            .verify_policy(&read_capped(path, MAX_ENVELOPE_BYTES)?)?)
    }
}

/// `contacts.toml`: one person's approved contacts.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactsToml {
    person: crate::domain::people::PersonId,
    version: u64,
    #[serde(rename = "contact", default)]
    contacts: Vec<crate::domain::messages::Contact>,
}

impl Facility {
    /// Sign a person's contact list from its TOML source.
    pub fn sign_contacts(
        &self,
        toml_path: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, crate::domain::messages::ContactListDoc)> {
        let doc = contacts_from_toml(
            self.root.doc().facility.clone(),
            &read_toml(toml_path)?,
            toml_path,
            now,
        )?;
        Ok((self.sign_as("contacts", payload_type::CONTACTS, &doc)?, doc))
    }
}
