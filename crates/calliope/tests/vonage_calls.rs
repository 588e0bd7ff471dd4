//! The Vonage Voice API's call control against a running Calliope, with a
//! SIPp agent as the live call: a call placed with an application's JWT
//! (RS256, the private key Calliope handed out), listed, muted, sent DTMF
//! (RFC 4733 at the agent) and hung up; tokens signed by another key,
//! expired or missing are refused with 401 in Vonage's error shape; actions
//! on the finished call answer 409, on a call nobody knows 404. A call
//! placed with an inline NCCO runs it against the callee, whose media is
//! the test's own socket (it hears the talk and the stream), and is then
//! earmuffed, transferred to a new NCCO, talked and streamed into; its
//! status events reach the application's event_url (a real webhook
//! server) in order. Actions given the uuid of an NCCO `connect`'s leg act
//! on that leg (earmuffed, it hears silence; muted, its peer does); hung up
//! by its uuid, only that leg ends and the NCCO goes on with its next
//! action.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::Calliope;
use support::calls::{callee, calliope, legs_when, wait, CALLEE};
use support::vonage::{application, now, token, token_between, voice, voice_hooks};
use support::webhooks::{hear, loud, tone_start, Webhooks};

/// RTP packets of payload type `pt` heard on `socket` within `window`.
fn packets_of_type(socket: &UdpSocket, pt: u8, window: Duration) -> usize {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < deadline {
        if let Ok(len) = socket.recv(&mut buf) {
            if len > 12 && buf[0] >> 6 == 2 && buf[1] & 0x7f == pt {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_jwt_call_is_placed_steered_and_hung_up_and_bad_tokens_are_refused() {
    let c = calliope(&[]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (app, key) = application(&c, json!({"name": "voice"}));
    let (_, other_key) = application(&c, json!({"name": "other"}));
    let jwt = token_between(&app, &key, now(), now() + 300);

    // Refused: another key, expired, none; in Vonage's problem shape.
    let forged = token_between(&app, &other_key, now(), now() + 300);
    let (st, body) = voice(&c, &forged, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "a token signed by another key: {body}");
    assert_eq!(body["title"], "Unauthorized", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("signature"), "{body}");
    let expired = token_between(&app, &key, now() - 3600, now() - 1800);
    let (st, body) = voice(&c, &expired, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "an expired token: {body}");
    assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    assert_eq!(voice(&c, "", "GET", "/v1/calls", Value::Null).0, 401, "no token");
    let (st, body) = voice(&c, c.token(), "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "a Fonoster token is no Voice API token: {body}");

    // Bad input: no program, nowhere to go.
    let to = json!([{"type": "phone", "number": CALLEE}]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to}));
    assert_eq!(st, 400, "no ncco or answer_url: {body}");
    let (st, body) = voice(
        &c,
        &jwt,
        "POST",
        "/v1/calls",
        json!({"to": [{"type": "phone", "number": "9999"}], "ncco": []}),
    );
    assert_eq!(st, 404, "nobody at 9999: {body}");

    // Placed: the agent answers, the NCCO talks then streams a long tone.
    let ncco = json!([
        {"action": "talk", "text": "hello"},
        {"action": "stream", "streamUrl": ["tone_stream://%(60000,0,440)"]}
    ]);
    let from = json!({"type": "phone", "number": "5550100"});
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "from": from, "ncco": ncco}));
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["status"], "started");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 1 && l[0]["callstate"] == "ACTIVE");
    assert_eq!(legs.len(), 1, "{legs:?}");
    let (st, call) = voice(&c, &jwt, "GET", &format!("/v1/calls/{uuid}"), Value::Null);
    assert_eq!(st, 200, "{call}");
    assert_eq!((call["status"].as_str(), call["direction"].as_str()), (Some("answered"), Some("outbound")));
    assert_eq!(call["to"]["number"], CALLEE);
    assert_eq!(call["from"]["number"], "5550100");
    let (st, list) = voice(&c, &jwt, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["_embedded"]["calls"][0]["uuid"], uuid.as_str(), "{list}");

    // Steered.
    let call_path = format!("/v1/calls/{uuid}");
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "mute"})).0, 204);
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "unmute"})).0, 204);
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "earmuff"})).0, 204);
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "unearmuff"})).0, 204);
    let (st, body) = voice(&c, &jwt, "PUT", &call_path, json!({"action": "fly"}));
    assert_eq!((st, body["invalid_parameters"][0]["name"].as_str()), (400, Some("action")), "{body}");
    let (st, body) = voice(&c, &jwt, "PUT", &format!("{call_path}/dtmf"), json!({"digits": "12x"}));
    assert_eq!(st, 400, "{body}");
    packets_of_type(&ear, 101, Duration::from_millis(200));
    let (st, body) = voice(&c, &jwt, "PUT", &format!("{call_path}/dtmf"), json!({"digits": "19#"}));
    assert_eq!(st, 200, "{body}");
    let events = packets_of_type(&ear, 101, Duration::from_millis(1500));
    assert!(events >= 3, "the agent got the digits as RFC 4733 events: {events} packets");

    // Hung up.
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "hangup"})).0, 204);
    wait(uas, "the agent answered and got BYE");
    assert!(legs_when(&c, |l| l.is_empty()).is_empty());

    // Finished: every action answers 409 in Vonage's shape (404 for a call
    // nobody knows); the call shows completed.
    let mut reply = (0, Value::Null);
    for _ in 0..50 {
        reply = voice(&c, &jwt, "PUT", &call_path, json!({"action": "mute"}));
        if reply.0 == 409 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(reply.0, 409, "mute on the finished call: {}", reply.1);
    assert!(reply.1["title"].is_string() && reply.1["type"].is_string(), "Vonage's shape: {}", reply.1);
    for (method, path, body) in [
        ("PUT", call_path.clone(), json!({"action": "hangup"})),
        ("PUT", call_path.clone(), json!({"action": "earmuff"})),
        (
            "PUT",
            call_path.clone(),
            json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "x"}]}}),
        ),
        ("PUT", format!("{call_path}/dtmf"), json!({"digits": "1"})),
        ("PUT", format!("{call_path}/talk"), json!({"text": "late"})),
        ("DELETE", format!("{call_path}/talk"), Value::Null),
        ("PUT", format!("{call_path}/stream"), json!({"stream_url": ["http://127.0.0.1:9/a.wav"]})),
        ("DELETE", format!("{call_path}/stream"), Value::Null),
    ] {
        let (st, body) = voice(&c, &jwt, method, &path, body);
        assert_eq!(st, 409, "{method} {path} on the finished call: {body}");
    }
    assert_eq!(voice(&c, &jwt, "PUT", "/v1/calls/no-such-call", json!({"action": "mute"})).0, 404);
    assert_eq!(voice(&c, &jwt, "DELETE", "/v1/calls/no-such-call/talk", Value::Null).0, 404);
    let mut call = Value::Null;
    for _ in 0..50 {
        call = voice(&c, &jwt, "GET", &call_path, Value::Null).1;
        if call["status"] == "completed" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(call["status"], "completed", "{call}");
    assert!(call["end_time"].is_string(), "{call}");
}

