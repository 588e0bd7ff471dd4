//! Speech input on a live call, end to end: SIPp plays a carrier trunk
//! calling a number whose application gathers speech; the test's own UDP
//! socket is the caller's media and speaks a phrase that espeak-ng said
//! (8 kHz, sent as PCMU); pocketsphinx recognises it with the gather's
//! hints, and the webhook (every request's signature checked) gets the
//! words. Also: a digit wins when digits are taken too, silence is a
//! timeout, and an STT engine that is not there ends the call with a
//! clear cause and an event instead of a hang.
#![allow(missing_docs, clippy::unwrap_used)]

mod app_hooks;
mod support;

use std::time::{Duration, Instant};

use app_hooks::{application, espeak, finish, record_of, trunk, Events, Reply, Rtp, Webhooks};
use serde_json::{json, Value};
use support::calliope::{free_port, Calliope, Sipp};

/// The phrase the caller says, and the hints the application gives.
/// pocketsphinx's wideband model is weak on 8 kHz audio, so the phrase is
/// one it gets right from espeak-ng through PCMU whatever the silence
/// around it (measured: 10 of 10; "sales please" against these hints
/// only about half the time), among hints that share its words and sounds.
const PHRASE: &str = "talk to an operator";
const HINTS: [&str; 6] = [
    "customer support",
    "talk to an operator",
    "one two three",
    "billing please",
    "sales please",
    "technical support",
];

/// The carrier's trunk: the port its SIPp calls from.
fn carrier(c: &Calliope) -> u16 {
    let port = free_port();
    trunk(c, port);
    port
}

/// A call from the carrier (at `port`) to `tel`, its media on `rtp`.
fn call(c: &Calliope, port: u16, tel: &str, rtp: &Rtp) -> std::process::Child {
    Sipp::on_port("trunk_app_call.xml", c.sip, port)
        .args(&["-s", tel, "-key", "caller", "15551230000", "-key", "rtp_port", &rtp.port()])
        .spawn()
}

/// The program: a prompt, a gather (`source`), and once a result comes,
/// `hangup`.
fn gather_then_hang_up(source: &'static str, timeout_ms: u32) -> impl Fn(&app_hooks::Hit) -> Reply {
    move |hit| {
        if hit.json.get("verb").is_some() {
            return Reply::json(json!({"commands": [{"hangup": {}}]}));
        }
        Reply::json(json!({"commands": [
            {"say": {"text": "Which department?"}},
            {"gather": {"source": source, "timeout": timeout_ms, "maxDigits": 1, "hints": HINTS}}
        ]}))
    }
}

#[test]
fn a_phrase_spoken_into_the_call_reaches_the_webhook_as_text() {
    let c = Calliope::start(&[]);
    let events = Events::watch(&c);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), gather_then_hang_up("speech", 10_000));
    let tel = "+15550006001";
    let app_ref = application(&c, "speech", &hooks.url(), tel, json!({}));
    let mut rtp = Rtp::new();
    let sipp = call(&c, carrier(&c), tel, &rtp);

    // The prompt plays to its end; then the caller speaks, and keeps
    // sending silence as a phone does.
    let prompt = rtp.hear_prompt(Duration::from_secs(8), 500);
    assert!(rtp.calliope.is_some(), "the prompt is heard: {:?}", hooks.hits());
    assert!(prompt.iter().filter(|s| s.unsigned_abs() > 1000).count() > 400, "the prompt is speech");
    let mut voice = vec![0i16; 8000 / 4];
    voice.extend(espeak(PHRASE, 150));
    voice.extend(vec![0i16; 8000 * 2]);
    let spoken = Instant::now();
    rtp.speak(&voice);

    let result =
        hooks.wait_for("the gather's result", Duration::from_secs(30), |h| h.json.get("verb").is_some());
    assert!(spoken.elapsed() < Duration::from_secs(30));
    let (status, err) = finish(sipp, Duration::from_secs(20));
    assert!(status.success(), "the caller's SIPp passes (BYE after the result): {err}");

    assert!(hooks.hits().iter().all(|h| h.signed), "every request is signed: {:?}", hooks.hits());
    assert_eq!(result.json["appRef"], json!(app_ref), "{result:?}");
    assert_eq!(result.json["verb"], json!("gather"), "{result:?}");
    let heard = result.json["speech"].as_str().unwrap_or_else(|| panic!("speech in {result:?}"));
    for word in PHRASE.split(' ') {
        assert!(heard.split(' ').any(|w| w == word), "{word:?} is recognised in {heard:?}");
    }
    let confidence = result.json["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence), "{result:?}");
    assert_eq!(result.json["timedOut"], json!(false), "{result:?}");
    assert_eq!(result.json["digits"], json!(""), "{result:?}");

    let event = events.wait_for("call.speech", Duration::from_secs(5), |d| d["text"].is_string());
    assert_eq!(event["data"]["engine"], json!("pocketsphinx"), "{event}");
    assert_eq!(event["data"]["text"].as_str(), Some(heard), "{event}");
}

