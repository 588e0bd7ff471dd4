//! The requests of each dialect, built as plain [`Outgoing`] values that the
//! client signs and sends: Fonoster's JSON POST, Vonage's answer (GET with
//! query parameters, or POST JSON) and status events, and Twilio's form
//! parameters for applications that answered with TwiML.

use std::time::Duration;

use serde_json::{json, Map, Value};
use url::Url;

use super::WebhookError;

/// GET or POST, as an application's `http_method` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    /// Parameters in the query string.
    Get,
    /// Parameters in the body.
    #[default]
    Post,
}

impl HttpMethod {
    /// `GET` or `POST` (any case); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }
}

/// A request body and its Content-Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body (a GET).
    Empty,
    /// `application/json`.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<u8>),
}

/// One request, ready to sign and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// GET or POST.
    pub method: HttpMethod,
    /// Where, with any query parameters already in it.
    pub url: Url,
    /// What is sent.
    pub body: Body,
    /// This request's own timeout, instead of the client's.
    pub timeout: Option<Duration>,
}

impl Outgoing {
    /// The bytes the signature covers: the body, or for a request without
    /// one the query string.
    pub fn signed_payload(&self) -> &[u8] {
        match &self.body {
            Body::Json(b) | Body::Form(b) => b,
            Body::Empty => self.url.query().unwrap_or("").as_bytes(),
        }
    }

    /// The same request with its own timeout (`None`: the client's).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// A GET of `url` (audio, or an application's own GET).
    pub fn get(url: &str) -> Result<Self, WebhookError> {
        Ok(Outgoing { method: HttpMethod::Get, url: parse_url(url)?, body: Body::Empty, timeout: None })
    }

    /// `fields` sent as JSON by POST, or as query parameters by GET
    /// (strings as they are, other values as their JSON text).
    pub fn json(url: &str, method: HttpMethod, fields: &Map<String, Value>) -> Result<Self, WebhookError> {
        let mut url = parse_url(url)?;
        match method {
            HttpMethod::Post => {
                let body = serde_json::to_vec(fields).unwrap_or_default();
                Ok(Outgoing { method, url, body: Body::Json(body), timeout: None })
            }
            HttpMethod::Get => {
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in fields {
                        match v {
                            Value::String(s) => q.append_pair(k, s),
                            Value::Null => continue,
                            other => q.append_pair(k, &other.to_string()),
                        };
                    }
                }
                Ok(Outgoing { method, url, body: Body::Empty, timeout: None })
            }
        }
    }

    /// `fields` form-encoded, in the body of a POST or the query of a GET.
    pub fn form(url: &str, method: HttpMethod, fields: &[(String, String)]) -> Result<Self, WebhookError> {
        let mut url = parse_url(url)?;
        match method {
            HttpMethod::Post => {
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    s.append_pair(k, v);
                }
                Ok(Outgoing { method, url, body: Body::Form(s.finish().into_bytes()), timeout: None })
            }
            HttpMethod::Get => {
                url.query_pairs_mut().extend_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                Ok(Outgoing { method, url, body: Body::Empty, timeout: None })
            }
        }
    }
}

/// An absolute http(s) URL, or [`WebhookError::BadUrl`].
pub fn parse_url(text: &str) -> Result<Url, WebhookError> {
    match Url::parse(text) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => Ok(u),
        _ => Err(WebhookError::BadUrl(text.to_owned())),
    }
}

/// Which way a call goes, in the terms of the CDRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallDirection {
    /// From a carrier to the workspace.
    FromPstn,
    /// From the workspace to a carrier (originated by the API or an agent).
    ToPstn,
    /// Between the workspace's own agents.
    IntraCompany,
}

impl CallDirection {
    /// `FROM_PSTN`, `TO_PSTN` or `INTRA_COMPANY` (Fonoster's words).
    pub fn fonoster(self) -> &'static str {
        match self {
            CallDirection::FromPstn => "FROM_PSTN",
            CallDirection::ToPstn => "TO_PSTN",
            CallDirection::IntraCompany => "INTRA_COMPANY",
        }
    }

    /// `inbound` or `outbound` (Vonage's words).
    pub fn vonage(self) -> &'static str {
        match self {
            CallDirection::ToPstn => "outbound",
            _ => "inbound",
        }
    }

    /// `inbound` or `outbound-api` (Twilio's words).
    pub fn twilio(self) -> &'static str {
        match self {
            CallDirection::ToPstn => "outbound-api",
            _ => "inbound",
        }
    }
}

/// The Vonage `conversation_uuid` of a call: `CON-` and the call's uuid,
/// shared by the call's legs. Every place that shows it (the REST API,
/// answer_url, event_url, NCCO action events, stream frames) uses this.
pub fn conversation_uuid(call_uuid: &str) -> String {
    format!("CON-{call_uuid}")
}

