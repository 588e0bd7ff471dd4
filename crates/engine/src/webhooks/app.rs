//! An application's webhooks, read from its record (`endpoint` and Vonage
//! `capabilities`), and the requests a call makes to them for its first
//! script and its status events. (Results are encoded by
//! `program::encode` and sent by [`super::WebhookScripts`].)
//!
//! An application with `capabilities.voice` is asked as Vonage does (the
//! answer URL with `to`, `from`, `uuid`, `conversation_uuid`, by its
//! `http_method`, POST when none is stored), any other as Fonoster does
//! (POST JSON to the endpoint).

use serde_json::{Map, Value};

use super::shapes::{self, parse_url, CallFacts, CallTimes, HttpMethod, Outgoing, VonageStatus};
use super::WebhookError;

/// Where an application is asked, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppHooks {
    /// The answer URL (the application's endpoint).
    pub answer: (String, HttpMethod),
    /// The fallback answer URL, when set.
    pub fallback: Option<(String, HttpMethod)>,
    /// Where status events (and NCCO results without a URL of their own)
    /// go, when set.
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
        let bad = json!({"voice": {"webhooks": {"event_url": {"address": "not a url"}}}});
        assert!(AppHooks::from_application("https://app.example/answer", Some(&bad)).is_err());
        assert!(AppHooks::from_application("", None).is_err());
    }
}
