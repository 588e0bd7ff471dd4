//! Signed tokens of the Fonoster dialect (id, access and refresh).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use store::Millis;

/// The claims Calliope puts in its tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Always `calliope`.
    pub iss: String,
    /// The ref of the user or API key the token speaks for.
    pub sub: String,
    /// `user` or `apikey`.
    pub kind: String,
    /// `access`, `refresh` or `id`.
    pub typ: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// Expires at, seconds.
    pub exp: i64,
    /// Unique id of this token.
    pub jti: String,
    /// The session (chain of rotations) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// Id tokens: the user's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Id tokens: the user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Users' tokens: the user's token generation when it was issued; a
    /// password change raises it, and older tokens stop working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen: Option<i64>,
}

/// The signing key.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, bad shape or wrong algorithm.
    #[error("invalid token")]
    Invalid,
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
}

impl Keys {
    /// Keys for HMAC-SHA256 with `secret`.
    pub fn new(secret: &[u8]) -> Keys {
        Keys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// The claims of `token` if its signature holds and, by our clock
    /// `now`, it has not expired.
    pub fn verify(&self, token: &str, now: Millis) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against our own clock below.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&["calliope"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if now / 1000 >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}
