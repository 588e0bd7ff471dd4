//! The PBX dialect's generic resource endpoints: integer ids, snake_case,
//! `{code, message, data}` answers and `{page, pageCount, rowCount, data}`
//! lists.

use axum::extract::{RawQuery, State};
use serde_json::{json, Map, Value as Json};
use store::{Filter, Record, Resource, Scope, Value};

use super::{Cx, Rules};
use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::{convert, Casing, Input};
use crate::list::{self, PbxPaging};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;

/// How the PBX dialect serves one resource.
pub struct PbxSpec {
    /// The resource.
    pub res: &'static Resource,
    /// Fields a create may set.
    pub create: &'static [&'static str],
    /// Fields an update may set.
    pub update: &'static [&'static str],
    /// Query-string parameters that filter a list by equality.
    pub filters: &'static [&'static str],
    /// For nested resources: the field that holds the parent's id from the
    /// path (`/api/ivrs/{id}/actions` sets `ivr_menu_id`).
    pub parent: Option<&'static str>,
    /// The resource's own rules.
    pub rules: &'static dyn Rules,
}

/// A successful PBX answer: `{"code":200,"message":"success","data":...}`.
pub fn ok(data: Json) -> axum::Json<Json> {
    axum::Json(json!({"code": 200, "message": "success", "data": data}))
}

/// What rules see of a PBX request by `caller`, who needs at least `role`
/// (`Member` to read, `Admin` to change).
pub fn context<'a>(state: &'a AppState, caller: &Caller, role: Role) -> Result<Cx<'a>, ApiError> {
    Ok(Cx { state, scope: super::scope(caller, role)?, dialect: Dialect::Pbx })
}

/// The record as the PBX shows it, after the resource's rules.
pub async fn view(cx: &Cx<'_>, spec: &PbxSpec, rec: &Record) -> Result<Map<String, Json>, ApiError> {
    let mut out = render(Dialect::Pbx, spec.res, rec);
    spec.rules.view(cx, rec, &mut out).await?;
    Ok(out)
}

/// Each record as the PBX shows it, after `spec`'s rules.
pub async fn views(cx: &Cx<'_>, spec: &PbxSpec, records: &[Record]) -> Result<Vec<Json>, ApiError> {
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        out.push(Json::Object(view(cx, spec, rec).await?));
    }
    Ok(out)
}

/// Reads the writable fields of `body` and applies the rules.
pub async fn values(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    body: &Json,
    current: Option<&Record>,
) -> Result<store::Values, ApiError> {
    let names = if current.is_some() { spec.update } else { spec.create };
    let mut input = Input::new(body, Casing::Snake)?;
    let mut values = input.fields(spec.res, names, current.is_none());
    input.finish()?;
    spec.rules.prepare(cx, body, &mut values, current).await?;
    Ok(values)
}

/// The query string as name/value pairs.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("bad query string: {e}")))
}

/// The paging parameters among the query string's `pairs`.
pub fn paging(pairs: &[(String, String)]) -> Result<PbxPaging, ApiError> {
    serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap_or_default())
        .map_err(|e| ApiError::invalid(format!("bad paging parameter: {e}")))
}

/// The paging and the equality filters (`spec.filters`) of a list request.
pub fn list_request(
    spec: &PbxSpec,
    pairs: &[(String, String)],
) -> Result<(PbxPaging, Vec<Filter>), ApiError> {
    let paging = paging(pairs)?;
    let mut filters = Vec::new();
    for (name, raw) in pairs {
        if let Some(field) = spec.filters.iter().find(|f| **f == name).and_then(|f| spec.res.field(f)) {
            let value =
                convert(&Json::String(raw.clone()), field.kind).map_err(|m| ApiError::field(name, m))?;
            filters.push(Filter::eq(field.name, value));
        }
    }
    Ok((paging, filters))
}

/// `{page, pageCount, rowCount, data}`: one page of `spec`'s records that
/// match the query string `raw` and `extra`, each shown by the spec's view.
pub async fn page(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    raw: Option<&str>,
    extra: Vec<Filter>,
) -> Result<Json, ApiError> {
    let (paging, mut filters) = list_request(spec, &query_pairs(raw)?)?;
    filters.extend(extra);
    let page = list::pbx_page(&cx.state.db, spec.res, cx.scope, filters, &paging).await?;
    Ok(page.envelope(views(cx, spec, &page.records).await?))
}

