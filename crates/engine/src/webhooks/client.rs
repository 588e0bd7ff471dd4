//! The one HTTP client: every request signed, a timeout on each attempt
//! (waiting for a connection slot included), at most `per_host` requests
//! in flight to one host, bodies read up to a cap, a few redirects
//! followed and no more, retries with backoff for events only, and the
//! fallback answer URL when the answer URL fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::answer::Script;
use super::secret::Secret;
use super::shapes::{Body, HttpMethod, Outgoing};
use super::sign::{sign, HEADER};
use super::WebhookError;

/// The client's limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Longest one attempt may take, from asking for a slot to the last
    /// byte of the body (a request may carry its own).
    pub timeout: Duration,
    /// Longest a TCP (and TLS) connection may take to open.
    pub connect_timeout: Duration,
    /// Largest body read; a longer one is [`WebhookError::TooLarge`].
    pub max_body: usize,
    /// Redirects followed at most; one more is
    /// [`WebhookError::TooManyRedirects`].
    pub max_redirects: usize,
    /// Requests in flight to one host (host and port) at most; more wait.
    pub per_host: usize,
    /// Distinct hosts with requests in flight at most.
    pub max_hosts: usize,
    /// Attempts at an event request (the first included).
    pub event_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub event_backoff: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            max_body: 1024 * 1024,
            max_redirects: 3,
            per_host: 16,
            max_hosts: 1024,
            event_attempts: 3,
            event_backoff: Duration::from_millis(500),
        }
    }
}

/// A 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The Content-Type header, empty when none.
    pub content_type: String,
    /// The body, at most the cap.
    pub body: Vec<u8>,
}

/// A script fetched for a call, and how.
#[derive(Debug)]
pub struct Answer {
    /// What the application answered.
    pub script: Script,
    /// Why the answer URL failed when the script came from the fallback;
    /// the call reports it as an event.
    pub answer_error: Option<WebhookError>,
}

