//! The Vonage Voice API's call control, `/v1/calls`: a thin mapping onto
//! the call engine's commands (`engine::calls`), authenticated by an
//! application's JWT ([`super::jwt`]). Live calls come from the registry,
//! finished ones from the call records.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use engine::calls::{Destination, Originate};
use engine::webhooks::shapes::conversation_uuid;
use serde_json::{json, Value as Json};
use store::schema::CDRS;
use store::{Filter, Record, Scope};

use super::jwt::VoiceApp;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::service::cdrs::leg_id;
use crate::state::AppState;
use crate::view::rfc3339;

type Answer = Result<axum::Json<Json>, ApiError>;

/// Most calls one list shows.
const MAX_LIST: usize = 100;

/// A Vonage endpoint object for `number`: a SIP URI or a phone number.
fn endpoint(number: &str) -> Json {
    if number.starts_with("sip:") || number.starts_with("sips:") {
        json!({"type": "sip", "uri": number})
    } else {
        json!({"type": "phone", "number": number})
    }
}

/// A live leg as a Vonage call object.
fn live_view(c: &engine::calls::Channel) -> Json {
    let status = match c.callstate {
        "RINGING" | "EARLY" => "ringing",
        "ACTIVE" => "answered",
        "HANGUP" => "completed",
        _ => "started",
    };
    let (from, to) = if c.direction == "inbound" {
        (c.cid_num.as_str(), c.dest.as_str())
    } else {
        (c.cid_num.as_str(), c.callee_num.as_str())
    };
    json!({
        "_links": {"self": {"href": format!("/v1/calls/{}", c.uuid)}},
        "uuid": c.uuid,
        "conversation_uuid": conversation_uuid(&c.call_uuid),
        "to": endpoint(to),
        "from": endpoint(from),
        "status": status,
        "direction": c.direction,
        "start_time": rfc3339(c.created_ms),
        "network": "calliope",
    })
}

/// The Vonage status of a finished leg's hangup cause.
fn finished_status(cause: &str) -> &'static str {
    match cause {
        "NORMAL_CLEARING" | "" => "completed",
        "USER_BUSY" => "busy",
        "NO_ANSWER" | "NO_USER_RESPONSE" => "timeout",
        "ORIGINATOR_CANCEL" => "cancelled",
        "CALL_REJECTED" => "rejected",
        _ => "failed",
    }
}

/// A leg's record as a Vonage call object: `uuid` the leg's id, the
/// conversation the call's (shared by its legs).
fn record_view(r: &Record) -> Json {
    let uuid = leg_id(r);
    // The caller's leg came in; the legs the call placed went out.
    let direction = match (r.text("leg"), r.text("type")) {
        ("B", _) | (_, "API_ORIGINATED") => "outbound",
        _ => "inbound",
    };
    let mut out = json!({
        "_links": {"self": {"href": format!("/v1/calls/{uuid}")}},
        "uuid": uuid,
        "conversation_uuid": conversation_uuid(r.text("call_ref")),
        "to": endpoint(r.text("dst")),
        "from": endpoint(r.text("src")),
        "status": finished_status(r.text("hangup_cause")),
        "direction": direction,
        "duration": r.int("billsec").unwrap_or(0).to_string(),
        "network": "calliope",
    });
    if let Some(t) = r.int("calldate") {
        out["start_time"] = json!(rfc3339(t));
    }
    if let Some(t) = r.int("end_date") {
        out["end_time"] = json!(rfc3339(t));
    }
    out
}

/// `GET /v1/calls`: live calls first, then the latest finished ones.
pub(super) async fn list(State(state): State<AppState>, app: VoiceApp) -> Answer {
    let ws = app.workspace_id;
    let mut calls: Vec<Json> = state.calls.of(ws).iter().map(live_view).collect();
    let query = store::Query {
        limit: Some(MAX_LIST as u64),
        order: Some(store::Order { column: "id", descending: true }),
        ..store::Query::default()
    };
    let records = state.db.list(&CDRS, Scope::Workspace(ws), &query).await?;
    calls.extend(records.records.iter().map(record_view));
    calls.truncate(MAX_LIST);
    Ok(axum::Json(json!({
        "count": calls.len(),
        "page_size": MAX_LIST,
        "record_index": 0,
        "_links": {"self": {"href": "/v1/calls"}},
        "_embedded": {"calls": calls},
    })))
}

