//! Conference rooms, as FreeSWITCH's `conference list / mute / deaf / kick
//! / record` do: a thin mapping onto the engine's [`engine::conference::Rooms`].
//!
//! - `GET /api/conferences`: the workspace's rooms and their members;
//! - `GET /api/conferences/{name}`: one room;
//! - `PUT /api/conferences/{name}/members/{id}` `{action}`: `mute`,
//!   `unmute`, `deaf`, `undeaf` or `kick`;
//! - `DELETE /api/conferences/{name}/members/{id}`: kick;
//! - `POST /api/conferences/{name}/recording` `{file_name}`: record the
//!   room to a WAV in the workspace's recordings; `DELETE` the same path
//!   stops it (answering once the file is complete).

use axum::extract::State;
use engine::conference::{ConferenceError, MemberChange, MemberInfo, RoomInfo};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as JsonBody, Path};
use crate::routes::{Api, Body, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/conferences", "List conference rooms and their members", list)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .get("/api/conferences/{name}", "One conference room and its members", show)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .put(
            "/api/conferences/{name}/members/{id}",
            "Mute, unmute, deafen, undeafen or kick a conference member",
            Body::Props(&[("action", "string")]),
            member,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .delete("/api/conferences/{name}/members/{id}", "Kick a conference member", kick)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .post(
            "/api/conferences/{name}/recording",
            "Start recording a conference room to a WAV",
            Body::Props(&[("file_name", "string")]),
            record,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .delete("/api/conferences/{name}/recording", "Stop recording a conference room", stop_record)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
}

fn member_view(m: &MemberInfo) -> Json {
    json!({
        "id": m.id,
        "uuid": m.call_id,
        "mute": m.muted,
        "deaf": m.deaf,
        "can_speak": m.can_speak,
        "can_hear": m.can_hear,
        "joined": plain_time(m.joined_at),
        "dropped_frames": m.dropped,
    })
}

fn room_view(r: &RoomInfo) -> Json {
    json!({
        "name": r.name,
        "created": plain_time(r.created_at),
        "started": r.started,
        "recording": r.recording.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy()),
        "member_count": r.members.len(),
        "members": r.members.iter().map(member_view).collect::<Vec<_>>(),
    })
}

fn ok(data: Json) -> axum::Json<Json> {
    axum::Json(json!({"code": 200, "message": "success", "data": data}))
}

fn error(e: ConferenceError) -> ApiError {
    match e {
        ConferenceError::NoRoom(_) | ConferenceError::Ended => ApiError::not_found("conference"),
        ConferenceError::NoMember(_) => ApiError::not_found("conference member"),
        ConferenceError::Recording(_) => ApiError::new(ErrorKind::AlreadyExists, e.to_string()),
        ConferenceError::RoomFull(_) | ConferenceError::TooManyRooms(_) => {
            ApiError::exhausted(e.to_string(), None)
        }
        ConferenceError::BadName(_) | ConferenceError::BadTone { .. } | ConferenceError::Media(_) => {
            ApiError::invalid(e.to_string())
        }
    }
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let rooms = state.rooms.list(ws).await;
    Ok(ok(Json::Array(rooms.iter().map(room_view).collect())))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let room = state.rooms.room(ws, &name).await.map_err(error)?;
    Ok(ok(room_view(&room)))
}

/// What `PUT /api/conferences/{name}/members/{id}` takes.
#[derive(Debug, Deserialize)]
struct MemberAction {
    action: String,
}

async fn member(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, id)): Path<(String, u64)>,
    JsonBody(body): JsonBody<MemberAction>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let change = match body.action.trim() {
        "mute" => MemberChange::Mute(true),
        "unmute" => MemberChange::Mute(false),
        "deaf" => MemberChange::Deaf(true),
        "undeaf" => MemberChange::Deaf(false),
        "kick" => MemberChange::Kick,
        _ => return Err(ApiError::field("action", "must be mute, unmute, deaf, undeaf or kick")),
    };
    state.rooms.change(ws, &name, id, change).await.map_err(error)?;
    Ok(ok(json!({"id": id, "action": body.action.trim()})))
}

async fn kick(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, id)): Path<(String, u64)>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    state.rooms.change(ws, &name, id, MemberChange::Kick).await.map_err(error)?;
    Ok(ok(json!({"id": id, "action": "kick"})))
}

/// What `POST /api/conferences/{name}/recording` takes.
#[derive(Debug, Deserialize)]
struct RecordBody {
    file_name: String,
}

async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let path = crate::pbx::channels::recording_path(&state, ws, &body.file_name)?;
    state.rooms.record(ws, &name, path.clone().into()).await.map_err(error)?;
    let file = crate::pbx::channels::file_name(&path).to_owned();
    Ok(ok(json!({"file": file})))
}

async fn stop_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let done = state.rooms.stop_record(ws, &name).await.map_err(error)?;
    if let Some(e) = done.error {
        return Err(ApiError::internal(e));
    }
    let file = done.path.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(ok(json!({"file": file, "duration_ms": done.duration_ms})))
}
