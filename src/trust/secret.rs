//! Secrets people type: PINs and enrolment codes, stretched with
//! PBKDF2-HMAC-SHA256 and a per-person salt.

use std::num::NonZeroU32;

use ring::rand::SecureRandom;

use super::{Error, Result};

/// Iterations for new hashes. Verification uses the count stored with the
/// hash, so this can rise without breaking existing PINs.
pub const PBKDF2_ITERATIONS: u32 = 120_000;
/// Fewest iterations accepted from stored or signed data.
pub const MIN_ITERATIONS: u32 = 100_000;
/// Most iterations accepted (bounds the work a bad document can cause).
pub const MAX_ITERATIONS: u32 = 2_000_000;

/// A stretched secret: salt, iteration count and the 32-byte result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stretched {
    pub salt: [u8; 16],
    pub iterations: u32,
    pub hash: [u8; 32],
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::Random)?;
    Ok(out)
}

fn derive(secret: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = NonZeroU32::new(iterations.clamp(MIN_ITERATIONS, MAX_ITERATIONS))
        .expect("clamped to a positive count");
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        n,
        salt,
        secret.as_bytes(),
        &mut out,
    );
    out
}

/// Stretch a new secret with a fresh random salt.
pub fn stretch(secret: &str) -> Result<Stretched> {
    let salt = random_bytes::<16>()?;
    Ok(stretch_with_salt(secret, salt, PBKDF2_ITERATIONS))
}

pub fn stretch_with_salt(secret: &str, salt: [u8; 16], iterations: u32) -> Stretched {
    Stretched {
        salt,
        iterations,
        hash: derive(secret, &salt, iterations),
    }
}

/// Constant-time check of `secret` against a stored stretch.
pub fn verify(secret: &str, stored: &Stretched) -> bool {
    let n = match NonZeroU32::new(stored.iterations.clamp(MIN_ITERATIONS, MAX_ITERATIONS)) {
        Some(n) => n,
        None => return false,
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        n,
        &stored.salt,
        secret.as_bytes(),
        &stored.hash,
    )
    .is_ok()
}

/// Spend the same work as a real check, for ids that do not exist, so the
/// time taken does not tell whether an id is enrolled.
pub fn burn_equal_work() {
    let _ = derive("0000", &[0u8; 16], PBKDF2_ITERATIONS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretch_and_verify() {
        let s = stretch("4821").unwrap();
        assert!(s.iterations >= 100_000);
        assert!(verify("4821", &s));
        assert!(!verify("4822", &s));
        let t = stretch("4821").unwrap();
        assert_ne!(s.salt, t.salt, "salts are per secret");
        assert_ne!(s.hash, t.hash);
    }
}
