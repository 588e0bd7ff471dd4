//! Where an application's signing secret comes from.
//!
//! Chosen here: nothing is stored per application. One random master key
//! is made on first use in the data directory (`webhook-signing.key`,
//! readable by the owner only, or given in configuration), and an
//! application's secret is derived from it and the application's ref:
//! `"whsec_" + hex(HMAC-SHA256(master, "calliope webhook secret v1:" + ref))`.
//! So every application has a secret from its first request on, a copy of
//! the database reveals none, and the API can show an application its
//! secret by deriving it again. Replacing the master key changes them all.

use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const KEY_FILE: &str = "webhook-signing.key";
const LABEL: &[u8] = b"calliope webhook secret v1:";

/// A signing secret: the text a webhook server is told, whose UTF-8 bytes
/// are the HMAC key. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret given as text (e.g. one an application was configured with).
    pub fn from_text(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The text to give the application's owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Derives each application's secret from one master key.
pub struct SecretKeeper {
    master: [u8; 32],
}

impl std::fmt::Debug for SecretKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKeeper")
    }
}

/// The master key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    /// The key is not 64 hex digits.
    #[error("the webhook signing key must be 64 hex digits (32 bytes)")]
    Malformed,
    /// The key file could not be read or written.
    #[error("webhook signing key file {0}: {1}")]
    File(String, std::io::Error),
}

impl SecretKeeper {
    /// A keeper with this master key.
    pub fn new(master: [u8; 32]) -> Self {
        SecretKeeper { master }
    }

    /// The key `hex_key` if given, else the one in `dir/webhook-signing.key`,
    /// made on first use (mode 0600 on Unix).
    pub fn open(hex_key: Option<&str>, dir: &Path) -> Result<Self, SecretKeyError> {
        let text = match hex_key {
            Some(k) => k.trim().to_owned(),
            None => key_file(dir)?,
        };
        let bytes = hex::decode(&text).map_err(|_| SecretKeyError::Malformed)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| SecretKeyError::Malformed)?;
        Ok(SecretKeeper { master })
    }

    /// The secret of the application `app_ref`.
    pub fn for_application(&self, app_ref: &str) -> Secret {
        // HMAC takes a key of any length, so this cannot fail.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.master).unwrap_or_else(|_| unreachable!());
        m.update(LABEL);
        m.update(app_ref.as_bytes());
        Secret(format!("whsec_{}", hex::encode(m.finalize().into_bytes())))
    }
}

fn key_file(dir: &Path) -> Result<String, SecretKeyError> {
    let path = dir.join(KEY_FILE);
    let err = |e| SecretKeyError::File(path.display().to_string(), e);
    match std::fs::read_to_string(&path) {
        Ok(s) => return Ok(s),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
        Err(_) => {}
    }
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text = hex::encode(key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(&path) {
        Ok(mut f) => std::io::Write::write_all(&mut f, text.as_bytes()).map_err(err)?,
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return std::fs::read_to_string(&path).map_err(err);
        }
        Err(e) => return Err(err(e)),
    }
    Ok(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_per_application_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretKeeper::open(None, dir.path()).unwrap();
        let s1 = a.for_application("app-1");
        assert!(s1.expose().starts_with("whsec_") && s1.expose().len() == 6 + 64);
        assert_ne!(s1, a.for_application("app-2"));
        let again = SecretKeeper::open(None, dir.path()).unwrap();
        assert_eq!(again.for_application("app-1"), s1);
        assert_eq!(format!("{s1:?}"), "Secret(..)");
    }

    #[test]
    fn a_malformed_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(SecretKeeper::open(Some("abc"), dir.path()), Err(SecretKeyError::Malformed)));
        assert!(SecretKeeper::open(Some(&"ab".repeat(32)), dir.path()).is_ok());
    }
}