/// Sends signed requests; cheap to share (`Arc`).
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    cfg: Config,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Client {
    /// A client with these limits.
    pub fn new(cfg: Config) -> Result<Self, WebhookError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(cfg.max_redirects))
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("Calliope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Network { url: String::new(), detail: e.to_string() })?;
        Ok(Client { http, cfg, hosts: Mutex::new(HashMap::new()) })
    }

    /// Its limits.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The slot semaphore of `req`'s host, made when first needed.
    fn host_slots(&self, req: &Outgoing) -> Result<Arc<Semaphore>, WebhookError> {
        let key =
            format!("{}:{}", req.url.host_str().unwrap_or(""), req.url.port_or_known_default().unwrap_or(0));
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = hosts.get(&key) {
            return Ok(s.clone());
        }
        if hosts.len() >= self.cfg.max_hosts {
            // Forget hosts with nothing in flight.
            let per_host = self.cfg.per_host;
            hosts.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < per_host);
            if hosts.len() >= self.cfg.max_hosts {
                return Err(WebhookError::Busy { url: req.url.to_string() });
            }
        }
        let s = Arc::new(Semaphore::new(self.cfg.per_host.max(1)));
        hosts.insert(key, s.clone());
        Ok(s)
    }

    /// One attempt at `req`, signed with `secret`, reading at most the
    /// configured cap: a 2xx [`Reply`] or the reason why not.
    pub async fn send(&self, req: &Outgoing, secret: &Secret) -> Result<Reply, WebhookError> {
        self.send_capped(req, secret, self.cfg.max_body).await
    }

    /// Like [`Client::send`], with its own body cap.
    pub async fn send_capped(
        &self,
        req: &Outgoing,
        secret: &Secret,
        max_body: usize,
    ) -> Result<Reply, WebhookError> {
        let url = req.url.to_string();
        let limit = req.timeout.unwrap_or(self.cfg.timeout);
        let ms = limit.as_millis() as u64;
        let started = std::time::Instant::now();
        let result = match tokio::time::timeout(limit, self.attempt(req, secret, max_body)).await {
            Ok(r) => r,
            Err(_) => Err(WebhookError::Timeout { url, ms }),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.cause(),
        };
        crate::metrics::webhook(outcome, started.elapsed());
        result
    }

    async fn attempt(&self, req: &Outgoing, secret: &Secret, max_body: usize) -> Result<Reply, WebhookError> {
        let url = req.url.to_string();
        let slots = self.host_slots(req)?;
        let _slot = slots.acquire().await.map_err(|_| WebhookError::Busy { url: url.clone() })?;
        let signature = sign(secret, unix_now(), req.signed_payload());
        let mut builder = match req.method {
            HttpMethod::Get => self.http.get(req.url.clone()),
            HttpMethod::Post => self.http.post(req.url.clone()),
        }
        .header(HEADER, signature)
        .header(reqwest::header::ACCEPT, "application/json, application/xml;q=0.9, */*;q=0.1");
        builder = match &req.body {
            Body::Empty => builder,
            Body::Json(b) => {
                builder.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.clone())
            }
            Body::Form(b) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(b.clone()),
        };
        let mut resp = builder.send().await.map_err(|e| self.transport_error(&url, &e))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            return Err(WebhookError::Status { url, status });
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let too_large = || WebhookError::TooLarge { url: url.clone(), limit: max_body };
        if resp.content_length().is_some_and(|n| n > max_body as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&url, &e))? {
            if body.len() + chunk.len() > max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { status, content_type, body })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> WebhookError {
        if e.is_redirect() {
            WebhookError::TooManyRedirects { url: url.to_owned(), max: self.cfg.max_redirects }
        } else if e.is_timeout() {
            WebhookError::Timeout { url: url.to_owned(), ms: self.cfg.timeout.as_millis() as u64 }
        } else {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                detail = format!("{detail}: {s}");
                source = s.source();
            }
            WebhookError::Network { url: url.to_owned(), detail }
        }
    }

    /// One attempt at `req`, its answer read as a [`Script`].
    pub async fn script(&self, req: &Outgoing, secret: &Secret) -> Result<Script, WebhookError> {
        let reply = self.send(req, secret).await?;
        Script::read(req.url.as_str(), &reply.content_type, &reply.body)
    }

    /// The script for a call: `answer` once (never retried), and when it
    /// fails in any way (network, timeout, HTTP status, an answer that is
    /// not a script) `fallback` once. Both failing is
    /// [`WebhookError::FallbackFailed`].
    pub async fn answer(
        &self,
        answer: &Outgoing,
        fallback: Option<&Outgoing>,
        secret: &Secret,
    ) -> Result<Answer, WebhookError> {
        match self.script(answer, secret).await {
            Ok(script) => Ok(Answer { script, answer_error: None }),
            Err(first) => match fallback {
                None => Err(first),
                Some(fb) => match self.script(fb, secret).await {
                    Ok(script) => Ok(Answer { script, answer_error: Some(first) }),
                    Err(second) => Err(WebhookError::FallbackFailed {
                        answer: Box::new(first),
                        fallback: Box::new(second),
                    }),
                },
            },
        }
    }

    /// An event: tried up to `event_attempts` times while the failure is
    /// transient ([`WebhookError::is_transient`]), waiting `event_backoff`,
    /// then twice that, and so on; the last failure when it gives up.
    pub async fn event(&self, req: &Outgoing, secret: &Secret) -> Result<Reply, WebhookError> {
        let mut wait = self.cfg.event_backoff;
        let mut attempt = 1;
        loop {
            match self.send(req, secret).await {
                Ok(r) => return Ok(r),
                Err(e) if attempt < self.cfg.event_attempts.max(1) && e.is_transient() => {
                    tracing::debug!(url = %req.url, attempt, error = %e, "event request failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
