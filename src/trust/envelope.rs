//! DSSE-style envelopes. Signatures cover
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
//! where LEN is the byte length in ASCII decimal with no leading zeros.
//!
//! Wire form (JSON, at most [`MAX_ENVELOPE_BYTES`]):
//! `{"payloadType":"…","payload":"<base64>","signatures":[{"keyid":"<hex public key>","sig":"<base64>"}]}`

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys::{SigningKey, verify_signature};
use super::{Error, Result};
use crate::domain::{PublicKey, RoleKeys};

/// Largest envelope accepted, in bytes.
pub const MAX_ENVELOPE_BYTES: usize = 1 << 20;
/// The largest manifest envelope: room for every other limit at once
/// (10,000 files with 255-byte paths and 16,384 chunk hashes of a 64 GiB
/// payload come to about 6.5 MiB once base64-encoded).
pub const MAX_MANIFEST_ENVELOPE_BYTES: usize = 8 << 20;
/// Most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 16;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<WireSig>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSig {
    keyid: String,
    sig: String,
}

/// An envelope whose signatures have not been checked. Its payload is
/// private: the only way to reach it is [`Envelope::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<(PublicKey, [u8; 64])>,
}

/// The payload of an envelope that met a role's threshold.
#[derive(Debug)]
pub struct Verified<'a> {
    payload: &'a [u8],
}

impl<'a> Verified<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        self.payload
    }

    /// Deserialize the verified bytes: first the JSON rules every signed
    /// document meets (`domain::strict`), then the type, which denies
    /// unknown fields.
    pub fn parse<T: DeserializeOwned>(&self, what: &'static str) -> Result<T> {
        parse_strict(self.payload, what)
    }
}

/// Parse a signed document's payload under the strict JSON rules.
pub(crate) fn parse_strict<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    crate::domain::strict::check(bytes).map_err(|why| Error::Payload { what, why })?;
    // The error names the member it is about (`files[3].size`), as the
    // strict rules do, so a vendor can find it.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let why = if path.is_empty() || path == "." {
            inner.to_string()
        } else {
            format!("field `{path}`: {inner}")
        };
        Error::Payload { what, why }
    })?;
    de.end().map_err(|_| Error::Payload {
        what,
        why: "there is data after the JSON object; nothing may follow it".into(),
    })?;
    Ok(value)
}

pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Sign `payload` as `payload_type` with each key.
    pub fn sign(payload_type: &str, payload: Vec<u8>, keys: &[&SigningKey]) -> Self {
        let msg = pae(payload_type, &payload);
        let signatures = keys.iter().map(|k| (k.public(), k.sign(&msg))).collect();
        Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures,
        }
    }

    /// Add one more signature over the same bytes.
    pub fn add_signature(&mut self, key: &SigningKey) {
        let msg = pae(&self.payload_type, &self.payload);
        self.signatures.push((key.public(), key.sign(&msg)));
    }

    /// The payload before verification. Only the root bootstrap uses it, to
    /// learn which keys must have signed; it accepts the document only after
    /// `verify` under those keys succeeds.
    pub(super) fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload with its signatures unchecked, for vendor-side tools that
    /// display or sanity-check their own files (`berth-vendor inspect`,
    /// `pack`'s early warnings). Architecture invariant: tablet code never
    /// calls this; it only ever sees payloads through [`Envelope::verify`].
    pub fn unverified_payload_for_display(&self) -> &[u8] {
        &self.payload
    }

    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// Signing keys named by the envelope (unchecked).
    pub fn key_ids(&self) -> impl Iterator<Item = &PublicKey> {
        self.signatures.iter().map(|(k, _)| k)
    }

    /// Parse the wire form. The size cap is checked before anything is read.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_capped(bytes, MAX_ENVELOPE_BYTES)
    }

    /// A bundle's manifest envelope, which may be up to
    /// [`MAX_MANIFEST_ENVELOPE_BYTES`].
    pub fn manifest_from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_capped(bytes, MAX_MANIFEST_ENVELOPE_BYTES)
    }

    fn from_bytes_capped(bytes: &[u8], cap: usize) -> Result<Self> {
        if bytes.len() > cap {
            return Err(Error::TooLarge {
                size: bytes.len(),
                cap,
            });
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| Error::Envelope(e.to_string()))?;
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(Error::Envelope(format!(
                "{} signatures, at most {MAX_SIGNATURES} allowed",
                wire.signatures.len()
            )));
        }
        let payload = B64
            .decode(wire.payload.as_bytes())
            .map_err(|e| Error::Envelope(format!("payload is not base64: {e}")))?;
        let mut signatures = Vec::with_capacity(wire.signatures.len());
        for s in wire.signatures {
            let key = PublicKey::from_hex(&s.keyid)
                .map_err(|e| Error::Envelope(format!("keyid: {e}")))?;
            let raw = B64
                .decode(s.sig.as_bytes())
                .map_err(|e| Error::Envelope(format!("sig is not base64: {e}")))?;
            let sig: [u8; 64] = raw
                .try_into()
                .map_err(|_| Error::Envelope("an Ed25519 signature is 64 bytes".into()))?;
            signatures.push((key, sig));
        }
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            payload_type: self.payload_type.clone(),
            payload: B64.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|(k, s)| WireSig {
                    keyid: k.to_hex(),
                    sig: B64.encode(s),
                })
                .collect(),
        };
        serde_json::to_vec(&wire).expect("envelope serializes")
    }

    /// Check the payload type, then count the distinct keys of `role` whose
    /// signature verifies. A key listed twice counts once; keys outside the
    /// role count for nothing.
    pub fn verify(
        &self,
        expected_type: &'static str,
        what: &'static str,
        role_name: &str,
        role: &RoleKeys,
    ) -> Result<Verified<'_>> {
        if self.payload_type != expected_type {
            return Err(Error::WrongPayloadType {
                expected: expected_type,
                found: self.payload_type.chars().take(100).collect(),
                what,
            });
        }
        let msg = pae(&self.payload_type, &self.payload);
        let mut valid = BTreeSet::new();
        for (key, sig) in &self.signatures {
            if role.keys.contains(key) && !valid.contains(key) && verify_signature(key, &msg, sig) {
                valid.insert(*key);
            }
        }
        if valid.len() < role.threshold as usize || role.threshold == 0 {
            return Err(Error::Threshold {
                what,
                role: role_name.to_string(),
                valid: valid.len(),
                needed: role.threshold,
            });
        }
        Ok(Verified {
            payload: &self.payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_seed(&[b; 32])
    }

    #[test]
    fn pae_matches_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn threshold_counts_distinct_keys() {
        let (a, b) = (key(1), key(2));
        let role = RoleKeys {
            keys: vec![a.public(), b.public()],
            threshold: 2,
        };
        // The same key's signature twice does not meet a threshold of two.
        let mut env = Envelope::sign("t", b"x".to_vec(), &[&a]);
        env.add_signature(&a);
        let bytes = env.to_bytes();
        let env = Envelope::from_bytes(&bytes).unwrap();
        assert!(matches!(
            env.verify("t", "doc", "root", &role),
            Err(Error::Threshold { valid: 1, .. })
        ));
        let env = Envelope::sign("t", b"x".to_vec(), &[&a, &b]);
        assert_eq!(env.verify("t", "doc", "root", &role).unwrap().bytes(), b"x");
    }

    #[test]
    fn wrong_payload_type_is_refused_even_with_valid_signature() {
        let a = key(1);
        let env = Envelope::sign("type-a", b"{}".to_vec(), &[&a]);
        let role = RoleKeys::single(a.public());
        assert!(matches!(
            env.verify("type-b", "doc", "r", &role),
            Err(Error::WrongPayloadType { .. })
        ));
    }

    #[test]
    fn foreign_key_and_bit_flip_fail() {
        let (a, b) = (key(1), key(2));
        let role = RoleKeys::single(a.public());
        let env = Envelope::sign("t", b"x".to_vec(), &[&b]);
        assert!(env.verify("t", "doc", "r", &role).is_err());
        let mut env = Envelope::sign("t", b"x".to_vec(), &[&a]);
        env.payload[0] ^= 1;
        assert!(env.verify("t", "doc", "r", &role).is_err());
    }

    #[test]
    fn envelope_size_cap_is_checked_first() {
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert!(matches!(
            Envelope::from_bytes(&big),
            Err(Error::TooLarge { .. })
        ));
    }
}
