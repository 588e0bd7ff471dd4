//! The ways of logging in, shared by every dialect: password, API key,
//! refresh-token rotation, and opaque login and API tokens.

use serde::Serialize;
use store::identity::KeyColumn;
use store::schema::{MEMBERSHIPS, REFRESH_TOKENS, TOKENS, USERS};
use store::{Filter, Key, Millis, Record, Scope, Value};

use super::jwt::Claims;
use super::secret;
use crate::error::ApiError;
use crate::state::AppState;

/// A hash that no password matches, checked when the user does not exist
/// so that a wrong email costs as much time as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2x6xBS6gq4u1NwqOukgNyfGSs5eGnZJrEMWmZzYQ4aw";

/// The user with `email` if `password` is theirs; 401 otherwise. Failed
/// logins are throttled per account and per address (see
/// [`crate::ratelimit::logins`]): while a lockout holds, the answer is 429
/// with `Retry-After`, before any password is checked.
pub async fn check_password(
    state: &AppState,
    client: &super::ClientInfo,
    email: &str,
    password: &str,
) -> Result<Record, ApiError> {
    let email = email.trim().to_lowercase();
    let address = client.0.host.as_str();
    state.logins.check(&email, address, state.now())?;
    let user = state.db.find(&USERS, Scope::Global, &[Filter::eq("email", email.as_str())]).await?;
    let password = password.to_owned();
    let hash = user.as_ref().map_or(DUMMY_HASH, |u| u.text("password_hash")).to_owned();
    let ok =
        tokio::task::spawn_blocking(move || secret::verify_password(&password, &hash)).await.unwrap_or(false);
    match user {
        Some(u) if ok => {
            state.logins.succeeded(&email, address, state.now());
            Ok(u)
        }
        _ => {
            state.logins.failed(&email, address, state.now());
            Err(ApiError::unauthenticated("wrong email or password"))
        }
    }
}

/// Hashes a password off the async threads.
pub async fn hash_password(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// The Fonoster token triple.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    /// Who the subject is (claims only).
    pub id_token: String,
    /// Short-lived, sent on every request.
    pub access_token: String,
    /// Longer-lived, used once to get a new set.
    pub refresh_token: String,
}

