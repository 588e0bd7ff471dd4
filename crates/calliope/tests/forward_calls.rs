//! An agent's call forwarding to a destination that runs a program, end
//! to end: SIPp plays a carrier trunk calling agent 2002 (the test's own
//! UDP socket is the caller's media: it hears what is played and presses
//! keys as RFC 4733 telephone-events) and 2002's phone (busy, or ringing
//! unanswered). Busy forwards to an IVR menu whose greeting is heard and
//! whose keys route on; no answer forwards to a voice application (a real
//! webhook server) that runs; a forwarding to a destination type Calliope
//! does not support is refused and the call fails as it would without it;
//! forwarding always to an IVR menu runs it without ringing anyone.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{legs_of, legs_when, wait};
use support::events::next_json;
use support::webhooks::Webhooks;
use tokio_tungstenite::tungstenite::Message;

/// The carrier's number as the caller.
const CARRIER_CALLER: &str = "15551230000";

/// The id a PBX create answers (`data`: a string, a number or the record).
fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// A route: numbers starting with `prefix` in `context` go to `dest`.
fn route(c: &Calliope, context: &str, prefix: &str, dest_type: &str, dest_uuid: &str) {
    let body = json!({"name": format!("{prefix} to {dest_type}"), "context": context, "max_length": "20",
                      "prefix": prefix, "dest_type": dest_type, "dest_uuid": dest_uuid});
    let (st, answer) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{answer}");
}

/// Agent 2002 forwarding (`field`: `forwardBusy` / `forwardNoAnswer`) to
/// `number`, which agents dial in `context-1`; a carrier trunk at `port`
/// whose calls to 2... reach the agents.
fn setup(c: &Calliope, field: &str, number: &str, carrier_port: u16) {
    let agent = c.agent("2002", "pw-2002");
    let (st, body) = c.call("PUT", &format!("/v1beta2/agents/{agent}"), json!({ field: number }));
    assert_eq!(st, 200, "{body}");
    let trunk = json!({"name": "carrier", "remote_addr": format!("127.0.0.1:{carrier_port}"), "type": "INOUT",
                       "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", trunk);
    assert_eq!(st, 200, "{answer}");
    route(c, "context-2", "2", "FS_DEST_USER", "");
}

/// Agent 2002's phone: a SIPp UAS running `scenario`, registered.
fn phone(c: &Calliope, scenario: &str) -> Child {
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", "2002"])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", "2002", "-au", "2002", "-ap", "pw-2002"])
        .contact_port(port)
        .run();
    assert_passed(&reg, "2002 registers");
    child
}

/// The carrier calls 2002; its media is `rtp`.
fn carrier_call(c: &Calliope, carrier_port: u16, rtp: &UdpSocket) -> Child {
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "2002", "-key", "caller", CARRIER_CALLER, "-key", "rtp_port", &rtp_port])
        .spawn()
}

/// Waits for the carrier's SIPp: it passes once the program hung up.
fn hung_up_by_the_program(mut call: Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = call.kill();
            let _ = call.wait();
            panic!("{what}: the program did not hang up");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{what}: the caller's SIPp passes (BYE from the program)");
}

/// The first `call.forwarded` event of the owner's workspace, read by a
/// WebSocket client of `/events` subscribed before this returns.
fn forwarded_event(c: &Calliope) -> std::thread::JoinHandle<Value> {
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let (ready, subscribed) = mpsc::channel();
    let watcher = std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let subscribe = json!({"type": "subscribe", "events": ["call.forwarded"]});
            ws.send(Message::Text(subscribe.to_string().into())).await.unwrap();
            assert_eq!(next_json(&mut ws).await["type"], "subscribed");
            ready.send(()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let event = next_json(&mut ws).await;
                if event["type"] == "call.forwarded" || Instant::now() > deadline {
                    return event;
                }
            }
        })
    });
    subscribed.recv_timeout(Duration::from_secs(10)).unwrap();
    watcher
}

/// The call records once `n` are written.
fn records(c: &Calliope, n: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=1000", Value::Null);
        items = legs_of(&body);
        if items.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    items
}

fn no_live_calls(c: &Calliope) {
    let legs = legs_when(c, |l| l.is_empty());
    assert!(legs.is_empty(), "no call is left behind: {legs:?}");
}

