//! Application key pairs: RSA-2048, the public key kept as PEM (SPKI),
//! the private key handed out once, as PKCS#8 PEM, as Vonage does.

use rand::rngs::OsRng;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::error::ApiError;

/// The size of generated keys and the smallest accepted, in bits.
const BITS: usize = 2048;

/// A new key pair, PEM-encoded.
#[derive(Debug)]
pub struct KeyPair {
    /// `-----BEGIN PUBLIC KEY-----` (SPKI).
    pub public_pem: String,
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    pub private_pem: String,
}

/// Makes a key pair, off the async threads (it takes a while).
pub async fn generate() -> Result<KeyPair, ApiError> {
    tokio::task::spawn_blocking(|| {
        let private = RsaPrivateKey::new(&mut OsRng, BITS).map_err(ApiError::internal)?;
        let public = RsaPublicKey::from(&private);
        Ok(KeyPair {
            public_pem: public.to_public_key_pem(LineEnding::LF).map_err(ApiError::internal)?,
            private_pem: private.to_pkcs8_pem(LineEnding::LF).map_err(ApiError::internal)?.to_string(),
        })
    })
    .await
    .map_err(ApiError::internal)?
}

/// A given public key: an RSA key of at least 2048 bits in PEM (SPKI
/// `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`); answers it as SPKI PEM.
pub fn public_key(pem: &str) -> Result<String, String> {
    let pem = pem.trim();
    let key = RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| "must be an RSA public key in PEM format".to_owned())?;
    if key.size() * 8 < BITS {
        return Err(format!("must be an RSA key of at least {BITS} bits"));
    }
    key.to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())
}
