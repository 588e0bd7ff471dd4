//! The webhook client against a real local HTTP server (axum on
//! 127.0.0.1, a free port): every request's signature is verified by the
//! server; the dialects' request shapes; the fallback answer URL when the
//! answer URL refuses connections, answers 500 or hangs; events retried
//! and given up; bad answers (garbage, HTML, 10 MB, a redirect loop) as
//! typed errors; a WAV fetched by URL, cached, and a non-WAV refused.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use engine::program::{Collected, Dialect, Hook, Next, Report, ScriptError, Scripts, Verb, VerbResult};
use engine::webhooks::shapes::{self, CallTimes};
use engine::webhooks::{
    verify, AppHooks, AudioCache, CallDirection, CallFacts, Client, Config, HttpMethod, Script, Secret,
    VonageStatus, WebhookError, WebhookScripts, HEADER,
};
use serde_json::{json, Map, Value};

const SECRET: &str = "whsec_test_secret";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    method: Method,
    query: String,
    body: Vec<u8>,
    content_type: String,
    signature_ok: bool,
}

#[derive(Default)]
struct Hits {
    seen: Mutex<Vec<Seen>>,
    counts: Mutex<HashMap<String, usize>>,
    /// Requests to `slow` being answered now, and the most at once.
    slow_now: std::sync::atomic::AtomicUsize,
    slow_peak: std::sync::atomic::AtomicUsize,
}

