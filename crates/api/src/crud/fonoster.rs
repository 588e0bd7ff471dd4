//! The Fonoster dialect's generic resource endpoints: refs, camelCase,
//! `201` with the whole resource, `{items, nextPageToken}` lists, and
//! references written and shown as `{ref}` objects.

use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value as Json};
use store::{Filter, Key, Kind, Record, Resource, Scope, Target, Value, Values};

use super::{Cx, Rules};
use crate::auth::{Caller, Role};
use crate::dialect::{camel, Dialect};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path, Query};
use crate::input::{Casing, Input};
use crate::list::{self, FonosterPaging};
use crate::responses::cached;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;

/// How the Fonoster dialect serves one resource.
pub struct FonosterSpec {
    /// The resource.
    pub res: &'static Resource,
    /// Fields a create may set.
    pub create: &'static [&'static str],
    /// Fields an update may set.
    pub update: &'static [&'static str],
    /// The resource's own rules.
    pub rules: &'static dyn Rules,
}

/// The wire name of a reference field: `domain_id` is `domain`.
pub fn ref_name(field: &str) -> String {
    camel(field.strip_suffix("_id").unwrap_or(field))
}

/// Turns the refs (UUIDs) that the input read for reference fields into
/// ids, refusing refs that name nothing in the workspace.
pub async fn resolve_refs(
    state: &AppState,
    res: &Resource,
    scope: Scope,
    values: &mut Values,
) -> Result<(), ApiError> {
    for (name, value) in values.iter_mut() {
        let (Some(Kind::Ref(table)), Value::Text(r)) = (res.field(name).map(|f| f.kind), &*value) else {
            continue;
        };
        let target = store::schema::by_table(table).ok_or_else(|| ApiError::internal(table))?;
        match state.db.find(target, scope, &[store::Filter::eq("ref", r.as_str())]).await? {
            Some(rec) => *value = Value::Int(rec.id),
            None => {
                return Err(ApiError::field(
                    &ref_name(name),
                    format!("refers to a {} that does not exist", target.label),
                ))
            }
        }
    }
    Ok(())
}

/// The record as Fonoster shows it: references as `{ref, name}`, from
/// `targets` (what [`store::Db::select_linked`] read with it).
pub async fn view_with(
    cx: &Cx<'_>,
    res: &Resource,
    rules: &dyn Rules,
    rec: &Record,
    targets: &[Target],
) -> Result<Map<String, Json>, ApiError> {
    let mut out = render(Dialect::Fonoster, res, rec);
    for f in res.fields.iter().filter(|f| !f.hidden && matches!(f.kind, Kind::Ref(_))) {
        let shown = match targets.iter().find(|t| t.field == f.name) {
            Some(t) => json!({"ref": t.r#ref, "name": t.name}),
            None => Json::Null,
        };
        out.insert(ref_name(f.name), shown);
    }
    rules.view(cx, rec, &mut out).await?;
    Ok(out)
}

/// The record as Fonoster shows it: references as `{ref, name}`, read
/// in one statement.
pub async fn view(
    cx: &Cx<'_>,
    res: &Resource,
    rules: &dyn Rules,
    rec: &Record,
) -> Result<Map<String, Json>, ApiError> {
    let query = store::Query { filters: vec![Filter::eq("id", rec.id)], ..store::Query::default() };
    let targets = match cx.state.db.select_linked(res, Scope::Global, &query).await?.pop() {
        Some((_, targets)) => targets,
        None => Vec::new(),
    };
    view_with(cx, res, rules, rec, &targets).await
}

/// Reads the writable fields of `body`, resolves references and applies the
/// rules.
pub async fn values(
    cx: &Cx<'_>,
    spec: &FonosterSpec,
    body: &Json,
    current: Option<&Record>,
) -> Result<Values, ApiError> {
    let names = if current.is_some() { spec.update } else { spec.create };
    let mut input = Input::new(body, Casing::Camel)?;
    let mut values = input.fields(spec.res, names, current.is_none());
    input.finish()?;
    resolve_refs(cx.state, spec.res, cx.scope, &mut values).await?;
    spec.rules.prepare(cx, body, &mut values, current).await?;
    Ok(values)
}

/// What rules see of a Fonoster request by `caller`, who needs at least
/// `role`.
fn context<'a>(state: &'a AppState, caller: &Caller, role: Role) -> Result<Cx<'a>, ApiError> {
    Ok(Cx { state, scope: super::scope(caller, role)?, dialect: Dialect::Fonoster })
}

/// The record as the answer's body.
async fn shown(cx: &Cx<'_>, spec: &FonosterSpec, rec: &Record) -> Result<axum::Json<Json>, ApiError> {
    Ok(axum::Json(Json::Object(view(cx, spec.res, spec.rules, rec).await?)))
}

