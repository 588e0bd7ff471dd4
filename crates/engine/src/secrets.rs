//! Encryption of stored secrets (secret values, SIP and gateway passwords)
//! with AES-256-GCM, so that a copy of the database alone reveals nothing.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

const PREFIX: &str = "v1:";

/// Seals and opens secrets with one key.
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

/// A secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Encryption failed.
    #[error("a secret could not be sealed")]
    Seal,
    /// The sealed text is not something `seal` made.
    #[error("a sealed secret is malformed")]
    Malformed,
    /// It was sealed under another key, or altered.
    #[error("a sealed secret does not open with this key")]
    WrongKey,
}

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The configured key is not 64 hex digits.
    #[error("the secrets key must be 64 hex digits (32 bytes)")]
    Malformed,
    /// The key file could not be read or written.
    #[error("secrets key file {0}: {1}")]
    File(String, std::io::Error),
}

impl Sealer {
    /// A sealer with `hex_key`, or else the key kept in `dir/secrets.key`,
    /// made on first use (readable by the owner only).
    pub fn new(hex_key: Option<&str>, dir: &Path) -> Result<Sealer, KeyError> {
        let hex_key = match hex_key {
            Some(k) => k.trim().to_owned(),
            None => key_file(dir)?,
        };
        let bytes = hex::decode(&hex_key).map_err(|_| KeyError::Malformed)?;
        if bytes.len() != 32 {
            return Err(KeyError::Malformed);
        }
        Ok(Sealer { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)) })
    }

    /// `plain` encrypted under a fresh nonce, as printable text.
    pub fn seal(&self, plain: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed =
            self.cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// The plain text of something `seal` made with this key.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 12)
            .ok_or(SealError::Malformed)?;
        let (nonce, body) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), body).map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

fn key_file(dir: &Path) -> Result<String, KeyError> {
    let path = dir.join("secrets.key");
    let err = |e| KeyError::File(path.display().to_string(), e);
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
        Err(_) => {}
    }
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    let mut file = options.open(&path).map_err(err)?;
    file.write_all(key.as_bytes()).map_err(err)?;
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_keeps_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = Sealer::new(None, dir.path()).unwrap();
        let sealed = a.seal("s3cret").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, a.seal("s3cret").unwrap(), "a fresh nonce each time");
        let b = Sealer::new(None, dir.path()).unwrap();
        assert_eq!(b.open(&sealed).unwrap(), "s3cret");
        let other = Sealer::new(Some(&"ab".repeat(32)), dir.path()).unwrap();
        assert!(other.open(&sealed).is_err());
        assert!(Sealer::new(Some("short"), dir.path()).is_err());
    }
}
