//! `/v1beta2/workspaces`: the caller's workspaces and their members.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Map, Value as Json};
use store::schema::{MEMBERSHIPS, USERS, WORKSPACES};
use store::{Filter, Key, Op, Operand, Record, Scope};

use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path, Query};
use crate::input::{Casing, Input};
use crate::list::{self, FonosterPaging};
use crate::service::identity::{self, NewUser};
use crate::state::AppState;
use crate::view::render;

type Answer = Result<axum::Json<Json>, ApiError>;

async fn view(state: &AppState, ws: &Record) -> Map<String, Json> {
    let mut out = render(Dialect::Fonoster, &WORKSPACES, ws);
    let owner = state.db.get(&USERS, Scope::Global, &Key::Id(ws.int("owner_id").unwrap_or_default())).await;
    out.insert("ownerRef".into(), json!(owner.map(|o| o.r#ref).unwrap_or_default()));
    out
}

/// The workspace named by `r`, its `ref` or its access key id (`WO...`).
async fn by_ref_or_key(state: &AppState, r: &str) -> Result<Record, ApiError> {
    if r.starts_with("WO") {
        let found = state.db.find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", r)]).await?;
        return found.ok_or_else(|| ApiError::not_found("workspace"));
    }
    Ok(state.db.get(&WORKSPACES, Scope::Global, &Key::Ref(r.to_owned())).await?)
}

/// The workspace `r` (its ref or access key id) as the caller may see it,
/// with the caller's role.
async fn visible(state: &AppState, caller: &Caller, r: &str) -> Result<(Record, Role), ApiError> {
    let ws = by_ref_or_key(state, r).await?;
    let role = match (&caller.api_key, &caller.user) {
        (Some(k), _) if k.workspace_id == Some(ws.id) => Role::parse(k.text("role")),
        (None, Some(u)) => state
            .db
            .find(&MEMBERSHIPS, Scope::Workspace(ws.id), &[Filter::eq("user_id", u.id)])
            .await?
            .and_then(|m| Role::parse(m.text("role"))),
        _ => None,
    };
    role.map(|role| (ws, role)).ok_or_else(|| ApiError::not_found("workspace"))
}

fn need(role: Role, at_least: Role) -> Result<(), ApiError> {
    if role >= at_least {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("this needs the role {} or higher", at_least.as_str())))
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<FonosterPaging>,
) -> Answer {
    let ids: Vec<store::Value> = match (&caller.api_key, &caller.user) {
        (Some(k), _) => k.workspace_id.into_iter().map(Into::into).collect(),
        (None, Some(u)) => {
            let q = store::Query { filters: vec![Filter::eq("user_id", u.id)], ..Default::default() };
            state
                .db
                .list(&MEMBERSHIPS, Scope::Global, &q)
                .await?
                .records
                .iter()
                .filter_map(|m| m.workspace_id)
                .map(Into::into)
                .collect()
        }
        _ => Vec::new(),
    };
    let filters = vec![Filter { column: "id", op: Op::In, operand: Operand::Many(ids) }];
    let (records, next) =
        list::fonoster_page(&state.db, &WORKSPACES, Scope::Global, filters, &paging).await?;
    let mut items = Vec::new();
    for ws in &records {
        items.push(Json::Object(view(&state, ws).await));
    }
    Ok(axum::Json(list::fonoster_envelope(items, next)))
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let mut input = Input::new(&body, Casing::Camel)?;
    let values = input.fields(&WORKSPACES, &["name"], true);
    let owner_email = input.text("owner_email", false);
    input.finish()?;
    let owner = match owner_email {
        Some(email) => state
            .db
            .find(&USERS, Scope::Global, &[Filter::eq("email", email.trim().to_lowercase())])
            .await?
            .ok_or_else(|| ApiError::field("owner_email", "no user has this email"))?,
        None => caller.user()?.clone(),
    };
    let name = store::given(&values, "name").as_str().unwrap_or_default().to_owned();
    let ws = identity::create_workspace(&state, &name, &owner).await?;
    if let Some(user) = caller.user.as_ref().filter(|u| u.id != owner.id) {
        identity::add_member(&state, &ws, user, Role::Admin).await?;
    }
    Ok((StatusCode::CREATED, axum::Json(Json::Object(view(&state, &ws).await))))
}

pub(super) async fn get(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    let (ws, _) = visible(&state, &caller, &r).await?;
    Ok(axum::Json(Json::Object(view(&state, &ws).await)))
}

pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let (ws, role) = visible(&state, &caller, &r).await?;
    need(role, Role::Admin)?;
    let mut input = Input::new(&body, Casing::Camel)?;
    let values = input.fields(&WORKSPACES, &["name"], false);
    input.finish()?;
    let ws = state.db.update(&WORKSPACES, Scope::Global, &Key::Id(ws.id), values, state.now()).await?;
    Ok(axum::Json(Json::Object(view(&state, &ws).await)))
}

pub(super) async fn delete(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    let (ws, role) = visible(&state, &caller, &r).await?;
    need(role, Role::Owner)?;
    state.db.delete(&WORKSPACES, Scope::Global, &Key::Id(ws.id)).await?;
    crate::service::calls::forget_workspace(&state, ws.id).await;
    Ok(axum::Json(json!({"ref": ws.r#ref})))
}

async fn member_view(state: &AppState, m: &Record) -> Map<String, Json> {
    let user = state.db.get(&USERS, Scope::Global, &Key::Id(m.int("user_id").unwrap_or_default())).await;
    let mut out = Map::new();
    if let Ok(u) = user {
        out.insert("userRef".into(), json!(u.r#ref));
        out.insert("name".into(), json!(u.text("name")));
        out.insert("email".into(), json!(u.text("email")));
    }
    out.insert("role".into(), json!(m.text("role")));
    out.insert("createdAt".into(), json!(crate::view::rfc3339(m.created_at)));
    out
}

pub(super) async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
    Query(paging): Query<FonosterPaging>,
) -> Answer {
    let (ws, _) = visible(&state, &caller, &r).await?;
    let (records, next) =
        list::fonoster_page(&state.db, &MEMBERSHIPS, Scope::Workspace(ws.id), Vec::new(), &paging).await?;
    let mut items = Vec::new();
    for m in &records {
        items.push(Json::Object(member_view(&state, m).await));
    }
    Ok(axum::Json(list::fonoster_envelope(items, next)))
}

pub(super) async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let (ws, role) = visible(&state, &caller, &r).await?;
    need(role, Role::Admin)?;
    let mut input = Input::new(&body, Casing::Camel)?;
    let email = input.text("email", true);
    let new_role = input.text("role", false).unwrap_or_else(|| Role::Member.as_str().into());
    let name = input.text("name", false);
    let password = input.text("password", false);
    let parsed = Role::parse(&new_role);
    if parsed.is_none() {
        input.reject("role", "must be one of WORKSPACE_OWNER, WORKSPACE_ADMIN, WORKSPACE_MEMBER");
    }
    input.finish()?;
    let new_role = parsed.unwrap_or(Role::Member);
    if new_role > role {
        return Err(ApiError::forbidden("you cannot grant a role above your own"));
    }
    let email = email.unwrap_or_default();
    let existing =
        state.db.find(&USERS, Scope::Global, &[Filter::eq("email", email.trim().to_lowercase())]).await?;
    let user = match (existing, password) {
        (Some(u), _) => u,
        (None, Some(password)) => {
            let name = name.unwrap_or_else(|| email.clone());
            identity::create_user(&state, NewUser { email, name, password, avatar: String::new() }).await?
        }
        (None, None) => {
            return Err(ApiError::field(
                "email",
                "no user has this email; give a name and password to create one",
            ))
        }
    };
    let m = identity::add_member(&state, &ws, &user, new_role).await?;
    Ok((StatusCode::CREATED, axum::Json(Json::Object(member_view(&state, &m).await))))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((r, user_ref)): Path<(String, String)>,
) -> Answer {
    let (ws, role) = visible(&state, &caller, &r).await?;
    need(role, Role::Admin)?;
    let user = state.db.get(&USERS, Scope::Global, &Key::Ref(user_ref)).await?;
    identity::remove_member(&state, &ws, &user).await?;
    Ok(axum::Json(json!({"userRef": user.r#ref})))
}