async fn list(
    spec: &'static FonosterSpec,
    state: AppState,
    caller: Caller,
    uri: Uri,
    paging: FonosterPaging,
) -> Result<Response, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let scope = cx.scope;
    let query = list::fonoster_query(Vec::new(), &paging)?;
    let stamp = || state.db.linked_stamp(spec.res);
    cached(&state, &caller, &uri, stamp, || async {
        // The page and what its references point at, in one statement.
        let mut rows = state.db.select_linked(spec.res, scope, &query).await?;
        let next = list::fonoster_next(&mut rows, &query, |(rec, _)| rec.id);
        let mut items = Vec::with_capacity(rows.len());
        for (rec, targets) in &rows {
            items.push(Json::Object(view_with(&cx, spec.res, spec.rules, rec, targets).await?));
        }
        Ok(list::fonoster_envelope(items, next))
    })
    .await
}

async fn create(
    spec: &'static FonosterSpec,
    state: AppState,
    caller: Caller,
    body: Json,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let values = values(&cx, spec, &body, None).await?;
    let rec = super::create(&state, spec.res, scope, values).await?;
    Ok((StatusCode::CREATED, shown(&cx, spec, &rec).await?))
}

async fn get_one(
    spec: &'static FonosterSpec,
    state: AppState,
    caller: Caller,
    uri: Uri,
    r: String,
) -> Result<Response, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let scope = cx.scope;
    let stamp = || state.db.linked_stamp(spec.res);
    cached(&state, &caller, &uri, stamp, || async {
        // The record and what its references point at, in one statement.
        let query =
            store::Query { filters: vec![Filter::eq("ref", r)], limit: Some(1), ..store::Query::default() };
        let (rec, targets) = state
            .db
            .select_linked(spec.res, scope, &query)
            .await?
            .pop()
            .ok_or(store::StoreError::NotFound(spec.res.label))?;
        Ok(Json::Object(view_with(&cx, spec.res, spec.rules, &rec, &targets).await?))
    })
    .await
}

async fn update(
    spec: &'static FonosterSpec,
    state: AppState,
    caller: Caller,
    r: String,
    body: Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let rec = state.db.get(spec.res, scope, &Key::Ref(r)).await?;
    let values = values(&cx, spec, &body, Some(&rec)).await?;
    let rec = super::update(&state, spec.res, scope, &rec, values).await?;
    shown(&cx, spec, &rec).await
}

async fn remove(
    spec: &'static FonosterSpec,
    state: AppState,
    caller: Caller,
    r: String,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let rec = state.db.get(spec.res, scope, &Key::Ref(r)).await?;
    spec.rules.check_delete(&cx, &rec).await?;
    let rec = state.db.delete(spec.res, scope, &Key::Id(rec.id)).await?;
    Ok(axum::Json(json!({"ref": rec.r#ref})))
}

/// Serves `spec` at `base` (list, create) and `base/{ref}` (get, update,
/// delete).
pub fn register(api: Api, base: &str, spec: &'static FonosterSpec) -> Api {
    let label = spec.res.label;
    let item = format!("{base}/{{ref}}");
    api.get(
        base,
        format!("List {label}s"),
        move |State(s): State<AppState>,
              c: Caller,
              OriginalUri(u): OriginalUri,
              Query(p): Query<FonosterPaging>| { list(spec, s, c, u, p) },
    )
    .reply(Reply::Page(spec.res))
    .post(
        base,
        format!("Create a {label}"),
        Doc::Spec(spec.res, spec.create, Casing::Camel, spec.rules, true),
        move |State(s): State<AppState>, c: Caller, Body(b): Body<Json>| create(spec, s, c, b),
    )
    .reply(Reply::Created(spec.res))
    .get(
        &item,
        format!("Get a {label}"),
        move |State(s): State<AppState>, c: Caller, OriginalUri(u): OriginalUri, Path(r): Path<String>| {
            get_one(spec, s, c, u, r)
        },
    )
    .reply(Reply::Record(spec.res))
    .put(
        &item,
        format!("Update a {label}"),
        Doc::Spec(spec.res, spec.update, Casing::Camel, spec.rules, false),
        move |State(s): State<AppState>, c: Caller, Path(r): Path<String>, Body(b): Body<Json>| {
            update(spec, s, c, r, b)
        },
    )
    .reply(Reply::Record(spec.res))
    .delete(
        &item,
        format!("Delete a {label}"),
        move |State(s): State<AppState>, c: Caller, Path(r): Path<String>| remove(spec, s, c, r),
    )
    .reply(Reply::Changed)
}
