//! How each dialect writes a verb's result for its webhook.
//!
//! - Fonoster: a JSON object `{sessionRef, appRef, callerNumber,
//!   calleeNumber, verb, ...}` with the result's fields in camelCase
//!   (`digits`, `speech`, `confidence`, `timedOut`, `recordingUrl`,
//!   `duration` (s), `dialStatus` `COMPLETED|BUSY|NO_ANSWER|FAILED|REJECTED`,
//!   or the notify payload as `payload`).
//! - NCCO: Vonage's event JSON: input `{speech: {results: [{text,
//!   confidence}], timeout_reason?}, dtmf: {digits, timed_out}, uuid,
//!   conversation_uuid, timestamp}`; record `{recording_url,
//!   recording_uuid, size, start_time?, end_time?, uuid,
//!   conversation_uuid, timestamp}`; connect `{status, uuid,
//!   conversation_uuid, duration, from, to, timestamp}` (status
//!   `completed|busy|timeout|failed|rejected`); notify: the payload as
//!   given.
//! - TwiML: Twilio's form fields `CallSid, AccountSid, From, To,
//!   Direction, CallStatus` plus `Digits`, `FinishedOnKey`,
//!   `SpeechResult`, `Confidence`; `RecordingUrl`, `RecordingSid`,
//!   `RecordingDuration`, `Digits` (the key that ended it, or `hangup`);
//!   `DialCallStatus` (`completed|busy|no-answer|failed`),
//!   `DialCallDuration`, `DialCallSid`.

use serde_json::{json, Map, Value};

use super::channel::{DialStatus, RecordEnd};
use super::scripts::{Report, VerbResult};

/// A webhook dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Fonoster commands.
    Fonoster,
    /// Vonage NCCO.
    Ncco,
    /// TwiML.
    Twiml,
}

/// The call a result belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallInfo {
    /// The call's (leg's) id: Fonoster `sessionRef`, Vonage `uuid`,
    /// Twilio `CallSid`.
    pub call_id: String,
    /// Vonage `conversation_uuid`.
    pub conversation_id: String,
    /// The application (`appRef`, Twilio `AccountSid`).
    pub app_ref: String,
    /// The caller.
    pub from: String,
    /// The called number.
    pub to: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The time of the result, RFC 3339 (given by the caller: the
    /// encoder reads no clock).
    pub timestamp: String,
}

/// An encoded result.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `application/x-www-form-urlencoded` (or query parameters).
    Form(Vec<(String, String)>),
}

/// Encodes `report` the way `dialect` does.
pub fn encode(dialect: Dialect, report: &Report, call: &CallInfo) -> Body {
    match dialect {
        Dialect::Fonoster => Body::Json(fonoster(report, call)),
        Dialect::Ncco => Body::Json(ncco(report, call)),
        Dialect::Twiml => Body::Form(twiml(report, call)),
    }
}

fn secs(d: std::time::Duration) -> u64 {
    d.as_secs()
}

fn fonoster(report: &Report, call: &CallInfo) -> Value {
    let mut o = Map::new();
    o.insert("sessionRef".into(), call.call_id.clone().into());
    o.insert("appRef".into(), call.app_ref.clone().into());
    o.insert("callerNumber".into(), call.from.clone().into());
    o.insert("calleeNumber".into(), call.to.clone().into());
    o.insert("verb".into(), report.verb.into());
    match &report.result {
        VerbResult::Input(c) => {
            o.insert("digits".into(), c.digits.clone().into());
            o.insert("speech".into(), c.speech.clone().map_or(Value::Null, Value::from));
            o.insert("confidence".into(), c.confidence.map_or(Value::Null, |v| json!(v)));
            o.insert("timedOut".into(), c.timed_out.into());
        }
        VerbResult::Record(r) => {
            o.insert("recordingUrl".into(), r.url.clone().into());
            o.insert("recordingRef".into(), r.id.clone().into());
            o.insert("duration".into(), secs(r.duration).into());
        }
        VerbResult::Dial(d) => {
            let status = match d.status {
                DialStatus::Completed => "COMPLETED",
                DialStatus::Busy => "BUSY",
                DialStatus::NoAnswer => "NO_ANSWER",
                DialStatus::Failed => "FAILED",
                DialStatus::Rejected => "REJECTED",
            };
            o.insert("dialStatus".into(), status.into());
            o.insert("duration".into(), secs(d.duration).into());
            if let Some(r) = &d.recording {
                o.insert("recordingUrl".into(), r.url.clone().into());
                o.insert("recordingRef".into(), r.id.clone().into());
            }
        }
        VerbResult::Notify(p) => {
            o.insert("payload".into(), p.clone());
        }
        VerbResult::Redirect => {}
    }
    Value::Object(o)
}

fn ncco(report: &Report, call: &CallInfo) -> Value {
    let ids = |mut v: Value| {
        if let Value::Object(o) = &mut v {
            o.insert("uuid".into(), call.call_id.clone().into());
            o.insert("conversation_uuid".into(), call.conversation_id.clone().into());
            o.insert("timestamp".into(), call.timestamp.clone().into());
        }
        v
    };
    match &report.result {
        VerbResult::Input(c) => {
            let mut speech = json!({ "results": [] });
            if let Some(text) = &c.speech {
                speech["results"] = json!([{ "text": text, "confidence": c.confidence.unwrap_or(0.0) }]);
            } else if c.timed_out {
                speech["timeout_reason"] = "start_timeout".into();
            }
            ids(json!({
                "from": call.from, "to": call.to,
                "speech": speech,
                "dtmf": { "digits": c.digits, "timed_out": c.timed_out },
            }))
        }
        VerbResult::Record(r) => ids(json!({
            "recording_url": r.url,
            "recording_uuid": r.id,
            "size": r.size,
            "duration": secs(r.duration),
        })),
        VerbResult::Dial(d) => {
            let status = match d.status {
                DialStatus::Completed => "completed",
                DialStatus::Busy => "busy",
                DialStatus::NoAnswer => "timeout",
                DialStatus::Failed => "failed",
                DialStatus::Rejected => "rejected",
            };
            ids(
                json!({ "status": status, "duration": secs(d.duration).to_string(), "from": call.from, "to": call.to }),
            )
        }
        VerbResult::Notify(p) => p.clone(),
        VerbResult::Redirect => ids(json!({ "from": call.from, "to": call.to })),
    }
}

