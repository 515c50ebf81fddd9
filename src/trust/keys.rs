//! Ed25519 keys, stored as PKCS#8 v2 files with mode 0600.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use super::{Error, Result};
use crate::domain::PublicKey;

/// Longest key file accepted (a PKCS#8 Ed25519 key is 83-85 bytes).
const MAX_KEY_FILE: u64 = 4096;

pub struct SigningKey {
    pair: Ed25519KeyPair,
    /// The PKCS#8 document, for the TLS channel (see `channel`).
    pkcs8: Vec<u8>,
}

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410); the 32-byte seed
/// follows.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public())
    }
}

impl SigningKey {
    /// A deterministic key from a 32-byte seed. Used for published test
    /// vectors only; real keys come from [`SigningKey::generate_to_file`].
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let mut pkcs8 = PKCS8_V1_PREFIX.to_vec();
        pkcs8.extend_from_slice(seed);
        SigningKey {
            pair: Ed25519KeyPair::from_seed_unchecked(seed).expect("any 32 bytes are a seed"),
            pkcs8,
        }
    }

    /// Generate a new key and write it to `path`, which must not exist.
    /// The file is created with mode 0600 and fsynced.
    pub fn generate_to_file(path: &Path) -> Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| Error::Random)?;
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        f.write_all(pkcs8.as_ref()).map_err(io)?;
        f.sync_all().map_err(io)?;
        Self::from_pkcs8(pkcs8.as_ref(), path)
    }

    /// Load a key, refusing files that others can read.
    pub fn load(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs::metadata(path).map_err(io)?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::KeyFile {
                path: path.to_path_buf(),
                why: format!(
                    "mode is {:o}; a private key must be readable by its owner only (chmod 600)",
                    meta.permissions().mode() & 0o777
                ),
            });
        }
        if meta.len() > MAX_KEY_FILE {
            return Err(Error::KeyFile {
                path: path.to_path_buf(),
                why: "file is too large to be a PKCS#8 Ed25519 key".into(),
            });
        }
        let bytes = fs::read(path).map_err(io)?;
        Self::from_pkcs8(&bytes, path)
    }

    fn from_pkcs8(bytes: &[u8], path: &Path) -> Result<Self> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|e| Error::KeyFile {
                path: path.to_path_buf(),
                why: format!("not a PKCS#8 Ed25519 private key ({e})"),
            })?;
        Ok(SigningKey {
            pair,
            pkcs8: bytes.to_vec(),
        })
    }

    /// A second handle on the same key (for a sync thread).
    pub fn try_clone(&self) -> Result<Self> {
        Self::from_pkcs8(&self.pkcs8, Path::new("(in memory)"))
    }

    pub(super) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn public(&self) -> PublicKey {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(out)
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }
}

/// Check one Ed25519 signature.
pub fn verify_signature(key: &PublicKey, message: &[u8], sig: &[u8; 64]) -> bool {
    UnparsedPublicKey::new(&ED25519, key.0)
        .verify(message, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pk8");
        let k = SigningKey::generate_to_file(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let k2 = SigningKey::load(&p).unwrap();
        assert_eq!(k.public(), k2.public());
        let sig = k.sign(b"m");
        assert!(verify_signature(&k.public(), b"m", &sig));
        assert!(!verify_signature(&k.public(), b"n", &sig));
        assert!(
            SigningKey::generate_to_file(&p).is_err(),
            "never overwrites a key"
        );
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = SigningKey::load(&p).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}

/// The short code that names a device key on screens and in staff tools.
pub fn device_code(key: &PublicKey) -> crate::domain::DeviceCode {
    crate::domain::DeviceCode::from_digest(&super::sha256(&key.0).0)
}
