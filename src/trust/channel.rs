//! The dock channel: TLS 1.3 (rustls with the ring provider) where both
//! sides present a raw Ed25519 public key (RFC 7250) instead of a
//! certificate. The tablet pins the dock keys listed in the facility root;
//! the dock learns the tablet's device key from the handshake and checks it
//! against its enrolment table before it reads a request.
//!
//! Every payload inside the channel is also signed end to end, so the
//! channel adds confidentiality and mutual authentication, not trust.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls13_signature_with_raw_key};
use rustls::pki_types::{
    CertificateDer, PrivatePkcs8KeyDer, ServerName, SubjectPublicKeyInfoDer, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    ServerConfig, SignatureScheme,
};

use super::SigningKey;
use crate::domain::PublicKey;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32-byte
/// key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The name the tablet asks for. Raw public keys carry no names; the pin
/// is the key itself.
pub const DOCK_NAME: &str = "dock.berth.invalid";

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the {0} key cannot be used for TLS")]
    Key(&'static str),
}

pub fn spki(key: &PublicKey) -> Vec<u8> {
    let mut v = SPKI_PREFIX.to_vec();
    v.extend_from_slice(&key.0);
    v
}

/// The Ed25519 key in a raw-public-key "certificate", if it is one.
pub fn key_of_spki(der: &[u8]) -> Option<PublicKey> {
    let rest = der.strip_prefix(&SPKI_PREFIX[..])?;
    let bytes: [u8; 32] = rest.try_into().ok()?;
    Some(PublicKey(bytes))
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certified(key: &SigningKey, what: &'static str) -> Result<Arc<CertifiedKey>, ChannelError> {
    let der = PrivatePkcs8KeyDer::from(key.pkcs8().to_vec());
    let signer =
        rustls::crypto::ring::sign::any_eddsa_type(&der).map_err(|_| ChannelError::Key(what))?;
    Ok(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(spki(&key.public()))],
        signer,
    )))
}

fn verify_raw(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    verify_tls13_signature_with_raw_key(
        message,
        &SubjectPublicKeyInfoDer::from(cert.as_ref()),
        dss,
        &provider().signature_verification_algorithms,
    )
}

fn refused(why: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
        std::io::Error::other(why),
    ))))
}

/// The tablet's side: present the device key, accept only a pinned dock key.
pub fn client_config(
    device: &SigningKey,
    dock_keys: &[PublicKey],
) -> Result<(Arc<ClientConfig>, ServerName<'static>), ChannelError> {
    let verifier = Arc::new(PinnedDock {
        keys: dock_keys.to_vec(),
    });
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(
            rustls::client::AlwaysResolvesClientRawPublicKeys::new(certified(device, "device")?),
        ));
    let name = ServerName::try_from(DOCK_NAME).expect("valid name");
    Ok((Arc::new(config), name))
}

/// The dock's side: present the dock key and require an Ed25519 key from
/// the peer. Which keys are enrolled is decided after the handshake, so the
/// refusal can say why.
pub fn server_config(dock: &SigningKey) -> Result<Arc<ServerConfig>, ChannelError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(AnyEd25519Client))
        .with_cert_resolver(Arc::new(
            rustls::server::AlwaysResolvesServerRawPublicKeys::new(certified(dock, "dock")?),
        ));
    Ok(Arc::new(config))
}

/// The key the peer proved it holds during the handshake.
pub fn peer_key(certs: Option<&[CertificateDer<'_>]>) -> Option<PublicKey> {
    certs.and_then(|c| c.first()).and_then(|c| key_of_spki(c))
}

/// The handshake methods both verifiers share: TLS 1.3 only, Ed25519
/// only, raw public keys only.
macro_rules! raw_ed25519_only {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::Tls12NotOffered,
            ))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_raw(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            vec![SignatureScheme::ED25519]
        }

        fn requires_raw_public_keys(&self) -> bool {
            true
        }
    };
}

#[derive(Debug)]
struct PinnedDock {
    keys: Vec<PublicKey>,
}

impl ServerCertVerifier for PinnedDock {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match key_of_spki(end_entity) {
            Some(k) if self.keys.contains(&k) => Ok(ServerCertVerified::assertion()),
            Some(k) => Err(refused(format!(
                "unknown dock: its key {k} is not a dock key of this facility's root"
            ))),
            None => Err(refused(
                "unknown dock: it did not present an Ed25519 key".into(),
            )),
        }
    }

    raw_ed25519_only!();
}

#[derive(Debug)]
struct AnyEd25519Client;

impl ClientCertVerifier for AnyEd25519Client {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        key_of_spki(end_entity)
            .map(|_| ClientCertVerified::assertion())
            .ok_or_else(|| refused("the peer did not present an Ed25519 key".into()))
    }

    raw_ed25519_only!();
}

/// Fresh random bytes for a session nonce.
pub fn nonce() -> [u8; 32] {
    use ring::rand::SecureRandom;
    let mut n = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut n)
        .expect("system random source");
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spki_round_trips_and_rejects_other_shapes() {
        let k = SigningKey::from_seed(&[7; 32]).public();
        assert_eq!(key_of_spki(&spki(&k)), Some(k));
        let mut long = spki(&k);
        long.push(0);
        assert_eq!(key_of_spki(&long), None);
        assert_eq!(key_of_spki(&spki(&k)[1..]), None);
    }
}
