//! `GET /events`: a WebSocket of the caller's workspace's events. The
//! client sends `{"type":"subscribe","events":[...]}` (names, or `*` for
//! all) and receives each matching event as
//! `{"type": name, "at": RFC 3339, "data": {...}}`. Browsers cannot set
//! headers on a WebSocket, so the token may come as `?token=` (and the
//! workspace as `?accessKeyId=`).
//!
//! A burst is buffered per socket (up to 65,536 events) and written in
//! batches; a client too slow even for that loses the newest events and
//! is told how many with `{"type": "events.lost", "data": {"count": n}}`
//! before the next event it gets (also counted in
//! `calliope_events_lost_total{subscriber="websocket"}`). A socket that
//! fell behind the bus itself (65,536 events of every workspace) gets
//! `"bus_overrun": true` in its notice: how many of the skipped events
//! were its own is not known, and other workspaces' counts are not shown.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use engine::events::Event;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

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

/// Events waiting for one socket, at most: a burst fits; beyond it the
/// newest are lost and counted.
const BACKLOG: usize = 65_536;
/// Most messages written to the socket before one flush.
const BATCH: usize = 512;
/// How long a closing socket may take to write what was queued.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// What waits for the socket's writer.
enum Out {
    /// An event that matched the subscription.
    Event(Arc<Event>),
    /// A reply or a notice, written as it is.
    Text(String),
}

impl Out {
    fn into_message(self) -> Message {
        match self {
            Out::Event(e) => {
                Message::Text(json!({"type": e.name, "at": rfc3339(e.at), "data": e.data}).to_string().into())
            }
            Out::Text(t) => Message::Text(t.into()),
        }
    }
}

/// What a socket lost since its last notice.
#[derive(Debug, Default, Clone, Copy)]
struct Lost {
    /// Its events that did not fit its queue.
    count: u64,
    /// Whether it fell behind the bus itself: the bus moved on past events
    /// it had not looked at (of any workspace: how many were its own is
    /// not known, so none are counted and the number is not shown).
    overrun: bool,
}

impl Lost {
    fn any(self) -> bool {
        self.count > 0 || self.overrun
    }

    /// The `events.lost` notice.
    fn notice(self) -> Out {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut data = json!({"count": self.count});
        if self.overrun {
            data["bus_overrun"] = json!(true);
        }
        Out::Text(json!({"type": "events.lost", "at": rfc3339(now), "data": data}).to_string())
    }
}

/// Writes what comes on `rx` to the socket, as many messages as are
/// waiting (up to [`BATCH`]) before each flush; ends when the socket fails
/// or the reader goes.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<Out>) {
    while let Some(first) = rx.recv().await {
        if sink.feed(first.into_message()).await.is_err() {
            return;
        }
        let mut written = 1;
        while written < BATCH {
            let Ok(next) = rx.try_recv() else { break };
            if sink.feed(next.into_message()).await.is_err() {
                return;
            }
            written += 1;
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}

/// Counts one more event the socket did not get.
fn count_lost(lost: &mut Lost) {
    lost.count += 1;
    engine::metrics::events_lost("websocket", 1);
}

/// Follows the bus and the client's messages. Events of the workspace that
/// the client subscribed to go to the writer's queue; a slow client's
/// queue holds up to [`BACKLOG`] events, and what it cannot take (or what
/// the bus dropped for this socket) is counted and announced with an
/// `events.lost` notice as soon as there is room.
async fn serve(state: AppState, workspace: i64, socket: WebSocket, _slot: Slot) {
    let mut events = state.bus.subscribe();
    let (sink, mut incoming) = socket.split();
    let (tx, rx) = mpsc::channel::<Out>(BACKLOG);
    let writer = tokio::spawn(write(sink, rx));
    let mut wanted: HashSet<String> = HashSet::new();
    let mut lost = Lost::default();
    loop {
        tokio::select! {
            msg = incoming.next() => {
                let reply = match msg {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<Subscribe>(&text) {
                        Ok(s) if s.r#type == "subscribe" => {
                            let fits = s.events.iter().all(|e| e.len() <= MAX_NAME_LEN)
                                && wanted.len() + s.events.len() <= MAX_NAMES;
                            if fits {
                                wanted.extend(s.events);
                                json!({"type": "subscribed", "events": wanted.iter().collect::<Vec<_>>()})
                            } else {
                                json!({"type": "error", "message": format!("at most {MAX_NAMES} event names of {MAX_NAME_LEN} characters")})
                            }
                        }
                        Ok(s) if s.r#type == "unsubscribe" => {
                            for e in s.events { wanted.remove(&e); }
                            continue;
                        }
                        _ => json!({"type": "error", "message": "expected {\"type\":\"subscribe\",\"events\":[...]}"}),
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                // A reply waits for room: the client asked for it.
                if tx.send(Out::Text(reply.to_string())).await.is_err() { break }
            }
            event = events.recv() => match event {
                Ok(e) if e.workspace_id == workspace && (wanted.contains(e.name) || wanted.contains("*")) => {
                    if lost.any() {
                        match tx.try_send(lost.notice()) {
                            Ok(()) => lost = Lost::default(),
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                count_lost(&mut lost);
                                continue;
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => break,
                        }
                    }
                    match tx.try_send(Out::Event(e)) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => count_lost(&mut lost),
                        Err(mpsc::error::TrySendError::Closed(_)) => break,
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(workspace, missed = n, "an event socket fell behind the bus");
                    engine::metrics::events_lost("websocket_bus", n);
                    lost.overrun = true;
                }
                Err(RecvError::Closed) => break,
            },
            // Room again after losses: say how many, before anything else.
            permit = tx.reserve(), if lost.any() => match permit {
                Ok(permit) => {
                    permit.send(lost.notice());
                    lost = Lost::default();
                }
                Err(_) => break,
            },
            _ = tx.closed() => break,
        }
    }
    // What is queued still goes out, unless the client takes too long.
    drop(tx);
    let abort = writer.abort_handle();
    if tokio::time::timeout(DRAIN, writer).await.is_err() {
        abort.abort();
    }
}
