//! Time templates (named sets of time windows such as working days and
//! holidays) and their windows: `/api/time_recurrence/templates` and
//! `/api/time_recurrence/templates/time_recurrences`. Several-row writes
//! change all rows or none.

use axum::extract::{RawQuery, State};
use serde_json::{json, Value as Json};
use store::schema::{TEMPLATE_RECURRENCES, TIME_TEMPLATES};
use store::{Filter, Key, Record, Resource, Values};

use super::recurrences::check_string;
use super::rows::{self, cx, existing, id_list, in_row, ok, row_record, update_all};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, paging, query_pairs};
use crate::crud::scope;
use crate::crud::{all, by_id};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::{Casing, Input};
use crate::list::pbx_page;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;

const TEMPLATE: &[&str] = &["name", "description"];
const WINDOW: &[&str] = &["template_id", "time_recurrence"];

fn show(res: &Resource, rec: &Record) -> Json {
    Json::Object(render(Dialect::Pbx, res, rec))
}

/// Reads the `names` of `res` from one row.
fn read(
    res: &Resource,
    names: &'static [&'static str],
    row: &Json,
    create: bool,
) -> Result<Values, ApiError> {
    let mut input = Input::new(row, Casing::Snake)?;
    let values = input.fields(res, names, create);
    input.finish()?;
    check_string(&values)?;
    Ok(values)
}

/// Reads every row of `body` to create records of `res`.
fn read_new(res: &Resource, names: &'static [&'static str], body: &Json) -> Result<Vec<Values>, ApiError> {
    let (items, _) = rows::rows(body)?;
    items.iter().enumerate().map(|(i, row)| read(res, names, row, true).map_err(|e| in_row(i, e))).collect()
}

/// Reads every row of `body` (each with its `id`) to change records of
/// `res`; returns the changes and the ids as sent.
async fn read_changes(
    state: &AppState,
    caller: &Caller,
    res: &'static Resource,
    names: &'static [&'static str],
    body: &Json,
) -> Result<(Vec<Json>, bool), ApiError> {
    let cx = context(state, caller, Role::Admin)?;
    let (items, array) = rows::rows(body)?;
    let mut changes = Vec::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for (i, row) in items.iter().enumerate() {
        let (rec, raw) = row_record(&cx, res, i, row).await?;
        changes.push((rec, read(res, names, row, false).map_err(|e| in_row(i, e))?));
        ids.push(json!({"id": raw}));
    }
    update_all(&cx, res, changes).await?;
    Ok((ids, array))
}

/// Deletes the records of `res` whose ids the body lists, all or none
/// (every id must exist); answers `[{"id": ..}]` with the ids as sent.
async fn delete_listed(
    state: &AppState,
    caller: &Caller,
    res: &'static Resource,
    body: &Json,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(caller, Role::Admin)?;
    let ids = id_list(body)?;
    for rec in existing(&cx(state, scope), res, &ids).await? {
        state.db.delete(res, scope, &Key::Id(rec.id)).await?;
    }
    Ok(ok(Json::Array(ids.into_iter().map(|(_, raw)| json!({"id": raw})).collect())))
}

/// `GET /api/time_recurrence/templates`: the page inside `data`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Member)?;
    let paging = paging(&query_pairs(raw.as_deref())?)?;
    let page = pbx_page(&state.db, &TIME_TEMPLATES, scope, Vec::new(), &paging).await?;
    let data = page.records.iter().map(|r| show(&TIME_TEMPLATES, r)).collect();
    Ok(ok(page.envelope(data)))
}

/// `GET /api/time_recurrence/templates/{id}`: with its windows.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Member)?;
    let rec = by_id(&state, &TIME_TEMPLATES, scope, &id).await?;
    let windows = all(&state, &TEMPLATE_RECURRENCES, scope, vec![Filter::eq("template_id", rec.id)]).await?;
    let mut out = show(&TIME_TEMPLATES, &rec);
    out["time_recurrences"] =
        windows.iter().map(|w| json!({"id": w.id, "time_recurrence": w.text("time_recurrence")})).collect();
    Ok(ok(out))
}

/// `POST /api/time_recurrence/templates`: answers the new templates.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let made = state
        .db
        .insert_all(&TIME_TEMPLATES, scope, read_new(&TIME_TEMPLATES, TEMPLATE, &body)?, state.now())
        .await?;
    Ok(ok(made.iter().map(|r| show(&TIME_TEMPLATES, r)).collect()))
}

