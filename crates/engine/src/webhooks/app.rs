//! An application's webhooks, read from its record (`endpoint` and Vonage
//! `capabilities`), and the requests a call makes to them: the first
//! script, each result (digits, speech, a recording, a dial status) in the
//! shape of the dialect whose script asked for it, and status events.
//!
//! An application with `capabilities.voice` is asked as Vonage does (the
//! answer URL with `to`, `from`, `uuid`, `conversation_uuid`, by its
//! `http_method`, POST when none is stored), any other as Fonoster does
//! (POST JSON to the endpoint). Results go to the URL the verb named, or
//! else to the endpoint (Fonoster, TwiML) or the event_url (NCCO, falling
//! back to the endpoint).

use serde_json::{json, Map, Value};

use super::shapes::{self, parse_url, CallFacts, CallTimes, HttpMethod, Outgoing, VonageStatus};
use super::WebhookError;

/// The dialect of the script that asked for a result, which decides the
/// shape the result is posted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Fonoster commands: JSON.
    Fonoster,
    /// Vonage NCCO: JSON, as Vonage's input and record webhooks.
    Ncco,
    /// TwiML: Twilio's form parameters.
    Twiml,
}

/// What a verb produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Digits entered (`timed_out` when the input ended by its timeout).
    Digits {
        /// The digits, perhaps empty.
        digits: String,
        /// Whether the timeout ended it.
        timed_out: bool,
    },
    /// Speech recognised.
    Speech {
        /// The words.
        text: String,
        /// From 0 to 1.
        confidence: f32,
    },
    /// A recording was made.
    Recording {
        /// Where it can be downloaded.
        url: String,
        /// Its length in whole seconds.
        duration_s: u64,
    },
    /// A dial ended (`completed`, `busy`, `no-answer`, `failed`, `canceled`).
    Dial {
        /// The status in Twilio's words.
        status: String,
    },
}

/// Where an application is asked, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppHooks {
    /// The answer URL (the application's endpoint).
    pub answer: (String, HttpMethod),
    /// The fallback answer URL, when set.
    pub fallback: Option<(String, HttpMethod)>,
    /// Where status events go, when set.
    pub event: Option<(String, HttpMethod)>,
    /// Whether it is asked as Vonage asks (it has voice capabilities).
    pub vonage: bool,
}

fn hook<'a>(capabilities: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    capabilities?.get("voice")?.get("webhooks")?.get(name)
}

fn method_of(h: Option<&Value>, default: HttpMethod) -> HttpMethod {
    h.and_then(|h| h.get("http_method"))
        .and_then(Value::as_str)
        .and_then(HttpMethod::parse)
        .unwrap_or(default)
}

fn address(
    h: Option<&Value>,
    method_default: HttpMethod,
) -> Result<Option<(String, HttpMethod)>, WebhookError> {
    match h.and_then(|h| h.get("address")).and_then(Value::as_str).filter(|a| !a.trim().is_empty()) {
        None => Ok(None),
        Some(a) => {
            parse_url(a)?;
            Ok(Some((a.to_owned(), method_of(h, method_default))))
        }
    }
}

