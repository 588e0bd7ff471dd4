//! `/v1beta2/apikeys`: a workspace's API keys; the secret is shown at
//! creation and regeneration only.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value as Json};
use store::schema::API_KEYS;
use store::{Key, Record};

use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path, Query};
use crate::input::{Casing, Input};
use crate::list::{self, FonosterPaging};
use crate::service::identity;
use crate::state::AppState;
use crate::view::render;

type Answer = Result<axum::Json<Json>, ApiError>;

fn with_secret(key: &Record, secret: String) -> Json {
    let mut out = render(Dialect::Fonoster, &API_KEYS, key);
    out.insert("accessKeySecret".into(), json!(secret));
    Json::Object(out)
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let ws = caller.require(Role::Admin)?;
    let mut input = Input::new(&body, Casing::Camel)?;
    let values = input.fields(&API_KEYS, &["role", "expires_at"], true);
    input.finish()?;
    let role = store::given(&values, "role").as_str().and_then(Role::parse).unwrap_or(Role::Member);
    if Some(role) > caller.role {
        return Err(ApiError::forbidden("you cannot create a key with a role above your own"));
    }
    let expires_at = store::given(&values, "expires_at").as_int();
    if expires_at.is_some_and(|t| t <= state.now()) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    let creator = identity::creator(&caller)?;
    let (key, secret) = identity::create_api_key(&state, ws.id, role, expires_at, creator).await?;
    Ok((StatusCode::CREATED, axum::Json(with_secret(&key, secret))))
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<FonosterPaging>,
) -> Answer {
    caller.require(Role::Admin)?;
    let render = |r: &Record| render(Dialect::Fonoster, &API_KEYS, r);
    Ok(axum::Json(list::fonoster(&state.db, &API_KEYS, caller.scope()?, Vec::new(), &paging, &render).await?))
}

pub(super) async fn get(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    caller.require(Role::Admin)?;
    let key = state.db.get(&API_KEYS, caller.scope()?, &Key::Ref(r)).await?;
    Ok(axum::Json(Json::Object(render(Dialect::Fonoster, &API_KEYS, &key))))
}

pub(super) async fn delete(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    caller.require(Role::Admin)?;
    let key = state.db.delete(&API_KEYS, caller.scope()?, &Key::Ref(r)).await?;
    Ok(axum::Json(json!({"ref": key.r#ref})))
}

pub(super) async fn regenerate(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Answer {
    caller.require(Role::Admin)?;
    let (key, secret) = identity::regenerate_api_key(&state, caller.scope()?, &Key::Ref(r)).await?;
    Ok(axum::Json(with_secret(&key, secret)))
}
