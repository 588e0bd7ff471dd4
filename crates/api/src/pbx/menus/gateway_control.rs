//! Gateway control (`start`, `killgw`, `register`, `unregister`, by name
//! or by id) and status (`/api/gateways/list1`). Until the SIP layer
//! registers gateways, control records the wanted state: `register`
//! and `start` of a registering gateway make it `TRYING`, `unregister`
//! `NOREG`, `killgw` `STOPPED`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use serde_json::{json, Value as Json};
use store::schema::GATEWAYS;
use store::{Filter, Op, Operand, Record, Value};

use super::common::optional_body;
use super::gateways::wanted_state;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, query_pairs};
use crate::crud::{self, Cx};
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

/// The control actions.
const ACTIONS: &[&str] = &["start", "killgw", "register", "unregister"];

/// A named parameter from the JSON body, else from the query string.
fn param(body: &Json, pairs: &[(String, String)], name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        Some(Json::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Json::Null) | None => {
            Ok(pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()))
        }
        Some(_) => Err(ApiError::field(name, "must be a string")),
    }
}

/// The action asked for, checked.
fn action(body: &Json, pairs: &[(String, String)]) -> Result<String, ApiError> {
    match param(body, pairs, "action")? {
        Some(a) if ACTIONS.contains(&a.as_str()) => Ok(a),
        Some(a) if !a.is_empty() => {
            Err(ApiError::field("action", format!("'{a}' is not one of {}", ACTIONS.join(", "))))
        }
        _ => Err(ApiError::field("action", "is required (start, killgw, register or unregister)")),
    }
}

/// Records the state `action` asks of `gateway`.
async fn apply(cx: &Cx<'_>, gateway: &Record, action: &str) -> Result<(), ApiError> {
    let state = match action {
        "killgw" => "STOPPED",
        "unregister" => "NOREG",
        "register" => "TRYING",
        _ => wanted_state(gateway.text("register")),
    };
    crud::update(cx.state, &GATEWAYS, cx.scope, gateway, vec![("state", Value::from(state))]).await?;
    Ok(())
}

/// `PUT /api/gateways/control`: `{action, gwname}` in the body or the
/// query string.
async fn by_name(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let body = optional_body(body)?;
    let pairs = query_pairs(raw.as_deref())?;
    let action = action(&body, &pairs)?;
    let name = param(&body, &pairs, "gwname")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::field("gwname", "is required"))?;
    let gateway = state
        .db
        .find(&GATEWAYS, cx.scope, &[Filter::eq("name", name.as_str())])
        .await?
        .ok_or_else(|| ApiError::not_found("gateway"))?;
    apply(&cx, &gateway, &action).await?;
    Ok(ok(json!({})))
}

/// `PUT /api/gateways/{id}/control`: `{action}`.
async fn by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let body = optional_body(body)?;
    let pairs = query_pairs(raw.as_deref())?;
    let gateway = crud::by_id(&state, &GATEWAYS, cx.scope, &id).await?;
    let action = action(&body, &pairs)?;
    apply(&cx, &gateway, &action).await?;
    Ok(ok(json!(gateway.id.to_string())))
}

/// `GET /api/gateways/list1`: the gateways in use (not stopped), with
/// their status and registration state.
async fn status(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let running = Filter { column: "state", op: Op::Ne, operand: Operand::One(Value::from("STOPPED")) };
    let gateways = crud::all(&state, &GATEWAYS, cx.scope, vec![running]).await?;
    let rows: Vec<Json> = gateways
        .iter()
        .map(|g| {
            let state = g.text("state");
            let status = if state == "FAILED" { "DOWN" } else { "UP" };
            json!({"gateway_status": status, "name": g.text("name"), "gateway_state": state})
        })
        .collect();
    Ok(axum::Json(Json::Array(rows)))
}

/// Their routes.
pub fn routes() -> Api {
    let by_name_doc = Doc::Props(&[("action", "string"), ("gwname", "string")]);
    Api::new()
        .put(
            "/api/gateways/control",
            "Control a gateway by name (body or query string)",
            by_name_doc,
            by_name,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .put(
            "/api/gateways/{id}/control",
            "Control a gateway by id",
            Doc::Props(&[("action", "string")]),
            by_id,
        )
        .reply(Reply::Changed)
        .get("/api/gateways/list1", "Status of the gateways in use (a bare array)", status)
        .reply(Reply::Schema(crate::pbx::replies::rows))
}