impl Hits {
    fn count(&self, path: &str) -> usize {
        self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn wav_bytes() -> Vec<u8> {
    let samples: Vec<i16> = (0..8000).map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16).collect();
    media::wav::write(media::wav::Encoding::Pcm16, 8000, &samples).unwrap()
}

fn typed(ct: &'static str, body: impl Into<axum::body::Body>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, ct)], body.into()).into_response()
}

async fn hook(
    State(hits): State<Arc<Hits>>,
    Path(name): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let payload: &[u8] = if body.is_empty() { query.as_bytes() } else { &body };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signature_ok = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| verify(&Secret::from_text(SECRET), h, payload, now, 300).is_ok());
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    hits.seen.lock().unwrap().push(Seen {
        path: name.clone(),
        method,
        query,
        body: body.to_vec(),
        content_type,
        signature_ok,
    });
    if name == "slow" {
        // A slow receiver, slower for `ringing` than for what follows it:
        // pushes of one call sent side by side would arrive out of order.
        use std::sync::atomic::Ordering;
        let now = hits.slow_now.fetch_add(1, Ordering::SeqCst) + 1;
        hits.slow_peak.fetch_max(now, Ordering::SeqCst);
        let ringing = serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["Answer-State"] == "ringing");
        tokio::time::sleep(Duration::from_millis(if ringing { 60 } else { 5 })).await;
        hits.slow_now.fetch_sub(1, Ordering::SeqCst);
    }
    let n = {
        let mut c = hits.counts.lock().unwrap();
        let n = c.entry(name.clone()).or_default();
        *n += 1;
        *n
    };
    match name.as_str() {
        "fonoster" => typed("application/json", r#"{"commands":[{"say":{"text":"hello"}}]}"#),
        "ncco" => typed("application/json", r#"[{"action":"talk","text":"fallback here"}]"#),
        "ncco_input" => typed(
            "application/json",
            r#"[{"action":"talk","text":"press"},{"action":"input","type":["dtmf"],"dtmf":{"maxDigits":3}}]"#,
        ),
        "fonoster_hangup" => typed("application/json", r#"{"commands":[{"hangup":{}}]}"#),
        "twimlgather" => typed(
            "application/xml",
            r#"<Response><Gather action="next" numDigits="1"><Say>Press one</Say></Gather></Response>"#,
        ),
        "next" => typed("text/xml", "<Response><Hangup/></Response>"),
        "empty" => typed("application/json", ""),
        "twiml" => typed("application/xml", "<?xml version=\"1.0\"?><Response><Say>Hi</Say></Response>"),
        "status500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            typed("application/json", "[]")
        }
        "html" => typed("text/html", "<html><body>It works!</body></html>"),
        "garbage" => typed("application/json", "\u{1}\u{2}garbage{{"),
        "big" => typed("application/json", vec![b' '; 10 * 1024 * 1024]),
        "loop" => (StatusCode::FOUND, [(axum::http::header::LOCATION, "/h/loop")]).into_response(),
        "flaky" if n < 3 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "flaky" => typed("application/json", "{}"),
        "down" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "notfound" => StatusCode::NOT_FOUND.into_response(),
        "wav" => typed("audio/wav", wav_bytes()),
        "notwav" => typed("audio/wav", "RIFF but not really a wave file"),
        "htmlwav" => typed("text/html", "<html>a web page</html>"),
        "ws1" | "ws2" | "slow" => typed("application/json", "{}"),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

struct Server {
    addr: SocketAddr,
    hits: Arc<Hits>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start() -> Server {
        let hits = Arc::new(Hits::default());
        let app = Router::new().route("/h/{name}", any(hook)).with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server { addr, hits, task }
    }
    fn url(&self, name: &str) -> String {
        format!("http://{}/h/{name}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn client(timeout_ms: u64) -> Client {
    Client::new(Config {
        timeout: Duration::from_millis(timeout_ms),
        event_attempts: 3,
        event_backoff: Duration::from_millis(50),
        ..Config::default()
    })
    .unwrap()
}

fn secret() -> Secret {
    Secret::from_text(SECRET)
}

fn facts() -> CallFacts {
    CallFacts {
        call_ref: "call-7".into(),
        conversation_ref: "conv-7".into(),
        app_ref: "app-7".into(),
        workspace_ref: "ws-7".into(),
        caller: "+15551234".into(),
        callee: "+15559876".into(),
        direction: CallDirection::FromPstn,
        domain: Some("sip.local".into()),
    }
}

/// A port where nothing listens.
async fn closed_port_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/h/ncco")
}

#[tokio::test]
async fn fonoster_request_is_signed_and_its_commands_come_back() {
    let s = Server::start().await;
    let c = client(2000);
    let req = shapes::fonoster(&s.url("fonoster"), &facts(), &Map::new()).unwrap();
    let answer = c.answer(&req, None, &secret()).await.unwrap();
    assert!(answer.answer_error.is_none());
    assert_eq!(answer.script, Script::Fonoster(vec![json!({"say":{"text":"hello"}})]));
    let seen = s.hits.seen("fonoster");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].signature_ok);
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].content_type, "application/json");
    let v: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(v["sessionRef"], "call-7");
    assert_eq!(v["appRef"], "app-7");
    assert_eq!(v["callerNumber"], "+15551234");
    assert_eq!(v["calleeNumber"], "+15559876");
    assert_eq!(v["direction"], "FROM_PSTN");
    assert_eq!(v["domain"], "sip.local");
}

#[tokio::test]
async fn a_wrong_secret_fails_the_servers_check() {
    let s = Server::start().await;
    let req = shapes::fonoster(&s.url("fonoster"), &facts(), &Map::new()).unwrap();
    client(2000).send(&req, &Secret::from_text("whsec_other")).await.unwrap();
    assert!(!s.hits.seen("fonoster")[0].signature_ok);
}

#[tokio::test]
async fn vonage_answer_by_get_and_by_post() {
    let s = Server::start().await;
    let c = client(2000);
    let get = shapes::vonage_answer(&s.url("ncco"), HttpMethod::Get, &facts()).unwrap();
    let a = c.answer(&get, None, &secret()).await.unwrap();
    assert!(matches!(&a.script, Script::Ncco(n) if n[0]["action"] == "talk"));
    let post = shapes::vonage_answer(&s.url("ncco"), HttpMethod::Post, &facts()).unwrap();
    c.answer(&post, None, &secret()).await.unwrap();

    let seen = s.hits.seen("ncco");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.signature_ok));
    assert_eq!(seen[0].method, Method::GET);
    assert!(seen[0].body.is_empty());
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(seen[0].query.as_bytes()).into_owned().collect();
    assert_eq!(q["to"], "+15559876");
    assert_eq!(q["from"], "+15551234");
    assert_eq!(q["uuid"], "call-7");
    assert_eq!(q["conversation_uuid"], "conv-7");
    assert_eq!(seen[1].method, Method::POST);
    let v: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!((v["to"].as_str(), v["uuid"].as_str()), (Some("+15559876"), Some("call-7")));
}

