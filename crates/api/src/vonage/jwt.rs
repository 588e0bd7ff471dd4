//! Vonage Voice API authentication: a JWT signed RS256 with an
//! application's private key (claims `application_id`, `iat`, `jti`,
//! `exp`), checked against the public key Calliope holds for that
//! application. The application's workspace scopes the request.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use store::schema::APPLICATIONS;
use store::{Key, Scope};

use crate::error::ApiError;
use crate::state::AppState;

/// How long a token without `exp` lives after its `iat`, as Vonage does.
const DEFAULT_TTL_S: i64 = 15 * 60;
/// Clock skew allowed on `iat` and `exp`, in seconds.
const LEEWAY_S: i64 = 30;
/// Longest token accepted, in bytes.
const MAX_TOKEN: usize = 8 * 1024;

/// The claims a Vonage Voice API token carries.
#[derive(Debug, Deserialize)]
struct VoiceClaims {
    application_id: String,
    iat: i64,
    jti: String,
    #[serde(default)]
    exp: Option<i64>,
}

/// The application a Voice API request acts for.
#[derive(Debug, Clone)]
pub struct VoiceApp {
    /// Its workspace.
    pub workspace_id: i64,
    /// Its id (ref).
    pub application: String,
}

fn refused(why: &str) -> ApiError {
    ApiError::unauthenticated(format!("invalid token: {why}"))
}

/// The `application_id` a token names, read before its signature is
/// checked (to find the key that checks it).
fn named_application(token: &str) -> Result<String, ApiError> {
    let payload = token.split('.').nth(1).ok_or_else(|| refused("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| refused("not a JWT"))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| refused("not a JWT"))?;
    claims["application_id"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .map(str::to_owned)
        .ok_or_else(|| refused("the application_id claim is missing"))
}

/// Checks `token` against `public_pem` at `now_s` (seconds).
fn check(token: &str, public_pem: &str, now_s: i64) -> Result<VoiceClaims, ApiError> {
    let key = DecodingKey::from_rsa_pem(public_pem.as_bytes()).map_err(ApiError::internal)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<VoiceClaims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => refused("the signature does not match"),
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => refused("the algorithm must be RS256"),
            _ => refused("the claims application_id, iat and jti are required"),
        })?
        .claims;
    if claims.jti.is_empty() {
        return Err(refused("the jti claim is empty"));
    }
    if claims.iat > now_s + LEEWAY_S {
        return Err(refused("issued in the future"));
    }
    let exp = claims.exp.unwrap_or(claims.iat.saturating_add(DEFAULT_TTL_S));
    if exp + LEEWAY_S < now_s {
        return Err(refused("expired"));
    }
    Ok(claims)
}

impl FromRequestParts<AppState> for VoiceApp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthenticated("send Authorization: Bearer <JWT>"))?;
        let (scheme, token) = auth.trim().split_once(' ').unwrap_or((auth, ""));
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::unauthenticated("send Authorization: Bearer <JWT>"));
        }
        if token.len() > MAX_TOKEN {
            return Err(refused("too long"));
        }
        let application_id = named_application(token)?;
        let app = state
            .db
            .get(&APPLICATIONS, Scope::Global, &Key::Ref(application_id.clone()))
            .await
            .map_err(|_| refused("no such application"))?;
        let public_pem = app.text("public_key");
        if public_pem.is_empty() {
            return Err(refused("the application has no public key"));
        }
        let workspace_id = app.workspace_id.ok_or_else(|| refused("no such application"))?;
        let claims = check(token, public_pem, state.now() / 1000)?;
        if claims.application_id != application_id {
            return Err(refused("the application_id claim changed"));
        }
        Ok(VoiceApp { workspace_id, application: application_id })
    }
}