/// `PUT /api/time_recurrence/templates`: answers `[{"id": ..}]`.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let (ids, _) = read_changes(&state, &caller, &TIME_TEMPLATES, TEMPLATE, &body).await?;
    Ok(ok(Json::Array(ids)))
}

/// `DELETE /api/time_recurrence/templates` with `[ids]`; their windows go
/// with them.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    delete_listed(&state, &caller, &TIME_TEMPLATES, &body).await
}

/// `POST /api/time_recurrence/templates/time_recurrences`: answers the new
/// windows grouped by template, `[{"id": <template>, "time_recurrences":
/// [{"id": "<id>", "time_recurrence": ..}]}]`.
async fn create_windows(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let values = read_new(&TEMPLATE_RECURRENCES, WINDOW, &body)?;
    let (items, _) = rows::rows(&body)?;
    let made = state.db.insert_all(&TEMPLATE_RECURRENCES, scope, values, state.now()).await?;
    let mut groups: Vec<(Option<i64>, Json, Vec<Json>)> = Vec::new();
    for (row, rec) in items.iter().zip(&made) {
        let template = rec.int("template_id");
        let window = json!({"id": rec.id.to_string(), "time_recurrence": rec.text("time_recurrence")});
        match groups.iter_mut().find(|(t, _, _)| *t == template) {
            Some((_, _, windows)) => windows.push(window),
            None => groups.push((template, row["template_id"].clone(), vec![window])),
        }
    }
    Ok(ok(groups
        .into_iter()
        .map(|(_, id, windows)| json!({"id": id, "time_recurrences": windows}))
        .collect()))
}

/// `PUT /api/time_recurrence/templates/time_recurrences`: answers the ids
/// as sent; one row (or a single object) answers one `{"id": ..}` and
/// several an array, as the seed's two examples show.
async fn update_windows(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let (mut ids, _) = read_changes(&state, &caller, &TEMPLATE_RECURRENCES, WINDOW, &body).await?;
    if ids.len() == 1 {
        return Ok(ok(ids.remove(0)));
    }
    Ok(ok(Json::Array(ids)))
}

/// `DELETE /api/time_recurrence/templates/time_recurrences` with `[ids]`.
async fn remove_windows(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    delete_listed(&state, &caller, &TEMPLATE_RECURRENCES, &body).await
}

/// `DELETE /api/time_recurrence/templates/time_recurrences/{id}`.
async fn remove_window(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let rec = by_id(&state, &TEMPLATE_RECURRENCES, scope, &id).await?;
    state.db.delete(&TEMPLATE_RECURRENCES, scope, &Key::Id(rec.id)).await?;
    Ok(ok(json!({"id": rec.id.to_string()})))
}

/// The time template endpoints.
pub fn routes() -> Api {
    const BASE: &str = "/api/time_recurrence/templates";
    const WINDOWS: &str = "/api/time_recurrence/templates/time_recurrences";
    let ids = Doc::Any;
    Api::new()
        .get(BASE, "List time templates", list)
        .reply(Reply::Schema(crate::pbx::replies::ok_page))
        .post(BASE, "Create time templates", Doc::Array(&TIME_TEMPLATES, TEMPLATE, Casing::Snake), create)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .put(BASE, "Change time templates", Doc::Array(&TIME_TEMPLATES, TEMPLATE, Casing::Snake), update)
        .reply(Reply::Schema(crate::pbx::replies::ok_list))
        .delete_with(BASE, "Delete time templates by id", ids, remove)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .get("/api/time_recurrence/templates/{id}", "Get a time template with its windows", get_one)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .post(
            WINDOWS,
            "Add windows to time templates",
            Doc::Array(&TEMPLATE_RECURRENCES, WINDOW, Casing::Snake),
            create_windows,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .put(
            WINDOWS,
            "Change windows of time templates",
            Doc::Array(&TEMPLATE_RECURRENCES, WINDOW, Casing::Snake),
            update_windows,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_one_or_list))
        .delete_with(WINDOWS, "Delete windows of time templates by id", ids, remove_windows)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .delete(
            "/api/time_recurrence/templates/time_recurrences/{id}",
            "Delete a window of a time template",
            remove_window,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
}