#[tokio::test]
async fn twiml_answers_and_twilio_form_parameters() {
    let s = Server::start().await;
    let req = shapes::twilio(&s.url("twiml"), HttpMethod::Post, &facts(), "in-progress", &[("Digits", "42")])
        .unwrap();
    let script = client(2000).script(&req, &secret()).await.unwrap();
    assert!(matches!(script, Script::Twiml(x) if x.contains("<Say>Hi</Say>")));
    let seen = &s.hits.seen("twiml")[0];
    assert!(seen.signature_ok);
    assert_eq!(seen.content_type, "application/x-www-form-urlencoded");
    let f: HashMap<String, String> = url::form_urlencoded::parse(&seen.body).into_owned().collect();
    assert_eq!(
        (f["CallSid"].as_str(), f["Digits"].as_str(), f["To"].as_str()),
        ("call-7", "42", "+15559876")
    );
}

#[tokio::test]
async fn fallback_is_used_when_the_answer_url_refuses_errs_or_hangs() {
    let s = Server::start().await;
    let c = client(500);
    let fallback = shapes::vonage_answer(&s.url("ncco"), HttpMethod::Get, &facts()).unwrap();
    let refused = closed_port_url().await;
    for (answer_url, cause) in [
        (refused.as_str(), "WEBHOOK_NETWORK_ERROR"),
        (&s.url("status500"), "WEBHOOK_HTTP_ERROR"),
        (&s.url("hang"), "WEBHOOK_TIMEOUT"),
    ] {
        let req = shapes::vonage_answer(answer_url, HttpMethod::Get, &facts()).unwrap();
        let started = Instant::now();
        let a = c.answer(&req, Some(&fallback), &secret()).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "{answer_url} took {:?}", started.elapsed());
        assert!(matches!(&a.script, Script::Ncco(n) if n[0]["text"] == "fallback here"));
        assert_eq!(a.answer_error.as_ref().map(WebhookError::cause), Some(cause), "{answer_url}");
    }
    assert_eq!(s.hits.count("ncco"), 3);
    assert_eq!(s.hits.count("status500"), 1, "an answer URL is never retried");
    assert!(s.hits.seen("ncco").iter().chain(s.hits.seen("hang").iter()).all(|r| r.signature_ok));

    // Both down: one error naming both, with the fallback's cause.
    let req = shapes::vonage_answer(&s.url("status500"), HttpMethod::Get, &facts()).unwrap();
    let fb = shapes::vonage_answer(&refused, HttpMethod::Get, &facts()).unwrap();
    let e = c.answer(&req, Some(&fb), &secret()).await.unwrap_err();
    assert!(
        matches!(&e, WebhookError::FallbackFailed { answer, .. } if answer.cause() == "WEBHOOK_HTTP_ERROR")
    );
    assert_eq!(e.cause(), "WEBHOOK_NETWORK_ERROR");
}

#[tokio::test]
async fn bad_answers_are_typed_errors() {
    let s = Server::start().await;
    let c = client(3000);
    for (name, cause) in [
        ("garbage", "WEBHOOK_MALFORMED_ANSWER"),
        ("html", "WEBHOOK_NOT_A_SCRIPT"),
        ("big", "WEBHOOK_ANSWER_TOO_LARGE"),
        ("loop", "WEBHOOK_REDIRECT_LOOP"),
        ("notfound", "WEBHOOK_HTTP_ERROR"),
    ] {
        let req = shapes::fonoster(&s.url(name), &facts(), &Map::new()).unwrap();
        let e = c.answer(&req, None, &secret()).await.unwrap_err();
        assert_eq!(e.cause(), cause, "{name}: {e}");
    }
    // The loop was followed a few times, then given up.
    let loops = s.hits.count("loop");
    assert_eq!(loops, c.config().max_redirects + 1);
}

