//! Number translation tables (`/api/number_translation`) and their
//! numbers: each rewrites an original number (exactly, or as a prefix)
//! into a new one.

use async_trait::async_trait;
use axum::extract::{RawQuery, State};
use serde_json::{json, Value as Json};
use store::schema::{NTS_NUMBERS, NUMBER_TRANSLATIONS};
use store::{given, Record, Values};

use super::common::made_of;
use super::nested::Nested;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, page, register, PbxSpec};
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::Casing;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

static TABLE: PbxSpec = PbxSpec {
    res: &NUMBER_TRANSLATIONS,
    create: &["name", "description", "type"],
    update: &["name", "description"],
    filters: &["name", "type"],
    parent: None,
    rules: &TableRules,
};

const NUMBER_FIELDS: &[&str] = &["original_number", "nts_number"];

static NUMBER: PbxSpec = PbxSpec {
    res: &NTS_NUMBERS,
    create: NUMBER_FIELDS,
    update: NUMBER_FIELDS,
    filters: &["original_number", "nts_number"],
    parent: None,
    rules: &NumberRules,
};

static NUMBERS: Nested = Nested {
    spec: &NUMBER,
    parent: &NUMBER_TRANSLATIONS,
    field: "translation_id",
    fixed: &[],
    unique: Some("original_number"),
};

struct TableRules;

#[async_trait]
impl Rules for TableRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        _values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        if let (Some(current), Some(kind)) = (current, body.get("type")) {
            if kind.as_str() != Some(current.text("type")) {
                return Err(ApiError::field("type", "cannot be changed; only name and description can"));
            }
        }
        Ok(())
    }
}

struct NumberRules;

#[async_trait]
impl Rules for NumberRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        for field in NUMBER_FIELDS {
            if let Some(number) = given(values, field).as_str() {
                if !made_of(number.trim(), "0123456789*#+", 32) {
                    return Err(ApiError::field(field, "must be a number: digits, *, # or + (at most 32)"));
                }
            }
        }
        Ok(())
    }
}

/// `GET /api/number_translation/{id}/numbers`: a page of the table's
/// numbers and the table itself.
async fn numbers(
    State(state): State<AppState>,
    caller: Caller,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let table = NUMBERS.parent(&cx, &table).await?;
    let numbers = page(&cx, &NUMBER, raw.as_deref(), NUMBERS.of(table.id)).await?;
    let info = json!({"name": table.text("name"), "description": table.text("description"), "type": table.text("type")});
    Ok(axum::Json(json!({"nts_numbers": numbers, "number_translation_info": [info]})))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(table): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let table = NUMBERS.parent(&cx, &table).await?;
    Ok(ok(json!(NUMBERS.create(&cx, table.id, &body).await?.id)))
}

/// `POST /api/number_translation/{id}/import`: an array of numbers, all
/// or none; answers the table's id.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(table): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let table = NUMBERS.parent(&cx, &table).await?;
    let rows = match &body {
        Json::Array(rows) => rows,
        Json::Object(o) => match o.get("data") {
            Some(Json::Array(rows)) => rows,
            _ => return Err(ApiError::invalid("the body must be an array of numbers")),
        },
        _ => return Err(ApiError::invalid("the body must be an array of numbers")),
    };
    if rows.is_empty() {
        return Err(ApiError::invalid("nothing to import: the array is empty"));
    }
    NUMBERS.create_all(&cx, table.id, rows).await?;
    Ok(ok(json!(table.id)))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((table, id)): Path<(String, String)>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let table = NUMBERS.parent(&cx, &table).await?;
    Ok(ok(json!(NUMBERS.update(&cx, table.id, &id, &body).await?.id.to_string())))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((table, id)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let table = NUMBERS.parent(&cx, &table).await?;
    Ok(ok(json!(NUMBERS.delete(&cx, table.id, &id).await?.id.to_string())))
}

/// Their routes.
pub fn routes() -> Api {
    let doc = Doc::Fields(&NTS_NUMBERS, NUMBER_FIELDS, Casing::Snake);
    let rows = Doc::Array(&NTS_NUMBERS, NUMBER_FIELDS, Casing::Snake);
    let item = "/api/number_translation/{id}/{nts_id}";
    register(Api::new(), "/api/number_translation", &TABLE)
        .get("/api/number_translation/{id}/numbers", "A translation table's numbers and the table", numbers)
        .reply(Reply::Schema(crate::pbx::replies::translation_numbers))
        .post("/api/number_translation/{id}/numbers", "Add a number to a translation table", doc, create)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .post(
            "/api/number_translation/{id}/import",
            "Add numbers to a translation table, all or none",
            rows,
            import,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .put(item, "Update a translated number", doc, update)
        .reply(Reply::Changed)
        .delete(item, "Delete a translated number", remove)
        .reply(Reply::Changed)
}