fn fields(pairs: Value) -> Map<String, Value> {
    match pairs {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl AppHooks {
    /// Reads an application's `endpoint` and `capabilities` (as stored:
    /// the answer URL's address is the endpoint). An endpoint that is not
    /// an http(s) URL is [`WebhookError::BadUrl`].
    pub fn from_application(endpoint: &str, capabilities: Option<&Value>) -> Result<Self, WebhookError> {
        parse_url(endpoint)?;
        let vonage = capabilities.and_then(|c| c.get("voice")).is_some_and(Value::is_object);
        Ok(AppHooks {
            answer: (endpoint.to_owned(), method_of(hook(capabilities, "answer_url"), HttpMethod::Post)),
            fallback: address(hook(capabilities, "fallback_answer_url"), HttpMethod::Get)?,
            event: address(hook(capabilities, "event_url"), HttpMethod::Post)?,
            vonage,
        })
    }

    /// The request for the first script.
    pub fn answer_request(&self, call: &CallFacts) -> Result<Outgoing, WebhookError> {
        self.first(&self.answer, call)
    }

    /// The request to the fallback answer URL, when there is one.
    pub fn fallback_request(&self, call: &CallFacts) -> Option<Result<Outgoing, WebhookError>> {
        self.fallback.as_ref().map(|f| self.first(f, call))
    }

    fn first(
        &self,
        (url, method): &(String, HttpMethod),
        call: &CallFacts,
    ) -> Result<Outgoing, WebhookError> {
        if self.vonage {
            shapes::vonage_answer(url, *method, call)
        } else {
            shapes::fonoster(url, call, &Map::new())
        }
    }

    /// The request carrying `outcome` for a script of `dialect`, to `url`
    /// when the verb named one (an absolute URL, or a path resolved against
    /// the endpoint), else to the dialect's default.
    pub fn result_request(
        &self,
        dialect: Dialect,
        call: &CallFacts,
        url: Option<&str>,
        method: Option<HttpMethod>,
        outcome: &Outcome,
        now_ms: i64,
    ) -> Result<Outgoing, WebhookError> {
        let target = match url.filter(|u| !u.trim().is_empty()) {
            Some(u) => match parse_url(u) {
                Ok(_) => u.to_owned(),
                Err(_) => {
                    let base = parse_url(&self.answer.0)?;
                    base.join(u).map_err(|_| WebhookError::BadUrl(u.to_owned()))?.to_string()
                }
            },
            None => match (dialect, &self.event) {
                (Dialect::Ncco, Some((e, _))) => e.clone(),
                _ => self.answer.0.clone(),
            },
        };
        match dialect {
            Dialect::Fonoster => {
                let extra = fields(match outcome {
                    Outcome::Digits { digits, timed_out } => json!({"digits": digits, "timedOut": timed_out}),
                    Outcome::Speech { text, confidence } => json!({"speech": text, "confidence": confidence}),
                    Outcome::Recording { url, duration_s } => {
                        json!({"recordingUrl": url, "duration": duration_s})
                    }
                    Outcome::Dial { status } => json!({"dialStatus": status}),
                });
                shapes::fonoster(&target, call, &extra)
            }
            Dialect::Ncco => {
                let mut m = fields(match outcome {
                    Outcome::Digits { digits, timed_out } => json!({
                        "dtmf": {"digits": digits, "timed_out": timed_out},
                        "speech": {"results": []},
                    }),
                    Outcome::Speech { text, confidence } => json!({
                        "dtmf": {"digits": "", "timed_out": false},
                        "speech": {"results": [{"text": text, "confidence": confidence.to_string()}]},
                    }),
                    Outcome::Recording { url, duration_s } => json!({
                        "recording_url": url,
                        "duration": duration_s.to_string(),
                    }),
                    Outcome::Dial { status } => json!({"status": status}),
                });
                m.insert("from".into(), json!(call.caller));
                m.insert("to".into(), json!(call.callee));
                m.insert("uuid".into(), json!(call.call_ref));
                m.insert("conversation_uuid".into(), json!(call.conversation_ref));
                m.insert(
                    "timestamp".into(),
                    json!(jiff::Timestamp::from_millisecond(now_ms)
                        .map(|t| format!("{t:.3}"))
                        .unwrap_or_default()),
                );
                Outgoing::json(&target, method.unwrap_or(HttpMethod::Post), &m)
            }
            Dialect::Twiml => {
                let confidence;
                let duration;
                let extra: Vec<(&str, &str)> = match outcome {
                    Outcome::Digits { digits, .. } => vec![("Digits", digits)],
                    Outcome::Speech { text, confidence: c } => {
                        confidence = c.to_string();
                        vec![("SpeechResult", text), ("Confidence", &confidence)]
                    }
                    Outcome::Recording { url, duration_s } => {
                        duration = duration_s.to_string();
                        vec![("RecordingUrl", url), ("RecordingDuration", &duration)]
                    }
                    Outcome::Dial { status } => vec![("DialCallStatus", status)],
                };
                shapes::twilio(&target, method.unwrap_or(HttpMethod::Post), call, "in-progress", &extra)
            }
        }
    }

    /// A status event to the event_url, when the application has one.
    pub fn status_request(
        &self,
        call: &CallFacts,
        status: VonageStatus,
        now_ms: i64,
        times: Option<CallTimes>,
    ) -> Option<Result<Outgoing, WebhookError>> {
        let (url, method) = self.event.as_ref()?;
        Some(shapes::vonage_event(url, *method, call, status, now_ms, times))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::webhooks::shapes::{Body, CallDirection};

    fn call() -> CallFacts {
        CallFacts {
            call_ref: "c1".into(),
            conversation_ref: "v1".into(),
            app_ref: "a1".into(),
            workspace_ref: "w1".into(),
            caller: "100".into(),
            callee: "200".into(),
            direction: CallDirection::IntraCompany,
            domain: None,
        }
    }

    fn json_of(o: &Outgoing) -> Value {
        match &o.body {
            Body::Json(b) => serde_json::from_slice(b).unwrap(),
            _ => panic!("not JSON"),
        }
    }

    #[test]
    fn a_fonoster_application_is_posted_json() {
        let h = AppHooks::from_application("https://app.example/hook", None).unwrap();
        assert!(!h.vonage && h.fallback.is_none() && h.event.is_none());
        let o = h.answer_request(&call()).unwrap();
        assert_eq!((o.method, json_of(&o)["sessionRef"].as_str()), (HttpMethod::Post, Some("c1")));
        assert!(h.status_request(&call(), VonageStatus::Answered, 0, None).is_none());
        let r = h
            .result_request(
                Dialect::Fonoster,
                &call(),
                None,
                None,
                &Outcome::Digits { digits: "12".into(), timed_out: false },
                0,
            )
            .unwrap();
        assert_eq!(r.url.as_str(), "https://app.example/hook");
        assert_eq!(json_of(&r)["digits"], "12");
    }

    #[test]
    fn a_vonage_application_uses_its_capabilities() {
        let caps = json!({"voice": {"webhooks": {
            "answer_url": {"http_method": "GET"},
            "fallback_answer_url": {"address": "https://app.example/fallback", "http_method": "GET"},
            "event_url": {"address": "https://app.example/event", "http_method": "POST"},
        }}});
        let h = AppHooks::from_application("https://app.example/answer", Some(&caps)).unwrap();
        let o = h.answer_request(&call()).unwrap();
        assert_eq!(o.method, HttpMethod::Get);
        assert!(o.url.query().unwrap().contains("uuid=c1"));
        let f = h.fallback_request(&call()).unwrap().unwrap();
        assert_eq!(f.url.path(), "/fallback");
        let e = h.status_request(&call(), VonageStatus::Answered, 0, None).unwrap().unwrap();
        assert_eq!((e.url.path(), json_of(&e)["status"].as_str()), ("/event", Some("answered")));
        // An NCCO input result goes to the event_url unless the verb names one.
        let speech = Outcome::Speech { text: "yes".into(), confidence: 0.9 };
        let r = h.result_request(Dialect::Ncco, &call(), None, None, &speech, 0).unwrap();
        assert_eq!(r.url.path(), "/event");
        assert_eq!(json_of(&r)["speech"]["results"][0]["text"], "yes");
        let r = h.result_request(Dialect::Ncco, &call(), Some("/input"), None, &speech, 0).unwrap();
        assert_eq!(r.url.as_str(), "https://app.example/input");
        let bad = json!({"voice": {"webhooks": {"event_url": {"address": "not a url"}}}});
        assert!(AppHooks::from_application("https://app.example/answer", Some(&bad)).is_err());
        assert!(AppHooks::from_application("", None).is_err());
    }

    #[test]
    fn twiml_results_are_twilio_parameters() {
        let h = AppHooks::from_application("https://app.example/voice.xml", None).unwrap();
        let rec = Outcome::Recording { url: "https://calliope/rec/1".into(), duration_s: 7 };
        let r = h.result_request(Dialect::Twiml, &call(), Some("next"), None, &rec, 0).unwrap();
        assert_eq!(r.url.as_str(), "https://app.example/next");
        let Body::Form(b) = &r.body else { panic!("not a form") };
        let f: Vec<(String, String)> = url::form_urlencoded::parse(b).into_owned().collect();
        assert!(f.contains(&("RecordingUrl".into(), "https://calliope/rec/1".into())));
        assert!(f.contains(&("RecordingDuration".into(), "7".into())));
        let dial = Outcome::Dial { status: "busy".into() };
        let r = h.result_request(Dialect::Twiml, &call(), None, Some(HttpMethod::Get), &dial, 0).unwrap();
        assert!(r.url.query().unwrap().contains("DialCallStatus=busy"));
    }
}
