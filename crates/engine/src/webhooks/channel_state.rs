//! The PBX dialect's channel-state push: each call's `ringing`, `early`,
//! `answered` and `hangup` as the seed's `ai::channel-state` JSON, POSTed
//! (signed, with the client's timeout and bounded retries) to a post-event
//! URL, in order per call.
//!
//! Each workspace has its own URL and secret ([`PostEvents`], set through
//! the API or, for the default workspace, the configuration).
//!
//! [`Tracker`] is the pure part: it follows the event bus and turns call
//! events into channel-state bodies. [`start`] runs it against the bus and
//! sends what it makes, one request at a time per workspace so that the
//! order holds; a push that fails for good is recorded and published.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use url::Url;

use super::{Body, Client, HttpMethod, Outgoing, Secret};
use crate::events::{Bus, Event};

/// Most calls followed at once; beyond them a new call is not pushed.
const MAX_CALLS: usize = 10_000;

/// What is known of a call between its events.
#[derive(Debug, Clone, Default)]
struct Facts {
    from: String,
    to: String,
    direction: String,
    codec: String,
}

/// Turns call events into channel-state bodies.
#[derive(Debug, Default)]
pub struct Tracker {
    calls: HashMap<String, Facts>,
}

impl Tracker {
    /// The channel-state body for `event`, if it is one the push carries.
    pub fn body(&mut self, event: &Event) -> Option<Json> {
        let call = event.data.get("ref")?.as_str()?.to_owned();
        let text = |k: &str| event.data.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        let (state, cause) = match event.name {
            "call.created" => {
                if self.calls.len() < MAX_CALLS {
                    let direction = match text("direction").as_str() {
                        "" => "inbound".to_owned(),
                        d => d.to_owned(),
                    };
                    let facts = Facts { from: text("from"), to: text("to"), direction, codec: String::new() };
                    self.calls.insert(call, facts);
                }
                return None;
            }
            "call.ringing" => ("ringing", None),
            "call.early" => ("early", None),
            "call.answered" => {
                if let Some(f) = self.calls.get_mut(&call) {
                    f.codec = text("codec");
                }
                ("answered", None)
            }
            "call.ended" => ("hangup", Some(text("cause"))),
            _ => return None,
        };
        let facts =
            if state == "hangup" { self.calls.remove(&call)? } else { self.calls.get(&call)?.clone() };
        let codec = if facts.codec.is_empty() { "PCMU".to_owned() } else { facts.codec.to_ascii_uppercase() };
        let mut body = json!({
            "Event-Subclass": "ai::channel-state",
            "Event-Name": "CUSTOM",
            "FreeSWITCH-Hostname": "calliope",
            "FreeSWITCH-Switchname": "calliope",
            "Event-Date-Timestamp": (event.at.max(0) as u64 * 1000).to_string(),
            "Unique-ID": call,
            "Channel-Call-UUID": call,
            "Call-Direction": facts.direction,
            "Presence-Call-Direction": facts.direction,
            "Caller-Direction": facts.direction,
            "Caller-Logical-Direction": facts.direction,
            "Caller-Username": facts.from,
            "Caller-Caller-ID-Number": facts.from,
            "Caller-Destination-Number": facts.to,
            "Caller-Dialplan": "XML",
            "Answer-State": state,
            "Channel-Read-Codec-Name": codec,
            "Channel-Read-Codec-Rate": "8000",
            "Channel-Read-Codec-Bit-Rate": "64000",
            "Channel-Write-Codec-Name": codec,
            "Channel-Write-Codec-Rate": "8000",
            "Channel-Write-Codec-Bit-Rate": "64000",
        });
        if let Some(cause) = cause {
            body["Hangup-Cause"] = json!(if cause.is_empty() { "NORMAL_CLEARING".to_owned() } else { cause });
        }
        Some(body)
    }
}

/// Where one workspace's channel states go.
#[derive(Clone)]
pub struct PostTarget {
    /// The post-event URL.
    pub url: Url,
    /// What signs each push.
    pub secret: Secret,
}

impl std::fmt::Debug for PostTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostTarget").field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

/// A push that failed for good (after the client's retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When it was given up (ms since the epoch).
    pub at: i64,
    /// The call.
    pub call: String,
    /// The state it carried (`ringing`, `hangup`...).
    pub state: String,
    /// The URL.
    pub url: String,
    /// The stable cause (`WEBHOOK_NETWORK_ERROR`...).
    pub cause: String,
    /// What happened.
    pub detail: String,
}

/// Most failures remembered per workspace (the oldest go first).
const MAX_FAILURES: usize = 50;
/// Pushes waiting per workspace; beyond them a push is dropped and
/// recorded as failed.
const QUEUE: usize = 1024;

#[derive(Debug, Default)]
struct Shared {
    targets: HashMap<i64, PostTarget>,
    failures: HashMap<i64, VecDeque<Failure>>,
}

/// Each workspace's post-event URL and its recent delivery failures;
/// cheap to clone, shared by the API (which sets them) and the pusher.
#[derive(Debug, Clone, Default)]
pub struct PostEvents {
    shared: Arc<Mutex<Shared>>,
}

impl PostEvents {
    /// Sets (or, with `None`, removes) where `workspace_id`'s channel
    /// states go.
    pub fn set(&self, workspace_id: i64, target: Option<PostTarget>) {
        if let Ok(mut s) = self.shared.lock() {
            match target {
                Some(t) => s.targets.insert(workspace_id, t),
                None => s.targets.remove(&workspace_id),
            };
        }
    }