fn twiml(report: &Report, call: &CallInfo) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("CallSid".into(), call.call_id.clone()),
        ("AccountSid".into(), call.app_ref.clone()),
        ("From".into(), call.from.clone()),
        ("To".into(), call.to.clone()),
        ("Direction".into(), call.direction.clone()),
        ("CallStatus".into(), "in-progress".into()),
    ];
    let mut add = |k: &str, v: String| f.push((k.into(), v));
    match &report.result {
        VerbResult::Input(c) => {
            if !c.digits.is_empty() {
                add("Digits", c.digits.clone());
            }
            if let Some(k) = c.finished_on_key {
                add("FinishedOnKey", k.to_string());
            }
            if let Some(s) = &c.speech {
                add("SpeechResult", s.clone());
                add("Confidence", format!("{:.2}", c.confidence.unwrap_or(0.0)));
            }
        }
        VerbResult::Record(r) => {
            add("RecordingUrl", r.url.clone());
            add("RecordingSid", r.id.clone());
            add("RecordingDuration", secs(r.duration).to_string());
            let ended = match &r.ended_by {
                RecordEnd::Key(k) => k.to_string(),
                RecordEnd::HungUp => "hangup".into(),
                _ => String::new(),
            };
            if !ended.is_empty() {
                add("Digits", ended);
            }
        }
        VerbResult::Dial(d) => {
            let status = match d.status {
                DialStatus::Completed => "completed",
                DialStatus::Busy | DialStatus::Rejected => "busy",
                DialStatus::NoAnswer => "no-answer",
                DialStatus::Failed => "failed",
            };
            add("DialCallStatus", status.into());
            add("DialCallDuration", secs(d.duration).to_string());
            if let Some(id) = &d.leg_id {
                add("DialCallSid", id.clone());
            }
            if let Some(r) = &d.recording {
                add("RecordingUrl", r.url.clone());
                add("RecordingSid", r.id.clone());
            }
        }
        VerbResult::Notify(_) | VerbResult::Redirect => {}
    }
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::program::scripts::Collected;
    use crate::program::verb::Hook;

    fn call() -> CallInfo {
        CallInfo {
            call_id: "c1".into(),
            conversation_id: "CON-1".into(),
            app_ref: "app".into(),
            from: "+100".into(),
            to: "+200".into(),
            direction: "inbound".into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn input() -> Report {
        Report {
            hook: Hook::post(None),
            verb: "gather",
            result: VerbResult::Input(Collected {
                digits: "12".into(),
                finished_on_key: Some('#'),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_gather_result_in_each_dialect() {
        let Body::Json(f) = encode(Dialect::Fonoster, &input(), &call()) else { panic!() };
        assert_eq!(
            (f["sessionRef"].as_str(), f["digits"].as_str(), f["verb"].as_str()),
            (Some("c1"), Some("12"), Some("gather"))
        );
        let Body::Json(n) = encode(Dialect::Ncco, &input(), &call()) else { panic!() };
        assert_eq!(n["dtmf"]["digits"], "12");
        assert_eq!(n["dtmf"]["timed_out"], false);
        assert_eq!(n["conversation_uuid"], "CON-1");
        let Body::Form(t) = encode(Dialect::Twiml, &input(), &call()) else { panic!() };
        assert!(t.contains(&("Digits".into(), "12".into())));
        assert!(t.contains(&("FinishedOnKey".into(), "#".into())));
        assert!(t.contains(&("CallSid".into(), "c1".into())));
    }

    #[test]
    fn a_recorded_dial_result_names_its_recording() {
        let recording = crate::program::Recording {
            url: "recordings/1/c1-1.wav".into(),
            id: "c1-1.wav".into(),
            duration: std::time::Duration::from_secs(6),
            size: 96_044,
            ended_by: RecordEnd::HungUp,
        };
        let report = Report {
            hook: Hook::post(None),
            verb: "dial",
            result: VerbResult::Dial(crate::program::DialResult {
                status: DialStatus::Completed,
                leg_id: Some("b1".into()),
                duration: std::time::Duration::from_secs(6),
                recording: Some(recording),
            }),
        };
        let Body::Json(f) = encode(Dialect::Fonoster, &report, &call()) else { panic!() };
        assert_eq!((f["dialStatus"].as_str(), f["duration"].as_u64()), (Some("COMPLETED"), Some(6)));
        assert_eq!(f["recordingUrl"], "recordings/1/c1-1.wav");
        let Body::Form(t) = encode(Dialect::Twiml, &report, &call()) else { panic!() };
        assert!(t.contains(&("DialCallStatus".into(), "completed".into())));
        assert!(t.contains(&("DialCallSid".into(), "b1".into())));
        assert!(t.contains(&("RecordingUrl".into(), "recordings/1/c1-1.wav".into())));
    }
}