fn parent_id(id: &str, label: &str) -> Result<i64, ApiError> {
    id.trim().parse().map_err(|_| ApiError::not_found(label))
}

/// Checks that the parent named in the path exists, returning its id.
async fn parent(state: &AppState, spec: &PbxSpec, scope: Scope, id: &str) -> Result<Option<i64>, ApiError> {
    let Some(field) = spec.parent else { return Ok(None) };
    let table = match spec.res.field(field).map(|f| f.kind) {
        Some(store::Kind::Ref(table)) => table,
        _ => return Err(ApiError::internal(format!("{field} is not a reference"))),
    };
    let target = store::schema::by_table(table).ok_or_else(|| ApiError::internal(table))?;
    let id = parent_id(id, target.label)?;
    super::by_id(state, target, scope, &id.to_string()).await?;
    Ok(Some(id))
}

/// `GET base`: one page of the resource in the PBX list envelope.
pub async fn list(
    spec: &'static PbxSpec,
    state: AppState,
    caller: Caller,
    parent_key: Option<String>,
    raw: Option<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let (paging, mut filters) = list_request(spec, &query_pairs(raw.as_deref())?)?;
    if let (Some(field), Some(id)) =
        (spec.parent, parent(&state, spec, cx.scope, parent_key.as_deref().unwrap_or("")).await?)
    {
        filters.push(Filter::eq(field, id));
    }
    let page = list::pbx_page(&state.db, spec.res, cx.scope, filters, &paging).await?;
    Ok(axum::Json(page.envelope(views(&cx, spec, &page.records).await?)))
}

/// `POST base`: creates a record; answers its id.
pub async fn create(
    spec: &'static PbxSpec,
    state: AppState,
    caller: Caller,
    parent_key: Option<String>,
    body: Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let mut values = values(&cx, spec, &body, None).await?;
    if let (Some(field), Some(id)) =
        (spec.parent, parent(&state, spec, scope, parent_key.as_deref().unwrap_or("")).await?)
    {
        values.retain(|(n, _)| *n != field);
        values.push((field, Value::Int(id)));
    }
    let rec = super::create(&state, spec.res, scope, values).await?;
    Ok(ok(json!(rec.id)))
}

async fn item(
    spec: &'static PbxSpec,
    state: &AppState,
    scope: Scope,
    parent_key: Option<String>,
    id: &str,
) -> Result<Record, ApiError> {
    match (spec.parent, parent(state, spec, scope, parent_key.as_deref().unwrap_or("")).await?) {
        (Some(field), Some(pid)) => super::child_by_id(state, spec.res, scope, field, pid, id).await,
        _ => super::by_id(state, spec.res, scope, id).await,
    }
}

/// `GET base/{id}`: the bare record.
pub async fn get_one(
    spec: &'static PbxSpec,
    state: AppState,
    caller: Caller,
    parent_key: Option<String>,
    id: String,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let scope = cx.scope;
    let rec = item(spec, &state, scope, parent_key, &id).await?;
    Ok(axum::Json(Json::Object(view(&cx, spec, &rec).await?)))
}