#[tokio::test]
async fn a_body_without_length_is_cut_at_the_cap() {
    // A raw server that streams 2 MB without Content-Length, then closes.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[")
                .await;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..32 {
                if sock.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }
    });
    let req = shapes::fonoster(&format!("http://{addr}/x"), &facts(), &Map::new()).unwrap();
    let e = client(3000).answer(&req, None, &secret()).await.unwrap_err();
    task.abort();
    assert!(matches!(e, WebhookError::TooLarge { limit, .. } if limit == 1024 * 1024), "{e}");
}

#[tokio::test]
async fn events_are_retried_then_given_up() {
    let s = Server::start().await;
    let c = client(1000);
    let t = CallTimes { start: 1_700_000_000_000, end: 1_700_000_030_000 };
    let flaky = shapes::vonage_event(
        &s.url("flaky"),
        HttpMethod::Post,
        &facts(),
        VonageStatus::Completed,
        t.end,
        Some(t),
    )
    .unwrap();
    c.event(&flaky, &secret()).await.unwrap();
    assert_eq!(s.hits.count("flaky"), 3);
    let seen = s.hits.seen("flaky");
    assert!(seen.iter().all(|r| r.signature_ok));
    let v: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!((v["status"].as_str(), v["duration"].as_str()), (Some("completed"), Some("30")));
    assert_eq!(v["direction"], "inbound");
    assert!(v["start_time"].is_string() && v["end_time"].is_string());

    let down =
        shapes::vonage_event(&s.url("down"), HttpMethod::Post, &facts(), VonageStatus::Ringing, t.end, None)
            .unwrap();
    let started = Instant::now();
    let e = c.event(&down, &secret()).await.unwrap_err();
    assert_eq!(e.cause(), "WEBHOOK_HTTP_ERROR");
    assert_eq!(s.hits.count("down"), 3);
    // Backoff 50 ms then 100 ms.
    assert!(started.elapsed() >= Duration::from_millis(150));

    // A 404 is not worth retrying.
    let gone = shapes::vonage_event(
        &s.url("notfound"),
        HttpMethod::Post,
        &facts(),
        VonageStatus::Ringing,
        t.end,
        None,
    )
    .unwrap();
    c.event(&gone, &secret()).await.unwrap_err();
    assert_eq!(s.hits.count("notfound"), 1);
}

#[tokio::test]
async fn wav_by_url_is_cached_and_a_non_wav_refused() {
    let s = Server::start().await;
    let cache = AudioCache::new(Arc::new(client(2000)), Default::default());
    let src = cache.source(&s.url("wav"), &secret()).await.unwrap();
    assert_eq!(src.samples().len(), 8000);
    assert!(src.samples().iter().any(|&x| x.abs() > 4000));
    assert!(cache.contains(&s.url("wav")));
    let again = cache.source(&s.url("wav"), &secret()).await.unwrap();
    assert_eq!(again.samples(), src.samples());
    assert_eq!(s.hits.count("wav"), 1, "the second play came from the cache");
    assert!(s.hits.seen("wav")[0].signature_ok);

    for name in ["notwav", "htmlwav"] {
        let e = cache.source(&s.url(name), &secret()).await.unwrap_err();
        assert_eq!(e.cause(), "AUDIO_NOT_WAV", "{name}: {e}");
        assert!(!cache.contains(&s.url(name)));
    }
    let e = cache.source(&s.url("status500"), &secret()).await.unwrap_err();
    assert_eq!(e.cause(), "WEBHOOK_HTTP_ERROR");
    let e = cache.source("file:///etc/passwd", &secret()).await.unwrap_err();
    assert_eq!(e.cause(), "WEBHOOK_BAD_URL");
}

#[tokio::test]
async fn the_audio_cache_keeps_to_its_bound() {
    let s = Server::start().await;
    let limits = engine::webhooks::audio::AudioLimits { max_samples: 12_000, ..Default::default() };
    let cache = AudioCache::new(Arc::new(client(2000)), limits);
    let a = format!("{}?a", s.url("wav"));
    let b = format!("{}?b", s.url("wav"));
    cache.source(&a, &secret()).await.unwrap();
    cache.source(&b, &secret()).await.unwrap();
    assert!(!cache.contains(&a), "the least recently used entry left");
    assert!(cache.contains(&b));
}

