//! Workspaces, users, members and API keys: the rules behind every
//! dialect's identity endpoints.

use store::identity::Keep;
use store::schema::{API_KEYS, CONTEXTS, MEMBERSHIPS, TOKENS, USERS, WORKSPACES};
use store::{Filter, Key, Record, Scope, Value};

use crate::auth::flows::hash_password;
use crate::auth::{secret, Caller, Role, Session};
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// A new user's details.
#[derive(Debug)]
pub struct NewUser {
    /// Login email; stored in lower case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password in clear; only its hash is kept.
    pub password: String,
    /// Avatar URL.
    pub avatar: String,
}

fn check_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid =
        email.split_once('@').is_some_and(|(a, d)| !a.is_empty() && !d.is_empty()) && !email.contains(' ');
    if valid {
        Ok(email)
    } else {
        Err(ApiError::field("email", "must be an email address"))
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// Refuses passwords too short to be worth having.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::field("password", format!("must have at least {MIN_PASSWORD} characters")));
    }
    Ok(())
}

/// Creates a user.
pub async fn create_user(state: &AppState, user: NewUser) -> Result<Record, ApiError> {
    let email = check_email(&user.email)?;
    check_password(&user.password)?;
    let hash = hash_password(&user.password).await?;
    Ok(state
        .db
        .insert(
            &USERS,
            Scope::Global,
            vec![
                ("email", email.into()),
                ("name", user.name.into()),
                ("avatar", user.avatar.into()),
                ("password_hash", hash.into()),
            ],
            state.now(),
        )
        .await?)
}

/// Creates a workspace owned by `owner`, who becomes its first member,
/// unless the owner already has as many as the `workspaces` quota allows.
pub async fn create_workspace(state: &AppState, name: &str, owner: &Record) -> Result<Record, ApiError> {
    if let Some(max) = state.settings.quota("workspaces") {
        let owned = state.db.count(&WORKSPACES, Scope::Global, &[Filter::eq("owner_id", owner.id)]).await?;
        if owned >= max {
            return Err(ApiError::exhausted(
                format!("quota reached: at most {max} workspaces per user"),
                None,
            ));
        }
    }
    let ws = state
        .db
        .insert(
            &WORKSPACES,
            Scope::Global,
            vec![
                ("access_key_id", secret::workspace_access_key_id().into()),
                ("name", name.into()),
                ("owner_id", Value::Int(owner.id)),
            ],
            state.now(),
        )
        .await?;
    add_member(state, &ws, owner, Role::Owner).await?;
    seed_contexts(state, &ws).await?;
    Ok(ws)
}

/// The calling contexts every workspace starts with: `context-1` for calls
/// from its extensions, `context-2` for calls from its trunks.
pub const DEFAULT_CONTEXTS: &[(&str, &str, &str)] =
    &[("context-1", "分机", "本地分机发起的呼叫"), ("context-2", "外部", "外部中继发起的呼叫")];

/// Creates the default contexts of a new workspace.
async fn seed_contexts(state: &AppState, ws: &Record) -> Result<(), ApiError> {
    let rows = DEFAULT_CONTEXTS
        .iter()
        .map(|(key, name, description)| {
            vec![("key", (*key).into()), ("name", (*name).into()), ("description", (*description).into())]
        })
        .collect();
    state.db.insert_all(&CONTEXTS, Scope::Workspace(ws.id), rows, state.now()).await?;
    Ok(())
}

/// Makes `user` a member of `ws` with `role`.
pub async fn add_member(
    state: &AppState,
    ws: &Record,
    user: &Record,
    role: Role,
) -> Result<Record, ApiError> {
    Ok(state
        .db
        .insert(
            &MEMBERSHIPS,
            Scope::Workspace(ws.id),
            vec![("user_id", Value::Int(user.id)), ("role", role.as_str().into())],
            state.now(),
        )
        .await?)
}

/// Removes `user` from `ws`; the owner cannot be removed. What the user
/// held there goes too: the API keys they made in it and their login and
/// API tokens bound to it.
pub async fn remove_member(state: &AppState, ws: &Record, user: &Record) -> Result<(), ApiError> {
    if ws.int("owner_id") == Some(user.id) {
        return Err(ApiError::new(ErrorKind::AlreadyExists, "the workspace owner cannot be removed"));
    }
    let scope = Scope::Workspace(ws.id);
    let m = state
        .db
        .find(&MEMBERSHIPS, scope, &[Filter::eq("user_id", user.id)])
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    state.db.delete(&MEMBERSHIPS, scope, &Key::Id(m.id)).await?;
    state.db.delete_where(&API_KEYS, scope, &[Filter::eq("created_by", user.id)]).await?;
    state.db.delete_where(&TOKENS, scope, &[Filter::eq("user_id", user.id)]).await?;
    Ok(())
}

