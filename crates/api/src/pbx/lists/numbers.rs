//! The numbers of a black/white list, at `/api/blacklists/{id}/lists`:
//! params of realm `BLACKLIST` whose `ref_id` is the list (`k` a name,
//! `v` the number or prefix), with a bulk import and a bulk change.

use async_trait::async_trait;
use axum::extract::{RawQuery, State};
use serde_json::{json, Map, Value as Json};
use store::schema::{BLACKLISTS, PARAMS};
use store::{Filter, Key, Record, Step, Value, Values};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, page, values, view, views, PbxSpec};
use crate::crud::{self, Cx, Rules};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as Body, Path};
use crate::input::{convert, Casing};
use crate::pbx::check;
use crate::pbx::import::{self, Columns};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const REALM: &str = "BLACKLIST";
const FIELDS: &[&str] = &["k", "v"];

/// How a list's numbers are read and shown.
pub(super) static SPEC: PbxSpec =
    PbxSpec { res: &PARAMS, create: FIELDS, update: FIELDS, filters: &[], parent: None, rules: &NumberRules };

/// The rows of `POST /api/blacklists/{id}/import`.
const IMPORT: Columns =
    Columns { key: "data", map: &[("k", "k"), ("v", "v"), ("号码名称", "k"), ("起始号码", "v")] };

/// The rows of `PUT /api/blacklists/{id}/multimodify`.
const MODIFY: Columns = Columns { key: "data", map: &[("id", "id"), ("k", "k"), ("v", "v")] };

struct NumberRules;

#[async_trait]
impl Rules for NumberRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let missing = match values.iter().find(|(n, _)| *n == "v") {
            Some((_, Value::Text(t))) => t.trim().is_empty(),
            Some(_) => true,
            None => current.is_none(),
        };
        if missing {
            return Err(ApiError::field("v", "is required: the number"));
        }
        check::run(values, &[("v", check::list_number)])
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        out.remove("o");
        Ok(())
    }
}

/// `values` of a number stored in the list `list_id`.
pub(super) fn stored(list_id: i64, mut values: Values) -> Values {
    values.retain(|(n, _)| !matches!(*n, "realm" | "ref_id" | "disabled"));
    values.extend([
        ("realm", Value::from(REALM)),
        ("ref_id", Value::Int(list_id)),
        ("disabled", Value::Int(0)),
    ]);
    values
}

fn of_list(list_id: i64) -> Vec<Filter> {
    vec![Filter::eq("realm", REALM), Filter::eq("ref_id", list_id)]
}

/// The number `id` of the list `list_id`, or 404.
async fn number_of(cx: &Cx<'_>, list_id: i64, id: i64) -> Result<Record, ApiError> {
    let mut filters = of_list(list_id);
    filters.push(Filter::eq("id", id));
    cx.state.db.find(&PARAMS, cx.scope, &filters).await?.ok_or_else(|| ApiError::not_found("list number"))
}

async fn list_of(cx: &Cx<'_>, id: &str) -> Result<Record, ApiError> {
    crud::by_id(cx.state, &BLACKLISTS, cx.scope, id).await
}

fn number_id(id: &str) -> Result<i64, ApiError> {
    id.trim().parse().map_err(|_| ApiError::not_found("list number"))
}

/// `GET /api/blacklists/{id}/lists`: the list's numbers, paged.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let owner = list_of(&cx, &id).await?;
    Ok(axum::Json(page(&cx, &SPEC, q.as_deref(), of_list(owner.id)).await?))
}

/// `POST /api/blacklists/{id}/lists`: answers the new number's id.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let owner = list_of(&cx, &id).await?;
    let values = values(&cx, &SPEC, &body, None).await?;
    let rec = crud::create(&state, &PARAMS, cx.scope, stored(owner.id, values)).await?;
    Ok(ok(json!(rec.id)))
}