/// A signature header and the payload it signs.
type Signed = (String, Vec<u8>);

/// The first ```python block of docs/webhooks.md.
fn doc_snippet() -> String {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/webhooks.md")).unwrap();
    let start = doc.find("```python\n").unwrap() + "```python\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

#[tokio::test]
async fn the_python_snippet_in_the_docs_verifies_a_real_request() {
    // A server that keeps each request's header and signed payload.
    let captured: Arc<Mutex<Vec<Signed>>> = Arc::default();
    let keep = captured.clone();
    let app = Router::new().route(
        "/{*p}",
        any(move |RawQuery(q): RawQuery, headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                let h = headers.get(HEADER).unwrap().to_str().unwrap().to_owned();
                let payload =
                    if body.is_empty() { q.unwrap_or_default().into_bytes() } else { body.to_vec() };
                keep.lock().unwrap().push((h, payload));
                typed("application/json", "[]")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}/x");
    client(2000).send(&shapes::fonoster(&base, &facts(), &Map::new()).unwrap(), &secret()).await.unwrap();
    client(2000)
        .send(&shapes::vonage_answer(&base, HttpMethod::Get, &facts()).unwrap(), &secret())
        .await
        .unwrap();
    task.abort();

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("verify.py");
    let driver = "\nimport sys\nok = verify(sys.argv[1], sys.argv[2], open(sys.argv[3], 'rb').read())\nprint('ok' if ok else 'bad')\n";
    std::fs::write(&script, doc_snippet() + driver).unwrap();
    let cases = captured.lock().unwrap().clone();
    assert_eq!(cases.len(), 2);
    for (i, (header, payload)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("payload{i}"));
        std::fs::write(&file, payload).unwrap();
        for (secret, expect) in [(SECRET, "ok"), ("whsec_wrong", "bad")] {
            let out = std::process::Command::new("python3")
                .arg(&script)
                .arg(secret)
                .arg(header)
                .arg(&file)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expect, "case {i} with {secret}");
        }
    }
}

fn input(digits: &str, url: Option<String>, replaces: bool) -> Report {
    let mut hook = Hook::post(url);
    hook.replaces = replaces;
    Report {
        hook,
        verb: "input",
        result: VerbResult::Input(Collected { digits: digits.into(), ..Collected::default() }),
    }
}

fn scripts_for(app: AppHooks) -> WebhookScripts {
    WebhookScripts::new(Arc::new(client(1000)), secret(), app, facts(), Arc::new(engine::clock::SystemClock))
}

#[tokio::test]
async fn a_vonage_application_falls_back_then_posts_its_input_and_takes_the_next_program() {
    let s = Server::start().await;
    let caps = json!({"voice": {"webhooks": {
        "answer_url": {"http_method": "GET"},
        "fallback_answer_url": {"address": s.url("ncco_input"), "http_method": "GET"},
        "event_url": {"address": s.url("flaky"), "http_method": "POST"},
    }}});
    let mut scripts = scripts_for(AppHooks::from_application(&s.url("status500"), Some(&caps)).unwrap());
    let verbs = scripts.first().await.unwrap();
    assert_eq!(verbs.len(), 2);
    assert_eq!(scripts.dialect(), Dialect::Ncco);
    let failures = scripts.take_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].cause, "WEBHOOK_HTTP_ERROR");
    assert_eq!(s.hits.seen("status500")[0].method, Method::GET);

    // The input goes to the verb's eventUrl; the answer is Fonoster
    // commands, which replace the rest and become the dialect.
    let next = scripts.submit(input("123", Some(s.url("fonoster_hangup")), true)).await.unwrap();
    assert_eq!(next, Next::Replace(vec![Verb::Hangup]));
    assert_eq!(scripts.dialect(), Dialect::Fonoster);
    let seen = &s.hits.seen("fonoster_hangup")[0];
    assert!(seen.signature_ok);
    let v: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!((v["dtmf"]["digits"].as_str(), v["uuid"].as_str()), (Some("123"), Some("call-7")));

    // An event without a URL, in Fonoster's dialect, goes to the endpoint;
    // it fails there (500), is retried, and is reported, not fatal.
    let e = scripts.submit(input("9", None, false)).await.unwrap_err();
    assert!(matches!(e, ScriptError::Fetch(_)));
    assert_eq!(s.hits.count("status500"), 1 + 3);
    assert_eq!(scripts.take_failures()[0].cause, "WEBHOOK_HTTP_ERROR");
}

