//! The chain of trust: root → approval → vendor delegation → manifest.

use chrono::{DateTime, Utc};

use super::envelope::Envelope;
use super::{Error, Result, payload_type as pt, sha256};
use crate::domain::rules::not_expired;
use crate::domain::{ApprovalDoc, DelegationDoc, GroupId, Manifest, RootDoc, Sha256, TabletModel};

/// A root document that verified, with the exact envelope bytes it came in.
#[derive(Clone, Debug)]
pub struct TrustedRoot {
    doc: RootDoc,
    envelope: Vec<u8>,
    verified: Verified,
}

/// Documents this root has verified, keyed by the SHA-256 of their exact
/// envelope bytes. The tablet re-reads its stored policies and contact
/// lists at every decision; an Ed25519 check of the same bytes by the same
/// keys gives the same answer, so it is done once per document. Changed
/// bytes (a new version, or a store altered behind the tablet's back) have
/// another digest and are verified in full. Only successes are kept, and a
/// new root starts empty.
#[derive(Clone, Default)]
struct Verified(std::sync::Arc<std::sync::Mutex<VerifiedMap>>);
type VerifiedMap =
    std::collections::HashMap<(&'static str, [u8; 32]), Box<dyn std::any::Any + Send>>;

/// Entries kept before the cache starts again (a tablet holds a few
/// policies and one contact list per person).
const VERIFIED_MAX: usize = 1024;

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verified(..)")
    }
}

impl Verified {
    fn get_or<T: Clone + Send + 'static>(
        &self,
        kind: &'static str,
        bytes: &[u8],
        verify: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let key = (kind, sha256(bytes).0);
        let lock = || self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = lock().get(&key).and_then(|v| v.downcast_ref::<T>()) {
            return Ok(hit.clone());
        }
        let doc = verify()?;
        let mut map = lock();
        if map.len() >= VERIFIED_MAX {
            map.clear();
        }
        map.insert(key, Box::new(doc.clone()));
        Ok(doc)
    }
}

impl TrustedRoot {
    /// Accept a root on first use (at enrolment): it must meet its own root
    /// threshold. Later roots only arrive through [`TrustedRoot::update`].
    pub fn bootstrap(bytes: &[u8]) -> Result<Self> {
        let env = Envelope::from_bytes(bytes)?;
        let doc = Self::self_verified(&env)?;
        Ok(TrustedRoot {
            doc,
            envelope: bytes.to_vec(),
            verified: Verified::default(),
        })
    }

    fn self_verified(env: &Envelope) -> Result<RootDoc> {
        // The keys that must sign are inside the payload, so read the role
        // first, then verify under it, then accept the document.
        if env.payload_type() != pt::ROOT {
            return Err(Error::WrongPayloadType {
                expected: pt::ROOT,
                found: env.payload_type().chars().take(100).collect(),
                what: "root",
            });
        }
        let unverified = env.unverified_payload();
        let claimed: RootDoc = super::envelope::parse_strict(unverified, "root")?;
        claimed.validate()?;
        env.verify(pt::ROOT, "root", "root", &claimed.roles.root)?;
        Ok(claimed)
    }

    /// Accept root N+1: it must meet the root threshold of version N and of
    /// its own, name the same facility, and have exactly the next version.
    pub fn update(&self, bytes: &[u8]) -> Result<TrustedRoot> {
        let env = Envelope::from_bytes(bytes)?;
        env.verify(pt::ROOT, "new root", "root", &self.doc.roles.root)
            .map_err(|e| Error::Rotation(e.to_string()))?;
        let doc = Self::self_verified(&env).map_err(|e| Error::Rotation(e.to_string()))?;
        if doc.facility != self.doc.facility {
            return Err(Error::Rotation(format!(
                "new root is for facility {} but this tablet belongs to {}",
                doc.facility, self.doc.facility
            )));
        }
        if doc.version != self.doc.version + 1 {
            return Err(Error::Rotation(format!(
                "new root has version {}, expected {}",
                doc.version,
                self.doc.version + 1
            )));
        }
        Ok(TrustedRoot {
            doc,
            envelope: bytes.to_vec(),
            verified: Verified::default(),
        })
    }

