//! Applications that answer badly, end to end: SIPp plays a carrier trunk
//! calling numbers whose application's webhook (a real server the test
//! runs, every request's signature checked) answers garbage, HTML, an
//! unknown verb, 10 MB, a redirect loop or nothing at all; or whose
//! program plays a "WAV" that is not one, or speaks with a TTS engine
//! that is not there. Each call gets a clear outcome (503 with the cause
//! before an answer, a BYE after one), the cause is in the call's record,
//! an event says what failed, and Calliope keeps running.
//!
//! (An unreachable application and a fallback answer_url are in
//! app_calls.rs.)
#![allow(missing_docs, clippy::unwrap_used)]

mod app_hooks;
mod support;

use std::time::{Duration, Instant};

use app_hooks::{application, finish, record_of, trunk, Events, Reply, Rtp, Webhooks};
use serde_json::json;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};

/// One bad answer: the path the application's endpoint has, the cause
/// the call's record keeps (and the `call.webhook.failed` event has), and
/// what the event's detail names.
struct Bad {
    path: &'static str,
    tel: &'static str,
    cause: &'static str,
    detail: &'static str,
}

const BAD: [Bad; 6] = [
    Bad { path: "/garbage", tel: "+15550007001", cause: "webhook_bad_answer", detail: "not JSON" },
    Bad { path: "/html", tel: "+15550007002", cause: "webhook_bad_answer", detail: "HTML" },
    Bad {
        path: "/dance",
        tel: "+15550007003",
        cause: "webhook_bad_answer",
        detail: "unknown verb \"dance\"",
    },
    Bad { path: "/huge", tel: "+15550007004", cause: "webhook_failed", detail: "WEBHOOK_ANSWER_TOO_LARGE" },
    Bad { path: "/loop", tel: "+15550007005", cause: "webhook_failed", detail: "WEBHOOK_REDIRECT_LOOP" },
    Bad { path: "/silent", tel: "+15550007006", cause: "webhook_failed", detail: "WEBHOOK_TIMEOUT" },
];

fn bad_answers(hit: &app_hooks::Hit) -> Reply {
    match hit.path.as_str() {
        "/garbage" => Reply::raw(200, "application/json", b"{{{ \x00\xff not json".to_vec()),
        "/html" => Reply::raw(200, "text/html", b"<html><body><h1>Welcome!</h1></body></html>".to_vec()),
        "/dance" => Reply::json(json!({"commands": [{"dance": {"style": "tango"}}]})),
        "/huge" => {
            let mut body = br#"{"commands":[{"say":{"text":""#.to_vec();
            body.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
            body.extend_from_slice(br#""}}]}"#);
            Reply::raw(200, "application/json", body)
        }
        "/loop" => Reply::redirect(307, "/loop"),
        // Nothing for 30 s (the client gives up after its 5 s).
        "/silent" => Reply::json(json!({"commands": [{"hangup": {}}]})).after(Duration::from_secs(30)),
        _ => Reply::raw(404, "text/plain", Vec::new()),
    }
}

#[test]
fn webhooks_answering_badly_get_the_caller_a_503_with_the_cause_recorded() {
    let mut c = Calliope::start(&[]);
    let events = Events::watch(&c);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), bad_answers);
    let port = free_port();
    trunk(&c, port);
    let mut wrong: Vec<String> = Vec::new();
    for bad in &BAD {
        application(&c, bad.path, &hooks.at(bad.path), bad.tel, json!({}));
        let media = free_port().to_string();
        let started = Instant::now();
        let out = Sipp::on_port("trunk_app_503.xml", c.sip, port)
            .args(&["-s", bad.tel, "-key", "caller", "15551230000", "-mp", &media])
            .run();
        assert_passed(&out, &format!("{}: the caller gets 503", bad.path));
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "{}: an answer within the client's timeout",
            bad.path
        );
        let record: serde_json::Value = serde_json::from_str(&record_of(&c, bad.tel)).unwrap();
        if record["status"] != bad.cause {
            wrong.push(format!("{}: record {record}", bad.path));
        }
        let event =
            events.wait_for("call.webhook.failed", Duration::from_secs(5), |d| d["ref"] == record["ref"]);
        let detail = event["data"]["detail"].as_str().unwrap_or("");
        if event["data"]["cause"] != bad.cause || !detail.contains(bad.detail) {
            wrong.push(format!("{}: event {event}", bad.path));
        }
        assert!(c.is_running(), "{}: Calliope keeps running", bad.path);
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let hits = hooks.hits();
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    // The loop was followed a few times, not forever.
    let loops = hits.iter().filter(|h| h.path == "/loop").count();
    assert!((2..=5).contains(&loops), "{loops} requests to /loop");
}

/// A program that answers, then fails on its `say` or `play`.
fn failing_programs(hit: &app_hooks::Hit) -> Reply {
    match hit.path.as_str() {
        "/notwav" => Reply::json(json!({"commands": [
            {"answer": {}},
            {"play": {"url": format!("http://{}/sound.wav", hit.host)}},
            {"say": {"text": "never said"}}
        ]})),
        "/sound.wav" => Reply::raw(200, "audio/wav", b"RIFF but then nothing a WAV would have".to_vec()),
        "/notts" => Reply::json(json!({"commands": [{"answer": {}}, {"say": {"text": "Hello there"}}]})),
        _ => Reply::raw(404, "text/plain", Vec::new()),
    }
}

#[test]
fn a_sound_that_is_not_a_wav_and_a_missing_tts_engine_hang_up_with_their_cause() {
    let mut c = Calliope::start(&[]);
    let events = Events::watch(&c);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), failing_programs);
    let port = free_port();
    trunk(&c, port);
    let cases = [("/notwav", "+15550007101", "media_error"), ("/notts", "+15550007102", "tts_unavailable")];
    for (path, tel, cause) in cases {
        let extra = if path == "/notts" {
            json!({"textToSpeech": {"productRef": "tts.nowhere", "config": {"voice": "x"}}})
        } else {
            json!({})
        };
        let app_ref = application(&c, path, &hooks.at(path), tel, extra);
        // The sound's GET carries no appRef: its signature is this one's.
        *hooks.app_ref.lock().unwrap() = app_ref;
        let rtp = Rtp::new();
        let started = Instant::now();
        let sipp = Sipp::on_port("trunk_app_call.xml", c.sip, port)
            .args(&["-s", tel, "-key", "caller", "15551230000", "-key", "rtp_port", &rtp.port()])
            .spawn();
        let (status, err) = finish(sipp, Duration::from_secs(20));
        assert!(status.success(), "{path}: answered, then a BYE: {err}");
        assert!(started.elapsed() < Duration::from_secs(15), "{path}: no hang");
        let record = record_of(&c, tel);
        assert!(record.contains(cause), "{path}: the record keeps {cause}: {record}");
        events.wait_for("call.program.failed", Duration::from_secs(5), |d| d["cause"] == cause);
        assert!(c.is_running(), "{path}: Calliope keeps running");
    }
    assert!(hooks.hits().iter().all(|h| h.signed), "every request is signed: {:?}", hooks.hits());
    assert!(hooks.hits().iter().any(|h| h.path == "/sound.wav"), "the sound was fetched: {:?}", hooks.hits());
}