/// `PUT base/{id}`: changes a record; answers its id as text.
pub async fn update(
    spec: &'static PbxSpec,
    state: AppState,
    caller: Caller,
    parent_key: Option<String>,
    id: String,
    body: Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let rec = item(spec, &state, scope, parent_key, &id).await?;
    let values = values(&cx, spec, &body, Some(&rec)).await?;
    super::update(&state, spec.res, scope, &rec, values).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// `DELETE base/{id}`: deletes a record; answers its id as text.
pub async fn remove(
    spec: &'static PbxSpec,
    state: AppState,
    caller: Caller,
    parent_key: Option<String>,
    id: String,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let rec = item(spec, &state, scope, parent_key, &id).await?;
    spec.rules.check_delete(&cx, &rec).await?;
    state.db.delete(spec.res, scope, &store::Key::Id(rec.id)).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// Serves `spec` at `base` (list, create) and `base/{id}` (get, update,
/// delete). A nested `base` has one `{parent}` parameter.
pub fn register(api: Api, base: &str, spec: &'static PbxSpec) -> Api {
    let label = spec.res.label;
    let doc = Doc::Spec(spec.res, spec.create, Casing::Snake, spec.rules, true);
    let doc_update = Doc::Spec(spec.res, spec.update, Casing::Snake, spec.rules, false);
    let item_path = if spec.parent.is_some() { format!("{base}/{{item}}") } else { format!("{base}/{{id}}") };
    if spec.parent.is_some() {
        api.get(
            base,
            format!("List {label}s"),
            move |State(s): State<AppState>, c: Caller, Path(p): Path<String>, RawQuery(q): RawQuery| {
                list(spec, s, c, Some(p), q)
            },
        )
        .reply(Reply::Page(spec.res))
        .post(
            base,
            format!("Create a {label}"),
            doc,
            move |State(s): State<AppState>, c: Caller, Path(p): Path<String>, Body(b): Body<Json>| {
                create(spec, s, c, Some(p), b)
            },
        )
        .reply(Reply::Created(spec.res))
        .get(
            &item_path,
            format!("Get a {label}"),
            move |State(s): State<AppState>, c: Caller, Path((p, id)): Path<(String, String)>| {
                get_one(spec, s, c, Some(p), id)
            },
        )
        .reply(Reply::Record(spec.res))
        .put(
            &item_path,
            format!("Update a {label}"),
            doc_update,
            move |State(s): State<AppState>,
                  c: Caller,
                  Path((p, id)): Path<(String, String)>,
                  Body(b): Body<Json>| update(spec, s, c, Some(p), id, b),
        )
        .reply(Reply::Changed)
        .delete(
            &item_path,
            format!("Delete a {label}"),
            move |State(s): State<AppState>, c: Caller, Path((p, id)): Path<(String, String)>| {
                remove(spec, s, c, Some(p), id)
            },
        )
        .reply(Reply::Changed)
    } else {
        let api = route_list(api, base, format!("List {label}s"), spec);
        let api = route_create(api, base, format!("Create a {label}"), doc, spec);
        let api = route_get(api, &item_path, format!("Get a {label}"), spec);
        let api = route_update(api, &item_path, format!("Update a {label}"), doc_update, spec);
        route_remove(api, &item_path, format!("Delete a {label}"), spec)
    }
}

/// Serves [`list`] of `spec` (not nested) at `GET base`.
pub fn route_list(api: Api, base: &str, summary: impl Into<String>, spec: &'static PbxSpec) -> Api {
    api.get(base, summary, move |State(s): State<AppState>, c: Caller, RawQuery(q): RawQuery| {
        list(spec, s, c, None, q)
    })
    .reply(Reply::Page(spec.res))
}

/// Serves [`create`] of `spec` (not nested) at `POST base`.
pub fn route_create(
    api: Api,
    base: &str,
    summary: impl Into<String>,
    doc: Doc,
    spec: &'static PbxSpec,
) -> Api {
    api.post(base, summary, doc, move |State(s): State<AppState>, c: Caller, Body(b): Body<Json>| {
        create(spec, s, c, None, b)
    })
    .reply(Reply::Created(spec.res))
}

/// Serves [`get_one`] of `spec` (not nested) at `GET item`.
pub fn route_get(api: Api, item: &str, summary: impl Into<String>, spec: &'static PbxSpec) -> Api {
    api.get(item, summary, move |State(s): State<AppState>, c: Caller, Path(id): Path<String>| {
        get_one(spec, s, c, None, id)
    })
    .reply(Reply::Record(spec.res))
}

/// Serves [`update`] of `spec` (not nested) at `PUT item`.
pub fn route_update(
    api: Api,
    item: &str,
    summary: impl Into<String>,
    doc: Doc,
    spec: &'static PbxSpec,
) -> Api {
    api.put(
        item,
        summary,
        doc,
        move |State(s): State<AppState>, c: Caller, Path(id): Path<String>, Body(b): Body<Json>| {
            update(spec, s, c, None, id, b)
        },
    )
    .reply(Reply::Changed)
}

/// Serves [`remove`] of `spec` (not nested) at `DELETE item`.
pub fn route_remove(api: Api, item: &str, summary: impl Into<String>, spec: &'static PbxSpec) -> Api {
    api.delete(item, summary, move |State(s): State<AppState>, c: Caller, Path(id): Path<String>| {
        remove(spec, s, c, None, id)
    })
    .reply(Reply::Changed)
}
