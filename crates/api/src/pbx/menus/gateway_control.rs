//! Gateway control (`start`, `killgw`, `register`, `unregister`, by name
//! or by id) and status (`/api/gateways/list1`, `/api/gateways/{id}/status`).
//! Control records the wanted state (`register` and `start` of a
//! registering gateway make it `TRYING`, `unregister` `NOREG`, `killgw`
//! `STOPPED`, so that it holds across restarts), then asks the engine's
//! gateway supervisor to act at once. Status shows the supervisor's live
//! state; without a running SIP side (API-only tests) it shows the stored
//! one.

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
use engine::trunks::{Action, ControlError};

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
    let (Some(gateways), Some(action)) = (cx.state.gateways.get(), Action::parse(action)) else {
        return Ok(());
    };
    match gateways.control(gateway.id, action).await {
        Ok(()) | Err(ControlError::NotFound(_)) => Ok(()),
        Err(e) => {
            tracing::warn!(gateway = gateway.id, error = %e, "gateway control not applied");
            Err(ApiError::internal(e))
        }
    }
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
            let (state, up) = match state.gateways.get().and_then(|live| live.gateway(g.id)) {
                Some(live) => (live.state.as_str(), live.up()),
                None => (g.text("state"), g.text("state") != "FAILED"),
            };
            let status = if up { "UP" } else { "DOWN" };
            json!({"gateway_status": status, "name": g.text("name"), "gateway_state": state})
        })
        .collect();
    Ok(axum::Json(Json::Array(rows)))
}

/// A time for the PBX dialect, or "".
fn when(ms: Option<store::Millis>) -> Json {
    json!(ms.map(crate::view::plain_time).unwrap_or_default())
}

/// `GET /api/gateways/{id}/status`: one gateway's live registration and
/// ping state, with the timers.
async fn one_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let gateway = crud::by_id(&state, &GATEWAYS, cx.scope, &id).await?;
    let now = state.now();
    let live = state.gateways.get().and_then(|g| g.gateway(gateway.id));
    let mut out = json!({
        "id": gateway.id,
        "name": gateway.text("name"),
        "running": live.is_some(),
        "gateway_state": gateway.text("state"),
        "gateway_status": if gateway.text("state") == "FAILED" { "DOWN" } else { "UP" },
    });
    if let Some(live) = live {
        let seconds_until = |at: Option<store::Millis>| at.map(|t| ((t - now).max(0) + 999) / 1000);
        out["gateway_state"] = json!(live.state.as_str());
        out["gateway_status"] = json!(if live.up() { "UP" } else { "DOWN" });
        out["last_error"] = json!(live.last_error.clone().unwrap_or_default());
        out["failures"] = json!(live.failures);
        out["registered_at"] = when(live.registered_at);
        out["expires_at"] = when(live.expires_at);
        out["expires_in"] = json!(seconds_until(live.expires_at));
        out["next_attempt_at"] = when(live.next_attempt);
        out["next_attempt_in"] = json!(seconds_until(live.next_attempt));
        out["ping"] = match &live.ping {
            None => json!({"status": "disabled"}),
            Some(p) => json!({
                "status": p.status.as_str(),
                "rtt_ms": p.rtt_ms,
                "interval": p.interval_s,
                "last_ping": when(p.last_ping),
                "last_answer": when(p.last_answer),
            }),
        };
    }
    Ok(ok(out))
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
        .get("/api/gateways/{id}/status", "One gateway's registration and ping state", one_status)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
}
