//! An application's webhooks, read from its record (`endpoint` and Vonage
//! `capabilities`), and the requests a call makes to them for its first
//! script and its status events. (Results are encoded by
//! `program::encode` and sent by [`super::WebhookScripts`].)
//!
//! An application with `capabilities.voice` is asked as Vonage does (the
//! answer URL with `to`, `from`, `uuid`, `conversation_uuid`, by its
//! `http_method`, POST when none is stored), any other as Fonoster does
//! (POST JSON to the endpoint).

use std::time::Duration;

use serde_json::{Map, Value};

use super::shapes::{self, parse_url, CallFacts, CallTimes, HttpMethod, Outgoing, VonageStatus};
use super::WebhookError;

/// Vonage's defaults for a webhook's `connect_timeout` and
/// `socket_timeout`, used when only one of them is set.
const CONNECT_MS: u64 = 1000;
const SOCKET_MS: u64 = 5000;

/// One webhook of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl {
    /// Where.
    pub url: String,
    /// GET or POST.
    pub method: HttpMethod,
    /// Its own timeout: Vonage's `connect_timeout` plus `socket_timeout`
    /// (ms) when either is set; else the client's.
    pub timeout: Option<Duration>,
}

/// Where an application is asked, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppHooks {
    /// The answer URL (the application's endpoint).
    pub answer: AppUrl,
    /// The fallback answer URL, when set.
    pub fallback: Option<AppUrl>,
    /// Where status events (and NCCO results without a URL of their own)
    /// go, when set.
    pub event: Option<AppUrl>,
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

fn timeout_of(h: Option<&Value>) -> Option<Duration> {
    let ms = |k: &str| h.and_then(|h| h.get(k)).and_then(Value::as_u64);
    match (ms("connect_timeout"), ms("socket_timeout")) {
        (None, None) => None,
        (c, s) => Some(Duration::from_millis(c.unwrap_or(CONNECT_MS) + s.unwrap_or(SOCKET_MS))),
    }
}

fn address(h: Option<&Value>, method_default: HttpMethod) -> Result<Option<AppUrl>, WebhookError> {
    match h.and_then(|h| h.get("address")).and_then(Value::as_str).filter(|a| !a.trim().is_empty()) {
        None => Ok(None),
        Some(a) => {
            parse_url(a)?;
            Ok(Some(AppUrl {
                url: a.to_owned(),
                method: method_of(h, method_default),
                timeout: timeout_of(h),
            }))
        }
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
            answer: AppUrl {
                url: endpoint.to_owned(),
                method: method_of(hook(capabilities, "answer_url"), HttpMethod::Post),
                timeout: timeout_of(hook(capabilities, "answer_url")),
            },
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

    fn first(&self, hook: &AppUrl, call: &CallFacts) -> Result<Outgoing, WebhookError> {
        let req = if self.vonage {
            shapes::vonage_answer(&hook.url, hook.method, call)
        } else {
            shapes::fonoster(&hook.url, call, &Map::new())
        };
        Ok(req?.with_timeout(hook.timeout))
    }

    /// A status event to the event_url, when the application has one.
    pub fn status_request(
        &self,
        call: &CallFacts,
        status: VonageStatus,
        now_ms: i64,
        times: Option<CallTimes>,
    ) -> Option<Result<Outgoing, WebhookError>> {
        let hook = self.event.as_ref()?;
        let req = shapes::vonage_event(&hook.url, hook.method, call, status, now_ms, times);
        Some(req.map(|r| r.with_timeout(hook.timeout)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::webhooks::shapes::{Body, CallDirection};
    use serde_json::json;

    pub(crate) fn call() -> CallFacts {
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
        assert_eq!((o.timeout, f.timeout), (None, None));
        let timed = json!({"voice": {"webhooks": {
            "answer_url": {"http_method": "POST", "socket_timeout": 2000},
            "event_url": {"address": "https://app.example/event", "connect_timeout": 500, "socket_timeout": 1500},
        }}});
        let h = AppHooks::from_application("https://app.example/answer", Some(&timed)).unwrap();
        assert_eq!(h.answer_request(&call()).unwrap().timeout, Some(Duration::from_millis(3000)));
        let e = h.status_request(&call(), VonageStatus::Ringing, 0, None).unwrap().unwrap();
        assert_eq!(e.timeout, Some(Duration::from_millis(2000)));
        let bad = json!({"voice": {"webhooks": {"event_url": {"address": "not a url"}}}});
        assert!(AppHooks::from_application("https://app.example/answer", Some(&bad)).is_err());
        assert!(AppHooks::from_application("", None).is_err());
    }
}