/// RTP packets heard on `socket` within `window`, and how many of them
/// carry only silence (PCMU 0xff).
fn silent_packets(socket: &UdpSocket, window: Duration) -> (usize, usize) {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let (mut all, mut silent) = (0, 0);
    while Instant::now() < deadline {
        if let Ok(len) = socket.recv(&mut buf) {
            if let Ok(p) = media::rtp::parse(&buf[..len]) {
                all += 1;
                if p.payload_type == 0 && p.payload.iter().all(|b| *b == 0xff) {
                    silent += 1;
                }
            }
        }
    }
    (all, silent)
}

#[test]
fn actions_on_an_ncco_connect_leg_act_on_that_leg() {
    let c = calliope(&[]);
    // A: the callee the call is placed to; B: agent 2003, whom its NCCO
    // connects. Both media are the test's sockets, and neither talks: what
    // Calliope sends each is what it makes (silence for a deaf leg, or for
    // the peer of a muted one).
    let ear_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas_a = callee(&c, "uas_answer.xml", ear_a.local_addr().unwrap().port());
    let ear_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.agent("2003", "pw-2003");
    let uas = support::calliope::Sipp::new("uas_answer.xml", c.sip);
    let port = uas.port;
    let rtp_b = ear_b.local_addr().unwrap().port().to_string();
    let uas_b = uas
        .args(&["-key", "rtp_port", &rtp_b, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", "2003"])
        .spawn();
    let reg = support::calliope::Sipp::new("register.xml", c.sip)
        .args(&["-s", "2003", "-au", "2003", "-ap", "pw-2003"])
        .contact_port(port)
        .run();
    support::calliope::assert_passed(&reg, "agent 2003 registers");
    let (app, key) = application(&c, json!({"name": "connect"}));
    let jwt = token_between(&app, &key, now(), now() + 300);
    let ncco = json!([{"action": "connect", "endpoint": [{"type": "app", "user": "2003"}]}]);
    let to = json!([{"type": "phone", "number": CALLEE}]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "ncco": ncco}));
    assert_eq!(st, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|x| x["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let leg_b =
        legs.iter().find(|l| l["uuid"] != uuid.as_str()).unwrap()["uuid"].as_str().unwrap().to_owned();
    let put = |leg: &str, action: &str| {
        let (st, body) = voice(&c, &jwt, "PUT", &format!("/v1/calls/{leg}"), json!({"action": action}));
        assert_eq!(st, 204, "{action} on {leg}: {body}");
    };
    // What each hears for a second, from 200 ms after the last action
    // (what came before is drained).
    let both = || {
        std::thread::sleep(Duration::from_millis(200));
        for ear in [&ear_a, &ear_b] {
            ear.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 2048];
            while ear.recv(&mut buf).is_ok() {}
            ear.set_nonblocking(false).unwrap();
        }
        std::thread::scope(|s| {
            let b = s.spawn(|| silent_packets(&ear_b, Duration::from_millis(1000)));
            let a = silent_packets(&ear_a, Duration::from_millis(1000));
            (a, b.join().unwrap())
        })
    };
    // Neither talks: once the ringback A heard is drained, nothing flows.
    let ((a_all, _), (b_all, _)) = both();
    assert_eq!((a_all, b_all), (0, 0), "quiet before any action");
    // Earmuffed B hears silence; A is left alone.
    put(&leg_b, "earmuff");
    let ((a_all, _), (b_all, b_silent)) = both();
    assert!(b_silent > 30 && b_silent == b_all, "the earmuffed B gets silence: {b_silent}/{b_all}");
    assert_eq!(a_all, 0, "A is not earmuffed: {a_all} packets");
    put(&leg_b, "unearmuff");
    // Muted B: A gets silence in its stead (RTP keeps flowing).
    put(&leg_b, "mute");
    let ((a_all, a_silent), (b_all, _)) = both();
    assert!(a_silent > 30 && a_silent == a_all, "A hears a muted B as silence: {a_silent}/{a_all}");
    assert_eq!(b_all, 0, "B is not deaf: {b_all} packets");
    put(&leg_b, "unmute");
    // The call's own uuid: A.
    put(&uuid, "earmuff");
    let ((a_all, a_silent), (b_all, _)) = both();
    assert!(a_silent > 30 && a_silent == a_all, "the earmuffed A gets silence: {a_silent}/{a_all}");
    assert_eq!(b_all, 0, "B is not earmuffed: {b_all} packets");
    put(&uuid, "hangup");
    wait(uas_a, "A answered, then got BYE");
    wait(uas_b, "B answered the connect, then got BYE");
}

/// A Vonage application whose event_url is `hooks`' `/event`; its id and
/// private key.
fn application_with_events(c: &Calliope, hooks: &Webhooks) -> (String, String) {
    let (id, key) = application(c, json!({"name": "ncco", "capabilities": voice_hooks(hooks)}));
    *hooks.app_ref.lock().unwrap() = id.clone();
    (id, key)
}

/// The longest run of `hz` in `samples`, in ms.
fn tone_ms(samples: &[i16], hz: f32) -> u32 {
    tone_report(samples, 8000, hz).longest_run_ms
}

#[test]
fn an_inline_ncco_is_heard_then_earmuffed_transferred_talked_and_streamed_into() {
    let c = calliope(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |path, _| match path {
        "/next" => json!([{"action": "stream", "streamUrl": ["tone_stream://%(60000,0,1000)"]}]),
        _ => json!({}),
    });
    let (app, key) = application_with_events(&c, &hooks);
    let jwt = token(&app, &key);
    // The whole call must fit in SIPp's 20 s: the listening windows are short.
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());

    // Bad programs change nothing.
    let to = json!([{"type": "phone", "number": CALLEE}]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "ncco": [{"action": "fly"}]}));
    assert_eq!((st, body["invalid_parameters"][0]["name"].as_str()), (400, Some("ncco")), "{body}");
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "answer_url": ["ftp://x"]}));
    assert_eq!(st, 400, "{body}");
    assert!(legs_when(&c, |l| l.is_empty()).is_empty(), "nothing was placed");

    // The inline NCCO: a talk, then a long 440 Hz stream.
    let ncco = json!([
        {"action": "talk", "text": "Hello from your application"},
        {"action": "stream", "streamUrl": ["tone_stream://%(60000,0,440)"]}
    ]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "ncco": ncco}));
    assert_eq!(st, 201, "{body}");
    let path = format!("/v1/calls/{}", body["uuid"].as_str().unwrap());
    let heard = hear(&ear, Duration::from_millis(4500));
    let start = tone_start(&heard, 440.0)
        .unwrap_or_else(|| panic!("no 440 Hz stream after the talk ({} samples)", heard.len()));
    assert!(loud(&heard[..start]) > 800, "the talk is heard before the stream");
    assert!(tone_ms(&heard, 440.0) >= 1000, "the stream is heard");

    // Earmuffed: silence, though the stream goes on; then heard again.
    assert_eq!(voice(&c, &jwt, "PUT", &path, json!({"action": "earmuff"})).0, 204);
    hear(&ear, Duration::from_millis(200));
    let muffled = hear(&ear, Duration::from_millis(1000));
    assert!(!muffled.is_empty(), "RTP still flows");
    assert_eq!(loud(&muffled), 0, "an earmuffed callee hears nothing");
    assert_eq!(voice(&c, &jwt, "PUT", &path, json!({"action": "unearmuff"})).0, 204);
    hear(&ear, Duration::from_millis(200));
    assert!(tone_ms(&hear(&ear, Duration::from_millis(1200)), 440.0) >= 800, "heard again");

    // Transferred to a new NCCO: a 600 Hz stream replaces the 440 Hz one;
    // then to the NCCO at a URL: a 1 kHz stream.
    let (st, body) = voice(
        &c,
        &jwt,
        "PUT",
        &path,
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{"action": "fly"}]}}),
    );
    assert_eq!(st, 400, "a bad NCCO is refused: {body}");
    let next = json!([{"action": "stream", "streamUrl": ["tone_stream://%(60000,0,600)"]}]);
    let (st, body) = voice(
        &c,
        &jwt,
        "PUT",
        &path,
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": next}}),
    );
    assert_eq!(st, 204, "{body}");
    hear(&ear, Duration::from_millis(200));
    let after = hear(&ear, Duration::from_millis(1500));
    assert!(tone_ms(&after, 600.0) >= 1000, "the new NCCO is heard");
    assert!(tone_ms(&after, 440.0) < 200, "the old one is not");
    let url = json!({"type": "ncco", "url": [hooks.at("/next")]});
    let (st, body) = voice(&c, &jwt, "PUT", &path, json!({"action": "transfer", "destination": url}));
    assert_eq!(st, 204, "{body}");
    hear(&ear, Duration::from_millis(300));
    let after = hear(&ear, Duration::from_millis(1500));
    assert!(tone_ms(&after, 1000.0) >= 1000, "the NCCO at the URL is heard: {:?}", hooks.hits());
    assert!(tone_ms(&after, 600.0) < 200, "the one before is not");

    // Talk into the call, until stopped: speech over the NCCO.
    let (st, body) = voice(
        &c,
        &jwt,
        "PUT",
        &format!("{path}/talk"),
        json!({"text": "This is a message spoken into the call", "loop": 0}),
    );
    assert_eq!((st, body["message"].as_str()), (200, Some("Talk started")), "{body}");
    hear(&ear, Duration::from_millis(300));
    let talk = hear(&ear, Duration::from_millis(1500));
    assert!(loud(&talk) > 800, "the talk is heard");
    assert!(tone_ms(&talk, 1000.0) < 500, "the talk replaces the stream while it lasts");

    // Stream a WAV by URL over it, looped; stopping it lets the NCCO end.
    let (st, body) = voice(
        &c,
        &jwt,
        "PUT",
        &format!("{path}/stream"),
        json!({"stream_url": [hooks.at("/700.wav")], "loop": 0}),
    );
    assert_eq!((st, body["message"].as_str()), (200, Some("Stream started")), "{body}");
    hear(&ear, Duration::from_millis(300));
    assert!(tone_ms(&hear(&ear, Duration::from_millis(1500)), 700.0) >= 1000, "the streamed WAV is heard");
    let (st, body) = voice(&c, &jwt, "DELETE", &format!("{path}/stream"), Value::Null);
    assert_eq!((st, body["message"].as_str()), (200, Some("Stream stopped")), "{body}");
    wait(uas, "the NCCO ran out after the stream stopped and the callee got BYE");

    // The event_url heard the call's statuses in order, as outbound.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !hooks.statuses("/event").contains(&"completed".to_owned()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        hooks.statuses("/event"),
        ["started", "ringing", "answered", "completed"],
        "{:?}",
        hooks.hits()
    );
    let hits = hooks.hits();
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    assert!(
        hits.iter().filter(|h| h.path == "/event").all(|h| h.body["direction"] == "outbound"),
        "{hits:?}"
    );
    assert!(!hits.iter().any(|h| h.path == "/answer"), "an inline NCCO asks no answer_url: {hits:?}");
    assert_eq!(
        hits.iter().filter(|h| h.path == "/next").count(),
        1,
        "the transfer's URL is asked once: {hits:?}"
    );
    let mut reply = (0, Value::Null);
    for _ in 0..50 {
        reply = voice(&c, &jwt, "PUT", &format!("{path}/talk"), json!({"text": "late"}));
        if reply.0 != 400 && reply.0 != 404 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(reply.0, 409, "talk into a finished call: {}", reply.1);
}

