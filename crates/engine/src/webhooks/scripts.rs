//! The webhook side of a program: [`WebhookScripts`] fetches a call's first
//! program (answer URL, then the fallback) and implements
//! [`program::Scripts`]: each result is encoded as the current script's
//! dialect does ([`program::encode`]), signed and sent, and a program in
//! the answer ([`program::parse_answer`]) replaces the rest.
//!
//! Where a result goes when its verb names no URL: Fonoster, the endpoint;
//! NCCO, the application's event_url, else the endpoint; TwiML, the URL of
//! the document being run (as Twilio does). A relative URL is resolved
//! against that document's URL. A result whose answer replaces the script
//! is sent once; one that does not (an event) is retried as events are.

use std::sync::Arc;

use serde_json::Value;

use super::client::Reply;
use super::shapes::{CallFacts, HttpMethod, Outgoing};
use super::{AppHooks, Client, Secret, WebhookError};
use crate::clock::Clock;
use crate::program::{self, CallInfo, Dialect, Next, Report, ScriptError, Scripts, Verb};

/// A request that failed on the way, for the call's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The stable cause, e.g. `WEBHOOK_TIMEOUT` or `WEBHOOK_BAD_ANSWER`.
    pub cause: &'static str,
    /// What happened.
    pub detail: String,
}

/// Why a program could not be had from one URL.
enum Fetch {
    Http(WebhookError),
    Parse(program::ParseError),
}

impl Fetch {
    fn failure(&self) -> Failure {
        match self {
            Fetch::Http(e) => Failure { cause: e.cause(), detail: e.to_string() },
            Fetch::Parse(e) => Failure { cause: "WEBHOOK_BAD_ANSWER", detail: e.to_string() },
        }
    }

    fn into_script_error(self) -> ScriptError {
        match self {
            Fetch::Http(e) => ScriptError::Fetch(format!("{} ({})", e, e.cause())),
            Fetch::Parse(e) => ScriptError::Parse(e),
        }
    }
}

/// One call's conversation with its application.
#[derive(Debug)]
pub struct WebhookScripts {
    client: Arc<Client>,
    secret: Secret,
    hooks: AppHooks,
    facts: CallFacts,
    clock: Arc<dyn Clock>,
    dialect: Dialect,
    document: String,
    failures: Vec<Failure>,
}

fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| format!("{t:.3}")).unwrap_or_default()
}

impl WebhookScripts {
    /// The conversation of the call `facts` with the application `hooks`,
    /// requests signed with `secret`, times from `clock`.
    pub fn new(
        client: Arc<Client>,
        secret: Secret,
        hooks: AppHooks,
        facts: CallFacts,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let document = hooks.answer.url.clone();
        let dialect = if hooks.vonage { Dialect::Ncco } else { Dialect::Fonoster };
        WebhookScripts { client, secret, hooks, facts, clock, dialect, document, failures: Vec::new() }
    }

    /// The dialect of the script being run.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Requests that failed without ending the program (an answer URL whose
    /// fallback answered, an event given up); each is reported once.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        std::mem::take(&mut self.failures)
    }

    /// The first program: the answer URL once, then the fallback answer
    /// URL once when it fails in any way (network, timeout, HTTP status, an
    /// answer that is not a script). The answer URL's failure is kept in
    /// [`WebhookScripts::take_failures`].
    pub async fn first(&mut self) -> Result<Vec<Verb>, ScriptError> {
        let answer =
            self.hooks.answer_request(&self.facts).map_err(|e| Fetch::Http(e).into_script_error())?;
        let first = self.program(&answer).await;
        let err = match first {
            Ok(verbs) => return Ok(verbs),
            Err(e) => e,
        };
        let Some(fallback) = self.hooks.fallback_request(&self.facts) else {
            return Err(err.into_script_error());
        };
        let fallback = fallback.map_err(|e| Fetch::Http(e).into_script_error())?;
        match self.program(&fallback).await {
            Ok(verbs) => {
                self.failures.push(err.failure());
                Ok(verbs)
            }
            Err(second) => {
                self.failures.push(err.failure());
                Err(second.into_script_error())
            }
        }
    }

    /// Sends `req` once and reads a program from its answer; the program's
    /// dialect and URL become the current ones.
    async fn program(&mut self, req: &Outgoing) -> Result<Vec<Verb>, Fetch> {
        let reply = self.client.send(req, &self.secret).await.map_err(Fetch::Http)?;
        self.read(req, &reply)
    }

    fn read(&mut self, req: &Outgoing, reply: &Reply) -> Result<Vec<Verb>, Fetch> {
        let (dialect, verbs) =
            program::parse_answer(&reply.content_type, &reply.body).map_err(Fetch::Parse)?;
        self.dialect = dialect;
        let mut doc = req.url.clone();
        if matches!(req.body, super::shapes::Body::Empty) {
            doc.set_query(None);
        }
        self.document = doc.to_string();
        Ok(verbs)
    }

    fn target(&self, url: Option<&str>) -> Result<String, WebhookError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => {
                let base = super::shapes::parse_url(&self.document)?;
                let joined = base.join(u).map_err(|_| WebhookError::BadUrl(u.to_owned()))?;
                Ok(super::shapes::parse_url(joined.as_str())?.to_string())
            }
            None => Ok(match (self.dialect, &self.hooks.event) {
                (Dialect::Ncco, Some(event)) => event.url.clone(),
                (Dialect::Twiml, _) => self.document.clone(),
                _ => self.hooks.answer.url.clone(),
            }),
        }
    }

    fn request(&self, report: &Report) -> Result<Outgoing, WebhookError> {
        let call = CallInfo {
            call_id: self.facts.call_ref.clone(),
            conversation_id: self.facts.conversation_ref.clone(),
            app_ref: self.facts.app_ref.clone(),
            from: self.facts.caller.clone(),
            to: self.facts.callee.clone(),
            direction: self.facts.direction.vonage().to_owned(),
            timestamp: timestamp(self.clock.now()),
        };
        let url = self.target(report.hook.url.as_deref())?;
        let method = match report.hook.method {
            program::Method::Get => HttpMethod::Get,
            program::Method::Post => HttpMethod::Post,
        };
        match program::encode(self.dialect, report, &call) {
            program::Body::Json(Value::Object(fields)) => Outgoing::json(&url, method, &fields),
            program::Body::Json(other) => {
                let mut fields = serde_json::Map::new();
                fields.insert("payload".into(), other);
                Outgoing::json(&url, method, &fields)
            }
            program::Body::Form(pairs) => Outgoing::form(&url, method, &pairs),
        }
    }
}

impl Scripts for WebhookScripts {
    async fn submit(&mut self, report: Report) -> Result<Next, ScriptError> {
        let req = self.request(&report).map_err(|e| Fetch::Http(e).into_script_error())?;
        if !report.hook.replaces {
            if let Err(e) = self.client.event(&req, &self.secret).await {
                let fetch = Fetch::Http(e);
                self.failures.push(fetch.failure());
                return Err(fetch.into_script_error());
            }
            return Ok(Next::Continue);
        }
        let reply =
            self.client.send(&req, &self.secret).await.map_err(|e| Fetch::Http(e).into_script_error())?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Next::Continue);
        }
        self.read(&req, &reply).map(Next::Replace).map_err(Fetch::into_script_error)
    }
}
