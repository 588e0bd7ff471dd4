//! Who is calling: credentials from any dialect's header, resolved to a
//! user or API key, a workspace and a role.

pub mod cache;
pub mod flows;
pub mod jwt;
pub mod secret;

pub use engine::secrets as sealer;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine;
use store::schema::{MEMBERSHIPS, TOKENS, USERS, WORKSPACES};
use store::{Filter, Key, Record, Scope};

use crate::error::ApiError;
use crate::state::AppState;

/// A workspace role; a stronger role can do all a weaker one can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads and makes calls.
    Member,
    /// Also changes configuration.
    Admin,
    /// Also deletes the workspace.
    Owner,
}

impl Role {
    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "WORKSPACE_OWNER",
            Role::Admin => "WORKSPACE_ADMIN",
            Role::Member => "WORKSPACE_MEMBER",
        }
    }
    /// The role called `name`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "WORKSPACE_OWNER" => Some(Role::Owner),
            "WORKSPACE_ADMIN" => Some(Role::Admin),
            "WORKSPACE_MEMBER" => Some(Role::Member),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user, when a person's token was used.
    pub user: Option<Record>,
    /// The API key, when one was used (directly or through its tokens).
    pub api_key: Option<Record>,
    /// The workspace the request acts in, if any.
    pub workspace: Option<Record>,
    /// The caller's role in that workspace (for an API key, the lower of
    /// its own role and its creator's current one).
    pub role: Option<Role>,
    /// The session the request came with, which a password change keeps.
    pub session: Session,
}

/// Which login session a request belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The opaque token (PBX, VoIPstudio) used, by id.
    pub token_id: Option<i64>,
    /// The family of the signed token (Fonoster) used.
    pub family: Option<String>,
}

impl Caller {
    /// The workspace the request acts in, or 403 when there is none.
    pub fn workspace(&self) -> Result<&Record, ApiError> {
        self.workspace.as_ref().ok_or_else(|| {
            ApiError::forbidden("no workspace: send the AccessKeyId header of a workspace you belong to")
        })
    }
    /// The store scope of the caller's workspace.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        Ok(Scope::Workspace(self.workspace()?.id))
    }
    /// 403 unless the caller has at least `role` in its workspace.
    pub fn require(&self, role: Role) -> Result<&Record, ApiError> {
        let ws = self.workspace()?;
        match self.role {
            Some(r) if r >= role => Ok(ws),
            _ => Err(ApiError::forbidden(format!("this needs the role {} or higher", role.as_str()))),
        }
    }
    /// The user, or 403 for API keys.
    pub fn user(&self) -> Result<&Record, ApiError> {
        self.user.as_ref().ok_or_else(|| ApiError::forbidden("this needs a user's token, not an API key"))
    }
    /// What the rate limit counts against.
    fn rate_key(&self) -> String {
        match (&self.api_key, &self.user) {
            (Some(k), _) => format!("apikey:{}", k.r#ref),
            (None, Some(u)) => format!("user:{}", u.r#ref),
            (None, None) => "anonymous".into(),
        }
    }
}

/// Credentials as sent, before they are checked.
enum Credential {
    Bearer(String),
    Basic(String, String),
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The credential header's value as sent, which [`credential`] reads.
fn credential_text(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, header::AUTHORIZATION.as_str())
        .or_else(|| ["x-auth-token", "x-xtra-auth-id"].iter().find_map(|h| header_str(headers, h)))
}

fn credential(headers: &HeaderMap) -> Result<Option<Credential>, ApiError> {
    if let Some(auth) = header_str(headers, header::AUTHORIZATION.as_str()) {
        let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            return Ok(Some(Credential::Bearer(rest.to_owned())));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let bad = || ApiError::unauthenticated("malformed Basic credentials");
            let decoded = base64::engine::general_purpose::STANDARD.decode(rest).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            return Ok(Some(Credential::Basic(id.to_owned(), secret.to_owned())));
        }
        return Err(ApiError::unauthenticated("unsupported Authorization scheme"));
    }
    Ok(["x-auth-token", "x-xtra-auth-id"]
        .iter()
        .find_map(|h| header_str(headers, h))
        .map(|t| Credential::Bearer(t.to_owned())))
}

