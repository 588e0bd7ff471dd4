//! The PBX dialect's settings: each workspace's post-event URL (the
//! seed's `post-event-url` of `ai.conf`), where its calls' channel states
//! (`ai::channel-state` JSON: ringing, early, answered, hangup, for each
//! leg) are pushed, signed with the workspace's post-event secret.
//!
//! - `GET /api/settings`: the URL, whether a secret is set (never the
//!   secret itself) and the recent delivery failures;
//! - `PUT /api/settings` `{post_event_url, post_event_secret}`: sets both
//!   (admins); an empty or null URL stops the pushes.
//!
//! The setting is kept in the store (the secret sealed) and loaded at
//! start by [`load`]; a stored setting wins over the configuration's
//! `post_event_url` for the default workspace.

use axum::extract::State;
use engine::webhooks::channel_state::{PostEvents, PostTarget};
use engine::webhooks::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::Json as JsonBody;
use crate::routes::{Api, Body, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// Where a workspace's setting is kept among the server settings.
const KEY_PREFIX: &str = "post_event.";
/// The shortest secret accepted.
const MIN_SECRET: usize = 16;
/// The longest secret accepted.
const MAX_SECRET: usize = 256;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/settings", "The workspace's post-event URL and its delivery failures", show)
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
        .put(
            "/api/settings",
            "Set the workspace's post-event URL and secret (channel-state pushes)",
            Body::Props(&[("post_event_url", "string"), ("post_event_secret", "string")]),
            change,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_object))
}

/// How a setting is stored.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    url: String,
    /// The secret, sealed with the server's secrets key.
    secret: String,
}

/// What `PUT /api/settings` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(default)]
    post_event_url: Option<String>,
    #[serde(default)]
    post_event_secret: Option<String>,
}

fn key(workspace_id: i64) -> String {
    format!("{KEY_PREFIX}{workspace_id}")
}

/// Loads every workspace's stored post-event URL into `state.post_events`;
/// returns how many there are. A setting that cannot be read is skipped
/// with a warning.
pub async fn load(state: &AppState) -> Result<usize, ApiError> {
    let rows = state.db.settings_with_prefix(KEY_PREFIX).await.map_err(ApiError::internal)?;
    let mut n = 0;
    for (k, v) in rows {
        let Some(ws) = k.strip_prefix(KEY_PREFIX).and_then(|w| w.parse::<i64>().ok()) else { continue };
        match target_of(state, &v) {
            Some(t) => {
                state.post_events.set(ws, Some(t));
                n += 1;
            }
            None => tracing::warn!(workspace = ws, "a stored post-event URL cannot be read: skipped"),
        }
    }
    Ok(n)
}

fn target_of(state: &AppState, stored: &str) -> Option<PostTarget> {
    let s: Stored = serde_json::from_str(stored).ok()?;
    let secret = state.sealer.open(&s.secret).ok()?;
    Some(PostTarget { url: url::Url::parse(&s.url).ok()?, secret: Secret::from_text(secret) })
}

fn view(events: &PostEvents, workspace_id: i64) -> Json {
    let target = events.get(workspace_id);
    let failures: Vec<Json> = events
        .failures(workspace_id)
        .into_iter()
        .map(|f| {
            json!({
                "at": plain_time(f.at),
                "call_uuid": f.call,
                "leg_uuid": f.leg,
                "answer_state": f.state,
                "url": f.url,
                "cause": f.cause,
                "detail": f.detail,
            })
        })
        .collect();
    json!({
        "post_event_url": target.as_ref().map(|t| t.url.to_string()),
        "post_event_secret_set": target.is_some(),
        "post_event_failures": failures,
    })
}

async fn show(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": view(&state.post_events, ws)})))
}

async fn change(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Change>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Admin)?.id;
    let url = body.post_event_url.as_deref().map(str::trim).unwrap_or("");
    if url.is_empty() {
        state.db.delete_setting(&key(ws)).await.map_err(ApiError::internal)?;
        state.post_events.set(ws, None);
    } else {
        let url = crate::fonoster::resources::checks::http_url(url)
            .map_err(|m| ApiError::field("post_event_url", m))?;
        let secret = body.post_event_secret.unwrap_or_default();
        if !(MIN_SECRET..=MAX_SECRET).contains(&secret.len()) {
            return Err(ApiError::field(
                "post_event_secret",
                format!("is required with post_event_url: {MIN_SECRET} to {MAX_SECRET} characters that sign the pushes"),
            ));
        }
        let parsed = url::Url::parse(&url).map_err(|_| ApiError::field("post_event_url", "is not a URL"))?;
        let sealed = state.sealer.seal(&secret).map_err(ApiError::internal)?;
        let stored = serde_json::to_string(&Stored { url: url.clone(), secret: sealed })
            .map_err(ApiError::internal)?;
        state.db.put_setting(&key(ws), &stored).await.map_err(ApiError::internal)?;
        state.post_events.set(ws, Some(PostTarget { url: parsed, secret: Secret::from_text(secret) }));
    }
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": view(&state.post_events, ws)})))
}
