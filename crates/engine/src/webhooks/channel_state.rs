//! The PBX dialect's channel-state push: each leg's `ringing`, `early`,
//! `answered` and `hangup` as the seed's `ai::channel-state` JSON, POSTed
//! (signed, with the client's timeout and bounded retries) to a post-event
//! URL, in order per call.
//!
//! Each workspace has its own URL and secret ([`PostEvents`], set through
//! the API or, for the default workspace, the configuration).
//!
//! [`Tracker`] is the pure part: it follows the event bus and turns call
//! events into channel-state bodies, one per leg and state. The call's own
//! leg (A: the caller, or the callee of a placed call) comes from the call
//! events (`call.created`, `call.ringing`, `call.early`, `call.answered`,
//! `call.ended`); each leg the call dials (B: an agent rung, a bridge, a
//! program's dial) from the dial events (`call.dial`, `call.dial.ringing`,
//! `call.dial.early`, `call.dial.answered`, `call.dial.ended`, each with
//! its `leg`). Every body has the leg's uuid as `Unique-ID` and the call's
//! as `Channel-Call-UUID`; a leg still up when its call ends hangs up with
//! it. [`start`] runs it against the bus and sends what it makes, calls
//! side by side but each call's states one after the other so that their
//! order holds; a push that fails for good is recorded and published, and
//! events the push skipped because it fell behind are counted, logged and
//! recorded. While no workspace has a URL the push does not follow the
//! bus at all (no wake-up, no read per call event); setting a URL
//! subscribes it before `set` returns, so no event after that is missed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::{mpsc, Notify};
use url::Url;

use super::{Body, Client, HttpMethod, Outgoing, Secret};
use crate::events::{Bus, Event};

/// Most calls followed at once; beyond them a new call is not pushed.
const MAX_CALLS: usize = 10_000;
/// Most dialled legs followed per call; beyond them a new leg is not
/// pushed.
const MAX_LEGS: usize = 32;

/// What is known of a leg between its events.
#[derive(Debug, Clone, Default)]
struct Facts {
    from: String,
    to: String,
    direction: String,
    codec: String,
}

/// A call followed: its own leg, and the legs it dialled that are still up.
#[derive(Debug, Clone, Default)]
struct Followed {
    a: Facts,
    dialled: Vec<(String, Facts)>,
}

/// One leg's state, ready to be written as a body.
struct State<'a> {
    leg: &'a str,
    call: &'a str,
    facts: &'a Facts,
    state: &'static str,
    cause: Option<String>,
}

/// Turns call events into channel-state bodies.
#[derive(Debug, Default)]
pub struct Tracker {
    calls: HashMap<String, Followed>,
}