/// The client's address, for limits on anonymous requests.
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let Some(cred) = credential(&parts.headers)? else {
            return Err(ApiError::unauthenticated("missing credentials"));
        };
        let workspace_header = header_str(&parts.headers, "accesskeyid");
        let key = credential_text(&parts.headers).map(|c| cache::CallerCache::key(c, workspace_header));
        let now = state.now();
        let writes = state.db.identity_writes();
        if let Some(caller) = key.as_ref().and_then(|k| state.callers.get(k, now, writes)) {
            state.limiter.check(&caller.rate_key(), now)?;
            parts.extensions.insert(caller.clone());
            return Ok(caller);
        }
        let generation = state.callers.generation();
        let resolved = match resolve(state, cred).await {
            Ok(r) => r,
            Err(e) => {
                // Failed attempts count against the address.
                state.limiter.check(&format!("ip:{}", client_ip(parts)), state.now())?;
                return Err(e);
            }
        };
        let until = resolved.until;
        let caller = select_workspace(state, resolved, workspace_header).await?;
        state.limiter.check(&caller.rate_key(), state.now())?;
        if let Some(key) = key {
            state.callers.put(key, caller.clone(), now, until, generation, writes);
        }
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A checked credential: who, and the workspace it is bound to, if any.
struct Resolved {
    user: Option<Record>,
    api_key: Option<Record>,
    /// For API keys: the role they act with now.
    key_role: Option<Role>,
    bound_workspace: Option<i64>,
    session: Session,
    /// When the credential stops being good by itself (its expiry), if it
    /// does: a cached caller is not kept past it.
    until: Option<store::Millis>,
}

fn unauthenticated() -> ApiError {
    ApiError::unauthenticated("invalid or expired credentials")
}

/// Whether an API key is unexpired at `now`.
pub fn api_key_live(key: &Record, now: store::Millis) -> bool {
    key.int("expires_at").is_none_or(|t| t > now)
}

/// The role an API key acts with: its own, but never more than its
/// creator holds now in the key's workspace; `None` (the key is dead) when
/// the creator is no longer a member there.
pub fn key_role(key: &Record, creator_role: Option<&str>) -> Option<Role> {
    let own = Role::parse(key.text("role"))?;
    let creator = Role::parse(creator_role?)?;
    Some(own.min(creator))
}

/// The live API key found by `column` = `value`, with the role it acts
/// with; `None` when there is none, it expired, or its creator can no
/// longer stand behind it.
pub async fn live_api_key(
    state: &AppState,
    column: store::identity::KeyColumn,
    value: &str,
) -> Result<Option<(Record, Role)>, ApiError> {
    let found = state.db.api_key_with_creator_role(column, value).await?;
    Ok(found.and_then(|(key, creator)| {
        let role = key_role(&key, creator.as_deref())?;
        api_key_live(&key, state.now()).then_some((key, role))
    }))
}

/// Whether a signed token with `claims` still speaks for `user`: it was
/// issued since the user's last password change, or belongs to the
/// session that made the change.
pub fn user_token_current(user: &Record, claims: &jwt::Claims) -> bool {
    let kept = user.text("kept_session");
    claims.gen.unwrap_or(0) == user.int("token_gen").unwrap_or(0)
        || (!kept.is_empty() && claims.fam.as_deref() == Some(kept))
}

