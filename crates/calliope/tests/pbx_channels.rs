//! The PBX dialect's `POST /api/channels` with real peers: the seed's
//! form-encoded originate rings a SIPp callee, which hears the file that
//! `playback` names; `transfer` re-routes the answered callee through the
//! router and `bridge` connects it to an agent (SIPp peers, RTP counted);
//! `set` variables are listed; `deaf` and `record` act on a live call; the
//! post-event URL (flag, or per workspace through `/api/settings`) gets
//! ringing, answered and hangup in order, and a receiver that is down ends
//! in a recorded failure; `/events` carries the transfer, recording and
//! webhook-failure events. Bad forms are refused with the field at fault.
//! Deleting the callee's channel of a bridged call hangs that leg up as
//! its phone would: it gets BYE, then the caller does; while it rings, it
//! gets CANCEL and the caller the failure (487).
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use media::g711::ulaw_decode;
use serde_json::{json, Value};
use support::baresip::{tone_report, tones_wav};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee, calliope, legs_when, rtp_packets, wait, CALLEE, CALLER, PCAP_A};

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
        (&[("destNumber", CALLEE), ("app", "transfer"), ("args", "")], "args"),
        (&[("destNumber", CALLEE), ("app", "transfer"), ("args", "9 9")], "args"),
        (&[("destNumber", CALLEE), ("app", "bridge"), ("args", "loopback/9000")], "args"),
        (&[("destNumber", CALLEE), ("app", "bridge"), ("args", "sofia/gateway/nothing")], "args"),
        (&[("destNumber", CALLEE), ("app", "set"), ("args", "no_value")], "args"),
        (&[("destNumber", CALLEE), ("app", "set"), ("args", "bad name=1")], "args"),
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
    // A transfer or a bridge hands the call over: nothing may follow it.
    let apps = json!({"destNumber": CALLEE, "apps": [
        {"app": "transfer", "args": "95551234"},
        {"app": "playback", "args": "tone_stream://%(100,0,440)"}
    ]});
    let (st, body) = c.pbx("POST", "/api/channels", apps);
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("last app"), "{body}");
    // Actions on a call that does not exist: 404.
    let (st, body) = c.pbx("PUT", "/api/channels/no-such-call", json!({"action": "deaf", "deaf": "on"}));
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

/// Agent `user` (password `pw-<user>`) registered at a SIPp UAS running
/// `scenario` with its media at a free port; `extra` SIPp arguments go
/// first.
fn phone(c: &Calliope, user: &str, scenario: &str, extra: &[&str]) -> std::process::Child {
    let password = format!("pw-{user}");
    c.agent(user, &password);
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(extra)
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", &password])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the agent registers");
    child
}

/// The workspace's `/events`, every event, read on a thread of its own.
fn events(c: &Calliope) -> mpsc::Receiver<Value> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let (tx, rx) = mpsc::channel();
    let (ready, subscribed) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let sub = json!({"type": "subscribe", "events": ["*"]});
            ws.send(Message::Text(sub.to_string().into())).await.unwrap();
            let ack = support::events::next_json(&mut ws).await;
            let _ = ready.send(ack);
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    if let Ok(v) = serde_json::from_str::<Value>(&t) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    });
    let ack = subscribed.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(ack["type"], "subscribed", "{ack}");
    rx
}

/// Events from `rx` until one satisfies `last` (all of them, in order), or
/// what came within `within`.
fn events_until(rx: &mpsc::Receiver<Value>, within: Duration, last: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(e) = rx.recv_timeout(left) else { break };
        let done = last(&e);
        seen.push(e);
        if done {
            break;
        }
    }
    seen
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!("{}:{}", e["type"].as_str().unwrap_or(""), e["data"]["status"].as_str().unwrap_or(""))
        })
        .collect()
}

