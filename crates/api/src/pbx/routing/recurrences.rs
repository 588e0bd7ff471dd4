//! A route's time windows: `/api/time_recurrence`. While a window holds,
//! its destination replaces the route's. Every time recurrence string is
//! parsed on the way in (`engine::recurrence`), so calls never meet a bad
//! one.

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{ROUTES, TIME_RECURRENCES};
use store::{Filter, Key, Record, Values};

use super::dest;
use super::rows::{self, in_row, row_record, update_all};
use crate::auth::{Caller, Role};
use crate::crud::pbx::context;
use crate::crud::scope;
use crate::crud::{all, by_id, Cx};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::{Casing, Input};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;

const FIELDS: &[&str] = &["route_id", "time_recurrence", "dest_type", "body"];
const DOC_FIELDS: &[&str] = &["route_id", "time_recurrence", "dest_type", "dest_uuid", "body"];

/// Refuses a `time_recurrence` in `values` that does not parse.
pub fn check_string(values: &Values) -> Result<(), ApiError> {
    for (name, value) in values.iter().filter(|(n, _)| *n == "time_recurrence") {
        let text = value.as_str().unwrap_or_default();
        engine::recurrence::validate(text).map_err(|e| ApiError::field(name, e.to_string()))?;
    }
    Ok(())
}

/// Reads and checks one row, to create (`current` none) or change.
async fn read(cx: &Cx<'_>, row: &Json, current: Option<&Record>) -> Result<Values, ApiError> {
    let mut input = Input::new(row, Casing::Snake)?;
    let mut values = input.fields(&TIME_RECURRENCES, FIELDS, current.is_none());
    input.finish()?;
    dest::read_uuid(row, &mut values)?;
    check_string(&values)?;
    dest::check(cx, &TIME_RECURRENCES, &mut values, current).await?;
    Ok(values)
}

fn show(rec: &Record) -> Json {
    Json::Object(render(Dialect::Pbx, &TIME_RECURRENCES, rec))
}

/// `GET /api/time_recurrence/route/{id}`.
async fn of_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Member)?;
    let route = by_id(&state, &ROUTES, scope, &id).await?;
    let windows = all(&state, &TIME_RECURRENCES, scope, vec![Filter::eq("route_id", route.id)]).await?;
    Ok(rows::ok(Json::Array(windows.iter().map(show).collect())))
}

/// `POST /api/time_recurrence`: an array of windows (or one), all or
/// none; answers `[{"id": ..}]`.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let (items, _) = rows::rows(&body)?;
    let mut values = Vec::with_capacity(items.len());
    for (i, row) in items.iter().enumerate() {
        values.push(read(&cx, row, None).await.map_err(|e| in_row(i, e))?);
    }
    let made = state.db.insert_all(&TIME_RECURRENCES, scope, values, state.now()).await?;
    Ok(axum::Json(Json::Array(made.iter().map(|r| json!({"id": r.id})).collect())))
}

/// `PUT /api/time_recurrence`: windows with their ids, all or none;
/// answers `[{"id": ..}]` with the ids as sent.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let _scope = cx.scope;
    let (items, _) = rows::rows(&body)?;
    let mut changes = Vec::with_capacity(items.len());
    let mut answer = Vec::with_capacity(items.len());
    for (i, row) in items.iter().enumerate() {
        let (rec, raw) = row_record(&cx, &TIME_RECURRENCES, i, row).await?;
        let values = read(&cx, row, Some(&rec)).await.map_err(|e| in_row(i, e))?;
        changes.push((rec, values));
        answer.push(json!({"id": raw}));
    }
    update_all(&cx, &TIME_RECURRENCES, changes).await?;
    Ok(axum::Json(Json::Array(answer)))
}

/// `DELETE /api/time_recurrence/{id}`: answers `{"id": "<id>"}`.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let rec = by_id(&state, &TIME_RECURRENCES, scope, &id).await?;
    state.db.delete(&TIME_RECURRENCES, scope, &Key::Id(rec.id)).await?;
    Ok(axum::Json(json!({"id": rec.id.to_string()})))
}

/// `DELETE /api/time_recurrence/route/{id}`: every window of the route;
/// answers `{"id": "<route id>"}`.
async fn remove_of_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let route = by_id(&state, &ROUTES, scope, &id).await?;
    for rec in all(&state, &TIME_RECURRENCES, scope, vec![Filter::eq("route_id", route.id)]).await? {
        state.db.delete(&TIME_RECURRENCES, scope, &Key::Id(rec.id)).await?;
    }
    Ok(axum::Json(json!({"id": route.id.to_string()})))
}

/// The route time window endpoints.
pub fn routes() -> Api {
    let doc = Doc::Array(&TIME_RECURRENCES, DOC_FIELDS, Casing::Snake);
    Api::new()
        .get("/api/time_recurrence/route/{id}", "List a route's time windows", of_route)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .delete("/api/time_recurrence/route/{id}", "Delete every time window of a route", remove_of_route)
        .reply(Reply::Schema(crate::pbx::replies::id_text))
        .post("/api/time_recurrence", "Add time windows to routes", doc, create)
        .reply(Reply::Schema(crate::pbx::replies::ids))
        .put("/api/time_recurrence", "Change time windows", doc, update)
        .reply(Reply::Schema(crate::pbx::replies::rows))
        .delete("/api/time_recurrence/{id}", "Delete a time window", remove)
        .reply(Reply::Schema(crate::pbx::replies::id_text))
}