#[test]
fn a_digit_wins_and_silence_times_out() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), gather_then_hang_up("speech,dtmf", 3000));
    application(&c, "digits", &hooks.url(), "+15550006002", json!({}));
    let port = carrier(&c);
    let mut rtp = Rtp::new();
    let sipp = call(&c, port, "+15550006002", &rtp);
    rtp.hear_prompt(Duration::from_secs(8), 300);
    rtp.press(b'5');
    let result =
        hooks.wait_for("the digit's result", Duration::from_secs(15), |h| h.json.get("verb").is_some());
    assert_eq!(result.json["digits"], json!("5"), "{result:?}");
    assert_eq!(result.json["speech"], Value::Null, "{result:?}");
    let (status, err) = finish(sipp, Duration::from_secs(20));
    assert!(status.success(), "{err}");

    // A caller who says nothing: the gather's 3 s pass.
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), gather_then_hang_up("speech", 3000));
    application(&c, "silent", &hooks.url(), "+15550006003", json!({}));
    let mut rtp = Rtp::new();
    let sipp = call(&c, port, "+15550006003", &rtp);
    rtp.hear_prompt(Duration::from_secs(8), 300);
    let quiet_since = Instant::now();
    rtp.speak(&vec![0i16; 8000 * 5]);
    let result =
        hooks.wait_for("the timeout's result", Duration::from_secs(15), |h| h.json.get("verb").is_some());
    assert!(quiet_since.elapsed() >= Duration::from_millis(2500), "not before the timeout");
    assert_eq!(result.json["timedOut"], json!(true), "{result:?}");
    assert_eq!(result.json["speech"], Value::Null, "{result:?}");
    let (status, err) = finish(sipp, Duration::from_secs(20));
    assert!(status.success(), "{err}");
}

#[test]
fn a_missing_speech_engine_ends_the_call_with_its_cause_and_an_event() {
    let c = Calliope::start(&[]);
    let events = Events::watch(&c);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), gather_then_hang_up("speech", 10_000));
    let tel = "+15550006004";
    let stt = json!({"speechToText": {"productRef": "stt.nowhere", "config": {}}});
    application(&c, "no stt", &hooks.url(), tel, stt);
    let mut rtp = Rtp::new();
    let started = Instant::now();
    let sipp = call(&c, carrier(&c), tel, &rtp);
    rtp.hear_prompt(Duration::from_secs(8), 300);
    let (status, err) = finish(sipp, Duration::from_secs(15));
    assert!(status.success(), "the call is hung up (BYE), not left waiting: {err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    let failed = events.wait_for("call.speech.failed", Duration::from_secs(5), |_| true);
    assert_eq!(failed["data"]["cause"], json!("stt_unavailable"), "{failed}");
    assert!(failed["data"]["detail"].as_str().unwrap().contains("stt.nowhere"), "{failed}");
    events.wait_for("call.program.failed", Duration::from_secs(5), |d| d["cause"] == "stt_unavailable");
    let record = record_of(&c, tel);
    assert!(record.contains("stt_unavailable"), "the record keeps the cause: {record}");
    assert_eq!(hooks.hits().len(), 1, "no result is sent: {:?}", hooks.hits());
}

