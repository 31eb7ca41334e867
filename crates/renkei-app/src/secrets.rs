//! Random tokens and digests for credentials. Everything random comes from the OS.

use base64::Engine;
use sha2::{Digest, Sha256};

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], crate::AppError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| crate::AppError::Key(e.to_string()))?;
    Ok(buf)
}

/// A URL-safe random token (session cookies, CSRF tokens).
pub(crate) fn token() -> Result<String, crate::AppError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// SHA-256 hex: what the database keeps of session tokens and recovery codes (both are
/// high-entropy random values, so a fast hash is enough).
pub(crate) fn digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A human-typable random string from an alphabet without look-alikes (0/O, 1/l/I).
pub(crate) fn readable(len: usize) -> Result<String, crate::AppError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>()? {
            if usize::from(b) < limit
                && out.len() < len
                && let Some(c) = ALPHABET.get(usize::from(b) % ALPHABET.len())
            {
                out.push(char::from(*c));
            }
        }
    }
    Ok(out)
}
