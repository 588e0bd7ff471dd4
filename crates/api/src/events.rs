//! `GET /events`: a WebSocket of the caller's workspace's events. The
//! client sends `{"type":"subscribe","events":[...]}` (names, or `*` for
//! all) and receives each matching event as
//! `{"type": name, "at": RFC 3339, "data": {...}}`. Browsers cannot set
//! headers on a WebSocket, so the token may come as `?token=` (and the
//! workspace as `?accessKeyId=`).

use std::collections::{BTreeMap, HashSet};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::view::rfc3339;

#[derive(Deserialize)]
struct Subscribe {
    r#type: String,
    #[serde(default)]
    events: Vec<String>,
}

/// Moves `?token=` and `?accessKeyId=` into the headers the `Caller`
/// extractor reads, when those headers are absent.
pub async fn query_credentials(mut req: Request, next: Next) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    for (name, value) in pairs {
        let (header_name, value) = match name.as_str() {
            "token" => (header::AUTHORIZATION, format!("Bearer {value}")),
            "accessKeyId" => (HeaderName::from_static("accesskeyid"), value),
            _ => continue,
        };
        if !req.headers().contains_key(&header_name) && !req.headers().contains_key("x-auth-token") {
            if let Ok(v) = HeaderValue::from_str(&value) {
                req.headers_mut().insert(header_name, v);
            }
        }
    }
    next.run(req).await
}

/// Most event sockets open at once, in all and per workspace.
const MAX_SOCKETS: usize = 1024;
const MAX_SOCKETS_PER_WORKSPACE: usize = 64;
/// Most event names one socket may subscribe to, and their longest name.
const MAX_NAMES: usize = 64;
const MAX_NAME_LEN: usize = 64;

/// Open event sockets per workspace.
static OPEN: std::sync::Mutex<BTreeMap<i64, usize>> = std::sync::Mutex::new(BTreeMap::new());

/// A socket's place among the open ones, given back when dropped.
struct Slot(i64);

impl Slot {
    fn take(workspace: i64) -> Option<Slot> {
        let mut open = OPEN.lock().ok()?;
        let total: usize = open.values().sum();
        let mine = open.entry(workspace).or_default();
        if total >= MAX_SOCKETS || *mine >= MAX_SOCKETS_PER_WORKSPACE {
            return None;
        }
        *mine += 1;
        Some(Slot(workspace))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN.lock() {
            if let Some(n) = open.get_mut(&self.0) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.0);
                }
            }
        }
    }
}

/// Upgrades to the event stream of the caller's workspace (429 when too
/// many are open).
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let workspace = caller.require(Role::Member)?.id;
    let slot =
        Slot::take(workspace).ok_or_else(|| ApiError::exhausted("too many event sockets open", Some(5)))?;
    Ok(upgrade.on_upgrade(move |socket| serve(state, workspace, socket, slot)))
}

async fn serve(state: AppState, workspace: i64, mut socket: WebSocket, _slot: Slot) {
    let mut events = state.bus.subscribe();
    let mut wanted: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<Subscribe>(&text) {
                    Ok(s) if s.r#type == "subscribe" => {
                        let fits = s.events.iter().all(|e| e.len() <= MAX_NAME_LEN)
                            && wanted.len() + s.events.len() <= MAX_NAMES;
                        if !fits {
                            let err = json!({"type": "error", "message": format!("at most {MAX_NAMES} event names of {MAX_NAME_LEN} characters")});
                            if socket.send(Message::Text(err.to_string().into())).await.is_err() { return }
                            continue;
                        }
                        wanted.extend(s.events);
                        let ack = json!({"type": "subscribed", "events": wanted.iter().collect::<Vec<_>>()});
                        if socket.send(Message::Text(ack.to_string().into())).await.is_err() { return }
                    }
                    Ok(s) if s.r#type == "unsubscribe" => {
                        for e in s.events { wanted.remove(&e); }
                    }
                    _ => {
                        let err = json!({"type": "error", "message": "expected {\"type\":\"subscribe\",\"events\":[...]}"});
                        if socket.send(Message::Text(err.to_string().into())).await.is_err() { return }
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(e) if e.workspace_id == workspace && (wanted.contains(e.name) || wanted.contains("*")) => {
                    let out = json!({"type": e.name, "at": rfc3339(e.at), "data": e.data});
                    if socket.send(Message::Text(out.to_string().into())).await.is_err() { return }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}
