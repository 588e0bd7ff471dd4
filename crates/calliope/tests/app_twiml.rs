//! A TwiML application, end to end: SIPp plays a carrier trunk calling a
//! number whose application's webhook answers `application/xml`. `<Say>`
//! then `<Gather numDigits action>`; the caller's RFC 4733 keys are posted
//! to the action as Twilio's form (`Digits`, `CallSid`, `From`, `To`);
//! the next TwiML `<Play>`s a WAV the test serves, which the caller
//! receives sample for sample (PCMU aside), then `<Record>`s the caller's
//! tone (its `RecordingUrl` posted), then `<Hangup/>`. Every request's
//! `X-Calliope-Signature` is verified by the test's server.
#![allow(missing_docs, clippy::unwrap_used)]

mod app_hooks;
mod support;

use std::time::Duration;

use app_hooks::{application, finish, trunk, Reply, Rtp, Webhooks};
use serde_json::json;
use support::baresip::{tone_report, tones_wav};
use support::calliope::{free_port, Calliope, Sipp};

/// The WAV the application plays: three tones, 1.5 s.
const SEGMENTS: [(f32, u32); 3] = [(600.0, 500), (1400.0, 500), (900.0, 500)];

fn twiml(hit: &app_hooks::Hit) -> Reply {
    let host = &hit.host;
    match hit.path.as_str() {
        "/voice" => Reply::xml(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say>Enter two digits</Say>
  <Gather input="dtmf" numDigits="2" timeout="8" action="/digits"/>
  <Say>Nothing was entered</Say>
</Response>"#,
        ),
        "/digits" => Reply::xml(&format!(
            r#"<Response><Play>http://{host}/tones.wav</Play><Record maxLength="2" playBeep="false" action="/recorded"/></Response>"#
        )),
        "/tones.wav" => Reply::raw(200, "audio/wav", tones_wav(&SEGMENTS)),
        "/recorded" => Reply::xml("<Response><Hangup/></Response>"),
        _ => Reply::raw(404, "text/plain", Vec::new()),
    }
}

/// The best normalised correlation of `template` with `heard` at offsets
/// `around` ± 400 samples, and that offset.
fn best_match(heard: &[i16], template: &[i16], around: usize) -> (f64, usize) {
    let t: Vec<f64> = template.iter().map(|&s| f64::from(s)).collect();
    let tn = t.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut best = (0.0f64, around);
    for off in around.saturating_sub(400)..around + 400 {
        let Some(window) = heard.get(off..off + t.len()) else { break };
        let h: Vec<f64> = window.iter().map(|&s| f64::from(s)).collect();
        let hn = h.iter().map(|v| v * v).sum::<f64>().sqrt();
        if hn == 0.0 {
            continue;
        }
        let dot: f64 = h.iter().zip(&t).map(|(a, b)| a * b).sum();
        let similarity = dot / (hn * tn);
        if similarity > best.0 {
            best = (similarity, off);
        }
    }
    best
}

#[test]
fn a_twiml_application_gathers_plays_a_wav_records_and_hangs_up() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), twiml);
    let tel = "+15550008101";
    let app_ref = application(&c, "twiml", &hooks.url(), tel, json!({}));
    *hooks.app_ref.lock().unwrap() = app_ref.clone();
    let port = free_port();
    trunk(&c, port);
    let mut rtp = Rtp::new();
    let sipp = Sipp::on_port("trunk_app_call.xml", c.sip, port)
        .args(&["-s", tel, "-key", "caller", "15551230000", "-key", "rtp_port", &rtp.port()])
        .spawn();

    // The <Say>, then two keys for the <Gather>.
    rtp.hear_prompt(Duration::from_secs(8), 300);
    assert!(rtp.calliope.is_some(), "the greeting is heard: {:?}", hooks.hits());
    rtp.press(b'4');
    std::thread::sleep(Duration::from_millis(100));
    rtp.press(b'2');

    // The caller's 440 Hz from now on, for the <Record> after the <Play>
    // (which nothing interrupts).
    let tone: Vec<i16> = (0..8000 * 5)
        .map(|i| (12000.0 * (std::f32::consts::TAU * 440.0 * i as f32 / 8000.0).sin()) as i16)
        .collect();
    let caller = rtp.speak_meanwhile(tone);

    // The <Play>: the WAV, as the caller hears it.
    let heard = rtp.hear_until(Duration::from_secs(8), |s, quiet| {
        s.iter().filter(|x| x.unsigned_abs() > 2000).count() > 10_500 && quiet >= 60
    });
    let onset = heard.iter().position(|s| s.unsigned_abs() > 2000).expect("the WAV is heard");
    let file = media::wav::read(&tones_wav(&SEGMENTS)).unwrap();
    let mut at = onset;
    for (i, (frequency, ms)) in SEGMENTS.iter().enumerate() {
        let n = *ms as usize * 8;
        let piece = &file.samples[i * 4000..i * 4000 + n];
        let (similarity, found) = best_match(&heard, piece, at);
        assert!(similarity > 0.95, "the {frequency} Hz part is the file's ({similarity:.3})");
        at = found;
        let report = tone_report(heard.get(at..at + n).unwrap_or(&[]), 8000, *frequency);
        assert!(report.tone_ms >= ms - 100, "{frequency} Hz in its place: {report:?}");
        at += n;
    }

    caller.join().unwrap();
    let (status, err) = finish(sipp, Duration::from_secs(20));
    assert!(status.success(), "the caller's SIPp passes (BYE from <Hangup/>): {err}");

    let hits = hooks.hits();
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(paths, ["/voice", "/digits", "/tones.wav", "/recorded"], "{hits:?}");
    let digits = &hits[1];
    assert_eq!(digits.method, "POST");
    assert!(digits.content_type.starts_with("application/x-www-form-urlencoded"), "{digits:?}");
    assert_eq!(digits.form.get("Digits").map(String::as_str), Some("42"), "{digits:?}");
    assert_eq!(digits.form.get("From").map(String::as_str), Some("15551230000"), "{digits:?}");
    assert_eq!(digits.form.get("To").map(String::as_str), Some(tel), "{digits:?}");
    assert_eq!(digits.form.get("CallSid"), hits[0].json["sessionRef"].as_str().map(str::to_owned).as_ref());
    let recorded = &hits[3];
    assert_eq!(recorded.form.get("CallSid"), digits.form.get("CallSid"), "{recorded:?}");
    let url = recorded.form.get("RecordingUrl").unwrap_or_else(|| panic!("{recorded:?}"));
    let file = url.rsplit('/').next().unwrap();
    let path = std::fs::read_dir(c.dir.path().join("recordings"))
        .unwrap()
        .map(|d| d.unwrap().path().join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{file} is kept"));
    let wav = media::wav::read(&std::fs::read(&path).unwrap()).unwrap();
    let report = tone_report(&wav.samples, wav.sample_rate, 440.0);
    assert!(report.duration_ms >= 1800 && report.duration_ms <= 2600, "about 2 s: {report:?}");
    assert!(report.tone_ms >= 1600, "the recording holds the caller's tone: {report:?}");
}
