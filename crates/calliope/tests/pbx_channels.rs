//! The PBX dialect's `POST /api/channels` with real peers: the seed's
//! form-encoded originate rings a SIPp callee, which hears the file that
//! `playback` names; bad forms are refused with the field at fault.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use media::g711::ulaw_decode;
use serde_json::{json, Value};
use support::baresip::{tone_report, tones_wav};
use support::calls::{callee, calliope, wait, CALLEE, CALLER};

/// The audio samples (PCMU decoded, in sequence order) that reach
/// `socket` within `window`.
fn heard(socket: &UdpSocket, window: Duration) -> Vec<i16> {
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut packets = Vec::new();
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            if let Ok(p) = media::rtp::parse(&buf[..n]) {
                if p.payload_type == 0 {
                    packets.push((p.sequence, p.payload.to_vec()));
                }
            }
        }
    }
    packets.sort_by_key(|p| p.0);
    packets.iter().flat_map(|p| p.1.iter().map(|b| ulaw_decode(*b))).collect()
}

#[test]
fn a_form_encoded_originate_plays_the_file_to_the_callee() {
    let c = calliope(&[]);
    let path = c.upload_media("tone.wav", &tones_wav(&[(1000.0, 1500)]));
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx_form(
        "POST",
        "/api/channels",
        &[("destNumber", CALLEE), ("app", "playback"), ("args", &path), ("cidName", "Front desk")],
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"], "ok");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let samples = heard(&ear, Duration::from_millis(2500));
    let report = tone_report(&samples, 8000, 1000.0);
    assert!(report.longest_run_ms >= 1000, "the callee heard the 1 kHz file: {report:?}");
    let none = tone_report(&samples, 8000, 440.0);
    assert!(none.tone_ms < 100, "and not some other tone: {none:?}");
    let (st, legs) = c.pbx_get("/api/channels");
    assert_eq!(st, 200, "{legs}");
    let leg =
        legs.as_array().unwrap().iter().find(|l| l["uuid"] == uuid.as_str()).expect("the leg is listed");
    assert_eq!(leg["cid_name"], "Front desk");
    assert_eq!(leg["dest"], CALLEE);
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the callee heard the file, then got BYE");
}

#[test]
fn bad_forms_name_the_field_at_fault() {
    let c = calliope(&[]);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("app", "playback")], "destNumber"),
        (&[("destNumber", CALLEE), ("app", "fly")], "app"),
        (&[("destNumber", CALLEE), ("timeout", "soon")], "timeout"),
        (&[("destNumber", CALLEE), ("autoAnswer", "maybe")], "autoAnswer"),
        (&[("destNumber", CALLEE), ("earlyMedia", "true")], "earlyMedia"),
        (&[("destNumber", CALLEE), ("userGateway", "5005")], "userGateway"),
        (&[("destNumber", CALLEE), ("apps", "playback")], "apps"),
        (&[("destNumber", CALLEE), ("app", "playback"), ("args", "/etc/passwd")], "args"),
    ];
    for (form, field) in cases {
        let (st, body) = c.pbx_form("POST", "/api/channels", form);
        assert_eq!(st, 400, "{form:?}: {body}");
        assert!(body.to_string().contains(field), "{form:?} names {field}: {body}");
    }
    // A well-formed form to an agent with no registration: not reachable.
    let (st, body) = c.pbx_form("POST", "/api/channels", &[("destNumber", CALLEE), ("autoAnswer", "true")]);
    assert_eq!(st, 400, "{body}");
    let (st, body) = c.pbx_form("POST", "/api/channels", &[("destNumber", "7777")]);
    assert_eq!(st, 404, "{body}");
}

/// A real HTTP receiver on a free port: each POST's signature header and
/// JSON body arrive on the channel; every request is answered 200.
fn receiver() -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut signature) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("x-calliope-signature:") {
                    signature = line.split_once(':').unwrap().1.trim().to_owned();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if tx.send((signature, body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn the_post_event_url_receives_ringing_answered_hangup_in_order() {
    let (url, pushes) = receiver();
    let c = calliope(&["--post-event-url", &url, "--post-event-secret", "push-secret"]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "cidNumber": CALLER, "autoAnswer": "true"}),
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let mut states = Vec::new();
    let secret = engine::webhooks::Secret::from_text("push-secret");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut hung_up = false;
    while Instant::now() < deadline {
        let Ok((signature, raw)) = pushes.recv_timeout(Duration::from_millis(200)) else {
            if !hung_up && states.iter().any(|s: &Value| s["Answer-State"] == "answered") {
                assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
                hung_up = true;
            }
            continue;
        };
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        engine::webhooks::sign::verify(&secret, &signature, &raw, now, 300).expect("each push is signed");
        let push: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(push["Event-Subclass"], "ai::channel-state");
        assert_eq!(push["Unique-ID"], uuid.as_str());
        assert_eq!(push["Channel-Call-UUID"], uuid.as_str());
        assert_eq!(push["Caller-Username"], CALLER);
        let done = push["Answer-State"] == "hangup";
        states.push(push);
        if done {
            break;
        }
    }
    let order: Vec<&str> = states.iter().map(|s| s["Answer-State"].as_str().unwrap()).collect();
    assert_eq!(order, ["ringing", "answered", "hangup"], "{states:?}");
    assert_eq!(states[1]["Channel-Read-Codec-Name"], "PCMU");
    assert_eq!(states[2]["Hangup-Cause"], "NORMAL_CLEARING");
    wait(uas, "the callee answered, then got BYE");
}
