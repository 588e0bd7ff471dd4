//! Events per leg, against a running Calliope with real peers: the PBX
//! channel-state push (to a real HTTP receiver) gives each leg of a call
//! its own `ringing`, `answered` and `hangup`, linked by the call's uuid,
//! for a SIPp caller bridged to a SIPp agent (the URL set in the
//! configuration file) and for an originated call bridged to an agent; a
//! call placed through the Vonage Voice API reports its statuses to its
//! event_url, and one whose event_url is down ends in `call.webhook.failed`
//! on `/events`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee, caller, calliope, wait, CALLEE, CALLER, PCAP_A};
use support::vonage::{application, token, voice, voice_hooks};
use support::webhooks::Webhooks;

const SECRET: &str = "a secret that signs the pushes";

/// A real HTTP receiver on a free port: each POST's JSON body (its
/// signature checked with [`SECRET`]) arrives on the channel; every
/// request is answered 200.
fn receiver() -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/states", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let secret = engine::webhooks::Secret::from_text(SECRET);
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
            let now = support::vonage::now();
            engine::webhooks::sign::verify(&secret, &signature, &body, now, 300)
                .expect("each push is signed");
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// The pushes that arrive until `legs` legs have hung up (or 30 s).
fn pushes_until_hung_up(rx: &mpsc::Receiver<Value>, legs: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.iter().filter(|p: &&Value| p["Answer-State"] == "hangup").count() < legs {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { break };
        match rx.recv_timeout(left) {
            Ok(p) => got.push(p),
            Err(_) => break,
        }
    }
    got
}

/// Each leg's states in order, by leg uuid; checks that every push names
/// the same call.
fn states_by_leg(pushes: &[Value]) -> (String, Vec<(String, Vec<String>)>) {
    let call = pushes[0]["Channel-Call-UUID"].as_str().unwrap().to_owned();
    let mut legs: Vec<(String, Vec<String>)> = Vec::new();
    for p in pushes {
        assert_eq!(p["Event-Subclass"], "ai::channel-state", "{p}");
        assert_eq!(p["Channel-Call-UUID"], call.as_str(), "one call: {pushes:#?}");
        let leg = p["Unique-ID"].as_str().unwrap().to_owned();
        let state = p["Answer-State"].as_str().unwrap().to_owned();
        match legs.iter_mut().find(|(l, _)| *l == leg) {
            Some((_, states)) => states.push(state),
            None => legs.push((leg, vec![state])),
        }
    }
    (call, legs)
}

#[test]
fn a_bridged_agent_call_pushes_each_leg_to_the_configured_post_event_url() {
    let (url, rx) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("calliope.toml");
    std::fs::write(&config, format!("post_event_url = \"{url}\"\npost_event_secret = \"{SECRET}\"\n"))
        .unwrap();
    let c = calliope(&["--config", config.to_str().unwrap()]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let keys = ["-key", "pcap", PCAP_A, "-key", "dtmf", "/usr/share/sip-tester/dtmf_2833_1.pcap"];
    let out = caller(&c, "uac_call.xml", &keys);
    assert_passed(&out, "the caller's call was answered, then it hung up");
    wait(uas, "the agent answered, then got BYE");

    let pushes = pushes_until_hung_up(&rx, 2);
    let (call, legs) = states_by_leg(&pushes);
    assert_eq!(legs.len(), 2, "two legs: {pushes:#?}");
    let states = ["ringing", "answered", "hangup"].map(str::to_owned).to_vec();
    let a = legs.iter().find(|(l, _)| *l == call).expect("the caller's leg is the call's");
    let b = legs.iter().find(|(l, _)| *l != call).expect("the agent's leg");
    assert_eq!(a.1, states, "{pushes:#?}");
    assert_eq!(b.1, states, "{pushes:#?}");
    for p in &pushes {
        assert_eq!(p["Caller-Username"], CALLER, "{p}");
        assert_eq!(p["Caller-Destination-Number"], CALLEE, "{p}");
        assert_eq!(p["Channel-Read-Codec-Rate"], "8000", "{p}");
        let outbound = p["Unique-ID"] != call.as_str();
        assert_eq!(p["Call-Direction"], if outbound { "outbound" } else { "inbound" }, "{p}");
        if p["Answer-State"] == "hangup" {
            assert_eq!(p["Hangup-Cause"], "NORMAL_CLEARING", "{p}");
        }
    }
    // The agent rings before the caller hears ringing; the agent answers
    // before the caller is answered.
    let at = |leg: &str, state: &str| {
        pushes.iter().position(|p| p["Unique-ID"] == leg && p["Answer-State"] == state).unwrap()
    };
    assert!(at(&b.0, "ringing") < at(&a.0, "ringing"), "{pushes:#?}");
    assert!(at(&b.0, "answered") < at(&a.0, "answered"), "{pushes:#?}");
}

/// Agent `user` (password `pw-<user>`) registered at a SIPp UAS running
/// `scenario`.
fn phone(c: &Calliope, user: &str, scenario: &str) -> std::process::Child {
    let password = format!("pw-{user}");
    c.agent(user, &password);
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", &password])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the agent registers");
    child
}