/// `GET /v1/calls/{uuid}`: a live leg, or the record of a finished one.
pub(super) async fn get(State(state): State<AppState>, app: VoiceApp, Path(uuid): Path<String>) -> Answer {
    let ws = app.workspace_id;
    if let Some(c) = state.calls.of(ws).iter().find(|c| c.uuid == uuid) {
        return Ok(axum::Json(live_view(c)));
    }
    let scope = Scope::Workspace(ws);
    let leg = match state.db.find(&CDRS, scope, &[Filter::eq("leg_ref", uuid.as_str())]).await? {
        Some(leg) => Some(leg),
        // A record from before legs had ids of their own.
        None => state.db.find(&CDRS, scope, &[Filter::eq("call_ref", uuid.as_str())]).await?,
    };
    leg.map(|r| axum::Json(record_view(&r))).ok_or_else(|| ApiError::not_found("call"))
}

/// The `to` endpoint of `POST /v1/calls`: an agent's extension (phone
/// `number`) or a SIP URI.
fn destination(body: &Json) -> Result<Destination, ApiError> {
    let first = match body.get("to") {
        Some(Json::Array(list)) if list.len() == 1 => &list[0],
        Some(Json::Array(_)) => return Err(ApiError::field("to", "must hold exactly one endpoint")),
        _ => return Err(ApiError::field("to", "is required: [{type, number | uri}]")),
    };
    match first.get("type").and_then(Json::as_str) {
        Some("phone") => {
            let n = first.get("number").and_then(Json::as_str).unwrap_or("").trim();
            if n.is_empty()
                || n.len() > 64
                || !n.chars().all(|c| c.is_ascii_alphanumeric() || "+*#".contains(c))
            {
                return Err(ApiError::field("to.number", "must be a number or extension"));
            }
            Ok(Destination::Agent { extension: n.to_owned() })
        }
        Some("sip") => {
            let uri = first.get("uri").and_then(Json::as_str).unwrap_or("").trim();
            if !uri.starts_with("sip:") || uri.len() > 256 {
                return Err(ApiError::field("to.uri", "must be a sip: URI"));
            }
            Ok(Destination::Uri { uri: uri.to_owned(), account: None })
        }
        _ => Err(ApiError::field("to.type", "must be phone or sip")),
    }
}

/// `POST /v1/calls`: places the call; once answered it runs its inline
/// NCCO, or the one its `answer_url` gives, against the callee (status
/// events to its `event_url`, else the application's); the reply says
/// `started`.
pub(super) async fn create(
    State(state): State<AppState>,
    app: VoiceApp,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let destination = destination(&body)?;
    let from = body
        .get("from")
        .and_then(|f| f.get("number"))
        .and_then(Json::as_str)
        .unwrap_or("calliope")
        .to_owned();
    let program = super::call_program::program_of(&body, &app.application)?;
    let random = body.get("random_from_number").and_then(Json::as_bool).unwrap_or(false);
    if random {
        return Err(ApiError::field("random_from_number", "is not supported: give from"));
    }
    let ring = body.get("ringing_timer").and_then(Json::as_u64).unwrap_or(60).clamp(1, 120);
    let sw =
        state.sip.get().cloned().ok_or_else(|| ApiError::exhausted("calls cannot be placed now", Some(5)))?;
    let order = Originate {
        workspace_id: app.workspace_id,
        caller_id: from,
        destination,
        ring_timeout: Duration::from_secs(ring),
        then: Vec::new(),
        program: Some(program),
    };
    match engine::calls::originate(&sw, order).await {
        Ok(handle) => Ok((
            StatusCode::CREATED,
            axum::Json(json!({
                "uuid": handle.uuid,
                "status": "started",
                "direction": "outbound",
                "conversation_uuid": conversation_uuid(&handle.uuid),
            })),
        )),
        Err(e) => Err(ApiError::placing(e, "to", "endpoint")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_read() {
        assert!(matches!(
            destination(&json!({"to": [{"type": "phone", "number": "2002"}]})),
            Ok(Destination::Agent { extension }) if extension == "2002"
        ));
        assert!(destination(&json!({"to": [{"type": "websocket"}]})).is_err());
        assert!(destination(&json!({"to": []})).is_err());
        assert!(destination(&json!({})).is_err());
    }
}
