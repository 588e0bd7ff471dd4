//! The PBX dialect's channel-state push: each call's `ringing`, `early`,
//! `answered` and `hangup` as the seed's `ai::channel-state` JSON, POSTed
//! (signed, with the client's timeout and bounded retries) to a post-event
//! URL, in order per call.
//!
//! [`Tracker`] is the pure part: it follows the event bus and turns call
//! events into channel-state bodies. [`spawn`] runs it against the bus and
//! sends what it makes, one request at a time so that the order holds.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};
use tokio::sync::broadcast::error::RecvError;
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

/// Follows `bus` and POSTs the channel states of `workspace_id`'s calls to
/// `url`, signed with `secret`, one after the other; a push that still
/// fails after the client's retries is logged and dropped.
pub fn spawn(bus: &Bus, client: Arc<Client>, workspace_id: i64, url: Url, secret: Secret) {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let mut tracker = Tracker::default();
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the channel-state push fell behind: events were skipped");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            if event.workspace_id != workspace_id {
                continue;
            }
            let Some(body) = tracker.body(&event) else { continue };
            let req = Outgoing {
                method: HttpMethod::Post,
                url: url.clone(),
                body: Body::Json(body.to_string().into_bytes()),
                timeout: None,
            };
            if let Err(e) = client.event(&req, &secret).await {
                tracing::warn!(url = %url, error = %e, "a channel-state push failed");
            }
        }
    });
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