#[test]
fn an_originated_call_bridged_to_an_agent_pushes_both_legs() {
    let (url, rx) = receiver();
    let c = calliope(&["--post-event-url", &url, "--post-event-secret", SECRET]);
    let agent = phone(&c, "2003", "uas_answer.xml");
    let uas = callee(&c, "uas_answer.xml", free_port());
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "cidNumber": CALLER, "apps": [{"app": "bridge", "args": "user/2003"}]}),
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    // Both legs answered: hang the call up.
    let mut pushes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pushes.iter().filter(|p: &&Value| p["Answer-State"] == "answered").count() < 2 {
        let left = deadline.checked_duration_since(Instant::now()).expect("both legs answer");
        pushes.push(rx.recv_timeout(left).unwrap());
    }
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    pushes.extend(pushes_until_hung_up(&rx, 2));
    wait(uas, "the callee answered, was bridged, then got BYE");
    wait(agent, "the agent answered the bridge, then got BYE");

    let (call, legs) = states_by_leg(&pushes);
    assert_eq!(call, uuid, "{pushes:#?}");
    assert_eq!(legs.len(), 2, "{pushes:#?}");
    let states = ["ringing", "answered", "hangup"].map(str::to_owned).to_vec();
    for (leg, got) in &legs {
        assert_eq!(got, &states, "leg {leg}: {pushes:#?}");
    }
    let b = pushes.iter().find(|p| p["Unique-ID"] != uuid.as_str()).unwrap();
    assert_eq!(b["Caller-Destination-Number"], "user/2003", "{b}");
    assert_eq!(b["Call-Direction"], "outbound", "{b}");
    assert_eq!(b["Other-Leg-Unique-ID"], uuid.as_str(), "{b}");
    // The callee answered before the agent was rung.
    let at = |leg: &str, state: &str| {
        pushes.iter().position(|p| p["Unique-ID"] == leg && p["Answer-State"] == state).unwrap()
    };
    let b_uuid = b["Unique-ID"].as_str().unwrap();
    assert!(at(&uuid, "answered") < at(b_uuid, "ringing"), "{pushes:#?}");
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

/// The statuses `hooks` heard at `path` once `last` came (or 15 s).
fn statuses_until(hooks: &Webhooks, path: &str, last: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !hooks.statuses(path).iter().any(|s| s == last) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    hooks.statuses(path)
}

#[test]
fn a_placed_vonage_call_reports_its_statuses_and_a_dead_event_url_is_an_event() {
    let c = calliope(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, _| json!({}));
    let (app, key) = application(&c, json!({"name": "placed", "capabilities": voice_hooks(&hooks)}));
    *hooks.app_ref.lock().unwrap() = app.clone();
    let jwt = token(&app, &key);
    let to = json!([{"type": "phone", "number": CALLEE}]);

    // Answered, then the NCCO ends: started, ringing, answered, completed.
    let uas = callee(&c, "uas_answer.xml", free_port());
    let ncco = json!([{"action": "talk", "text": "one"}]);
    let (st, body) = voice(
        &c,
        &jwt,
        "POST",
        "/v1/calls",
        json!({"to": to, "from": {"type": "phone", "number": "5550100"}, "ncco": ncco}),
    );
    assert_eq!(st, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    wait(uas, "the callee answered, heard the talk, then got BYE");
    let got = statuses_until(&hooks, "/event", "completed");
    assert_eq!(got, ["started", "ringing", "answered", "completed"], "{:?}", hooks.hits());
    let heard: Vec<Value> = hooks.hits().into_iter().filter(|h| h.path == "/event").map(|h| h.body).collect();
    for e in &heard {
        assert_eq!(e["uuid"], uuid.as_str(), "{e}");
        assert_eq!(e["direction"], "outbound", "{e}");
        assert_eq!(e["from"], "5550100", "{e}");
        assert_eq!(e["to"], CALLEE, "{e}");
        // The same conversation as the REST API shows.
        assert_eq!(e["conversation_uuid"], format!("CON-{uuid}"), "{e}");
        assert_eq!(e["conversation_uuid"], body["conversation_uuid"], "{e}");
        assert!(e["timestamp"].is_string(), "{e}");
    }
    assert!(heard[3]["duration"].is_string() && heard[3]["end_time"].is_string(), "{}", heard[3]);
    assert!(hooks.hits().iter().all(|h| h.signed), "every event is signed");

    // A busy callee (another agent: the first one's contact is still
    // registered): started, then busy (it never rang).
    let before = hooks.statuses("/event").len();
    let uas = phone(&c, "2005", "uas_busy.xml");
    let (st, body) = voice(
        &c,
        &jwt,
        "POST",
        "/v1/calls",
        json!({"to": [{"type": "phone", "number": "2005"}], "ncco": ncco}),
    );
    assert_eq!(st, 201, "{body}");
    wait(uas, "the callee was busy");
    statuses_until(&hooks, "/event", "busy");
    assert_eq!(hooks.statuses("/event")[before..], ["started", "busy"], "{:?}", hooks.hits());

    // An event_url that is down: bounded retries, then call.webhook.failed.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/down", l.local_addr().unwrap())
    };
    let seen = events(&c);
    let uas = phone(&c, "2006", "uas_busy.xml");
    let to = json!([{"type": "phone", "number": "2006"}]);
    let (st, body) =
        voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "ncco": ncco, "event_url": [dead]}));
    assert_eq!(st, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    wait(uas, "the callee was busy");
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let left = deadline.checked_duration_since(Instant::now()).expect("call.webhook.failed comes");
        let e = seen.recv_timeout(left).unwrap();
        if e["type"] == "call.webhook.failed" {
            break e;
        }
    };
    assert_eq!(failed["data"]["ref"], uuid.as_str(), "{failed}");
    assert_eq!(failed["data"]["webhook"], "event_url", "{failed}");
    assert_eq!(failed["data"]["url"], dead.as_str(), "{failed}");
    assert_eq!(failed["data"]["status"], "started", "{failed}");
    assert_eq!(failed["data"]["cause"], "WEBHOOK_NETWORK_ERROR", "{failed}");
}