#[test]
fn transfer_reroutes_the_answered_callee_through_the_router() {
    let c = calliope(&[]);
    let seen = events(&c);
    // The far end of route `9`: a SIP URI that answers and talks.
    let far_uas = Sipp::new("uas_answer_play.xml", c.sip);
    let far_port = far_uas.port;
    let far_rtp = free_port().to_string();
    let far = far_uas
        .args(&[
            "-key",
            "pcap",
            PCAP_A,
            "-key",
            "rtp_port",
            &far_rtp,
            "-key",
            "codec",
            "8",
            "-key",
            "codec_name",
            "PCMA",
            "-s",
            "9000",
        ])
        .spawn();
    let route = json!({"name": "out", "context": "context-1", "prefix": "9", "max_length": "20",
        "dest_type": "FS_DEST_IP", "body": format!("sip:9000@127.0.0.1:{far_port}")});
    let (st, body) = c.pbx("POST", "/api/routes", route);
    assert_eq!(st, 200, "{body}");
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx_form(
        "POST",
        "/api/channels",
        &[("autoAnswer", "true"), ("destNumber", CALLEE), ("app", "transfer"), ("args", "95551234")],
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|x| x["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "the callee and the routed far end: {legs:?}");
    let a = legs.iter().find(|l| l["uuid"] == uuid.as_str()).expect("the callee's leg");
    assert_eq!(a["application"], "transfer", "{a}");
    assert_eq!(a["application_data"], "95551234", "{a}");
    let b = legs.iter().find(|l| l["uuid"] != uuid.as_str()).expect("the far leg");
    assert_eq!(b["call_uuid"], uuid.as_str(), "one call: {b}");
    assert_eq!(b["dest"], "95551234", "{b}");
    assert_eq!(b["read_codec"], "PCMA", "the far end answered A-law: {b}");
    assert_eq!(b["ip_addr"], "127.0.0.1", "{b}");
    // The far end's audio reaches the callee (transcoded to its PCMU).
    let packets = rtp_packets(&ear, Duration::from_secs(2));
    assert!(packets > 30, "the callee hears the far end: {packets} packets");
    let got = events_until(&seen, Duration::from_secs(10), |e| {
        e["type"] == "call.transfer" && e["data"]["status"] == "completed"
    });
    let order = names(&got);
    let ringing = order.iter().position(|n| n == "call.ringing:").expect("ringing is an event");
    let trying = order.iter().position(|n| n == "call.transfer:trying").expect("the transfer starts");
    let done = order.iter().position(|n| n == "call.transfer:completed").expect("and completes");
    assert!(ringing < trying && trying < done, "{order:?}");
    let calls = got.iter().filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("call.")));
    assert!(calls.clone().all(|e| e["data"]["ref"] == uuid.as_str()), "{got:?}");
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the callee was answered, transferred, then got BYE");
    wait(far, "the routed far end answered, then got BYE");
    legs_when(&c, <[Value]>::is_empty);
}