#[tokio::test]
async fn a_twiml_document_gets_twilio_parameters_at_its_relative_action() {
    let s = Server::start().await;
    let mut scripts = scripts_for(AppHooks::from_application(&s.url("twimlgather"), None).unwrap());
    let verbs = scripts.first().await.unwrap();
    assert_eq!(scripts.dialect(), Dialect::Twiml);
    assert!(matches!(&verbs[0], Verb::Gather(_)));
    // The first request was Fonoster's JSON (the application has no
    // Vonage capabilities); the document answered TwiML.
    assert_eq!(s.hits.seen("twimlgather")[0].content_type, "application/json");

    let next = scripts.submit(input("4", Some("next".into()), true)).await.unwrap();
    assert_eq!(next, Next::Replace(vec![Verb::Hangup]));
    let seen = &s.hits.seen("next")[0];
    assert!(seen.signature_ok);
    assert_eq!(seen.content_type, "application/x-www-form-urlencoded");
    let f: HashMap<String, String> = url::form_urlencoded::parse(&seen.body).into_owned().collect();
    assert_eq!(
        (f["Digits"].as_str(), f["CallSid"].as_str(), f["From"].as_str()),
        ("4", "call-7", "+15551234")
    );
}

#[tokio::test]
async fn bad_next_programs_are_script_errors() {
    let s = Server::start().await;
    let mut scripts = scripts_for(AppHooks::from_application(&s.url("fonoster"), None).unwrap());
    scripts.first().await.unwrap();
    for (name, parse) in [("garbage", true), ("html", true), ("big", false), ("loop", false), ("hang", false)]
    {
        let e = scripts.submit(input("1", Some(s.url(name)), true)).await.unwrap_err();
        assert_eq!(matches!(e, ScriptError::Parse(_)), parse, "{name}: {e}");
    }
    // An answer with no program goes on.
    let next = scripts.submit(input("1", Some(s.url("empty")), true)).await.unwrap();
    assert_eq!(next, Next::Continue);
    // No answer URL and no fallback: the first program fails with the cause.
    let mut down = scripts_for(AppHooks::from_application(&closed_port_url().await, None).unwrap());
    let e = down.first().await.unwrap_err();
    assert!(matches!(&e, ScriptError::Fetch(m) if m.contains("WEBHOOK_NETWORK_ERROR")), "{e}");
}