    /// Where `workspace_id`'s channel states go, if anywhere.
    pub fn get(&self, workspace_id: i64) -> Option<PostTarget> {
        self.shared.lock().ok()?.targets.get(&workspace_id).cloned()
    }

    /// The workspace's recent delivery failures, oldest first.
    pub fn failures(&self, workspace_id: i64) -> Vec<Failure> {
        self.shared
            .lock()
            .map(|s| s.failures.get(&workspace_id).map(|f| f.iter().cloned().collect()).unwrap_or_default())
            .unwrap_or_default()
    }

    fn record(&self, workspace_id: i64, failure: Failure) {
        if let Ok(mut s) = self.shared.lock() {
            let list = s.failures.entry(workspace_id).or_default();
            if list.len() >= MAX_FAILURES {
                list.pop_front();
            }
            list.push_back(failure);
        }
    }
}

/// One push to send.
struct Job {
    target: PostTarget,
    body: Json,
}

/// Follows `bus` and POSTs each workspace's channel states to the URL
/// `targets` holds for it (read when each event arrives), signed with its
/// secret, one after the other per workspace so that the order holds. A
/// push that still fails after the client's retries is recorded in
/// `targets` and published as a `call.webhook.failed` event.
pub fn start(bus: &Bus, client: Arc<Client>, targets: PostEvents) {
    let mut rx = bus.subscribe();
    let bus = bus.clone();
    tokio::spawn(async move {
        let mut tracker = Tracker::default();
        let mut workers: HashMap<i64, mpsc::Sender<Job>> = HashMap::new();
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the channel-state push fell behind: events were skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let ws = event.workspace_id;
            let Some(target) = targets.get(ws) else { continue };
            let Some(body) = tracker.body(&event) else { continue };
            workers.retain(|_, tx| !tx.is_closed());
            let tx =
                workers.entry(ws).or_insert_with(|| worker(ws, client.clone(), targets.clone(), bus.clone()));
            if let Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) =
                tx.try_send(Job { target, body })
            {
                let failure =
                    failure_of(&job, "WEBHOOK_BUSY", "too many pushes waiting: this one was dropped");
                report(&targets, &bus, ws, failure);
            }
        }
    });
}

/// Pushes `ws`'s channel states one at a time.
fn worker(ws: i64, client: Arc<Client>, targets: PostEvents, bus: Bus) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let req = Outgoing {
                method: HttpMethod::Post,
                url: job.target.url.clone(),
                body: Body::Json(job.body.to_string().into_bytes()),
                timeout: None,
            };
            if let Err(e) = client.event(&req, &job.target.secret).await {
                tracing::warn!(url = %job.target.url, error = %e, "a channel-state push failed");
                let failure = failure_of(&job, e.cause(), &e.to_string());
                report(&targets, &bus, ws, failure);
            }
        }
    });
    tx
}

fn failure_of(job: &Job, cause: &str, detail: &str) -> Failure {
    let text = |k: &str| job.body.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    Failure {
        at: now_ms(),
        call: text("Unique-ID"),
        state: text("Answer-State"),
        url: job.target.url.to_string(),
        cause: cause.to_owned(),
        detail: detail.to_owned(),
    }
}

/// Records `failure` and publishes it on the bus.
fn report(targets: &PostEvents, bus: &Bus, ws: i64, failure: Failure) {
    let data = json!({
        "ref": failure.call,
        "webhook": "post_event",
        "url": failure.url,
        "state": failure.state,
        "cause": failure.cause,
        "detail": failure.detail,
    });
    bus.publish(Event { name: "call.webhook.failed", workspace_id: ws, at: failure.at, data });
    targets.record(ws, failure);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ev(name: &'static str, data: Json) -> Event {
        Event { name, workspace_id: 1, at: 5, data }
    }

    #[test]
    fn a_call_gives_ringing_answered_hangup_with_its_facts() {
        let mut t = Tracker::default();
        let created = ev("call.created", json!({"ref": "c1", "from": "2001", "to": "2002"}));
        assert_eq!(t.body(&created), None);
        let ringing = t.body(&ev("call.ringing", json!({"ref": "c1"}))).unwrap();
        assert_eq!(ringing["Answer-State"], "ringing");
        assert_eq!(ringing["Unique-ID"], "c1");
        assert_eq!(ringing["Caller-Username"], "2001");
        assert_eq!(ringing["Call-Direction"], "inbound");
        let answered = t.body(&ev("call.answered", json!({"ref": "c1", "codec": "pcma"}))).unwrap();
        assert_eq!(answered["Channel-Read-Codec-Name"], "PCMA");
        assert_eq!(t.body(&ev("call.dtmf", json!({"ref": "c1", "digit": "1"}))), None);
        let hangup = t.body(&ev("call.ended", json!({"ref": "c1", "cause": "USER_BUSY"}))).unwrap();
        assert_eq!(hangup["Answer-State"], "hangup");
        assert_eq!(hangup["Hangup-Cause"], "USER_BUSY");
        // The call is forgotten once it ended; unknown calls push nothing.
        assert_eq!(t.body(&ev("call.ringing", json!({"ref": "c1"}))), None);
        assert_eq!(t.body(&ev("call.ringing", json!({}))), None);
    }
}
