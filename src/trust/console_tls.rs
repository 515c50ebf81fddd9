//! The staff console's TLS: an ordinary X.509 certificate, as browsers
//! expect, unlike the dock channel's raw keys. The facility's own
//! certificate (from its CA) is used when IT puts one in the dock's data
//! directory; otherwise the dock makes a self-signed one at its first
//! start and prints its SHA-256 fingerprint for staff to compare.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{Error, Result};

/// Largest certificate chain or key file read.
pub const MAX_PEM_BYTES: usize = 256 * 1024;

/// A new self-signed certificate (ECDSA P-256) for these DNS names or
/// addresses: (certificate PEM, private key PEM).
pub fn self_signed(names: &[String]) -> Result<(String, String)> {
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| Error::Tls(format!("making the console's certificate: {e}")))?;
    Ok((made.cert.pem(), made.signing_key.serialize_pem()))
}

/// The SHA-256 of the first certificate in a PEM file, as browsers show
/// it (upper-case hex pairs joined by colons).
pub fn fingerprint(cert_pem: &[u8]) -> Result<String> {
    let der = CertificateDer::pem_slice_iter(cert_pem)
        .next()
        .ok_or_else(|| Error::Tls("no certificate in the file".into()))?
        .map_err(|e| Error::Tls(format!("the certificate file is not PEM: {e}")))?;
    let digest = super::sha256(der.as_ref());
    Ok(digest
        .0
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// The console's server side: TLS 1.2 or 1.3 (browsers), HTTP/1.1, the
/// certificate chain and key from these PEM files (`cert` and `key`
/// name them in errors; the caller reads at most [`MAX_PEM_BYTES`]).
pub fn server_config(
    (cert, cert_pem): (&Path, &[u8]),
    (key, key_pem): (&Path, &[u8]),
) -> Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Tls(format!(
                "{}: not a PEM certificate chain: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(Error::Tls(format!(
            "{}: holds no certificate",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| Error::Tls(format!("{}: not a PEM private key: {e}", key.display())))?;
    let mut config = ServerConfig::builder_with_provider(super::channel::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            Error::Tls(format!(
                "{} and {} do not make a usable certificate and key: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_loads_and_has_a_fingerprint() {
        let (c, k) = self_signed(&["dock.example".into(), "127.0.0.1".into()]).unwrap();
        let (cp, kp) = (Path::new("c.pem"), Path::new("k.pem"));
        server_config((cp, c.as_bytes()), (kp, k.as_bytes())).unwrap();
        let fp = fingerprint(c.as_bytes()).unwrap();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
        // Key and certificate swapped: refused, naming the files.
        let e = server_config((kp, k.as_bytes()), (cp, c.as_bytes())).unwrap_err();
        assert!(e.to_string().contains("k.pem"), "{e}");
    }
}
