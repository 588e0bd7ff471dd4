//! The VoIPstudio v1.2 dialect: `/v1.2/voipstudio/...`, `X-Auth-Token`,
//! `{data, total}` lists with pager, filter and group_by.

mod cdrs;

use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use store::schema::TOKENS;
use store::{Filter, Key, Record};

use crate::auth::flows::{self, TokenKind};
use crate::auth::{Caller, ClientInfo};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path, Query};
use crate::input::{Casing, Input};
use crate::list::{self, VoipPaging};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::{render, value};

const LOGIN: Doc = Doc::Props(&[("email", "string"), ("password", "string")]);
const TOKEN: Doc = Doc::Fields(&TOKENS, &["name", "expiry"], Casing::Snake);

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .post("/v1.2/voipstudio/login", "Log in for a user_token", LOGIN, login)
        .public()
        .reply(Reply::Schema(login_schema))
        .post("/v1.2/voipstudio/apitokens", "Create an API token", TOKEN, create_token)
        .reply(Reply::Record(&TOKENS))
        .get("/v1.2/voipstudio/apitokens", "List your API tokens", list_tokens)
        .reply(Reply::Page(&TOKENS))
        .get("/v1.2/voipstudio/apitokens/{id}", "Get an API token", get_token)
        .reply(Reply::Record(&TOKENS))
        .delete("/v1.2/voipstudio/apitokens/{id}", "Delete an API token", delete_token)
        .reply(Reply::Record(&TOKENS))
        .merge(cdrs::routes())
}

/// `{message, user_token, user_id}` of a login.
fn login_schema() -> Json {
    json!({
        "type": "object",
        "required": ["message", "user_token", "user_id"],
        "properties": {
            "message": {"type": "string"},
            "user_token": {"type": "string"},
            "user_id": {"type": "integer"},
        },
    })
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Body(body): Body<Login>,
) -> Result<axum::Json<Json>, ApiError> {
    client.limit(&state)?;
    let user = flows::check_password(&state, &client, &body.email, &body.password).await?;
    let (token, _) = flows::open_token(&state, &user, None, TokenKind::Session, "login", 0, client.0).await?;
    Ok(axum::Json(json!({"message": "Login success", "user_token": token, "user_id": user.id})))
}

/// An API token as VoIPstudio shows it; `customer_id` is the workspace.
fn token_view(t: &Record) -> Map<String, Json> {
    let mut out = render(Dialect::VoipStudio, &TOKENS, t);
    out.remove("kind");
    out.remove("updated_at");
    out.insert("user_id".into(), json!(t.int("user_id")));
    out.insert("customer_id".into(), json!(t.workspace_id));
    out.insert(
        "last_request_at".into(),
        value(Dialect::VoipStudio, store::Kind::Time, t.get("last_request_at")),
    );
    out
}

fn scope_filters(caller: &Caller) -> Result<Vec<Filter>, ApiError> {
    Ok(vec![Filter::eq("kind", "apitoken"), Filter::eq("user_id", caller.user()?.id)])
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientInfo,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let user = caller.user()?;
    let mut input = Input::new(&body, Casing::Snake)?;
    let values = input.fields(&TOKENS, &["name", "expiry"], false);
    if !values.iter().any(|(n, _)| *n == "name") {
        input.reject("name", "is required");
    }
    input.finish()?;
    let name = store::given(&values, "name").as_str().unwrap_or_default().to_owned();
    let expiry = store::given(&values, "expiry").as_int().unwrap_or(0);
    if expiry < 0 {
        return Err(ApiError::field("expiry", "must be 0 (never) or a number of seconds"));
    }
    let ws = caller.workspace()?.id;
    let (token, rec) =
        flows::open_token(&state, user, Some(ws), TokenKind::ApiToken, &name, expiry, client.0).await?;
    let mut data = token_view(&rec);
    data.insert("token".into(), json!(token));
    Ok(axum::Json(json!({"data": data, "links": {}})))
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<VoipPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let render = |r: &Record| token_view(r);
    Ok(axum::Json(
        list::voipstudio(&state.db, &TOKENS, caller.scope()?, scope_filters(&caller)?, &paging, &render)
            .await?,
    ))
}

async fn find_token(state: &AppState, caller: &Caller, id: i64) -> Result<Record, ApiError> {
    let mut filters = scope_filters(caller)?;
    filters.push(Filter::eq("id", id));
    state.db.find(&TOKENS, caller.scope()?, &filters).await?.ok_or_else(|| ApiError::not_found("API token"))
}

async fn get_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<Json>, ApiError> {
    let t = find_token(&state, &caller, id).await?;
    Ok(axum::Json(json!({"data": token_view(&t), "links": {}})))
}

async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<Json>, ApiError> {
    let t = find_token(&state, &caller, id).await?;
    state.db.delete(&TOKENS, caller.scope()?, &Key::Id(t.id)).await?;
    Ok(axum::Json(json!({"data": token_view(&t), "links": {}})))
}