/// An RFC 4733 telephone-event for `digit` from `socket` to `to`: three
/// updates and three end packets, 60 ms of key press.
fn press(socket: &UdpSocket, to: SocketAddr, digit: u8, seq: &mut u16, ts: &mut u32) {
    for (i, (end, duration)) in
        [(false, 160u16), (false, 320), (false, 480), (true, 480), (true, 480), (true, 480)]
            .into_iter()
            .enumerate()
    {
        let mut p = vec![0x80, if i == 0 { 0x80 | 101 } else { 101 }];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x0bad_f00du32.to_be_bytes());
        p.push(digit - b'0');
        p.push(if end { 0x80 | 10 } else { 10 });
        p.extend_from_slice(&duration.to_be_bytes());
        socket.send_to(&p, to).unwrap();
        *seq = seq.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(20));
    }
    *ts = ts.wrapping_add(1600);
}

/// The linear audio of the PCMU packets `socket` receives within `window`,
/// and where they came from.
fn hear(socket: &UdpSocket, window: Duration) -> (Vec<i16>, Option<SocketAddr>) {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let (mut samples, mut from) = (Vec::new(), None);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if let Ok((n, peer)) = socket.recv_from(&mut buf) {
            if n > 12 && buf[1] & 0x7f == 0 {
                from = Some(peer);
                samples.extend(buf[12..n].iter().map(|&c| media::g711::Law::Ulaw.decode(c)));
            }
        }
    }
    (samples, from)
}

/// Which of `frequencies` sounds longest in `samples`, and for how long.
fn loudest_tone(samples: &[i16], frequencies: &[f32]) -> (f32, u32) {
    frequencies
        .iter()
        .map(|f| (*f, tone_report(samples, 8000, *f).longest_run_ms))
        .max_by_key(|(_, ms)| *ms)
        .unwrap()
}

#[test]
fn a_busy_agent_forwards_to_an_ivr_menu_whose_keys_route_on() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    setup(&c, "forwardBusy", "6000", carrier_port);
    let menu = |body: Value| {
        let (st, answer) = c.pbx("POST", "/api/ivrs", body);
        assert_eq!(st, 200, "{answer}");
        id_of(&answer)
    };
    let sub = menu(
        json!({"name": "sub", "greet_long": "tone_stream://%(1200,0,1000)", "timeout": 5000, "digit_len": 1}),
    );
    let top = menu(json!({"name": "top", "greet_long": "tone_stream://%(800,0,440)", "timeout": 5000,
                          "digit_len": 1, "max_failures": 3, "max_timeouts": 3}));
    for (id, digits, action, args) in
        [(top, "1", "IVR_SUB", sub.to_string()), (sub, "9", "IVR_EXIT", String::new())]
    {
        let (st, a) = c.pbx(
            "POST",
            &format!("/api/ivrs/{id}/actions"),
            json!({"ivr_menu_id": id, "digits": digits, "action": action, "args": args}),
        );
        assert_eq!(st, 200, "{a}");
    }
    route(&c, "context-1", "6", "FS_DEST_IVR", &top.to_string());
    let busy = phone(&c, "uas_busy.xml");
    let event = forwarded_event(&c);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = carrier_call(&c, carrier_port, &rtp);
    let tones = [440.0, 1000.0];
    let (greeting, calliope_rtp) = hear(&rtp, Duration::from_secs(3));
    let calliope_rtp = calliope_rtp.expect("the menu answers the forwarded call with audio");
    let (f, ms) = loudest_tone(&greeting, &tones);
    assert!(f == 440.0 && ms >= 500, "the menu's greeting: {f} Hz for {ms} ms");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'1', &mut seq, &mut ts);
    let (entered, _) = hear(&rtp, Duration::from_millis(1500));
    let (f, ms) = loudest_tone(&entered, &tones);
    assert!(f == 1000.0 && ms >= 800, "1 enters the sub-menu: {f} Hz for {ms} ms");
    press(&rtp, calliope_rtp, b'9', &mut seq, &mut ts);
    hung_up_by_the_program(call, "9 (IVR_EXIT)");
    wait(busy, "2002 was rung and answered busy");

    let event = event.join().unwrap();
    assert_eq!(event["type"], "call.forwarded", "{event}");
    assert_eq!(event["data"]["from"], "2002", "{event}");
    assert_eq!(event["data"]["to"], "6000", "{event}");
    assert_eq!(event["data"]["reason"], "busy", "{event}");
    assert_eq!(event["data"]["program"], true, "{event}");
    let cdrs = records(&c, 1);
    let caller = cdrs.iter().find(|r| r["from"] == CARRIER_CALLER).unwrap_or_else(|| panic!("{cdrs:?}"));
    assert_eq!(caller["to"], "6000", "the record names the number forwarded to: {cdrs:?}");
    no_live_calls(&c);
}

