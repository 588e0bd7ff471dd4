//! The Vonage Voice API's call control, `/v1/calls`: a thin mapping onto
//! the call engine's commands (`engine::calls`), authenticated by an
//! application's JWT ([`super::jwt`]). Live calls come from the registry,
//! finished ones from the call records.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use engine::calls::{CallCommand, CommandError, Destination, Originate};
use serde_json::{json, Value as Json};
use store::schema::CDRS;
use store::{Filter, Record, Scope};

use super::jwt::VoiceApp;
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as Body, Path};
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
        "conversation_uuid": format!("CON-{}", c.call_uuid),
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

/// A call record as a Vonage call object.
fn record_view(r: &Record) -> Json {
    let uuid = r.text("call_ref");
    let direction = if r.text("direction") == "FROM_PSTN" { "inbound" } else { "outbound" };
    let mut out = json!({
        "_links": {"self": {"href": format!("/v1/calls/{uuid}")}},
        "uuid": uuid,
        "conversation_uuid": format!("CON-{uuid}"),
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
    state
        .db
        .find(&CDRS, Scope::Workspace(ws), &[Filter::eq("call_ref", uuid.as_str())])
        .await?
        .map(|r| axum::Json(record_view(&r)))
        .ok_or_else(|| ApiError::not_found("call"))
}

/// The API error for a command not carried out: a call that is not live
/// (finished, or never ours) is 404.
fn command_error(e: CommandError) -> ApiError {
    match e {
        CommandError::NotFound | CommandError::Gone => ApiError::not_found("live call"),
        CommandError::NotInPhase(_) => ApiError::new(ErrorKind::AlreadyExists, e.to_string()),
        CommandError::Busy => ApiError::exhausted(e.to_string(), Some(1)),
        CommandError::Unsupported => ApiError::new(ErrorKind::MethodNotAllowed, e.to_string()),
        CommandError::Media(_) => ApiError::invalid(e.to_string()),
    }
}

/// Sends `command` to live call `uuid` of the app's workspace.
async fn command(state: &AppState, app: &VoiceApp, uuid: &str, command: CallCommand) -> Result<(), ApiError> {
    state.calls.command(app.workspace_id, uuid, command).await.map_err(command_error)
}

/// 404 unless `uuid` is a live call of the app's workspace.
fn require_live(state: &AppState, app: &VoiceApp, uuid: &str) -> Result<(), ApiError> {
    match state.calls.handle(app.workspace_id, uuid) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("live call")),
    }
}

/// `PUT /v1/calls/{uuid}` with `{action, destination}`: 204 when done.
pub(super) async fn modify(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
    Body(body): Body<Json>,
) -> Result<StatusCode, ApiError> {
    let action = body.get("action").and_then(Json::as_str).ok_or_else(|| {
        ApiError::field("action", "is required: hangup, mute, unmute, earmuff, unearmuff or transfer")
    })?;
    let cmd = match action {
        "hangup" => CallCommand::Hangup,
        "mute" => CallCommand::Mute { on: true },
        "unmute" => CallCommand::Mute { on: false },
        "earmuff" | "unearmuff" => {
            require_live(&state, &app, &uuid)?;
            return Err(ApiError::field(
                "action",
                "earmuff is not supported yet: the call engine cannot deafen a single leg",
            ));
        }
        "transfer" => {
            require_live(&state, &app, &uuid)?;
            return Err(ApiError::field(
                "destination",
                "transfer to an NCCO or answer_url is not supported yet: the NCCO runner is not built",
            ));
        }
        other => {
            return Err(ApiError::field(
                "action",
                format!("`{other}` is not hangup, mute, unmute, earmuff, unearmuff or transfer"),
            ))
        }
    };
    command(&state, &app, &uuid, cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Is `digits` a DTMF string Vonage accepts (`0-9 * # p`, at most 64)?
fn valid_digits(digits: &str) -> bool {
    !digits.is_empty()
        && digits.len() <= 64
        && digits.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
}

/// `PUT /v1/calls/{uuid}/dtmf` with `{digits}`.
pub(super) async fn dtmf(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let digits = body.get("digits").and_then(Json::as_str).unwrap_or("");
    if !valid_digits(digits) {
        return Err(ApiError::field("digits", "must be 1 to 64 of 0-9, *, #, A-D"));
    }
    command(&state, &app, &uuid, CallCommand::Dtmf { digits: digits.to_owned() }).await?;
    Ok(axum::Json(json!({"message": "DTMF sent", "uuid": uuid})))
}

/// `PUT|DELETE /v1/calls/{uuid}/talk|stream`: not yet, said clearly (404
/// first when the call is not live).
pub(super) async fn media(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_live(&state, &app, &uuid)?;
    Err(ApiError::invalid(
        "talk and stream into a live call are not supported yet: the call engine cannot play PCM from the API",
    ))
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

/// `POST /v1/calls`: places the call; once answered it parks (the NCCO
/// runner is not built yet), and the reply says `started`.
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
    let has_program = body.get("ncco").is_some_and(Json::is_array)
        || body.get("answer_url").is_some_and(|u| u.is_array() || u.is_string());
    let random = body.get("random_from_number").and_then(Json::as_bool).unwrap_or(false);
    if !has_program {
        return Err(ApiError::field("ncco", "ncco or answer_url is required"));
    }
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
    };
    match engine::calls::originate(&sw, order).await {
        Ok(handle) => Ok((
            StatusCode::CREATED,
            axum::Json(json!({
                "uuid": handle.uuid,
                "status": "started",
                "direction": "outbound",
                "conversation_uuid": format!("CON-{}", handle.uuid),
            })),
        )),
        Err(e) => Err(ApiError::placing(e, "to", "endpoint")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_checked() {
        assert!(valid_digits("12#*"));
        assert!(!valid_digits(""));
        assert!(!valid_digits("12x"));
        assert!(!valid_digits(&"1".repeat(65)));
    }

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
