//! Voicemail messages left in agents' mailboxes, in the caller's
//! workspace only:
//!
//! - `GET /api/voicemail`: the messages, oldest first (`extension` keeps
//!   one agent's), with the caller, time, length, status (`NEW`, `SAVED`)
//!   and the download path;
//! - `GET /api/voicemail/{id}/audio`: the message's WAV;
//! - `DELETE /api/voicemail/{id}`: removes the message and its file; the
//!   agent's phones are told (MWI).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use store::schema::{AGENTS, VOICEMAIL_MESSAGES};
use store::{Filter, Key, Query, Record, Scope};

use engine::voicemail::messages;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query as QueryParams};
use crate::routes::{Api, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/voicemail", "List the voicemail messages of the workspace's agents", list)
        .reply(Reply::Schema(crate::pbx::replies::rows_page))
        .get("/api/voicemail/{id}/audio", "Download a voicemail message (WAV)", download)
        .reply(Reply::File("audio/wav"))
        .delete("/api/voicemail/{id}", "Delete a voicemail message", remove)
        .reply(Reply::Schema(crate::pbx::replies::ok_text))
}

/// The filters of the list.
#[derive(Debug, Deserialize)]
struct ListParams {
    /// One agent's messages (its extension).
    extension: Option<String>,
}

/// `id` as a message id.
fn message_id(id: &str) -> Result<i64, ApiError> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::field("id", "must be a message id"))
}

/// Where message `id` downloads.
fn download_path(id: i64) -> String {
    format!("/api/voicemail/{id}/audio")
}

/// `GET /api/voicemail`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let scope = Scope::Workspace(ws);
    let agents = state.db.list(&AGENTS, scope, &Query::default()).await?.records;
    let extension_of = |id: i64| agents.iter().find(|a| a.id == id).map(|a| a.text("username").to_owned());
    let mut query = Query::default();
    if let Some(ext) = params.extension.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let Some(agent) = agents.iter().find(|a| a.text("username") == ext) else {
            return Err(ApiError::not_found("agent"));
        };
        query.filters.push(Filter::eq("agent_id", agent.id));
    }
    let rows = state.db.list(&VOICEMAIL_MESSAGES, scope, &query).await?.records;
    let data: Vec<Json> = rows
        .iter()
        .map(|m| {
            let agent_id = m.int("agent_id").unwrap_or(0);
            json!({
                "id": m.id,
                "agent_id": agent_id,
                "extension": extension_of(agent_id),
                "caller": m.text("caller"),
                "caller_name": m.text("caller_name"),
                "call_uuid": m.text("call_ref"),
                "created": plain_time(m.created_at),
                "duration_ms": m.int("duration_ms"),
                "size": m.int("size"),
                "status": if messages::is_new(m) { messages::NEW } else { messages::SAVED },
                "url": download_path(m.id),
            })
        })
        .collect();
    let count = data.len();
    Ok(axum::Json(json!({"page": 1, "pageCount": 1, "rowCount": count, "data": data})))
}

/// The message `id` of workspace `ws`.
async fn message(state: &AppState, ws: i64, id: &str) -> Result<Record, ApiError> {
    let id = message_id(id)?;
    Ok(state.db.get(&VOICEMAIL_MESSAGES, Scope::Workspace(ws), &Key::Id(id)).await?)
}

/// `GET /api/voicemail/{id}/audio`.
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let m = message(&state, ws, &id).await?;
    let path = messages::file_path(&state.settings.data_dir, ws, &m)
        .ok_or_else(|| ApiError::not_found("voicemail message"))?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| ApiError::not_found("voicemail message"))?;
    let disposition = format!("attachment; filename=\"voicemail-{}.wav\"", m.id);
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_owned()),
            (header::CONTENT_LENGTH, bytes.len().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `DELETE /api/voicemail/{id}`.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let m = message(&state, ws, &id).await?;
    let gone = messages::remove(&state.db, &state.settings.data_dir, ws, &Key::Id(m.id)).await?;
    let agent_id = gone.int("agent_id").unwrap_or(0);
    if let (Some(sw), Ok(agent)) =
        (state.sip.get().cloned(), state.db.get(&AGENTS, Scope::Workspace(ws), &Key::Id(agent_id)).await)
    {
        let extension = agent.text("username").to_owned();
        tokio::spawn(async move {
            engine::voicemail::mwi::mailbox_changed(&sw, ws, agent_id, &extension).await;
        });
    }
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": m.id.to_string()})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_checked() {
        assert_eq!(message_id("12").ok(), Some(12));
        for bad in ["", "0", "-3", "x", "1.5", "../1"] {
            assert!(message_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(download_path(7), "/api/voicemail/7/audio");
    }
}