#[test]
fn an_agent_that_does_not_answer_forwards_to_a_voice_application() {
    let c = Calliope::start(&["--ring-timeout", "2"]);
    let carrier_port = free_port();
    setup(&c, "forwardNoAnswer", "5000", carrier_port);
    let hooks = Webhooks::start(
        c.dir.path().to_path_buf(),
        |_, _| json!({"commands": [{"play": {"url": "tone_stream://%(1500,0,1000)"}}, {"hangup": {}}]}),
    );
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "overflow", "type": "EXTERNAL", "endpoint": hooks.at("/voice")}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    // The workspace's only application: id 1 (the route checks it exists).
    route(&c, "context-1", "5", "FS_DEST_SCRIPT", "1");
    let rings = phone(&c, "uas_ring.xml");
    let event = forwarded_event(&c);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let call = carrier_call(&c, carrier_port, &rtp);
    let (heard, _) = hear(&rtp, Duration::from_secs(5));
    let report = tone_report(&heard, 8000, 1000.0);
    assert!(report.longest_run_ms >= 1000, "the application's tone is heard: {report:?} {:?}", hooks.hits());
    hung_up_by_the_program(call, "the application's hangup");
    assert!(started.elapsed() >= Duration::from_millis(1800), "2002 rang its 2 s first");
    wait(rings, "2002 rang out and was cancelled");

    let hits = hooks.hits();
    assert_eq!(hits.len(), 1, "one session request: {hits:?}");
    assert!(hits[0].signed, "{hits:?}");
    assert_eq!(hits[0].body["appRef"], json!(app_ref), "{hits:?}");
    assert_eq!(
        hits[0].body["calleeNumber"], "5000",
        "the application sees the number forwarded to: {hits:?}"
    );
    assert_eq!(hits[0].body["callerNumber"], CARRIER_CALLER, "{hits:?}");
    let event = event.join().unwrap();
    assert_eq!(event["type"], "call.forwarded", "{event}");
    assert_eq!(
        (&event["data"]["reason"], &event["data"]["to"]),
        (&json!("no_answer"), &json!("5000")),
        "{event}"
    );
    let cdrs = records(&c, 1);
    let caller = cdrs.iter().find(|r| r["from"] == CARRIER_CALLER).unwrap_or_else(|| panic!("{cdrs:?}"));
    assert_eq!(caller["to"], "5000", "{cdrs:?}");
    assert_eq!(caller["appRef"], json!(app_ref), "the record names the application: {cdrs:?}");
    no_live_calls(&c);
}

#[test]
fn a_forwarding_to_an_unsupported_destination_type_leaves_the_call_busy() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    setup(&c, "forwardBusy", "8000", carrier_port);
    route(&c, "context-1", "8", "FS_DEST_CTI", "1");
    let busy = phone(&c, "uas_busy.xml");
    let media = free_port().to_string();
    let out = Sipp::on_port("trunk_busy.xml", c.sip, carrier_port)
        .args(&["-s", "2002", "-key", "caller", CARRIER_CALLER, "-mp", &media])
        .run();
    assert_passed(&out, "the caller gets 2002's 486: the CTI forwarding is not taken");
    wait(busy, "2002 answered busy");
    no_live_calls(&c);
}

#[test]
fn an_agent_forwarding_always_to_an_ivr_menu_never_rings() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    setup(&c, "forwardAlways", "6000", carrier_port);
    let (st, menu) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "always", "greet_long": "tone_stream://%(800,0,440)", "timeout": 5000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{menu}");
    let menu = id_of(&menu);
    let (st, a) = c.pbx(
        "POST",
        &format!("/api/ivrs/{menu}/actions"),
        json!({"ivr_menu_id": menu, "digits": "9", "action": "IVR_EXIT", "args": ""}),
    );
    assert_eq!(st, 200, "{a}");
    route(&c, "context-1", "6", "FS_DEST_IVR", &menu.to_string());

    // 2002 has no phone at all: the menu answers at once.
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = carrier_call(&c, carrier_port, &rtp);
    let (greeting, calliope_rtp) = hear(&rtp, Duration::from_secs(2));
    let calliope_rtp = calliope_rtp.expect("the menu answers with audio");
    let (f, ms) = loudest_tone(&greeting, &[440.0, 1000.0]);
    assert!(f == 440.0 && ms >= 500, "the menu's greeting: {f} Hz for {ms} ms");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'9', &mut seq, &mut ts);
    hung_up_by_the_program(call, "9 (IVR_EXIT)");
    let cdrs = records(&c, 1);
    assert!(cdrs.iter().any(|r| r["to"] == "6000"), "the record names the number forwarded to: {cdrs:?}");
    no_live_calls(&c);
}
