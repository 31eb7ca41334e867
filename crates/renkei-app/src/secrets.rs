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

/// TOTP secrets as the database keeps them: sealed (XChaCha20-Poly1305) with a key kept beside
/// the audit key in `DATA_DIR/keys/`, and bound to their user, so that a copy of the database
/// alone (a backup, a dump) does not give away anyone's second factor.
pub(crate) struct SecretBox {
    cipher: chacha20poly1305::XChaCha20Poly1305,
}

/// Marks a sealed value; anything else is a plaintext secret from before sealing.
const SEALED: &str = "xc1:";

impl SecretBox {
    pub(crate) fn load_or_create(data_dir: &std::path::Path) -> Result<Self, crate::AppError> {
        use chacha20poly1305::KeyInit;
        let dir = data_dir.join("keys");
        let path = dir.join("totp-secrets.key");
        let mut key = [0u8; 32];
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| crate::AppError::Key(e.to_string()))?;
            hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
                crate::AppError::Key(format!("{} is not a hex 256-bit key", path.display()))
            })?;
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| crate::AppError::Key(e.to_string()))?;
            key = random_bytes::<32>()?;
            crate::audit::write_private(&path, &hex::encode(key))?;
        }
        Ok(Self {
            cipher: chacha20poly1305::XChaCha20Poly1305::new(&key.into()),
        })
    }

    /// Seal a user's secret for storage.
    pub(crate) fn seal(
        &self,
        user: renkei_domain::UserId,
        secret: &str,
    ) -> Result<String, crate::AppError> {
        use chacha20poly1305::aead::{Aead, Payload};
        let nonce = random_bytes::<24>()?;
        let sealed = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: secret.as_bytes(),
                    aad: user.as_uuid().as_bytes(),
                },
            )
            .map_err(|_| crate::AppError::Internal("sealing a secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// The secret a stored value holds. A value sealed for another user, or with another key,
    /// does not open.
    pub(crate) fn open(
        &self,
        user: renkei_domain::UserId,
        stored: &str,
    ) -> Result<String, crate::AppError> {
        use chacha20poly1305::aead::{Aead, Payload};
        let Some(b64) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_owned());
        };
        let broken =
            || crate::AppError::Key("a stored TOTP secret does not open with this key".into());
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| broken())?;
        let (nonce, sealed) = bytes.split_at_checked(24).ok_or_else(broken)?;
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| broken())?;
        let plain = self
            .cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: user.as_uuid().as_bytes(),
                },
            )
            .map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renkei_domain::UserId;

    #[test]
    fn a_sealed_secret_opens_for_its_user_only_and_is_not_stored_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let b = SecretBox::load_or_create(dir.path()).unwrap();
        let (alice, bob) = (UserId::new(), UserId::new());
        let sealed = b.seal(alice, "JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with(SEALED) && !sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(b.open(alice, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(b.open(bob, &sealed).is_err(), "bound to its user");
        // The same key file opens it again; another key does not.
        let again = SecretBox::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(alice, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        let other = SecretBox::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.open(alice, &sealed).is_err());
        // A secret stored before sealing existed still reads.
        assert_eq!(
            b.open(alice, "JBSWY3DPEHPK3PXP").unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
    }
}