async fn resolve(state: &AppState, cred: Credential) -> Result<Resolved, ApiError> {
    use store::identity::KeyColumn;
    let now = state.now();
    let db = &state.db;
    let from_key = |(k, role): (Record, Role), session: Session, until: Option<store::Millis>| Resolved {
        bound_workspace: k.workspace_id,
        user: None,
        key_role: Some(role),
        until: match (k.int("expires_at"), until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        api_key: Some(k),
        session,
    };
    match cred {
        Credential::Basic(id, secret) => match live_api_key(state, KeyColumn::AccessKeyId, &id).await? {
            Some(found) if secret::digest_matches(&secret, found.0.text("secret_hash")) => {
                Ok(from_key(found, Session::default(), None))
            }
            _ => Err(unauthenticated()),
        },
        Credential::Bearer(token) if token.split('.').count() == 3 => {
            let claims = state.keys.verify(&token, now).map_err(|_| unauthenticated())?;
            if claims.typ != "access" {
                return Err(ApiError::unauthenticated("not an access token"));
            }
            let session = Session { token_id: None, family: claims.fam.clone() };
            let until = Some(claims.exp.saturating_mul(1000));
            match claims.kind.as_str() {
                "user" => {
                    let key = Key::Ref(claims.sub.clone());
                    let user = db.get(&USERS, Scope::Global, &key).await.map_err(|_| unauthenticated())?;
                    if !user_token_current(&user, &claims) {
                        return Err(unauthenticated());
                    }
                    Ok(Resolved {
                        user: Some(user),
                        api_key: None,
                        key_role: None,
                        bound_workspace: None,
                        session,
                        until,
                    })
                }
                _ => match live_api_key(state, KeyColumn::Ref, &claims.sub).await? {
                    Some(found) => Ok(from_key(found, session, until)),
                    None => Err(unauthenticated()),
                },
            }
        }
        Credential::Bearer(token) => {
            let found = db
                .find(&TOKENS, Scope::Global, &[Filter::eq("token_hash", secret::digest(&token))])
                .await?
                .ok_or_else(unauthenticated)?;
            if !flows::token_live(&found, now) {
                return Err(unauthenticated());
            }
            flows::touch_token(state, &found, now).await?;
            let user_id = found.int("user_id").unwrap_or_default();
            let user =
                db.get(&USERS, Scope::Global, &Key::Id(user_id)).await.map_err(|_| unauthenticated())?;
            let expiry_ms = found.int("expiry").unwrap_or(0).saturating_mul(1000);
            let until = match found.text("kind") {
                // Just touched: good for its idle time from now.
                "session" => Some(now.saturating_add(expiry_ms)),
                _ if expiry_ms == 0 => None,
                _ => Some(found.created_at.saturating_add(expiry_ms)),
            };
            Ok(Resolved {
                user: Some(user),
                api_key: None,
                key_role: None,
                bound_workspace: found.workspace_id,
                session: Session { token_id: Some(found.id), family: None },
                until,
            })
        }
    }
}

async fn select_workspace(state: &AppState, r: Resolved, header: Option<&str>) -> Result<Caller, ApiError> {
    let db = &state.db;
    let not_member = || ApiError::forbidden("you are not a member of this workspace");
    let workspace = match header {
        Some(akid) => Some(
            db.find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", akid)])
                .await?
                .ok_or_else(not_member)?,
        ),
        None => match r.bound_workspace {
            Some(id) => db.find(&WORKSPACES, Scope::Global, &[Filter::eq("id", id)]).await?,
            None => None,
        },
    };
    let mut caller = Caller { user: r.user, api_key: r.api_key, workspace, role: None, session: r.session };
    if let Some(key) = &caller.api_key {
        if caller.workspace.as_ref().map(|w| w.id) != key.workspace_id {
            return Err(not_member());
        }
        caller.role = r.key_role;
        return Ok(caller);
    }
    let user_id = caller.user.as_ref().map_or(0, |u| u.id);
    let membership = match &caller.workspace {
        Some(ws) => db.find(&MEMBERSHIPS, Scope::Workspace(ws.id), &[Filter::eq("user_id", user_id)]).await?,
        // No workspace named or bound: the user's first.
        None => db.find(&MEMBERSHIPS, Scope::Global, &[Filter::eq("user_id", user_id)]).await?,
    };
    match membership {
        Some(m) => {
            caller.role = Role::parse(m.text("role"));
            if caller.workspace.is_none() {
                let id = m.workspace_id.unwrap_or_default();
                caller.workspace = Some(db.get(&WORKSPACES, Scope::Global, &Key::Id(id)).await?);
            }
        }
        None if header.is_some() => return Err(not_member()),
        None => caller.workspace = None,
    }
    Ok(caller)
}

/// The client's address and User-Agent, for login limits and token records.
#[derive(Debug, Clone)]
pub struct ClientInfo(pub flows::Origin);

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientInfo, ApiError> {
        Ok(ClientInfo(flows::Origin {
            host: client_ip(parts),
            user_agent: header_str(&parts.headers, header::USER_AGENT.as_str()).unwrap_or("").to_owned(),
        }))
    }
}

impl ClientInfo {
    /// Counts an anonymous request (a login) against the address.
    pub fn limit(&self, state: &AppState) -> Result<(), ApiError> {
        state.limiter.check(&format!("ip:{}", self.0.host), state.now())
    }
}