#[test]
fn bridge_connects_the_callee_to_an_agent_and_set_variables_are_listed() {
    let c = calliope(&[]);
    let agent = phone(
        &c,
        "2003",
        "uas_answer_play.xml",
        &["-key", "pcap", PCAP_A, "-key", "codec", "8", "-key", "codec_name", "PCMA"],
    );
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "cidNumber": CALLER, "autoAnswer": "true", "apps": [
            {"app": "set", "args": "RECORD_ANSWER_REQ=true"},
            {"app": "set", "args": "team=sales"},
            {"app": "bridge", "args": "{origination_callee_id_name=2003}user/2003"}
        ]}),
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|x| x["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let a = legs.iter().find(|l| l["uuid"] == uuid.as_str()).expect("the callee's leg");
    assert_eq!(a["variables"]["RECORD_ANSWER_REQ"], "true", "{a}");
    assert_eq!(a["variables"]["team"], "sales", "{a}");
    assert_eq!(a["application"], "bridge", "{a}");
    assert_eq!(a["application_data"], "user/2003", "{a}");
    assert_eq!(a["cid_num"], CALLER, "{a}");
    let b = legs.iter().find(|l| l["uuid"] != uuid.as_str()).expect("the agent's leg");
    assert_eq!(b["dest"], "user/2003", "{b}");
    assert_eq!(b["direction"], "outbound", "{b}");
    assert_eq!(b["state"], "CS_EXCHANGE_MEDIA", "{b}");
    let packets = rtp_packets(&ear, Duration::from_secs(2));
    assert!(packets > 30, "the callee hears the agent: {packets} packets");
    // Deaf on the bridged callee: its RTP goes on, as silence.
    let loudest = |samples: &[i16]| samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let speech = heard(&ear, Duration::from_millis(800));
    assert!(loudest(&speech) > 1000, "the agent's speech is heard: {}", loudest(&speech));
    let (st, body) = c.pbx("PUT", &format!("/api/channels/{uuid}"), json!({"action": "deaf", "deaf": "on"}));
    assert_eq!(st, 200, "{body}");
    std::thread::sleep(Duration::from_millis(200));
    let silence = heard(&ear, Duration::from_millis(800));
    assert!(silence.len() > 3000, "RTP goes on while deaf: {} samples", silence.len());
    assert!(loudest(&silence) < 100, "and carries silence: {}", loudest(&silence));
    let (st, body) = c.pbx("PUT", &format!("/api/channels/{uuid}"), json!({"action": "deaf", "deaf": "off"}));
    assert_eq!(st, 200, "{body}");
    std::thread::sleep(Duration::from_millis(200));
    let again = heard(&ear, Duration::from_millis(800));
    assert!(loudest(&again) > 1000, "the agent is heard again: {}", loudest(&again));
    let b_uuid = b["uuid"].as_str().unwrap().to_owned();
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the callee was bridged, then got BYE");
    wait(agent, "the agent answered the bridge, then got BYE");
    // Each leg has its record.
    let mut record = Value::Null;
    for _ in 0..50 {
        let (st, body) = c.call("GET", &format!("/v1beta2/calls/{b_uuid}"), Value::Null);
        if st == 200 && body["live"].is_null() {
            record = body;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its call shows it among its legs.
    let legs = record["legs"].as_array().cloned().unwrap_or_default();
    let leg = legs.iter().find(|l| l["ref"] == b_uuid.as_str()).cloned().unwrap_or_default();
    assert_eq!(
        (&leg["to"], &leg["leg"]),
        (&Value::from("user/2003"), &Value::from("B")),
        "the bridged leg's record: {record}"
    );
    assert_eq!(leg["from"], CALLER, "{record}");
    // A bridge to an agent that does not exist hangs the callee up.
    let uas = callee(&c, "uas_answer.xml", free_port());
    let (st, body) = c.pbx_form(
        "POST",
        "/api/channels",
        &[("destNumber", CALLEE), ("app", "bridge"), ("args", "user/2999")],
    );
    assert_eq!(st, 200, "{body}");
    wait(uas, "the callee answered, then got BYE: nobody to bridge to");
}

#[test]
fn deaf_and_record_act_on_a_live_call() {
    let c = calliope(&[]);
    let seen = events(&c);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "app": "playback", "args": "tone_stream://%(30000,0,1000)"}),
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let path = format!("/api/channels/{uuid}");
    let before = tone_report(&heard(&ear, Duration::from_millis(1500)), 8000, 1000.0);
    assert!(before.tone_ms >= 800, "the callee hears the tone: {before:?}");
    let (st, body) = c.pbx("PUT", &path, json!({"action": "deaf", "deaf": "on"}));
    assert_eq!((st, &body["msg"]), (200, &json!("ok")), "{body}");
    std::thread::sleep(Duration::from_millis(300));
    let samples = heard(&ear, Duration::from_millis(1500));
    let deaf = tone_report(&samples, 8000, 1000.0);
    assert!(deaf.tone_ms < 100, "a deaf callee hears nothing: {deaf:?}");
    assert!(samples.len() > 4000, "but its RTP goes on (silence): {} samples", samples.len());
    let (st, body) = c.pbx("PUT", &path, json!({"action": "deaf", "deaf": "off"}));
    assert_eq!(st, 200, "{body}");
    std::thread::sleep(Duration::from_millis(300));
    let after = tone_report(&heard(&ear, Duration::from_millis(1500)), 8000, 1000.0);
    assert!(after.tone_ms >= 800, "and hears again: {after:?}");
    let (st, body) = c.pbx("PUT", &path, json!({"action": "deaf", "deaf": "maybe"}));
    assert_eq!(st, 400, "{body}");
    // Record on, then off: a WAV with what was said and heard.
    let (st, body) =
        c.pbx("PUT", &path, json!({"action": "record", "record": "on", "file_name": "live.wav"}));
    assert_eq!(st, 200, "{body}");
    let file = body["file"].as_str().unwrap().to_owned();
    assert!(file.ends_with("live.wav"), "{body}");
    std::thread::sleep(Duration::from_millis(1500));
    let (st, body) = c.pbx("PUT", &path, json!({"action": "record", "record": "off"}));
    assert_eq!(st, 200, "{body}");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!(size > 8000, "the recording holds audio: {size} bytes");
    let (st, body) =
        c.pbx("PUT", &path, json!({"action": "record", "record": "on", "file_name": "screen.mp4"}));
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("video is not supported"), "{body}");
    let (st, body) = c.pbx("PUT", &path, json!({"action": "snapshot", "png_name": "x.png"}));
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("video is not supported"), "{body}");
    let got = events_until(&seen, Duration::from_secs(10), |e| e["type"] == "call.recording.finished");
    let order = names(&got);
    assert!(order.iter().any(|n| n == "call.recording.started:"), "{order:?}");
    assert!(order.iter().any(|n| n == "call.recording.finished:"), "{order:?}");
    assert_eq!(c.pbx("DELETE", &path, Value::Null).0, 200);
    wait(uas, "the callee heard, was deaf, heard again, then got BYE");
    legs_when(&c, <[Value]>::is_empty);
    // The call is over: every action answers 409 in the PBX shape (its
    // record is written as it ends), and changes nothing.
    let mut reply = (0, Value::Null);
    for _ in 0..50 {
        reply = c.pbx("PUT", &path, json!({"action": "deaf", "deaf": "on"}));
        if reply.0 == 409 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(reply.0, 409, "the call is over: {}", reply.1);
    assert_eq!(reply.1["code"], 409, "the PBX shape: {}", reply.1);
    for body in [
        json!({"action": "mute", "mute": "on"}),
        json!({"action": "record", "record": "off"}),
        json!({"action": "record", "record": "on", "file_name": "late.wav"}),
    ] {
        let (st, reply) = c.pbx("PUT", &path, body.clone());
        assert_eq!(st, 409, "{body} on a finished call: {reply}");
    }
    let (st, reply) = c.pbx("DELETE", &path, Value::Null);
    assert_eq!(st, 409, "hanging up a finished call: {reply}");
    assert!(c.pbx_get("/api/channels").1.as_array().unwrap().is_empty(), "nothing came back");
    assert_eq!(c.pbx("DELETE", "/api/channels/no-such-call", Value::Null).0, 404);
}

