//! The Voice API's actions on a live call, each a call-engine command:
//! `PUT /v1/calls/{uuid}` (`hangup`, `mute`, `unmute`, `earmuff`,
//! `unearmuff`, `transfer` to a new NCCO), `PUT|DELETE .../talk` (text
//! to speech into the call), `PUT|DELETE .../stream` (audio by URL into
//! the call) and `PUT .../dtmf`. A call nobody knows is 404; a call that
//! has finished is 409, nothing changed.

use axum::extract::State;
use axum::http::StatusCode;
use engine::calls::{CallCommand, CommandError};
use serde_json::{json, Value as Json};

use super::jwt::VoiceApp;
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as Body, Path};
use crate::state::AppState;

type Answer = Result<axum::Json<Json>, ApiError>;

/// Longest text spoken into a call, in characters (as Vonage).
const MAX_TALK: usize = 1500;
/// Most times a talk or stream may repeat (0 is until stopped).
const MAX_LOOPS: u64 = 100;

/// Sends `command` to live call `uuid` of the app's workspace: 404 for a
/// call the workspace never had, 409 for one that has finished.
async fn command(state: &AppState, app: &VoiceApp, uuid: &str, command: CallCommand) -> Result<(), ApiError> {
    match state.calls.command(app.workspace_id, uuid, command).await {
        Ok(()) => Ok(()),
        Err(CommandError::NotFound) => {
            Err(crate::service::control::not_live(state, app.workspace_id, uuid, "call").await)
        }
        Err(CommandError::Gone | CommandError::NotInPhase(engine::calls::Phase::Ending)) => {
            Err(crate::service::control::ended())
        }
        Err(e @ CommandError::NotInPhase(_)) => Err(ApiError::new(ErrorKind::AlreadyExists, e.to_string())),
        Err(e @ CommandError::Busy) => Err(ApiError::exhausted(e.to_string(), Some(1))),
        Err(CommandError::Unsupported) => {
            Err(ApiError::invalid("the call cannot do that now (a transfer needs a call that runs an NCCO)"))
        }
        Err(e @ CommandError::Media(_)) => Err(ApiError::invalid(e.to_string())),
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
        "earmuff" => CallCommand::Deaf { on: true },
        "unearmuff" => CallCommand::Deaf { on: false },
        "transfer" => CallCommand::Program(super::call_program::transfer_of(&body)?),
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

/// Is `digits` a DTMF string Vonage accepts (`0-9 * # A-D`, at most 64)?
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

/// `loop` of a talk or stream body: 1 by default, 0 until stopped.
fn loops(body: &Json) -> Result<u32, ApiError> {
    match body.get("loop") {
        None | Some(Json::Null) => Ok(1),
        Some(n) => n
            .as_u64()
            .filter(|n| *n <= MAX_LOOPS)
            .map(|n| n as u32)
            .ok_or_else(|| ApiError::field("loop", "must be 0 (until stopped) to 100")),
    }
}

/// An optional short string field.
fn text_field(body: &Json, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.len() <= 64 => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err(ApiError::field(field, "must be a short string")),
    }
}

/// `PUT /v1/calls/{uuid}/talk` with `{text, loop, voice_name, language}`.
pub(super) async fn talk(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let text = body.get("text").and_then(Json::as_str).map(str::trim).unwrap_or("");
    if text.is_empty() || text.chars().count() > MAX_TALK {
        return Err(ApiError::field("text", format!("is required: 1 to {MAX_TALK} characters")));
    }
    let say = CallCommand::Say {
        text: text.to_owned(),
        voice: text_field(&body, "voice_name")?,
        language: text_field(&body, "language")?,
        loops: loops(&body)?,
    };
    command(&state, &app, &uuid, say).await?;
    Ok(axum::Json(json!({"message": "Talk started", "uuid": uuid})))
}

/// `PUT /v1/calls/{uuid}/stream` with `{stream_url: [url], loop}`.
pub(super) async fn stream(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let url = match body.get("stream_url") {
        Some(Json::Array(list)) if list.len() == 1 => list[0].as_str().unwrap_or("").trim(),
        Some(Json::String(u)) => u.trim(),
        _ => return Err(ApiError::field("stream_url", "is required: an array of one URL")),
    };
    if url.len() > 2048 || engine::webhooks::shapes::parse_url(url).is_err() {
        return Err(ApiError::field("stream_url", "must be an http(s) URL"));
    }
    let play = CallCommand::PlayUrl { url: url.to_owned(), loops: loops(&body)? };
    command(&state, &app, &uuid, play).await?;
    Ok(axum::Json(json!({"message": "Stream started", "uuid": uuid})))
}

/// `DELETE /v1/calls/{uuid}/talk`: stops what the API plays.
pub(super) async fn stop_talk(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
) -> Answer {
    command(&state, &app, &uuid, CallCommand::StopPlay).await?;
    Ok(axum::Json(json!({"message": "Talk stopped", "uuid": uuid})))
}

/// `DELETE /v1/calls/{uuid}/stream`: stops what the API plays.
pub(super) async fn stop_stream(
    State(state): State<AppState>,
    app: VoiceApp,
    Path(uuid): Path<String>,
) -> Answer {
    command(&state, &app, &uuid, CallCommand::StopPlay).await?;
    Ok(axum::Json(json!({"message": "Stream stopped", "uuid": uuid})))
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
    fn loops_default_to_one_and_zero_is_until_stopped() {
        assert_eq!(loops(&json!({})).ok(), Some(1));
        assert_eq!(loops(&json!({"loop": 0})).ok(), Some(0));
        assert!(loops(&json!({"loop": 101})).is_err());
        assert!(loops(&json!({"loop": "x"})).is_err());
    }
}
