//! Signing and checking the sync protocol's documents: requests and
//! letters signed by a device key, replies by a dock key, feed entries by
//! the messaging key.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Envelope, Result, SigningKey, TrustedRoot, payload_type as pt};
use crate::domain::content::{CertificateDoc, EntitlementDoc};
use crate::domain::messages::OutboundMessage;
use crate::domain::sync::{FeedEntry, Reply, Request};
use crate::domain::{PublicKey, RoleKeys};

/// Sign a document of `payload_type` with one key.
pub fn sign<T: Serialize>(key: &SigningKey, payload_type: &str, doc: &T) -> Vec<u8> {
    let payload = serde_json::to_vec(doc).expect("protocol documents serialize");
    Envelope::sign(payload_type, payload, &[key]).to_bytes()
}

/// Check a document signed by one known key, then parse it.
pub fn verify_by<T: DeserializeOwned>(
    key: &PublicKey,
    bytes: &[u8],
    payload_type: &'static str,
    what: &'static str,
) -> Result<T> {
    let env = Envelope::from_bytes(bytes)?;
    env.verify(payload_type, what, "device", &RoleKeys::single(*key))?
        .parse(what)
}

/// A letter, checked against the device key of the tablet that sent it.
pub fn verify_letter(device: &PublicKey, bytes: &[u8]) -> Result<OutboundMessage> {
    let m: OutboundMessage = verify_by(device, bytes, pt::MESSAGE, "letter")?;
    if m.tablet != *device {
        return Err(crate::domain::Error::Refused(format!(
            "letter {} names tablet {} but was signed by {device}",
            m.id, m.tablet
        ))
        .into());
    }
    Ok(m)
}

/// A request, checked against the key the tablet proved in the handshake.
pub fn verify_request(device: &PublicKey, bytes: &[u8]) -> Result<Request> {
    let r: Request = verify_by(device, bytes, pt::SYNC_REQUEST, "sync request")?;
    if r.tablet != *device {
        return Err(crate::domain::Error::Refused(format!(
            "request names tablet {} but was signed by {device}",
            r.tablet
        ))
        .into());
    }
    Ok(r)
}

/// A certificate, checked against the device key it names. Whether that
/// key belongs to an enrolled tablet is the dock's to say.
pub fn verify_certificate(bytes: &[u8]) -> Result<CertificateDoc> {
    let env = Envelope::from_bytes(bytes)?;
    let signer = *env.key_ids().next().ok_or_else(|| {
        crate::domain::Error::Refused("the certificate carries no signature".into())
    })?;
    let c: CertificateDoc = verify_by(&signer, bytes, pt::CERTIFICATE, "certificate")?;
    if c.tablet != signer {
        return Err(crate::domain::Error::Refused(format!(
            "certificate {} names tablet {} but was signed by {signer}",
            c.id, c.tablet
        ))
        .into());
    }
    Ok(c)
}

/// A contact request, checked against the device key of the tablet that
/// sent it, then its rules.
pub fn verify_contact_request(
    device: &PublicKey,
    bytes: &[u8],
) -> Result<crate::domain::contacts::ContactRequestDoc> {
    let r: crate::domain::contacts::ContactRequestDoc =
        verify_by(device, bytes, pt::CONTACT_REQUEST, "contact request")?;
    if r.tablet != *device {
        return Err(crate::domain::Error::Refused(format!(
            "contact request {} names tablet {} but was signed by {device}",
            r.id, r.tablet
        ))
        .into());
    }
    r.validate()?;
    Ok(r)
}

impl TrustedRoot {
    /// A music entitlement receipt, signed by the approval role and made
    /// out by this facility.
    pub fn verify_entitlement(&self, bytes: &[u8]) -> Result<EntitlementDoc> {
        let e: EntitlementDoc = Envelope::from_bytes(bytes)?
            .verify(
                pt::ENTITLEMENT,
                "entitlement",
                "approval",
                &self.doc().roles.approval,
            )?
            .parse("entitlement")?;
        if e.facility != self.doc().facility {
            return Err(crate::domain::Error::Refused(format!(
                "entitlement {} is from facility {}, not {}",
                e.id,
                e.facility,
                self.doc().facility
            ))
            .into());
        }
        Ok(e)
    }

    /// The dock keys a tablet pins.
    pub fn dock_keys(&self) -> &[PublicKey] {
        &self.doc().roles.dock.keys
    }

    /// A dock reply, signed by a dock key of this root.
    pub fn verify_reply(&self, bytes: &[u8]) -> Result<Reply> {
        Envelope::from_bytes(bytes)?
            .verify(pt::SYNC_REPLY, "dock reply", "dock", &self.doc().roles.dock)?
            .parse("dock reply")
    }

    /// A feed entry, signed by the messaging role.
    pub fn verify_feed_entry(&self, bytes: &[u8]) -> Result<FeedEntry> {
        Envelope::from_bytes(bytes)?
            .verify(
                pt::FEED_ENTRY,
                "message feed entry",
                "messaging",
                &self.doc().roles.messaging,
            )?
            .parse("message feed entry")
    }
}
