//! `POST /v1beta2/calls {from, to, appRef, timeout}`: places a call
//! through the call engine and answers `{ref, status: "TRYING"}` at once;
//! the call rings on, and once answered runs the application `appRef`
//! against the callee (parked without one). `to` is a SIP URI (`sip:` or
//! `sips:`), an agent's extension, or else a number routed as the
//! workspace routes a call from `from`.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use engine::calls::{AppProgram, Destination, Originate};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::Json as JsonBody;
use crate::state::AppState;

/// The body of `POST /v1beta2/calls`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NewCall {
    /// The caller number shown (and the number the route is chosen for).
    #[serde(default)]
    from: Option<String>,
    /// Where the call goes.
    to: String,
    /// The application to run once answered.
    #[serde(default)]
    app_ref: Option<String>,
    /// Seconds it may ring (default 60, at most 600).
    #[serde(default)]
    timeout: Option<u64>,
}

/// Numbers, extensions and caller ids: printable, short, no spaces.
fn dialable(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
}

/// Where `to` goes: a URI as given, an agent of the workspace, else the
/// router.
async fn destination(sw: &engine::signalling::Switch, ws: i64, to: &str) -> Result<Destination, ApiError> {
    if to.starts_with("sip:") || to.starts_with("sips:") {
        if to.len() > 256 {
            return Err(ApiError::field("to", "is too long (256 characters at most)"));
        }
        return Ok(Destination::Uri { uri: to.to_owned(), account: None });
    }
    if !dialable(to) {
        return Err(ApiError::field(
            "to",
            "must be a SIP URI, an extension or a number (letters, digits, + * # . _ -)",
        ));
    }
    match sw.accounts.by_extension(ws, to).await {
        Ok(Some(_)) => Ok(Destination::Agent { extension: to.to_owned() }),
        Ok(None) => Ok(Destination::Routed { number: to.to_owned() }),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The application hook: the program an answered call with `app_ref`
/// runs (its webhooks), when `app_ref` names one of the workspace's
/// applications; none without an `app_ref` (the call parks).
async fn application(
    state: &AppState,
    ws: i64,
    app_ref: Option<&str>,
) -> Result<Option<AppProgram>, ApiError> {
    let Some(r) = app_ref.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if r.len() > 128 {
        return Err(ApiError::field("appRef", "is too long (128 characters at most)"));
    }
    let key = store::Key::Ref(r.to_owned());
    match state.db.get(&store::schema::APPLICATIONS, store::Scope::Workspace(ws), &key).await {
        Ok(_) => Ok(Some(AppProgram {
            application: r.to_owned(),
            script: None,
            answer_url: None,
            event_url: None,
            vonage: false,
        })),
        Err(store::StoreError::NotFound(_)) => {
            Err(ApiError::field("appRef", "names no application of this workspace"))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewCall>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let to = body.to.trim();
    if to.is_empty() {
        return Err(ApiError::field("to", "is required"));
    }
    let from = body.from.as_deref().map(str::trim).filter(|f| !f.is_empty()).unwrap_or("calliope");
    if !dialable(from) {
        return Err(ApiError::field("from", "must be a number or extension (letters, digits, + * # . _ -)"));
    }
    let program = application(&state, ws, body.app_ref.as_deref()).await?;
    let sw =
        state.sip.get().cloned().ok_or_else(|| ApiError::exhausted("calls cannot be placed now", Some(5)))?;
    let order = Originate {
        workspace_id: ws,
        caller_id: from.to_owned(),
        destination: destination(&sw, ws, to).await?,
        ring_timeout: Duration::from_secs(body.timeout.unwrap_or(60).clamp(1, 600)),
        then: Vec::new(),
        program,
    };
    match engine::calls::originate(&sw, order).await {
        Ok(handle) => Ok((StatusCode::OK, axum::Json(json!({"ref": handle.uuid, "status": "TRYING"})))),
        Err(e) => Err(ApiError::placing(e, "to", "agent")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_extensions_are_checked() {
        assert!(dialable("+15550100"));
        assert!(dialable("1001"));
        assert!(!dialable(""));
        assert!(!dialable("10 01"));
        assert!(!dialable(&"1".repeat(65)));
    }
}