/// What every request about a call says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    /// The call's ref (Fonoster `sessionRef`, Vonage `uuid`, Twilio `CallSid`).
    pub call_ref: String,
    /// The conversation's ref (Vonage `conversation_uuid`: for a call,
    /// [`conversation_uuid`] of its uuid).
    pub conversation_ref: String,
    /// The application's ref.
    pub app_ref: String,
    /// The workspace's ref (Twilio `AccountSid`).
    pub workspace_ref: String,
    /// The caller's number or user.
    pub caller: String,
    /// The called number or user.
    pub callee: String,
    /// Which way the call goes.
    pub direction: CallDirection,
    /// The SIP domain the call came through, when known.
    pub domain: Option<String>,
}

/// Fonoster: POST JSON `{sessionRef, appRef, callerNumber, calleeNumber,
/// direction, domain, accessKeyId, ...extra}` (extra carries a result:
/// `digits`, `speech`, `recordingUrl`, `dialStatus`...). Extra keys do not
/// replace the call's own.
pub fn fonoster(url: &str, call: &CallFacts, extra: &Map<String, Value>) -> Result<Outgoing, WebhookError> {
    let mut m = Map::new();
    for (k, v) in extra {
        m.insert(k.clone(), v.clone());
    }
    m.insert("sessionRef".into(), json!(call.call_ref));
    m.insert("appRef".into(), json!(call.app_ref));
    m.insert("accessKeyId".into(), json!(call.workspace_ref));
    m.insert("callerNumber".into(), json!(call.caller));
    m.insert("calleeNumber".into(), json!(call.callee));
    m.insert("direction".into(), json!(call.direction.fonoster()));
    m.insert("domain".into(), json!(call.domain.clone().unwrap_or_default()));
    Outgoing::json(url, HttpMethod::Post, &m)
}

/// Vonage answer_url: `to`, `from`, `uuid`, `conversation_uuid` as query
/// parameters of a GET (Vonage's default), or a JSON body when `method` is
/// POST.
pub fn vonage_answer(url: &str, method: HttpMethod, call: &CallFacts) -> Result<Outgoing, WebhookError> {
    let mut m = Map::new();
    m.insert("to".into(), json!(call.callee));
    m.insert("from".into(), json!(call.caller));
    m.insert("uuid".into(), json!(call.call_ref));
    m.insert("conversation_uuid".into(), json!(call.conversation_ref));
    Outgoing::json(url, method, &m)
}

/// The call statuses Vonage sends to event_url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VonageStatus {
    /// The call was created.
    Started,
    /// The far end is ringing.
    Ringing,
    /// It was answered.
    Answered,
    /// The far end was busy.
    Busy,
    /// The caller gave up before an answer.
    Cancelled,
    /// Nobody answered in time.
    Unanswered,
    /// A leg left a conversation.
    Disconnected,
    /// The far end refused it.
    Rejected,
    /// It could not be placed.
    Failed,
    /// It rang past its timeout.
    Timeout,
    /// It ended after an answer.
    Completed,
}

impl VonageStatus {
    /// The wire word, e.g. `answered`.
    pub fn as_str(self) -> &'static str {
        match self {
            VonageStatus::Started => "started",
            VonageStatus::Ringing => "ringing",
            VonageStatus::Answered => "answered",
            VonageStatus::Busy => "busy",
            VonageStatus::Cancelled => "cancelled",
            VonageStatus::Unanswered => "unanswered",
            VonageStatus::Disconnected => "disconnected",
            VonageStatus::Rejected => "rejected",
            VonageStatus::Failed => "failed",
            VonageStatus::Timeout => "timeout",
            VonageStatus::Completed => "completed",
        }
    }
}

/// The times a `completed` event carries, in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimes {
    /// When the call was answered (or started).
    pub start: i64,
    /// When it ended.
    pub end: i64,
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| format!("{t:.3}")).unwrap_or_default()
}

/// A Vonage status event to event_url: `from`, `to`, `uuid`,
/// `conversation_uuid`, `status`, `direction`, `timestamp`; with `times`
/// also `start_time`, `end_time` and `duration` (whole seconds, as text).
pub fn vonage_event(
    url: &str,
    method: HttpMethod,
    call: &CallFacts,
    status: VonageStatus,
    now_ms: i64,
    times: Option<CallTimes>,
) -> Result<Outgoing, WebhookError> {
    let mut m = Map::new();
    m.insert("from".into(), json!(call.caller));
    m.insert("to".into(), json!(call.callee));
    m.insert("uuid".into(), json!(call.call_ref));
    m.insert("conversation_uuid".into(), json!(call.conversation_ref));
    m.insert("status".into(), json!(status.as_str()));
    m.insert("direction".into(), json!(call.direction.vonage()));
    m.insert("timestamp".into(), json!(rfc3339(now_ms)));
    if let Some(t) = times {
        m.insert("start_time".into(), json!(rfc3339(t.start)));
        m.insert("end_time".into(), json!(rfc3339(t.end)));
        m.insert("duration".into(), json!(((t.end - t.start).max(0) / 1000).to_string()));
    }
    Outgoing::json(url, method, &m)
}