    pub fn doc(&self) -> &RootDoc {
        &self.doc
    }

    pub fn envelope_bytes(&self) -> &[u8] {
        &self.envelope
    }

    pub fn check_not_expired(&self, now: DateTime<Utc>) -> Result<()> {
        not_expired(
            &format!("facility root version {}", self.doc.version),
            self.doc.expires,
            now,
        )?;
        Ok(())
    }

    /// A vendor delegation signed by the approval role.
    pub fn verify_delegation(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<DelegationDoc> {
        let env = Envelope::from_bytes(bytes)?;
        let d: DelegationDoc = env
            .verify(
                pt::DELEGATION,
                "vendor delegation",
                "approval",
                &self.doc.roles.approval,
            )?
            .parse("vendor delegation")?;
        d.validate()?;
        self.same_facility(&d.facility, "delegation")?;
        not_expired(
            &format!("delegation for vendor {}", d.vendor),
            d.expires,
            now,
        )?;
        Ok(d)
    }

    /// A facility approval signed by the approval role.
    pub fn verify_approval(&self, bytes: &[u8]) -> Result<ApprovalDoc> {
        let env = Envelope::from_bytes(bytes)?;
        let a: ApprovalDoc = env
            .verify(
                pt::APPROVAL,
                "approval",
                "approval",
                &self.doc.roles.approval,
            )?
            .parse("approval")?;
        a.validate()?;
        self.same_facility(&a.facility, "approval")?;
        Ok(a)
    }

    /// A roster signed by the roster role.
    pub fn verify_roster(&self, bytes: &[u8]) -> Result<crate::domain::people::RosterDoc> {
        self.verified
            .get_or("roster", bytes, || self.verify_roster_now(bytes))
    }

    fn verify_roster_now(&self, bytes: &[u8]) -> Result<crate::domain::people::RosterDoc> {
        let env = Envelope::from_bytes(bytes)?;
        let r: crate::domain::people::RosterDoc = env
            .verify(pt::ROSTER, "roster", "roster", &self.doc.roles.roster)?
            .parse("roster")?;
        r.validate()?;
        self.same_facility(&r.facility, "roster")?;
        Ok(r)
    }

    /// A person's contact list signed by the contacts role.
    pub fn verify_contacts(&self, bytes: &[u8]) -> Result<crate::domain::messages::ContactListDoc> {
        self.verified
            .get_or("contacts", bytes, || self.verify_contacts_now(bytes))
    }

    fn verify_contacts_now(&self, bytes: &[u8]) -> Result<crate::domain::messages::ContactListDoc> {
        let env = Envelope::from_bytes(bytes)?;
        let c: crate::domain::messages::ContactListDoc = env
            .verify(
                pt::CONTACTS,
                "contact list",
                "contacts",
                &self.doc.roles.contacts,
            )?
            .parse("contact list")?;
        c.validate()?;
        self.same_facility(&c.facility, "contact list")?;
        Ok(c)
    }

    /// A policy signed by the policy role.
    pub fn verify_policy(&self, bytes: &[u8]) -> Result<crate::domain::policy::PolicyDoc> {
        self.verified
            .get_or("policy", bytes, || self.verify_policy_now(bytes))
    }

    fn verify_policy_now(&self, bytes: &[u8]) -> Result<crate::domain::policy::PolicyDoc> {
        let env = Envelope::from_bytes(bytes)?;
        let p: crate::domain::policy::PolicyDoc = env
            .verify(pt::POLICY, "policy", "policy", &self.doc.roles.policy)?
            .parse("policy")?;
        p.validate()?;
        self.same_facility(&p.facility, "policy")?;
        Ok(p)
    }

    fn same_facility(&self, f: &crate::domain::FacilityId, what: &str) -> Result<()> {
        if *f != self.doc.facility {
            return Err(crate::domain::Error::Refused(format!(
                "{what} is for facility {f}, not {}",
                self.doc.facility
            ))
            .into());
        }
        Ok(())
    }

    /// The vendor's half of a bundle: delegation, then the manifest signed
    /// by the delegated key and within its scope.
    pub fn verify_vendor_part(
        &self,
        manifest_env: &[u8],
        delegation_env: &[u8],
        now: DateTime<Utc>,
    ) -> Result<VendorVerified> {
        self.check_not_expired(now)?;
        let delegation = self.verify_delegation(delegation_env, now)?;
        let env = Envelope::manifest_from_bytes(manifest_env)?;
        let role = crate::domain::RoleKeys::single(delegation.key);
        let verified = env.verify(
            pt::MANIFEST,
            "manifest",
            &format!("vendor:{}", delegation.vendor),
            &role,
        )?;
        let manifest_sha256 = sha256(verified.bytes());
        let manifest: Manifest = verified.parse("manifest")?;
        manifest.validate()?;
        delegation.permits(&manifest)?;
        not_expired(
            &format!("bundle {} version {}", manifest.bundle_id, manifest.version),
            manifest.expires,
            now,
        )?;
        Ok(VendorVerified {
            manifest,
            manifest_sha256,
            delegation,
        })
    }
}

/// The vendor half of a bundle, verified.
#[derive(Clone, Debug)]
pub struct VendorVerified {
    pub manifest: Manifest,
    pub manifest_sha256: Sha256,
    pub delegation: DelegationDoc,
}

/// Where a bundle is being installed.
#[derive(Clone, Debug)]
pub struct InstallTarget {
    pub groups: Vec<GroupId>,
    pub model: TabletModel,
}

/// A bundle header that passed every check: ready to stream the payload.
#[derive(Clone, Debug)]
pub struct VerifiedHeader {
    pub manifest: Manifest,
    pub manifest_sha256: Sha256,
    pub delegation: DelegationDoc,
    pub approval: ApprovalDoc,
}

/// Verify a whole bundle header for one tablet: vendor half, tablet model,
/// and at least one facility approval of the same manifest hash that covers
/// one of the tablet's groups.
pub fn verify_header(
    root: &TrustedRoot,
    manifest_env: &[u8],
    delegation_env: &[u8],
    approvals: &[Vec<u8>],
    target: &InstallTarget,
    now: DateTime<Utc>,
) -> Result<VerifiedHeader> {
    let v = root.verify_vendor_part(manifest_env, delegation_env, now)?;
    if !v.manifest.tablet_model.accepts(&target.model) {
        return Err(crate::domain::Error::Refused(format!(
            "bundle is built for tablet model {}, this tablet is {}",
            v.manifest.tablet_model, target.model
        ))
        .into());
    }
    let mut last_err = None;
    for bytes in approvals {
        match root.verify_approval(bytes) {
            Ok(a) if a.manifest_sha256 != v.manifest_sha256 => {
                last_err = Some("an approval is for a different manifest".to_string())
            }
            Ok(a) if a.bundle_id != v.manifest.bundle_id || a.version != v.manifest.version => {
                last_err = Some("an approval names another bundle or version".to_string())
            }
            Ok(a) if !a.covers(&target.groups) => {
                last_err = Some(format!(
                    "approved for groups {:?}, this tablet is in {:?}",
                    a.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                    target.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>()
                ))
            }
            Ok(a) => {
                return Ok(VerifiedHeader {
                    manifest: v.manifest,
                    manifest_sha256: v.manifest_sha256,
                    delegation: v.delegation,
                    approval: a,
                });
            }
            Err(e) => last_err = Some(e.to_string()),
        }
    }
    Err(crate::domain::Error::Refused(format!(
        "bundle {} version {} has no valid facility approval for this tablet ({}); \
         ask facility IT to approve it with `berth-facility approve`",
        v.manifest.bundle_id,
        v.manifest.version,
        last_err.unwrap_or_else(|| "it carries no approval".into())
    ))
    .into())
}