/// The channel states of one call that `pushes` receives, each verified
/// against `secret`, until its hangup (or 20 s); hangs the call up once
/// it is answered.
fn pushed_states(
    c: &Calliope,
    pushes: &mpsc::Receiver<(String, Vec<u8>)>,
    uuid: &str,
    secret: &str,
) -> Vec<Value> {
    let secret = engine::webhooks::Secret::from_text(secret);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut states, mut hung_up) = (Vec::new(), false);
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
        assert_eq!(push["Unique-ID"], uuid);
        let done = push["Answer-State"] == "hangup";
        states.push(push);
        if done {
            break;
        }
    }
    states
}

#[test]
fn a_post_event_url_set_through_the_api_gets_the_workspace_calls_and_failures_are_recorded() {
    let (url, pushes) = receiver();
    let c = calliope(&[]);
    let secret = "a workspace's own secret";
    // Bad settings are refused, naming the field.
    let (st, body) =
        c.pbx("PUT", "/api/settings", json!({"post_event_url": "ftp://x", "post_event_secret": secret}));
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("post_event_url"), "{body}");
    let (st, body) = c.pbx("PUT", "/api/settings", json!({"post_event_url": url}));
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("post_event_secret"), "{body}");
    let (st, body) =
        c.pbx("PUT", "/api/settings", json!({"post_event_url": url, "post_event_secret": secret}));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["data"]["post_event_url"], url.as_str(), "{body}");
    assert_eq!(body["data"]["post_event_secret_set"], true, "{body}");
    let (st, shown) = c.pbx_get("/api/settings");
    assert_eq!(st, 200, "{shown}");
    assert!(!shown.to_string().contains(secret), "the secret is never shown: {shown}");
    assert_eq!(shown["data"]["post_event_url"], url.as_str(), "{shown}");

    let uas = callee(&c, "uas_answer.xml", free_port());
    let (st, body) = c.pbx("POST", "/api/channels", json!({"destNumber": CALLEE, "cidNumber": CALLER}));
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let states = pushed_states(&c, &pushes, &uuid, secret);
    let order: Vec<&str> = states.iter().map(|s| s["Answer-State"].as_str().unwrap()).collect();
    assert_eq!(order, ["ringing", "answered", "hangup"], "{states:?}");
    assert_eq!(states[0]["Caller-Username"], CALLER);
    assert_eq!(states[2]["Hangup-Cause"], "NORMAL_CLEARING");
    wait(uas, "the callee answered, then got BYE");

    // A receiver that is down: bounded retries, then a recorded failure.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/down", l.local_addr().unwrap())
    };
    let (st, body) =
        c.pbx("PUT", "/api/settings", json!({"post_event_url": dead, "post_event_secret": secret}));
    assert_eq!(st, 200, "{body}");
    let seen = events(&c);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let (st, body) = c.pbx("POST", "/api/channels", json!({"destNumber": CALLEE}));
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let got = events_until(&seen, Duration::from_secs(20), |e| e["type"] == "call.webhook.failed");
    let failed =
        got.last().filter(|e| e["type"] == "call.webhook.failed").unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(failed["data"]["ref"], uuid.as_str(), "{failed}");
    assert_eq!(failed["data"]["webhook"], "post_event", "{failed}");
    assert_eq!(failed["data"]["url"], dead.as_str(), "{failed}");
    assert_eq!(failed["data"]["cause"], "WEBHOOK_NETWORK_ERROR", "{failed}");
    let (_, shown) = c.pbx_get("/api/settings");
    let failures = shown["data"]["post_event_failures"].as_array().cloned().unwrap_or_default();
    assert!(failures.iter().any(|f| f["call_uuid"] == uuid.as_str()), "the failure is recorded: {shown}");
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the callee answered, then got BYE");
    // The setting outlives a restart.
    let (st, body) =
        c.pbx("PUT", "/api/settings", json!({"post_event_url": url, "post_event_secret": secret}));
    assert_eq!(st, 200, "{body}");
    let c = c.restart(&[]);
    let (_, shown) = c.pbx_get("/api/settings");
    assert_eq!(shown["data"]["post_event_url"], url.as_str(), "kept in the store: {shown}");
    // Cleared: nothing more is pushed.
    let (st, body) = c.pbx("PUT", "/api/settings", json!({"post_event_url": null}));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["data"]["post_event_url"], Value::Null, "{body}");
}

