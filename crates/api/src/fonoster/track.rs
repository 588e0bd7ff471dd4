//! A call's Fonoster status (`TRYING`, `PROGRESS`, `ANSWER`, `BUSY`,
//! `NOANSWER`, `FAILED`, `CANCEL`): from the live call registry while the
//! call runs, from its record after; and `GET /v1beta2/calls/{ref}/track`,
//! the statuses as server-sent events (one `data:` line each), closing
//! after the final one.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::IntoResponse;
use engine::calls::Channel;
use engine::events::Event;
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{json, Map, Value as Json};
use store::schema::CDRS;
use store::{Record, Scope};
use tokio::sync::broadcast;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;
use crate::view::rfc3339;

/// The status of a live call from its registry `callstate`.
pub fn of_callstate(callstate: &str) -> &'static str {
    match callstate {
        "RINGING" | "EARLY" => "PROGRESS",
        "ACTIVE" => "ANSWER",
        _ => "TRYING",
    }
}

/// The final status of a call that ended with hang-up cause `cause`;
/// an answered call keeps `ANSWER`.
pub fn of_cause(cause: &str, answered: bool) -> &'static str {
    if answered {
        return "ANSWER";
    }
    match cause {
        "USER_BUSY" => "BUSY",
        "NO_ANSWER" | "NO_USER_RESPONSE" | "RECOVERY_ON_TIMER_EXPIRE" => "NOANSWER",
        "ORIGINATOR_CANCEL" => "CANCEL",
        _ => "FAILED",
    }
}

/// The final status of a finished call from its record.
pub fn of_record(rec: &Record) -> &'static str {
    of_cause(
        rec.text("hangup_cause"),
        rec.text("disposition") == "ANSWERED" || rec.int("answer_date").is_some(),
    )
}

/// Whether `status` ends a track.
fn is_final(status: &str) -> bool {
    rank(status) == 3
}

/// Statuses in the order a call goes through them.
fn rank(status: &str) -> u8 {
    match status {
        "TRYING" => 0,
        "PROGRESS" => 1,
        "ANSWER" => 2,
        _ => 3,
    }
}

/// The live leg with id `r` of the workspace, if any.
pub fn live(state: &AppState, ws: i64, r: &str) -> Option<Channel> {
    let sw = state.sip.get()?;
    sw.calls.of(ws).into_iter().find(|c| c.uuid == r)
}

/// A live call as Fonoster shows a call.
pub fn live_view(c: &Channel, now: i64) -> Map<String, Json> {
    let status = of_callstate(c.callstate);
    let mut out = Map::new();
    out.insert("ref".into(), json!(c.uuid));
    out.insert("from".into(), json!(c.cid_num));
    out.insert("to".into(), json!(c.dest));
    out.insert("status".into(), json!(status));
    out.insert("callStatus".into(), json!(status));
    let direction = if c.direction == "outbound" { "TO_PSTN" } else { "FROM_PSTN" };
    out.insert("direction".into(), json!(direction));
    out.insert(
        "type".into(),
        json!(if c.direction == "outbound" { "API_ORIGINATED" } else { "SIP_ORIGINATED" }),
    );
    out.insert("startTime".into(), json!(rfc3339(c.created_ms)));
    out.insert("answerTime".into(), Json::Null);
    out.insert("endTime".into(), Json::Null);
    out.insert("duration".into(), json!(((now - c.created_ms) / 1000).max(0)));
    out.insert("billsec".into(), json!(0));
    out.insert("live".into(), json!(true));
    out
}

/// The record of call `r` (its caller's leg), else of leg `r`.
async fn record(state: &AppState, ws: i64, r: &str) -> Option<Record> {
    use store::Filter;
    let scope = Scope::Workspace(ws);
    let caller_leg = [Filter::eq("call_ref", r), Filter::eq("leg", crate::service::cdrs::CALLER_SIDE)];
    if let Ok(Some(rec)) = state.db.find(&CDRS, scope, &caller_leg).await {
        return Some(rec);
    }
    state.db.find(&CDRS, scope, &[Filter::eq("leg_ref", r)]).await.ok().flatten()
}

/// How long a track waits for the record of a call that left the registry
/// (the record writer batches).
const RECORD_WAIT: Duration = Duration::from_secs(5);

/// A track's state: the statuses still to send, and how to learn more.
struct Track {
    pending: Vec<&'static str>,
    last: Option<&'static str>,
    answered: bool,
    events: Option<broadcast::Receiver<Arc<Event>>>,
    r: String,
    done: bool,
}