/// Twilio's parameters for a TwiML application: `CallSid`, `AccountSid`,
/// `From`, `To`, `CallStatus`, `Direction`, `ApiVersion`, then `extra`
/// (`Digits`, `SpeechResult`, `Confidence`, `RecordingUrl`,
/// `RecordingDuration`, `DialCallStatus`, ...), form-encoded (POST by
/// default, as Twilio does).
pub fn twilio(
    url: &str,
    method: HttpMethod,
    call: &CallFacts,
    call_status: &str,
    extra: &[(&str, &str)],
) -> Result<Outgoing, WebhookError> {
    let mut fields: Vec<(String, String)> = vec![
        ("CallSid".into(), call.call_ref.clone()),
        ("AccountSid".into(), call.workspace_ref.clone()),
        ("From".into(), call.caller.clone()),
        ("To".into(), call.callee.clone()),
        ("CallStatus".into(), call_status.to_owned()),
        ("Direction".into(), call.direction.twilio().to_owned()),
        ("ApiVersion".into(), "2010-04-01".to_owned()),
    ];
    fields.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Outgoing::form(url, method, &fields)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub(crate) fn facts() -> CallFacts {
        CallFacts {
            call_ref: "call-1".into(),
            conversation_ref: "conv-1".into(),
            app_ref: "app-1".into(),
            workspace_ref: "ws-1".into(),
            caller: "+15550001".into(),
            callee: "+15550002".into(),
            direction: CallDirection::FromPstn,
            domain: Some("sip.example.com".into()),
        }
    }

    fn body_json(o: &Outgoing) -> Value {
        match &o.body {
            Body::Json(b) => serde_json::from_slice(b).unwrap(),
            other => panic!("not JSON: {other:?}"),
        }
    }

    #[test]
    fn fonoster_posts_the_call_and_keeps_its_own_fields() {
        let mut extra = Map::new();
        extra.insert("digits".into(), json!("12"));
        extra.insert("sessionRef".into(), json!("forged"));
        let o = fonoster("http://127.0.0.1:1/hook", &facts(), &extra).unwrap();
        assert_eq!(o.method, HttpMethod::Post);
        let v = body_json(&o);
        assert_eq!(v["sessionRef"], "call-1");
        assert_eq!(v["appRef"], "app-1");
        assert_eq!(v["callerNumber"], "+15550001");
        assert_eq!(v["calleeNumber"], "+15550002");
        assert_eq!(v["direction"], "FROM_PSTN");
        assert_eq!(v["domain"], "sip.example.com");
        assert_eq!(v["digits"], "12");
    }

    #[test]
    fn vonage_answer_is_a_get_with_query_by_default_and_json_by_post() {
        let o = vonage_answer("https://example.com/answer?x=1", HttpMethod::Get, &facts()).unwrap();
        assert_eq!(o.body, Body::Empty);
        let q: Vec<(String, String)> = o.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("x".into(), "1".into())));
        assert!(q.contains(&("to".into(), "+15550002".into())));
        assert!(q.contains(&("from".into(), "+15550001".into())));
        assert!(q.contains(&("uuid".into(), "call-1".into())));
        assert!(q.contains(&("conversation_uuid".into(), "conv-1".into())));
        assert_eq!(o.signed_payload(), o.url.query().unwrap().as_bytes());
        let p = vonage_answer("https://example.com/answer", HttpMethod::Post, &facts()).unwrap();
        assert_eq!(body_json(&p)["conversation_uuid"], "conv-1");
    }

    #[test]
    fn a_completed_event_carries_times_and_duration() {
        let t = CallTimes { start: 1_700_000_000_000, end: 1_700_000_042_500 };
        let o =
            vonage_event("http://h/e", HttpMethod::Post, &facts(), VonageStatus::Completed, t.end, Some(t))
                .unwrap();
        let v = body_json(&o);
        assert_eq!(v["status"], "completed");
        assert_eq!(v["direction"], "inbound");
        assert_eq!(v["duration"], "42");
        assert_eq!(v["start_time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(v["end_time"], "2023-11-14T22:14:02.500Z");
        let r = vonage_event("http://h/e", HttpMethod::Post, &facts(), VonageStatus::Ringing, t.end, None)
            .unwrap();
        assert!(body_json(&r).get("duration").is_none());
    }

    #[test]
    fn twilio_parameters_are_form_encoded() {
        let o =
            twilio("http://h/t", HttpMethod::Post, &facts(), "in-progress", &[("Digits", "1 2&3")]).unwrap();
        let Body::Form(b) = &o.body else { panic!("not a form") };
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(b).into_owned().collect();
        assert!(pairs.contains(&("CallSid".into(), "call-1".into())));
        assert!(pairs.contains(&("From".into(), "+15550001".into())));
        assert!(pairs.contains(&("Digits".into(), "1 2&3".into())));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        for bad in ["", "ftp://h/x", "/relative", "http://", "javascript:alert(1)"] {
            assert!(matches!(Outgoing::get(bad), Err(WebhookError::BadUrl(_))), "{bad}");
        }
        assert_eq!(HttpMethod::parse("get"), Some(HttpMethod::Get));
        assert_eq!(HttpMethod::parse("PUT"), None);
    }
}
