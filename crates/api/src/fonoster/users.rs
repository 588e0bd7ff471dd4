//! `/v1beta2/users`: an admin adds people to their workspace; everyone
//! manages themselves.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value as Json};
use store::schema::{MEMBERSHIPS, USERS};
use store::{Filter, Key, Record, Scope};

use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::{Casing, Input};
use crate::service::identity::{self, NewUser};
use crate::state::AppState;
use crate::view::render;

type Answer = Result<axum::Json<Json>, ApiError>;

fn view(user: &Record) -> axum::Json<Json> {
    axum::Json(Json::Object(render(Dialect::Fonoster, &USERS, user)))
}

/// The user `r` if the caller is that user or shares its workspace.
async fn visible(state: &AppState, caller: &Caller, r: String) -> Result<Record, ApiError> {
    let user = state.db.get(&USERS, Scope::Global, &Key::Ref(r)).await?;
    if caller.user.as_ref().is_some_and(|me| me.id == user.id) {
        return Ok(user);
    }
    if let Ok(scope) = caller.scope() {
        if state.db.find(&MEMBERSHIPS, scope, &[Filter::eq("user_id", user.id)]).await?.is_some() {
            return Ok(user);
        }
    }
    Err(ApiError::not_found("user"))
}

fn only_self(caller: &Caller, user: &Record) -> Result<(), ApiError> {
    match &caller.user {
        Some(me) if me.id == user.id => Ok(()),
        _ => Err(ApiError::forbidden("users can only change themselves")),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let ws = caller.require(Role::Admin)?.clone();
    let mut input = Input::new(&body, Casing::Camel)?;
    let values = input.fields(&USERS, &["email", "name", "avatar"], true);
    let password = input.text("password", true);
    input.finish()?;
    let text = |name: &str| store::given(&values, name).as_str().unwrap_or("").to_owned();
    let user = NewUser {
        email: text("email"),
        name: text("name"),
        avatar: text("avatar"),
        password: password.unwrap_or_default(),
    };
    let user = identity::create_user(&state, user).await?;
    identity::add_member(&state, &ws, &user, Role::Member).await?;
    Ok((StatusCode::CREATED, view(&user)))
}

pub(super) async fn get(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    Ok(view(&visible(&state, &caller, r).await?))
}

pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let user = visible(&state, &caller, r).await?;
    only_self(&caller, &user)?;
    let mut input = Input::new(&body, Casing::Camel)?;
    let values = input.fields(&USERS, &["name", "avatar"], false);
    let password = input.text("password", false);
    input.finish()?;
    if let Some(password) = password {
        identity::change_password(&state, &user, &password, &caller.session).await?;
    }
    let user = state.db.update(&USERS, Scope::Global, &Key::Id(user.id), values, state.now()).await?;
    Ok(view(&user))
}

pub(super) async fn delete(State(state): State<AppState>, caller: Caller, Path(r): Path<String>) -> Answer {
    let user = visible(&state, &caller, r).await?;
    only_self(&caller, &user)?;
    state.db.delete(&USERS, Scope::Global, &Key::Id(user.id)).await?;
    Ok(axum::Json(json!({"ref": user.r#ref})))
}