impl Track {
    /// The next status to send, or `None` when the track is over.
    async fn next(&mut self) -> Option<&'static str> {
        loop {
            if let Some(s) = self.pending.pop() {
                if Some(s) == self.last {
                    if is_final(s) || self.done {
                        return None;
                    }
                    continue;
                }
                self.last = Some(s);
                return Some(s);
            }
            if self.done {
                return None;
            }
            let events = self.events.as_mut()?;
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if event.data["ref"].as_str() != Some(self.r.as_str()) {
                continue;
            }
            let status = match event.name {
                "call.ringing" | "call.early" => "PROGRESS",
                "call.answered" => {
                    self.answered = true;
                    "ANSWER"
                }
                "call.ended" => {
                    self.done = true;
                    of_cause(event.data["cause"].as_str().unwrap_or(""), self.answered)
                }
                _ => continue,
            };
            // An answered call's end repeats ANSWER: the track just closes.
            if self.done && Some(status) == self.last {
                return None;
            }
            // An event older than the state read from the registry.
            if self.last.is_some_and(|l| rank(status) < rank(l)) {
                continue;
            }
            self.pending.push(status);
        }
    }
}

/// The statuses of call `r` of workspace `ws`, from now until its final
/// one; `Err` when no such call exists.
pub async fn statuses(
    state: &AppState,
    ws: i64,
    r: &str,
) -> Result<impl Stream<Item = &'static str> + Send + 'static, ApiError> {
    // Subscribe first, then look: no status between the two is lost.
    let events = state.sip.get().map(|sw| sw.bus.subscribe());
    let mut track =
        Track { pending: Vec::new(), last: None, answered: false, events, r: r.to_owned(), done: false };
    if let Some(c) = live(state, ws, r) {
        let now = of_callstate(c.callstate);
        track.answered = now == "ANSWER";
        track.pending = if now == "TRYING" { vec!["TRYING"] } else { vec![now, "TRYING"] };
    } else {
        // Gone from the registry: its record has (or will soon have) the
        // final status.
        let deadline = tokio::time::Instant::now() + RECORD_WAIT;
        let rec = loop {
            if let Some(rec) = record(state, ws, r).await {
                break rec;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::not_found("call"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        track.pending = vec![of_record(&rec)];
        track.done = true;
    }
    Ok(stream::unfold(track, |mut t| async move { t.next().await.map(|s| (s, t)) }))
}

pub(super) async fn track(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    if r.len() > 64 {
        return Err(ApiError::not_found("call"));
    }
    let statuses = statuses(&state, ws, &r).await?;
    let events = statuses
        .map(move |s| Ok::<_, Infallible>(Sse::default().data(json!({"ref": r, "status": s}).to_string())));
    Ok(axum::response::Sse::new(events).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_from_states_and_causes() {
        assert_eq!(of_callstate("DOWN"), "TRYING");
        assert_eq!(of_callstate("EARLY"), "PROGRESS");
        assert_eq!(of_callstate("ACTIVE"), "ANSWER");
        assert_eq!(of_cause("USER_BUSY", false), "BUSY");
        assert_eq!(of_cause("NO_ANSWER", false), "NOANSWER");
        assert_eq!(of_cause("NO_USER_RESPONSE", false), "NOANSWER");
        assert_eq!(of_cause("ORIGINATOR_CANCEL", false), "CANCEL");
        assert_eq!(of_cause("CALL_REJECTED", false), "FAILED");
        assert_eq!(of_cause("NORMAL_CLEARING", true), "ANSWER");
        assert!(is_final("BUSY") && !is_final("ANSWER"));
    }

    #[tokio::test]
    async fn a_track_stops_after_the_final_status() {
        let bus = engine::events::Bus::new(16);
        let mut t = Track {
            pending: vec!["TRYING"],
            last: None,
            answered: false,
            events: Some(bus.subscribe()),
            r: "c1".into(),
            done: false,
        };
        let ev = |name, data: Json| Event { name, workspace_id: 1, at: 0, data };
        bus.publish(ev("call.ringing", json!({"ref": "other"})));
        bus.publish(ev("call.ringing", json!({"ref": "c1"})));
        bus.publish(ev("call.answered", json!({"ref": "c1"})));
        bus.publish(ev("call.ended", json!({"ref": "c1", "cause": "NORMAL_CLEARING"})));
        let mut seen = Vec::new();
        while let Some(s) = t.next().await {
            seen.push(s);
        }
        assert_eq!(seen, ["TRYING", "PROGRESS", "ANSWER"]);
        let mut busy = Track {
            pending: vec!["TRYING"],
            last: None,
            answered: false,
            events: Some(bus.subscribe()),
            r: "c2".into(),
            done: false,
        };
        bus.publish(ev("call.ended", json!({"ref": "c2", "cause": "USER_BUSY"})));
        assert_eq!(
            (busy.next().await, busy.next().await, busy.next().await),
            (Some("TRYING"), Some("BUSY"), None)
        );
    }
}