/// When the first `BYE` reached the SIPp that wrote `trace` (its trace's
/// time stamp line, which sorts as text).
fn bye_received_at(trace: &std::path::Path) -> String {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let at =
        lines.iter().position(|l| l.trim_start().starts_with("BYE sip:")).unwrap_or_else(|| panic!("{text}"));
    let stamp = lines[..at].iter().rev().find(|l| l.starts_with("----")).unwrap_or_else(|| panic!("{text}"));
    stamp.trim_start_matches('-').trim().to_owned()
}

#[test]
fn deleting_the_callees_channel_hangs_up_that_leg_as_its_phone_would() {
    let c = calliope(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (trace_a, trace_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let uas = support::calls::callee_with(
        &c,
        "uas_answer.xml",
        free_port(),
        &["-trace_msg", "-message_file", trace_b.to_str().unwrap()],
    );
    let media = free_port().to_string();
    let uac = Sipp::new("uac_hungup.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .args(&["-trace_msg", "-message_file", trace_a.to_str().unwrap()])
        .spawn();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let call = legs[0]["call_uuid"].as_str().unwrap().to_owned();
    let leg_b =
        legs.iter().find(|l| l["uuid"] != call.as_str()).unwrap()["uuid"].as_str().unwrap().to_owned();
    let (st, reply) = c.pbx("DELETE", &format!("/api/channels/{leg_b}"), Value::Null);
    assert_eq!(st, 200, "{reply}");
    wait(uas, "the callee got BYE");
    wait(uac, "the caller got BYE");
    assert!(
        bye_received_at(&trace_b) < bye_received_at(&trace_a),
        "B's BYE came first, then A's, as when B hangs up"
    );
    assert!(legs_when(&c, |l| l.is_empty()).is_empty(), "no leg is left");
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = c.pbx_get(&format!("/api/cdrs?call_uuid={call}")).1["data"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if rows.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().all(|r| r["hangup_cause"] == "NORMAL_CLEARING" && r["disposition"] == "ANSWERED"),
        "{rows:?}"
    );
}

#[test]
fn deleting_a_ringing_callees_channel_cancels_it_and_fails_the_call() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_ring.xml", free_port());
    let media = free_port().to_string();
    let uac = Sipp::new("uac_terminated.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .spawn();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "RINGING"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let call = legs[0]["call_uuid"].as_str().unwrap().to_owned();
    let leg_b =
        legs.iter().find(|l| l["uuid"] != call.as_str()).unwrap()["uuid"].as_str().unwrap().to_owned();
    let (st, reply) = c.pbx("DELETE", &format!("/api/channels/{leg_b}"), Value::Null);
    assert_eq!(st, 200, "{reply}");
    wait(uas, "the ringing callee got CANCEL");
    wait(uac, "the caller got 487");
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = c.pbx_get(&format!("/api/cdrs?call_uuid={call}")).1["data"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if rows.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(rows.len(), 2, "the rung leg has its record: {rows:?}");
    assert!(rows.iter().all(|r| r["disposition"] == "NO ANSWER"), "{rows:?}");
}