/// `PUT /api/blacklists/{id}/lists/{number}`.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, String)>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let owner = list_of(&cx, &id).await?;
    let rec = number_of(&cx, owner.id, number_id(&number)?).await?;
    let values = values(&cx, &SPEC, &body, Some(&rec)).await?;
    crud::update(&state, &PARAMS, cx.scope, &rec, values).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// `DELETE /api/blacklists/{id}/lists/{number}`.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let owner = list_of(&cx, &id).await?;
    let rec = number_of(&cx, owner.id, number_id(&number)?).await?;
    state.db.delete(&PARAMS, cx.scope, &Key::Id(rec.id)).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// `POST /api/blacklists/{id}/import`: `{"data":[{k,v}]}`, every row or
/// none; answers the created numbers.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let owner = list_of(&cx, &id).await?;
    let mut rows = IMPORT.rows(&body, &[&PARAMS])?;
    let values = import::read_rows(&cx, &SPEC, &IMPORT, &mut rows, import::as_sent).await?;
    let values = values.into_iter().map(|v| stored(owner.id, v)).collect();
    let records = import::insert_rows(&cx, &PARAMS, &IMPORT, values).await?;
    Ok(ok(Json::Array(views(&cx, &SPEC, &records).await?)))
}

/// `PUT /api/blacklists/{id}/multimodify`: `{"data":[{id,k,v}]}` changes
/// several numbers of the list, all or none (every id must be a number of
/// this list, once); answers the last one as changed.
async fn modify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let owner = list_of(&cx, &id).await?;
    let rows = MODIFY.rows(&body, &[&PARAMS])?;
    let mut changes: Vec<(Record, Values)> = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let in_row = |e| MODIFY.in_row(index, e);
        let id = match row.get("id").map(|raw| convert(raw, store::Kind::Int)) {
            Some(Ok(Value::Int(id))) => id,
            None | Some(Ok(_)) => return Err(in_row(ApiError::field("id", "is required: the number's id"))),
            Some(Err(m)) => return Err(in_row(ApiError::field("id", m))),
        };
        if changes.iter().any(|(r, _)| r.id == id) {
            return Err(in_row(ApiError::field("id", format!("{id} is given twice"))));
        }
        let rec = number_of(&cx, owner.id, id).await.map_err(|e| match e.kind {
            ErrorKind::NotFound => in_row(ApiError::field(
                "id",
                format!("{id} is not a number of black/white list {}", owner.id),
            )),
            _ => e,
        })?;
        let values = values(&cx, &SPEC, row, Some(&rec)).await.map_err(in_row)?;
        changes.push((rec, values));
    }
    let steps: Vec<Step> = changes
        .into_iter()
        .map(|(rec, values)| Step::Update { res: &PARAMS, key: Key::Id(rec.id), values })
        .collect();
    let ids = state.db.transact(cx.scope, &steps, state.now()).await.map_err(|e| MODIFY.store_error(e))?;
    let last = ids.last().ok_or_else(|| ApiError::field("data", "has no rows"))?;
    let last = state.db.get(&PARAMS, cx.scope, &Key::Id(*last)).await?;
    Ok(ok(Json::Object(view(&cx, &SPEC, &last).await?)))
}

/// The routes of a list's numbers.
pub fn routes() -> Api {
    let doc = Doc::Fields(&PARAMS, FIELDS, Casing::Snake);
    let item = "/api/blacklists/{id}/lists/{number}";
    Api::new()
        .get("/api/blacklists/{id}/lists", "List the numbers of a black/white list", list)
        .reply(Reply::Schema(crate::pbx::replies::rows_page))
        .post("/api/blacklists/{id}/lists", "Add a number to a black/white list", doc, create)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .put(item, "Change a number of a black/white list", doc, update)
        .reply(Reply::Changed)
        .delete(item, "Remove a number from a black/white list", remove)
        .reply(Reply::Changed)
        .post(
            "/api/blacklists/{id}/import",
            "Add several numbers to a black/white list (all or none)",
            Doc::Props(&[("data", "array")]),
            import,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .put(
            "/api/blacklists/{id}/multimodify",
            "Change several numbers of a black/white list (all or none)",
            Doc::Props(&[("data", "array")]),
            modify,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
}