/// The same phrase through the other dialects: an NCCO `input` of type
/// speech (its `context` the hints; the result to its `eventUrl` as
/// `speech.results`), and TwiML `<Gather input="speech" hints>` (the
/// result posted to its action as `SpeechResult`).
#[test]
fn ncco_and_twiml_speech_input_get_the_phrase_too() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |hit| match hit.path.as_str() {
        "/ncco" => Reply::json(json!([
            {"action": "talk", "text": "Which department?"},
            {"action": "input", "type": ["speech"],
             "speech": {"context": HINTS, "endOnSilence": 1, "startTimeout": 10},
             "eventUrl": [format!("http://{}/ncco-input", hit.host)]}
        ])),
        "/ncco-input" => Reply::json(json!([])),
        "/twiml" => Reply::xml(&format!(
            r#"<Response><Say>Which department?</Say><Gather input="speech" timeout="10" speechTimeout="1" hints="{}" action="/twiml-speech"/></Response>"#,
            HINTS.join(", ")
        )),
        "/twiml-speech" => Reply::xml("<Response><Hangup/></Response>"),
        _ => Reply::raw(404, "text/plain", Vec::new()),
    });
    let port = carrier(&c);
    for (path, tel) in [("/ncco", "+15550006005"), ("/twiml", "+15550006006")] {
        let app_ref = application(&c, path, &hooks.at(path), tel, json!({}));
        // NCCO and TwiML bodies name no application: this one signs.
        *hooks.app_ref.lock().unwrap() = app_ref;
        let mut rtp = Rtp::new();
        let sipp = call(&c, port, tel, &rtp);
        rtp.hear_prompt(Duration::from_secs(8), 500);
        assert!(rtp.calliope.is_some(), "{path}: the prompt is heard: {:?}", hooks.hits());
        let mut voice = vec![0i16; 8000 / 4];
        voice.extend(espeak(PHRASE, 150));
        voice.extend(vec![0i16; 8000 * 2]);
        rtp.speak(&voice);
        let result_path = format!("{path}-{}", if path == "/ncco" { "input" } else { "speech" });
        let result = hooks.wait_for("the speech result", Duration::from_secs(30), |h| h.path == result_path);
        let heard = if path == "/ncco" {
            result.json["speech"]["results"][0]["text"].as_str().map(str::to_owned)
        } else {
            result.form.get("SpeechResult").cloned()
        };
        let heard = heard.unwrap_or_else(|| panic!("{path}: the text in {result:?}"));
        for word in PHRASE.split(' ') {
            assert!(heard.split(' ').any(|w| w == word), "{path}: {word:?} is recognised in {heard:?}");
        }
        let (status, err) = finish(sipp, Duration::from_secs(20));
        assert!(status.success(), "{path}: the call ends with a BYE: {err}");
    }
    assert!(hooks.hits().iter().all(|h| h.signed), "every request is signed: {:?}", hooks.hits());
}

/// A caller who answers while the prompt still plays: the prompt stops
/// (NCCO `talk` with `bargeIn`), and the whole phrase is recognised, its
/// start included.
#[test]
fn speech_that_interrupts_the_prompt_is_recognised_whole() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |hit| match hit.path.as_str() {
        "/ncco" => Reply::json(json!([
            {"action": "talk", "bargeIn": true,
             "text": "Thank you for calling. Please tell us which department you would like to reach today, after the tone or at any time."},
            {"action": "input", "type": ["speech"],
             "speech": {"context": HINTS, "endOnSilence": 1, "startTimeout": 10},
             "eventUrl": [format!("http://{}/ncco-input", hit.host)]}
        ])),
        "/ncco-input" => Reply::json(json!([])),
        _ => Reply::raw(404, "text/plain", Vec::new()),
    });
    let tel = "+15550006007";
    let app_ref = application(&c, "barge", &hooks.at("/ncco"), tel, json!({}));
    *hooks.app_ref.lock().unwrap() = app_ref;
    let mut rtp = Rtp::new();
    let sipp = call(&c, carrier(&c), tel, &rtp);
    // A second of the prompt, then the caller speaks over it.
    let prompt = rtp.hear_until(Duration::from_secs(8), |s, _| {
        s.iter().filter(|x| x.unsigned_abs() > 1000).count() > 4000
    });
    assert!(rtp.calliope.is_some() && !prompt.is_empty(), "the prompt is heard: {:?}", hooks.hits());
    let mut voice = espeak(PHRASE, 150);
    voice.extend(vec![0i16; 8000 * 2]);
    let caller = rtp.speak_meanwhile(voice);
    // The prompt stops soon after the caller starts.
    let rest = rtp.hear_until(Duration::from_secs(3), |_, quiet| quiet >= 500);
    let loud = rest.iter().filter(|x| x.unsigned_abs() > 1000).count();
    assert!(loud < 8000, "the prompt stopped ({loud} loud samples after the caller spoke)");
    caller.join().unwrap();
    let result = hooks.wait_for("the speech result", Duration::from_secs(30), |h| h.path == "/ncco-input");
    let heard = result.json["speech"]["results"][0]["text"].as_str().unwrap_or_else(|| panic!("{result:?}"));
    assert_eq!(heard, PHRASE, "{result:?}");
    let (status, err) = finish(sipp, Duration::from_secs(20));
    assert!(status.success(), "the call ends with a BYE: {err}");
}