/// Who a token set speaks for.
pub enum Subject<'a> {
    /// A person.
    User(&'a Record),
    /// An API key.
    ApiKey(&'a Record),
}

/// Issues a token set for `subject`; the refresh token joins `family`
/// (a new one when `None`).
pub async fn issue(
    state: &AppState,
    subject: Subject<'_>,
    family: Option<String>,
) -> Result<TokenSet, ApiError> {
    let now = state.now() / 1000;
    let s = &state.settings;
    let (kind, sub, email, name, gen) = match subject {
        Subject::User(u) => (
            "user",
            &u.r#ref,
            Some(u.text("email").to_owned()),
            Some(u.text("name").to_owned()),
            Some(u.int("token_gen").unwrap_or(0)),
        ),
        Subject::ApiKey(k) => ("apikey", &k.r#ref, None, None, None),
    };
    let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let claims = |typ: &str, ttl: i64| Claims {
        iss: "calliope".into(),
        sub: sub.clone(),
        kind: kind.into(),
        typ: typ.into(),
        iat: now,
        exp: now + ttl,
        jti: uuid::Uuid::new_v4().to_string(),
        fam: Some(family.clone()),
        email: None,
        name: None,
        gen,
    };
    let id = Claims { email, name, ..claims("id", s.access_token_ttl_secs) };
    let access = claims("access", s.access_token_ttl_secs);
    let refresh = claims("refresh", s.refresh_token_ttl_secs);
    state
        .db
        .insert(
            &REFRESH_TOKENS,
            Scope::Global,
            vec![
                ("jti_hash", secret::digest(&refresh.jti).into()),
                ("subject", format!("{kind}:{sub}").into()),
                ("family", family.into()),
                ("expires_at", Value::Int(refresh.exp * 1000)),
            ],
            state.now(),
        )
        .await?;
    let sign = |c: &Claims| state.keys.sign(c).map_err(ApiError::internal);
    Ok(TokenSet { id_token: sign(&id)?, access_token: sign(&access)?, refresh_token: sign(&refresh)? })
}

/// Trades an API key's id and secret for a token set.
pub async fn login_api_key(
    state: &AppState,
    access_key_id: &str,
    secret_text: &str,
) -> Result<TokenSet, ApiError> {
    match super::live_api_key(state, KeyColumn::AccessKeyId, access_key_id).await? {
        Some((k, _)) if secret::digest_matches(secret_text, k.text("secret_hash")) => {
            issue(state, Subject::ApiKey(&k), None).await
        }
        _ => Err(ApiError::unauthenticated("wrong access key id or secret")),
    }
}

/// Trades a refresh token, once, for a new set. A refresh token used a
/// second time revokes its whole family: someone has a copy. A user's
/// token from before a password change (of another session) or an API
/// key's whose creator no longer stands behind it is refused.
pub async fn refresh(state: &AppState, token: &str) -> Result<TokenSet, ApiError> {
    let bad = || ApiError::unauthenticated("invalid or expired refresh token");
    let claims = state.keys.verify(token, state.now()).map_err(|_| bad())?;
    let family = claims.fam.clone().filter(|_| claims.typ == "refresh").ok_or_else(bad)?;
    if !state.db.consume_refresh_token(&secret::digest(&claims.jti), state.now()).await? {
        state.db.revoke_refresh_family(&family, state.now()).await?;
        return Err(bad());
    }
    if claims.kind == "user" {
        let key = Key::Ref(claims.sub.clone());
        let user = state.db.get(&USERS, Scope::Global, &key).await.map_err(|_| bad())?;
        if !super::user_token_current(&user, &claims) {
            return Err(bad());
        }
        issue(state, Subject::User(&user), Some(family)).await
    } else {
        let (k, _) = super::live_api_key(state, KeyColumn::Ref, &claims.sub).await?.ok_or_else(bad)?;
        issue(state, Subject::ApiKey(&k), Some(family)).await
    }
}

/// What an opaque token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A login: expires after the idle timeout, each request renews it.
    Session,
    /// A named API token: expires `expiry` seconds after creation (0 never).
    ApiToken,
}

/// Where an opaque token was asked for from.
#[derive(Debug, Default, Clone)]
pub struct Origin {
    /// The client's address.
    pub host: String,
    /// Its User-Agent.
    pub user_agent: String,
}

/// Creates an opaque token for `user` in `workspace_id`, or in the user's
/// first workspace; returns the token (shown once) and its record.
pub async fn open_token(
    state: &AppState,
    user: &Record,
    workspace_id: Option<i64>,
    kind: TokenKind,
    name: &str,
    expiry: i64,
    origin: Origin,
) -> Result<(String, Record), ApiError> {
    let workspace_id = match workspace_id {
        Some(id) => id,
        None => state
            .db
            .find(&MEMBERSHIPS, Scope::Global, &[Filter::eq("user_id", user.id)])
            .await?
            .and_then(|m| m.workspace_id)
            .ok_or_else(|| ApiError::forbidden("you belong to no workspace"))?,
    };
    let token = secret::opaque_token();
    let (kind_name, expiry) = match kind {
        TokenKind::Session => ("session", state.settings.session_idle_secs),
        TokenKind::ApiToken => ("apitoken", expiry),
    };
    let record = state
        .db
        .insert(
            &TOKENS,
            Scope::Workspace(workspace_id),
            vec![
                ("user_id", Value::Int(user.id)),
                ("kind", kind_name.into()),
                ("name", name.into()),
                ("token_hash", secret::digest(&token).into()),
                ("host", origin.host.into()),
                ("user_agent", origin.user_agent.into()),
                ("expiry", Value::Int(expiry)),
                (
                    "last_request_at",
                    if kind == TokenKind::Session { Value::Int(state.now()) } else { Value::Null },
                ),
            ],
            state.now(),
        )
        .await?;
    Ok((token, record))
}

/// Whether an opaque token is still valid at `now`.
pub fn token_live(token: &Record, now: Millis) -> bool {
    let expiry_ms = token.int("expiry").unwrap_or(0).saturating_mul(1000);
    match token.text("kind") {
        "session" => now - token.int("last_request_at").unwrap_or(token.created_at) < expiry_ms,
        _ => expiry_ms == 0 || now - token.created_at < expiry_ms,
    }
}

/// Records a use of an opaque token (which renews a session).
pub async fn touch_token(state: &AppState, token: &Record, now: Millis) -> Result<(), ApiError> {
    state
        .db
        .update(&TOKENS, Scope::Global, &Key::Id(token.id), vec![("last_request_at", Value::Int(now))], now)
        .await?;
    Ok(())
}