impl Tracker {
    /// The channel-state bodies for `event`, in the order they are to be
    /// pushed (none for an event the push does not carry).
    pub fn bodies(&mut self, event: &Event) -> Vec<Json> {
        let Some(call) = event.data.get("ref").and_then(Json::as_str).map(str::to_owned) else {
            return Vec::new();
        };
        let text = |k: &str| event.data.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        let at = event.at;
        match event.name {
            "call.created" => {
                if self.calls.len() < MAX_CALLS && !self.calls.contains_key(&call) {
                    let direction = match text("direction").as_str() {
                        "" => "inbound".to_owned(),
                        d => d.to_owned(),
                    };
                    let a = Facts { from: text("from"), to: text("to"), direction, codec: String::new() };
                    self.calls.insert(call, Followed { a, dialled: Vec::new() });
                }
                Vec::new()
            }
            "call.ringing" | "call.early" | "call.answered" => {
                let Some(followed) = self.calls.get_mut(&call) else { return Vec::new() };
                let state = match event.name {
                    "call.ringing" => "ringing",
                    "call.early" => "early",
                    _ => {
                        followed.a.codec = text("codec");
                        "answered"
                    }
                };
                vec![body(at, &State { leg: &call, call: &call, facts: &followed.a, state, cause: None })]
            }
            "call.ended" => {
                let Some(followed) = self.calls.remove(&call) else { return Vec::new() };
                let cause = Some(text("cause"));
                let mut out: Vec<Json> = followed
                    .dialled
                    .iter()
                    .map(|(leg, facts)| {
                        body(at, &State { leg, call: &call, facts, state: "hangup", cause: cause.clone() })
                    })
                    .collect();
                out.push(body(
                    at,
                    &State { leg: &call, call: &call, facts: &followed.a, state: "hangup", cause },
                ));
                out
            }
            "call.dial" => {
                let leg = text("leg");
                let Some(followed) = self.calls.get_mut(&call) else { return Vec::new() };
                if !leg.is_empty()
                    && followed.dialled.len() < MAX_LEGS
                    && !followed.dialled.iter().any(|(l, _)| *l == leg)
                {
                    let from = match text("from") {
                        f if f.is_empty() => followed.a.from.clone(),
                        f => f,
                    };
                    let facts = Facts {
                        from,
                        to: text("to"),
                        direction: "outbound".to_owned(),
                        codec: String::new(),
                    };
                    followed.dialled.push((leg, facts));
                }
                Vec::new()
            }
            "call.dial.ringing" | "call.dial.early" | "call.dial.answered" | "call.dial.ended" => {
                let leg = text("leg");
                let Some(followed) = self.calls.get_mut(&call) else { return Vec::new() };
                let Some(i) = followed.dialled.iter().position(|(l, _)| *l == leg) else { return Vec::new() };
                let (state, cause) = match event.name {
                    "call.dial.ringing" => ("ringing", None),
                    "call.dial.early" => ("early", None),
                    "call.dial.answered" => {
                        followed.dialled[i].1.codec = text("codec");
                        ("answered", None)
                    }
                    _ => ("hangup", Some(dial_cause(&text("cause")))),
                };
                let state = State { leg: &leg, call: &call, facts: &followed.dialled[i].1, state, cause };
                let out = vec![body(at, &state)];
                if state.state == "hangup" {
                    followed.dialled.remove(i);
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The first channel-state body for `event`, if it makes any.
    pub fn body(&mut self, event: &Event) -> Option<Json> {
        self.bodies(event).into_iter().next()
    }
}

/// The hangup cause of a dialled leg's end: a program's dial says how
/// its bridge ended (`callee_hangup`, `caller_hangup`, `time_limit`), a
/// failure names its cause.
fn dial_cause(cause: &str) -> String {
    match cause {
        "" | "callee_hangup" | "caller_hangup" => "NORMAL_CLEARING".to_owned(),
        "time_limit" => "ALLOTTED_TIMEOUT".to_owned(),
        other => other.to_owned(),
    }
}

/// The `ai::channel-state` JSON of one leg's state.
fn body(at: store::Millis, s: &State<'_>) -> Json {
    let facts = s.facts;
    let codec = if facts.codec.is_empty() { "PCMU".to_owned() } else { facts.codec.to_ascii_uppercase() };
    let mut body = json!({
        "Event-Subclass": "ai::channel-state",
        "Event-Name": "CUSTOM",
        "FreeSWITCH-Hostname": "calliope",
        "FreeSWITCH-Switchname": "calliope",
        "Event-Date-Timestamp": (at.max(0) as u64 * 1000).to_string(),
        "Unique-ID": s.leg,
        "Channel-Call-UUID": s.call,
        "Call-Direction": facts.direction,
        "Presence-Call-Direction": facts.direction,
        "Caller-Direction": facts.direction,
        "Caller-Logical-Direction": facts.direction,
        "Caller-Username": facts.from,
        "Caller-Caller-ID-Number": facts.from,
        "Caller-Destination-Number": facts.to,
        "Caller-Dialplan": "XML",
        "Answer-State": s.state,
        "Channel-Read-Codec-Name": codec,
        "Channel-Read-Codec-Rate": "8000",
        "Channel-Read-Codec-Bit-Rate": "64000",
        "Channel-Write-Codec-Name": codec,
        "Channel-Write-Codec-Rate": "8000",
        "Channel-Write-Codec-Bit-Rate": "64000",
    });
    if s.leg != s.call {
        body["Other-Leg-Unique-ID"] = json!(s.call);
    }
    if let Some(cause) = &s.cause {
        body["Hangup-Cause"] = json!(if cause.is_empty() { "NORMAL_CLEARING" } else { cause.as_str() });
    }
    body
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
    /// The leg whose state it carried (the call's own leg: the call's id).
    pub leg: String,
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
/// Pushes waiting per workspace (shared out among its workers); beyond
/// them a push is dropped and recorded as failed.
const QUEUE: usize = 1024;

#[derive(Debug, Default)]
struct Shared {
    targets: HashMap<i64, PostTarget>,
    failures: HashMap<i64, VecDeque<Failure>>,
    /// The push's hold on the bus, once [`start`]ed.
    feed: Option<Feed>,
}

/// How the push follows the bus: subscribed only while some workspace has
/// a URL.
#[derive(Debug)]
struct Feed {
    bus: Bus,
    /// Whether the push holds (or has been handed) a subscription.
    following: bool,
    /// A subscription made by [`PostEvents::set`], for the push to take.
    handed: Option<broadcast::Receiver<Arc<Event>>>,
    /// Wakes the push when a subscription is handed to it.
    wake: Arc<Notify>,
}

impl Shared {
    /// Subscribes the push to the bus if a workspace has a URL and it
    /// follows nothing yet.
    fn follow_if_needed(&mut self) {
        let Some(feed) = &mut self.feed else { return };
        if !self.targets.is_empty() && !feed.following {
            feed.handed = Some(feed.bus.subscribe());
            feed.following = true;
            feed.wake.notify_one();
        }
    }
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
            s.follow_if_needed();
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

    /// Every workspace with a URL, and where its states go.
    fn all(&self) -> Vec<(i64, PostTarget)> {
        self.shared
            .lock()
            .map(|s| s.targets.iter().map(|(ws, t)| (*ws, t.clone())).collect())
            .unwrap_or_default()
    }

    /// Gives the push `bus` to follow while a workspace has a URL; the
    /// push is woken through `wake`.
    fn attach(&self, bus: &Bus, wake: Arc<Notify>) {
        if let Ok(mut s) = self.shared.lock() {
            s.feed = Some(Feed { bus: bus.clone(), following: false, handed: None, wake });
            s.follow_if_needed();
        }
    }

    /// The subscription [`PostEvents::set`] made for the push, if any.
    fn take_handed(&self) -> Option<broadcast::Receiver<Arc<Event>>> {
        self.shared.lock().ok()?.feed.as_mut()?.handed.take()
    }

    /// Whether the push is to stop following the bus: no workspace has a
    /// URL (checked, and the subscription given up, under one lock, so
    /// that a URL set meanwhile subscribes again).
    fn release(&self) -> bool {
        let Ok(mut s) = self.shared.lock() else { return false };
        let s = &mut *s;
        match &mut s.feed {
            Some(feed) if s.targets.is_empty() => {
                feed.following = false;
                feed.handed = None;
                true
            }
            _ => false,
        }
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

/// Workers pushing one workspace's channel states side by side; each call
/// goes to one of them (by its id), so its states keep their order.
const LANES: usize = 8;

/// One workspace's workers.
struct Lanes {
    senders: Vec<mpsc::Sender<Job>>,
}

impl Lanes {
    fn new(ws: i64, client: &Arc<Client>, targets: &PostEvents, bus: &Bus) -> Lanes {
        let senders = (0..LANES).map(|_| worker(ws, client.clone(), targets.clone(), bus.clone())).collect();
        Lanes { senders }
    }

    fn closed(&self) -> bool {
        self.senders.iter().any(mpsc::Sender::is_closed)
    }

    /// The worker that pushes `call`'s states.
    fn of(&self, call: &str) -> &mpsc::Sender<Job> {
        &self.senders[lane(call, self.senders.len())]
    }
}

/// The lane of `call` among `n` (FNV-1a of its id: stable, cheap).
fn lane(call: &str, n: usize) -> usize {
    let h =
        call.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (h % n.max(1) as u64) as usize
}

/// Follows `bus` and POSTs each workspace's channel states to the URL
/// `targets` holds for it (read when each event arrives), signed with its
/// secret. Each workspace has [`LANES`] workers sending side by side; a
/// call's states all go through the same one, so their order holds. A push
/// that still fails after the client's retries, or that finds its worker's
/// queue full, is recorded in `targets` and published as a
/// `call.webhook.failed` event. When this task falls behind the bus, the
/// skipped events are counted (`calliope_events_lost_total{subscriber=
/// "post_event"}`), logged at warn and recorded as a failure
/// (`EVENTS_SKIPPED`) in every workspace that has a URL. While no
/// workspace has a URL, the task does not follow the bus.
pub fn start(bus: &Bus, client: Arc<Client>, targets: PostEvents) {
    let wake = Arc::new(Notify::new());
    targets.attach(bus, wake.clone());
    let bus = bus.clone();
    tokio::spawn(async move {
        let mut tracker = Tracker::default();
        let mut workers: HashMap<i64, Lanes> = HashMap::new();
        let mut following: Option<broadcast::Receiver<Arc<Event>>> = None;
        loop {
            let Some(rx) = following.as_mut() else {
                following = targets.take_handed();
                if following.is_none() {
                    wake.notified().await;
                }
                continue;
            };
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    skipped(&targets, n);
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let ws = event.workspace_id;
            let Some(target) = targets.get(ws) else {
                if targets.release() {
                    following = None;
                }
                continue;
            };
            let bodies = tracker.bodies(&event);
            if bodies.is_empty() {
                continue;
            }
            if workers.get(&ws).is_some_and(Lanes::closed) {
                workers.remove(&ws);
            }
            let lanes = workers.entry(ws).or_insert_with(|| Lanes::new(ws, &client, &targets, &bus));
            for body in bodies {
                let call = body.get("Channel-Call-UUID").and_then(Json::as_str).unwrap_or("");
                let tx = lanes.of(call);
                if let Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) =
                    tx.try_send(Job { target: target.clone(), body })
                {
                    let failure =
                        failure_of(&job, "WEBHOOK_BUSY", "too many pushes waiting: this one was dropped");
                    report(&targets, &bus, ws, failure);
                }
            }
        }
    });
}

/// The push task missed `n` events of the bus: counted, logged, and
/// recorded for every workspace with a URL (which of them the skipped
/// events belonged to is not known; the count, which covers every
/// workspace, stays in the log).
fn skipped(targets: &PostEvents, n: u64) {
    tracing::warn!(missed = n, "the channel-state push fell behind the event bus: events were skipped");
    crate::metrics::events_lost("post_event", n);
    let at = now_ms();
    for (ws, target) in targets.all() {
        targets.record(
            ws,
            Failure {
                at,
                call: String::new(),
                leg: String::new(),
                state: String::new(),
                url: target.url.to_string(),
                cause: "EVENTS_SKIPPED".to_owned(),
                detail: "the push fell behind the call events: some channel states were not sent".to_owned(),
            },
        );
    }
}

/// Pushes the states given to one worker one at a time, in order.
fn worker(ws: i64, client: Arc<Client>, targets: PostEvents, bus: Bus) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE / LANES);
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
        call: text("Channel-Call-UUID"),
        leg: text("Unique-ID"),
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
        "leg": failure.leg,
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

    #[test]
    fn each_leg_of_a_bridged_call_has_its_states_linked_by_the_call() {
        let mut t = Tracker::default();
        let states = |bodies: Vec<Json>| -> Vec<String> {
            bodies
                .iter()
                .map(|b| {
                    assert_eq!(b["Channel-Call-UUID"], "c1", "{b}");
                    format!("{}:{}", b["Unique-ID"].as_str().unwrap(), b["Answer-State"].as_str().unwrap())
                })
                .collect()
        };
        t.bodies(&ev("call.created", json!({"ref": "c1", "from": "2001", "to": "2002"})));
        assert!(t.bodies(&ev("call.dial", json!({"ref": "c1", "leg": "b1", "to": "2002"}))).is_empty());
        let ringing_b = t.bodies(&ev("call.dial.ringing", json!({"ref": "c1", "leg": "b1"})));
        assert_eq!(ringing_b[0]["Call-Direction"], "outbound");
        assert_eq!(ringing_b[0]["Caller-Username"], "2001");
        assert_eq!(ringing_b[0]["Caller-Destination-Number"], "2002");
        assert_eq!(ringing_b[0]["Other-Leg-Unique-ID"], "c1");
        assert_eq!(states(ringing_b), ["b1:ringing"]);
        assert_eq!(states(t.bodies(&ev("call.ringing", json!({"ref": "c1"})))), ["c1:ringing"]);
        let answered_b =
            t.bodies(&ev("call.dial.answered", json!({"ref": "c1", "leg": "b1", "codec": "PCMA"})));
        assert_eq!(answered_b[0]["Channel-Write-Codec-Name"], "PCMA");
        assert_eq!(states(answered_b), ["b1:answered"]);
        // A leg nobody announced is not pushed.
        assert!(t.bodies(&ev("call.dial.ringing", json!({"ref": "c1", "leg": "zz"}))).is_empty());
        // The call's end hangs up the legs still up, then the call's own.
        let ended = t.bodies(&ev("call.ended", json!({"ref": "c1", "cause": "NORMAL_CLEARING"})));
        assert!(ended.iter().all(|b| b["Hangup-Cause"] == "NORMAL_CLEARING"));
        assert_eq!(states(ended), ["b1:hangup", "c1:hangup"]);

        // A dialled leg that ends first hangs up with its own cause, once.
        t.bodies(&ev("call.created", json!({"ref": "c1", "from": "2001", "to": "2002"})));
        t.bodies(&ev("call.dial", json!({"ref": "c1", "leg": "b2", "to": "2003"})));
        let busy = t.bodies(&ev("call.dial.ended", json!({"ref": "c1", "leg": "b2", "cause": "USER_BUSY"})));
        assert_eq!(busy[0]["Hangup-Cause"], "USER_BUSY");
        let ended = t.bodies(&ev("call.ended", json!({"ref": "c1", "cause": "USER_BUSY"})));
        assert_eq!(states(ended), ["c1:hangup"]);
    }
}