#[test]
fn hanging_up_an_ncco_connect_leg_ends_that_leg_and_the_ncco_goes_on() {
    let c = calliope(&[]);
    // A: the callee the call is placed to (the test's socket hears it); B:
    // agent 2003, whom its NCCO connects before a 440 Hz stream.
    let ear_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas_a = callee(&c, "uas_answer.xml", ear_a.local_addr().unwrap().port());
    c.agent("2003", "pw-2003");
    let uas = support::calliope::Sipp::new("uas_answer.xml", c.sip);
    let port = uas.port;
    let rtp_b = support::calliope::free_port().to_string();
    let uas_b = uas
        .args(&["-key", "rtp_port", &rtp_b, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", "2003"])
        .spawn();
    let reg = support::calliope::Sipp::new("register.xml", c.sip)
        .args(&["-s", "2003", "-au", "2003", "-ap", "pw-2003"])
        .contact_port(port)
        .run();
    support::calliope::assert_passed(&reg, "agent 2003 registers");
    let (app, key) = application(&c, json!({"name": "connect then stream"}));
    let jwt = token_between(&app, &key, now(), now() + 300);
    let ncco = json!([
        {"action": "connect", "endpoint": [{"type": "app", "user": "2003"}]},
        {"action": "stream", "streamUrl": ["tone_stream://%(60000,0,440)"]}
    ]);
    let to = json!([{"type": "phone", "number": CALLEE}]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "ncco": ncco}));
    assert_eq!(st, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|x| x["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let leg_b =
        legs.iter().find(|l| l["uuid"] != uuid.as_str()).unwrap()["uuid"].as_str().unwrap().to_owned();

    // B hung up by its uuid: B gets BYE, A stays and its NCCO goes on.
    let (st, body) = voice(&c, &jwt, "PUT", &format!("/v1/calls/{leg_b}"), json!({"action": "hangup"}));
    assert_eq!(st, 204, "{body}");
    wait(uas_b, "B answered the connect, then got BYE");
    let legs = legs_when(&c, |l| l.len() == 1);
    assert_eq!(legs.len(), 1, "A is left: {legs:?}");
    assert_eq!((&legs[0]["uuid"], &legs[0]["callstate"]), (&json!(uuid), &json!("ACTIVE")), "{legs:?}");
    hear(&ear_a, Duration::from_millis(300));
    let after = hear(&ear_a, Duration::from_millis(1500));
    assert!(tone_ms(&after, 440.0) >= 1000, "A hears the action after the connect: {} samples", after.len());
    let mut row = Value::Null;
    for _ in 0..50 {
        row = c.pbx_get(&format!("/api/cdrs/{leg_b}")).1;
        if row["leg"] == "B" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!((&row["leg"], &row["hangup_cause"]), (&json!("B"), &json!("NORMAL_CLEARING")), "{row}");
    assert_eq!(row["call_uuid"], json!(uuid), "{row}");

    // The call's own uuid hangs the call up.
    let (st, body) = voice(&c, &jwt, "PUT", &format!("/v1/calls/{uuid}"), json!({"action": "hangup"}));
    assert_eq!(st, 204, "{body}");
    wait(uas_a, "A answered, heard the stream, then got BYE");
}