/// The user who stands behind what `caller` makes: the user, or the
/// creator of the API key used.
pub fn creator(caller: &Caller) -> Result<i64, ApiError> {
    match (&caller.user, &caller.api_key) {
        (Some(u), _) => Ok(u.id),
        (None, Some(k)) => {
            k.int("created_by").ok_or_else(|| ApiError::forbidden("this API key has no creator"))
        }
        (None, None) => Err(ApiError::unauthenticated("missing credentials")),
    }
}

/// Changes `user`'s password and revokes the user's other sessions: every
/// signed token and refresh token but those of the caller's session, and
/// every opaque token (PBX, VoIPstudio) but the caller's.
pub async fn change_password(
    state: &AppState,
    user: &Record,
    password: &str,
    session: &Session,
) -> Result<(), ApiError> {
    check_password(password)?;
    let hash = hash_password(password).await?;
    let keep = Keep { token_id: session.token_id, family: session.family.clone() };
    state.db.change_password(user.id, &user.r#ref, &hash, &keep, state.now()).await?;
    Ok(())
}

/// A new API key made by the user `created_by`, and its secret, shown once.
pub async fn create_api_key(
    state: &AppState,
    ws_id: i64,
    role: Role,
    expires_at: Option<i64>,
    created_by: i64,
) -> Result<(Record, String), ApiError> {
    let secret_text = secret::api_key_secret();
    let key = state
        .db
        .insert(
            &API_KEYS,
            Scope::Workspace(ws_id),
            vec![
                ("access_key_id", secret::api_key_id().into()),
                ("secret_hash", secret::digest(&secret_text).into()),
                ("role", role.as_str().into()),
                ("expires_at", expires_at.into()),
                ("created_by", Value::Int(created_by)),
            ],
            state.now(),
        )
        .await?;
    Ok((key, secret_text))
}

/// Gives an API key a new secret; its access key id stays.
pub async fn regenerate_api_key(
    state: &AppState,
    scope: Scope,
    key: &Key,
) -> Result<(Record, String), ApiError> {
    let secret_text = secret::api_key_secret();
    let rec = state
        .db
        .update(
            &API_KEYS,
            scope,
            key,
            vec![("secret_hash", secret::digest(&secret_text).into())],
            state.now(),
        )
        .await?;
    Ok((rec, secret_text))
}

/// What the first start made.
#[derive(Debug)]
pub struct Bootstrap {
    /// The owner's email.
    pub email: String,
    /// The generated password, when none was configured.
    pub generated_password: Option<String>,
    /// The `default` workspace's access key id.
    pub access_key_id: String,
}

/// On an empty store, creates the `default` workspace and its owner.
/// Does nothing when any workspace exists.
pub async fn bootstrap(
    state: &AppState,
    email: &str,
    password: Option<&str>,
) -> Result<Option<Bootstrap>, ApiError> {
    if state.db.count(&WORKSPACES, Scope::Global, &[]).await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(secret::random_password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    let existing =
        state.db.find(&USERS, Scope::Global, &[Filter::eq("email", email.trim().to_lowercase())]).await?;
    let owner = match existing {
        Some(u) => u,
        None => {
            let user = NewUser {
                email: email.into(),
                name: "Administrator".into(),
                password: password.into(),
                avatar: String::new(),
            };
            create_user(state, user).await?
        }
    };
    let ws = create_workspace(state, "default", &owner).await?;
    state.db.setting_or_insert(SYSTEM_WORKSPACE, &ws.id.to_string()).await?;
    Ok(Some(Bootstrap {
        email: owner.text("email").into(),
        generated_password: generated,
        access_key_id: ws.text("access_key_id").into(),
    }))
}

/// The setting that names the system workspace by id.
const SYSTEM_WORKSPACE: &str = "system_workspace_id";

/// The system workspace: the one made on first start (`default`), whose
/// admins manage what acts on the whole server, such as the IP blacklist.
/// Stores made before it was recorded take their oldest workspace.
pub async fn system_workspace_id(state: &AppState) -> Result<Option<i64>, ApiError> {
    if let Some(id) = state.db.setting(SYSTEM_WORKSPACE).await?.and_then(|v| v.parse().ok()) {
        return Ok(Some(id));
    }
    let first = store::Query { limit: Some(1), ..store::Query::default() };
    let Some(ws) = state.db.list(&WORKSPACES, Scope::Global, &first).await?.records.into_iter().next() else {
        return Ok(None);
    };
    let id = state.db.setting_or_insert(SYSTEM_WORKSPACE, &ws.id.to_string()).await?;
    Ok(id.parse().ok())
}

/// 403 unless `caller` acts in the system workspace with at least `role`:
/// for server-wide settings, which no other workspace may see or change.
pub async fn require_system(state: &AppState, caller: &Caller, role: Role) -> Result<(), ApiError> {
    let ws = caller.require(role)?;
    if system_workspace_id(state).await? == Some(ws.id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this acts on the whole server: only the system workspace may see or change it",
        ))
    }
}
