//! Random identifiers and the hashing of secrets.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new workspace access key id: `WO` and 32 hex digits.
pub fn workspace_access_key_id() -> String {
    format!("WO{}", random_hex(16))
}

/// A new API key access key id: `AK` and 32 hex digits.
pub fn api_key_id() -> String {
    format!("AK{}", random_hex(16))
}

/// A new API key secret (256 bits).
pub fn api_key_secret() -> String {
    format!("SK{}", random_hex(32))
}

/// A new opaque bearer token (128 bits), as VoIPstudio's `user_token`.
pub fn opaque_token() -> String {
    random_hex(16)
}

/// The SHA-256 of a high-entropy secret, as hex. Tokens and API-key secrets
/// are random, so a fast hash is enough to make a stolen table useless.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `expected`, compared in constant time.
pub fn digest_matches(secret: &str, expected: &str) -> bool {
    digest(secret).as_bytes().ct_eq(expected.as_bytes()).into()
}

/// An argon2id hash of a password, in PHC string form.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Whether `password` matches the PHC hash `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A password a person is unlikely to guess (for the first admin).
pub fn random_password() -> String {
    random_hex(12)
}
