//! Route params (applications a route runs first, such as `set
//! effective_caller_id_number=...`): rows of the params table with realm
//! `ROUTE` and `ref_id` the route's id, under `/api/routes/{id}/params`.

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{PARAMS, ROUTES};
use store::{Filter, Key, Order, Query, Record, Value, Values};

use super::rows::{row_id, scalar_text};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok};
use crate::crud::scope;
use crate::crud::values::set;
use crate::crud::{by_id, Cx};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::{Casing, Input};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;

const REALM: &str = "ROUTE";

/// Fields the generic input reads; `v` may also come as a number.
const FIELDS: &[&str] = &["k", "o", "disabled"];

const DOC: Doc = Doc::Props(&[("k", "string"), ("v", "string"), ("o", "integer"), ("disabled", "integer")]);

fn show(rec: &Record) -> Json {
    Json::Object(render(Dialect::Pbx, &PARAMS, rec))
}

/// The param `pid` of route `route_id`, or 404.
async fn param(cx: &Cx<'_>, route_id: i64, pid: &str) -> Result<Record, ApiError> {
    let rec = by_id(cx.state, &PARAMS, cx.scope, pid).await?;
    if rec.text("realm") != REALM || rec.int("ref_id") != Some(route_id) {
        return Err(ApiError::not_found(PARAMS.label));
    }
    Ok(rec)
}

fn read(body: &Json, create: bool) -> Result<Values, ApiError> {
    let mut input = Input::new(body, Casing::Snake)?;
    let mut values = input.fields(&PARAMS, FIELDS, create);
    input.finish()?;
    if let Some(v) = scalar_text(body, "v")? {
        set(&mut values, "v", v);
    }
    Ok(values)
}

/// `GET /api/routes/{id}/params`: a bare array, in order.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Member)?;
    let route = by_id(&state, &ROUTES, scope, &id).await?;
    let query = Query {
        filters: vec![Filter::eq("realm", REALM), Filter::eq("ref_id", route.id)],
        order: Some(Order { column: "o", descending: false }),
        ..Query::default()
    };
    let page = state.db.list(&PARAMS, scope, &query).await?;
    Ok(axum::Json(Json::Array(page.records.iter().map(show).collect())))
}

/// `POST /api/routes/{id}/params`: answers the new param's id.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let route = by_id(&state, &ROUTES, scope, &id).await?;
    let mut values = read(&body, true)?;
    set(&mut values, "realm", Value::from(REALM));
    set(&mut values, "ref_id", Value::Int(route.id));
    let rec = crate::crud::create(&state, &PARAMS, scope, values).await?;
    Ok(ok(json!(rec.id)))
}

async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pid: &str,
    body: &Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(state, caller, Role::Admin)?;
    let scope = cx.scope;
    let route = by_id(state, &ROUTES, scope, id).await?;
    let rec = param(&cx, route.id, pid).await?;
    let values = read(body, false)?;
    let rec = state.db.update(&PARAMS, scope, &Key::Id(rec.id), values, state.now()).await?;
    Ok(ok(show(&rec)))
}

/// `PUT /api/routes/{id}/params/{param}`: answers the whole param.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    change(&state, &caller, &id, &pid, &body).await
}

/// `PUT /api/routes/{id}/params` with the param's `id` in the body, as
/// the seed's curl example sends it.
async fn update_by_body(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let (pid, _) = row_id(&body)?;
    change(&state, &caller, &id, &pid.to_string(), &body).await
}

/// `DELETE /api/routes/{id}/param/{param}`: answers how many were deleted.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let route = by_id(&state, &ROUTES, scope, &id).await?;
    let rec = param(&cx, route.id, &pid).await?;
    state.db.delete(&PARAMS, scope, &Key::Id(rec.id)).await?;
    Ok(ok(json!(1)))
}

/// The route param endpoints.
pub fn routes() -> Api {
    Api::new()
        .get("/api/routes/{id}/params", "List a route's params", list)
        .reply(Reply::Schema(crate::pbx::replies::rows))
        .post("/api/routes/{id}/params", "Add a param to a route", DOC, create)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .put("/api/routes/{id}/params", "Change a route's param named by id in the body", DOC, update_by_body)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .put("/api/routes/{id}/params/{param}", "Change a route's param", DOC, update)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .delete("/api/routes/{id}/param/{param}", "Delete a route's param", remove)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .delete("/api/routes/{id}/params/{param}", "Delete a route's param", remove)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
}
