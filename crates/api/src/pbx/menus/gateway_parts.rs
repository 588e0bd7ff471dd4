//! A gateway's params (`PARAMS` of realm `GATEWAY`) and channel
//! variables: create, change (answering the whole record), delete
//! (answering `1`) and list (a bare array), in the seed's paths.

use async_trait::async_trait;
use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{GATEWAYS, GATEWAY_VARIABLES, PARAMS};
use store::{Record, Value, Values};

use super::nested::Nested;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, view, PbxSpec};
use crate::crud::{Cx, Plain, Rules};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::Casing;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const PARAM_FIELDS: &[&str] = &["k", "v", "disabled"];
/// `direction` is read by the rules (it may be a name).
const VARIABLE_FIELDS: &[&str] = &["k", "v", "disabled"];
const VARIABLE_DOC: &[&str] = &["k", "v", "disabled", "direction"];

static PARAM: PbxSpec = PbxSpec {
    res: &PARAMS,
    create: PARAM_FIELDS,
    update: PARAM_FIELDS,
    filters: &[],
    parent: None,
    rules: &Plain,
};

static VARIABLE: PbxSpec = PbxSpec {
    res: &GATEWAY_VARIABLES,
    create: VARIABLE_FIELDS,
    update: VARIABLE_FIELDS,
    filters: &[],
    parent: None,
    rules: &VariableRules,
};

/// A gateway's params.
pub static PARAMS_OF: Nested = Nested {
    spec: &PARAM,
    parent: &GATEWAYS,
    field: "ref_id",
    fixed: &[("realm", "GATEWAY")],
    unique: Some("k"),
};

/// A gateway's variables.
pub static VARIABLES_OF: Nested =
    Nested { spec: &VARIABLE, parent: &GATEWAYS, field: "gateway_id", fixed: &[], unique: None };

struct VariableRules;

/// A variable's direction: 0 both, 1 inbound, 2 outbound, by number or name.
fn direction(raw: &Json) -> Result<Value, ApiError> {
    let text = raw.as_str().map(str::trim);
    let n = match (raw.as_i64(), text) {
        (Some(n), _) => Some(n),
        (None, Some("both" | "")) => Some(0),
        (None, Some("inbound")) => Some(1),
        (None, Some("outbound")) => Some(2),
        (None, Some(t)) => t.parse().ok(),
        _ => None,
    };
    match n {
        Some(n @ 0..=2) => Ok(Value::Int(n)),
        _ => Err(ApiError::field(
            "direction",
            "must be 0 (both), 1 (inbound) or 2 (outbound), or one of those names",
        )),
    }
}

#[async_trait]
impl Rules for VariableRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        match body.get("direction") {
            None | Some(Json::Null) => {}
            Some(raw) => values.push(("direction", direction(raw)?)),
        }
        Ok(())
    }
}

async fn create(
    part: &'static Nested,
    state: AppState,
    caller: Caller,
    gateway: String,
    body: Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let gateway = part.parent(&cx, &gateway).await?;
    Ok(ok(json!(part.create(&cx, gateway.id, &body).await?.id)))
}

async fn update(
    part: &'static Nested,
    state: AppState,
    caller: Caller,
    (gateway, id): (String, String),
    body: Json,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let gateway = part.parent(&cx, &gateway).await?;
    let rec = part.update(&cx, gateway.id, &id, &body).await?;
    Ok(ok(Json::Object(view(&cx, part.spec, &rec).await?)))
}

async fn remove(
    part: &'static Nested,
    state: AppState,
    caller: Caller,
    (gateway, id): (String, String),
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let gateway = part.parent(&cx, &gateway).await?;
    part.delete(&cx, gateway.id, &id).await?;
    Ok(ok(json!(1)))
}

async fn list(
    part: &'static Nested,
    state: AppState,
    caller: Caller,
    gateway: String,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let gateway = part.parent(&cx, &gateway).await?;
    Ok(axum::Json(Json::Array(part.views(&cx, gateway.id).await?)))
}

/// Serves `part` as the seed does: `POST /api/gateways/{id}/<plural>`,
/// `PUT /api/gateways/{id}/<plural>/{item}`, `DELETE
/// /api/gateways/{id}/<singular>/{item}`, `GET /api/gateways/<plural>/{id}`.
fn serve(api: Api, part: &'static Nested, singular: &str, plural: &str, doc: Doc) -> Api {
    let label = part.spec.res.label;
    let item = format!("{singular}_id");
    api.post(
        &format!("/api/gateways/{{id}}/{plural}"),
        format!("Create a {label}"),
        doc,
        move |State(s): State<AppState>, c: Caller, Path(g): Path<String>, Body(b): Body<Json>| {
            create(part, s, c, g, b)
        },
    )
    .reply(Reply::Schema(crate::pbx::replies::ok_id))
    .put(
        &format!("/api/gateways/{{id}}/{plural}/{{{item}}}"),
        format!("Update a {label}; answers the whole {label}"),
        doc,
        move |State(s): State<AppState>, c: Caller, Path(p): Path<(String, String)>, Body(b): Body<Json>| {
            update(part, s, c, p, b)
        },
    )
    .reply(Reply::Schema(crate::pbx::replies::ok_object))
    .delete(
        &format!("/api/gateways/{{id}}/{singular}/{{{item}}}"),
        format!("Delete a {label}; answers 1"),
        move |State(s): State<AppState>, c: Caller, Path(p): Path<(String, String)>| remove(part, s, c, p),
    )
    .reply(Reply::Schema(crate::pbx::replies::ok_id))
    .get(
        &format!("/api/gateways/{plural}/{{id}}"),
        format!("List a gateway's {label}s (a bare array)"),
        move |State(s): State<AppState>, c: Caller, Path(g): Path<String>| list(part, s, c, g),
    )
    .reply(Reply::Schema(crate::pbx::replies::rows))
}

/// Their routes.
pub fn routes() -> Api {
    let api =
        serve(Api::new(), &PARAMS_OF, "param", "params", Doc::Fields(&PARAMS, PARAM_FIELDS, Casing::Snake));
    serve(
        api,
        &VARIABLES_OF,
        "variable",
        "variables",
        Doc::Fields(&GATEWAY_VARIABLES, VARIABLE_DOC, Casing::Snake),
    )
}
