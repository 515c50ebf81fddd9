//! Staff passwords (argon2id, memory-hard) and console session tokens.
//! Kept here with the rest of the cryptography: nothing else hashes a
//! password or makes a token.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so the
//! parameters travel with each hash and can be raised later: a login with
//! an older hash says so ([`Checked::Rehash`]) and the dock stores a new one.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::secret::random_bytes;
use super::{Error, Result};

/// OWASP's first argon2id choice: 19 MiB, 2 passes, one lane (about
/// 30 ms on the dock's hardware; a login is rare next to a page view).
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password for storage.
pub fn hash(password: &str) -> Result<String> {
    let salt = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| Error::Random)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

/// A password made for someone (a new account, a reset): 20 letters and
/// digits from Crockford's alphabet in groups of five, about 100 bits.
pub fn temporary() -> Result<String> {
    const A: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let raw = random_bytes::<20>()?;
    let mut out = String::with_capacity(23);
    for (i, b) in raw.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(A[usize::from(b & 31)] as char);
    }
    Ok(out)
}

/// What checking a password against a stored hash found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Wrong,
    Right,
    /// Right, but hashed with other parameters: store [`hash`] anew.
    Rehash,
}

/// Check a password. A stored value that is not a PHC argon2 string
/// (damaged, or from elsewhere) never matches.
pub fn check(password: &str, stored: &str) -> Checked {
    let Ok(parsed) = PasswordHash::new(stored) else {
        // Spend the same time as a real check, so a missing or damaged
        // account does not answer faster than a wrong password.
        burn();
        return Checked::Wrong;
    };
    if argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Checked::Wrong;
    }
    let current = Params::try_from(&parsed)
        .ok()
        .is_some_and(|p| p.m_cost() == MEMORY_KIB && p.t_cost() == PASSES && p.p_cost() == LANES)
        && parsed.algorithm.as_str() == "argon2id";
    if current {
        Checked::Right
    } else {
        Checked::Rehash
    }
}

/// The work of one check, for an account that does not exist.
pub fn burn() {
    let _ = hash("berth: no such account");
}

/// A new random session token (256 bits, URL-safe base 64, no padding)
/// and the SHA-256 the dock stores in its place, so a copy of the database
/// holds no usable session.
pub fn session_token() -> Result<(String, String)> {
    let raw = random_bytes::<32>()?;
    let token = b64url(&raw);
    let digest = token_digest(&token);
    Ok((token, digest))
}

/// What the dock stores for a token: its SHA-256, in hex.
pub fn token_digest(token: &str) -> String {
    super::sha256(token.as_bytes()).to_string()
}

/// A random token for a form (CSRF), 128 bits.
pub fn form_token() -> Result<String> {
    Ok(b64url(&random_bytes::<16>()?))
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_checks_against_its_own_hash_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(check("correct horse battery", &h), Checked::Right);
        assert_eq!(check("correct horse batterY", &h), Checked::Wrong);
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash("correct horse battery").unwrap());
        assert_eq!(check("x", "not a hash"), Checked::Wrong);
        assert_eq!(check("x", ""), Checked::Wrong);
    }

    #[test]
    fn an_older_hash_still_logs_in_and_asks_to_be_rehashed() {
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let h = old
            .hash_password(b"an older password", &salt)
            .unwrap()
            .to_string();
        assert_eq!(check("an older password", &h), Checked::Rehash);
        assert_eq!(check("another password", &h), Checked::Wrong);
    }

    #[test]
    fn session_tokens_are_random_and_stored_as_digests() {
        let (a, da) = session_token().unwrap();
        let (b, _) = session_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(token_digest(&a), da);
        assert_ne!(da, a);
        assert_eq!(form_token().unwrap().len(), 22);
    }
}