#[tokio::test]
async fn requests_to_one_host_are_bounded() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (now.clone(), peak.clone());
    let app = Router::new().route(
        "/{*p}",
        any(move || {
            let (n, p) = (n.clone(), p.clone());
            async move {
                let in_flight = n.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(in_flight, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                typed("application/json", "[]")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = Arc::new(
        Client::new(Config { per_host: 2, timeout: Duration::from_secs(5), ..Config::default() }).unwrap(),
    );
    let started = Instant::now();
    let mut all = Vec::new();
    for i in 0..6 {
        let c = c.clone();
        let url = format!("http://{addr}/r{i}");
        all.push(tokio::spawn(async move {
            c.send(&engine::webhooks::Outgoing::get(&url).unwrap(), &secret()).await
        }));
    }
    for h in all {
        h.await.unwrap().unwrap();
    }
    task.abort();
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    // Three rounds of two.
    assert!(started.elapsed() >= Duration::from_millis(450), "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_applications_own_socket_timeout_cuts_a_hanging_answer_url() {
    let s = Server::start().await;
    let caps = json!({"voice": {"webhooks": {
        "answer_url": {"http_method": "GET", "connect_timeout": 300, "socket_timeout": 1000},
        "fallback_answer_url": {"address": s.url("ncco"), "http_method": "GET"},
    }}});
    let app = AppHooks::from_application(&s.url("hang"), Some(&caps)).unwrap();
    // The client's own timeout is long; the application's is 1.3 s.
    let c = Arc::new(client(20_000));
    let mut scripts = WebhookScripts::new(c, secret(), app, facts(), Arc::new(engine::clock::SystemClock));
    let started = Instant::now();
    scripts.first().await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1300) && took < Duration::from_secs(5), "{took:?}");
    let failures = scripts.take_failures();
    assert_eq!(failures[0].cause, "WEBHOOK_TIMEOUT");
    assert!(failures[0].detail.contains("1300 ms"), "{}", failures[0].detail);
}

/// The channel-state bodies `name` received, their `Unique-ID` and
/// `Answer-State`, once `n` arrived (or after 10 s).
async fn states(s: &Server, name: &str, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.hits.count(name) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.hits
        .seen(name)
        .iter()
        .map(|seen| {
            assert!(seen.signature_ok, "every push is signed with the workspace's secret");
            let v: Value = serde_json::from_slice(&seen.body).unwrap();
            (v["Unique-ID"].as_str().unwrap().to_owned(), v["Answer-State"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn each_workspace_channel_states_go_to_its_own_post_event_url_in_order() {
    use engine::events::{Bus, Event};
    use engine::webhooks::channel_state::{start, PostEvents, PostTarget};
    let s = Server::start().await;
    let bus = Bus::default();
    let targets = PostEvents::default();
    let target = |url: String| Some(PostTarget { url: url::Url::parse(&url).unwrap(), secret: secret() });
    targets.set(1, target(s.url("ws1")));
    targets.set(2, target(s.url("ws2")));
    targets.set(4, target(closed_port_url().await));
    let mut failures = bus.subscribe();
    start(&bus, Arc::new(client(1000)), targets.clone());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let publish = |ws: i64, name: &'static str, call: &str| {
        let data =
            json!({"ref": call, "from": "2001", "to": "2002", "codec": "PCMU", "cause": "NORMAL_CLEARING"});
        bus.publish(Event { name, workspace_id: ws, at: 1, data });
    };
    for (ws, call) in [(1, "a1"), (2, "b1"), (3, "c1"), (1, "a2"), (4, "d1")] {
        publish(ws, "call.created", call);
    }
    for name in ["call.ringing", "call.answered", "call.ended"] {
        for (ws, call) in [(1, "a1"), (2, "b1"), (3, "c1"), (1, "a2"), (4, "d1")] {
            publish(ws, name, call);
        }
    }
    let one = states(&s, "ws1", 6).await;
    let of = |v: &[(String, String)], call: &str| -> Vec<String> {
        v.iter().filter(|(c, _)| c == call).map(|(_, st)| st.clone()).collect()
    };
    assert_eq!(one.len(), 6, "{one:?}");
    assert_eq!(of(&one, "a1"), ["ringing", "answered", "hangup"]);
    assert_eq!(of(&one, "a2"), ["ringing", "answered", "hangup"]);
    let two = states(&s, "ws2", 3).await;
    assert_eq!(
        two,
        [("b1".into(), "ringing".into()), ("b1".into(), "answered".into()), ("b1".into(), "hangup".into())]
    );
    // Workspace 3 has no URL: nothing of its calls went anywhere.
    let failed = loop {
        let e = tokio::time::timeout(Duration::from_secs(10), failures.recv()).await.unwrap().unwrap();
        if e.name == "call.webhook.failed" {
            break e;
        }
    };
    assert_eq!(failed.workspace_id, 4, "{failed:?}");
    assert_eq!(failed.data["ref"], "d1");
    assert_eq!(failed.data["webhook"], "post_event");
    assert_eq!(failed.data["state"], "ringing");
    let recorded = targets.failures(4);
    assert_eq!(recorded.first().map(|f| f.call.as_str()), Some("d1"), "{recorded:?}");
    assert!(targets.failures(1).is_empty() && targets.failures(2).is_empty());
}

#[tokio::test]
async fn a_burst_of_calls_to_a_slow_receiver_is_pushed_side_by_side_each_call_in_order() {
    use engine::events::{Bus, Event};
    use engine::webhooks::channel_state::{start, PostEvents, PostTarget};
    use std::sync::atomic::Ordering;
    let s = Server::start().await;
    let bus = Bus::default();
    let targets = PostEvents::default();
    targets.set(1, Some(PostTarget { url: url::Url::parse(&s.url("slow")).unwrap(), secret: secret() }));
    start(&bus, Arc::new(client(5000)), targets.clone());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let calls: Vec<String> = (0..40).map(|i| format!("call-{i}")).collect();
    let started = Instant::now();
    for name in ["call.created", "call.ringing", "call.answered", "call.ended"] {
        for call in &calls {
            let data = json!({"ref": call, "from": "2001", "to": "2002", "cause": "NORMAL_CLEARING"});
            bus.publish(Event { name, workspace_id: 1, at: 1, data });
        }
    }
    let got = states(&s, "slow", calls.len() * 3).await;
    let took = started.elapsed();
    assert_eq!(got.len(), calls.len() * 3, "{got:?}");
    for call in &calls {
        let of: Vec<&str> = got.iter().filter(|(c, _)| c == call).map(|(_, st)| st.as_str()).collect();
        assert_eq!(of, ["ringing", "answered", "hangup"], "{call}");
    }
    // One after another, 40 calls would take 40 x 70 ms = 2.8 s.
    assert!(s.hits.slow_peak.load(Ordering::SeqCst) > 1, "pushes of different calls go side by side");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    assert!(targets.failures(1).is_empty(), "{:?}", targets.failures(1));
}

#[tokio::test]
async fn events_the_push_skips_are_recorded_in_each_workspace_with_a_url() {
    use engine::events::{Bus, Event};
    use engine::webhooks::channel_state::{start, PostEvents, PostTarget};
    let s = Server::start().await;
    // A bus that keeps 4 events: published in one go, 100 leave the push
    // task behind.
    let bus = Bus::new(4);
    let targets = PostEvents::default();
    targets.set(1, Some(PostTarget { url: url::Url::parse(&s.url("ws1")).unwrap(), secret: secret() }));
    start(&bus, Arc::new(client(1000)), targets.clone());
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..100 {
        let data = json!({"ref": format!("c{i}")});
        bus.publish(Event { name: "call.created", workspace_id: 1, at: 1, data });
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while targets.failures(1).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failures = targets.failures(1);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].cause, "EVENTS_SKIPPED");
    assert_eq!(failures[0].url, s.url("ws1"));
    assert!(targets.failures(2).is_empty());
}

#[tokio::test]
async fn a_url_set_after_the_push_started_gets_the_calls_that_follow_at_once() {
    use engine::events::{Bus, Event};
    use engine::webhooks::channel_state::{start, PostEvents, PostTarget};
    let s = Server::start().await;
    let bus = Bus::default();
    let targets = PostEvents::default();
    start(&bus, Arc::new(client(1000)), targets.clone());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let publish = |name: &'static str, call: &str| {
        let data = json!({"ref": call, "from": "2001", "to": "2002", "cause": "NORMAL_CLEARING"});
        bus.publish(Event { name, workspace_id: 1, at: 1, data });
    };
    let call = |id: &str| {
        for name in ["call.created", "call.ringing", "call.answered", "call.ended"] {
            publish(name, id);
        }
    };
    let target = || Some(PostTarget { url: url::Url::parse(&s.url("late")).unwrap(), secret: secret() });
    // No URL: nothing follows the bus, nothing is pushed.
    call("before");
    // Set, then published at once: none of the call's states is missed.
    targets.set(1, target());
    call("first");
    assert_eq!(states(&s, "late", 3).await.len(), 3);
    // Removed (the push lets go of the bus at its next event), set again.
    targets.set(1, None);
    call("unpushed");
    tokio::time::sleep(Duration::from_millis(50)).await;
    targets.set(1, target());
    call("second");
    let got = states(&s, "late", 6).await;
    let calls: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(calls, ["first", "first", "first", "second", "second", "second"], "{got:?}");
}
