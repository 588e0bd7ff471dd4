//! The workspace audit of call control, with real peers: workspace A has a
//! live call (an originated call to a SIPp callee whose media is the
//! test's socket, played a long tone and bridged to a SIPp agent);
//! workspace B, with
//! its own credentials, uses every call-control endpoint of every dialect
//! (PBX `/api/channels` list, actions, hang-up and the `three_way`,
//! `eavesdrop` and `intercept` apps naming A's call; the Vonage Voice API
//! `/v1/calls` with a JWT of B's own application; Fonoster
//! `/v1beta2/calls` get, delete and track; conference rooms; voicemail)
//! and sees nothing of A's call and changes nothing: every answer is 404
//! or an empty list, A's legs stay as they were and A's callee keeps
//! hearing its tone. Once A's call ended, B still learns nothing (404,
//! not A's 409).
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee, calliope, legs_when, wait, CALLEE, CALLER, PCAP_A};
use support::vonage::{token, voice};

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
    packets.iter().flat_map(|p| p.1.iter().map(|b| media::g711::ulaw_decode(*b))).collect()
}

/// How long (ms) the 1 kHz tone A plays to its callee is heard in 1.5 s.
fn tone_heard(ear: &UdpSocket) -> u32 {
    let samples = heard(ear, Duration::from_millis(1500));
    tone_report(&samples, 8000, 1000.0).tone_ms
}

/// Agent `user` registered at a SIPp UAS that answers and talks (A-law).
fn talking_agent(c: &Calliope, user: &str) -> std::process::Child {
    let password = format!("pw-{user}");
    c.agent(user, &password);
    let uas = Sipp::new("uas_answer_play.xml", c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(&["-key", "pcap", PCAP_A, "-key", "codec", "8", "-key", "codec_name", "PCMA"])
        .args(&["-key", "rtp_port", &rtp, "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", &password])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the agent registers");
    child
}

/// Workspace B's credentials: the owner's token with B's access key id.
struct Other<'a> {
    c: &'a Calliope,
    akid: String,
}

impl Other<'_> {
    /// A request with the token in `header` (`authorization`: bearer).
    fn request(&self, header: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut rb = reqwest::Client::new()
                .request(method.parse().unwrap(), format!("{}{}", self.c.http, path))
                .header("accesskeyid", &self.akid)
                .timeout(Duration::from_secs(10));
            rb = if header == "authorization" {
                rb.bearer_auth(self.c.token())
            } else {
                rb.header(header, self.c.token())
            };
            if !body.is_null() {
                rb = rb.json(&body);
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
        })
    }

    fn pbx(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.request("X-XTRA-AUTH-ID", method, path, body)
    }

    fn fonoster(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.request("authorization", method, path, body)
    }
}

/// A Voice API token of a new application of workspace B.
fn voice_jwt(b: &Other) -> String {
    let (st, app) = b.fonoster("POST", "/v2/applications", json!({"name": "B's voice app"}));
    assert_eq!(st, 201, "{app}");
    token(app["id"].as_str().unwrap(), app["keys"]["private_key"].as_str().unwrap())
}

/// Asserts that `reply` says nothing of A's legs.
fn blind(what: &str, reply: &(u16, Value), uuids: &[&str]) {
    let text = reply.1.to_string();
    for u in uuids {
        assert!(!text.contains(u), "{what} shows A's leg {u}: {text}");
    }
}

/// Every call-control request B may make naming `uuid`, each answered 404.
fn b_acts_on(b: &Other, jwt: &str, uuid: &str) {
    let channel = format!("/api/channels/{uuid}");
    for body in [
        json!({"action": "deaf", "deaf": "on"}),
        json!({"action": "mute", "mute": "on"}),
        json!({"action": "record", "record": "on", "file_name": "audit.wav"}),
        json!({"action": "record", "record": "off"}),
    ] {
        let reply = b.pbx("PUT", &channel, body.clone());
        assert_eq!(reply.0, 404, "PBX PUT {body} on A's {uuid}: {}", reply.1);
        assert_eq!(reply.1["code"], 404, "the PBX shape: {}", reply.1);
    }
    assert_eq!(b.pbx("DELETE", &channel, Value::Null).0, 404, "PBX DELETE on A's {uuid}");
    for app in ["three_way", "eavesdrop", "intercept"] {
        let reply = b.pbx("POST", "/api/channels", json!({"destNumber": "2009", "app": app, "args": uuid}));
        assert_eq!(reply.0, 404, "PBX {app} naming A's {uuid}: {}", reply.1);
    }
    let call = format!("/v1/calls/{uuid}");
    let (st, body) = voice(b.c, jwt, "GET", &call, Value::Null);
    assert_eq!(st, 404, "Vonage GET of A's {uuid}: {body}");
    for action in ["mute", "unmute", "earmuff", "unearmuff", "hangup"] {
        let (st, body) = voice(b.c, jwt, "PUT", &call, json!({"action": action}));
        assert_eq!(st, 404, "Vonage {action} on A's {uuid}: {body}");
        assert!(body["title"].is_string(), "Vonage's shape: {body}");
    }
    let transfer = json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "hi"}]}});
    assert_eq!(voice(b.c, jwt, "PUT", &call, transfer).0, 404, "Vonage transfer of A's {uuid}");
    for (method, path, body) in [
        ("PUT", format!("{call}/talk"), json!({"text": "hello"})),
        ("DELETE", format!("{call}/talk"), Value::Null),
        ("PUT", format!("{call}/stream"), json!({"stream_url": ["http://127.0.0.1:9/x.wav"]})),
        ("DELETE", format!("{call}/stream"), Value::Null),
        ("PUT", format!("{call}/dtmf"), json!({"digits": "1"})),
    ] {
        let (st, reply) = voice(b.c, jwt, method, &path, body);
        assert_eq!(st, 404, "Vonage {method} {path}: {reply}");
    }
    let f = format!("/v1beta2/calls/{uuid}");
    assert_eq!(b.fonoster("GET", &f, Value::Null).0, 404, "Fonoster get of A's {uuid}");
    assert_eq!(b.fonoster("DELETE", &f, Value::Null).0, 404, "Fonoster delete of A's {uuid}");
    let track = b.fonoster("GET", &format!("{f}/track"), Value::Null);
    assert_eq!(track.0, 404, "Fonoster track of A's {uuid}: {}", track.1);
    for path in [format!("/api/conferences/{uuid}"), format!("/api/conferences/room/members/{uuid}")] {
        let reply = b.pbx("GET", &path, Value::Null);
        assert!(reply.0 == 404 || reply.0 == 405, "{path}: {reply:?}");
    }
    let kick = b.pbx("DELETE", &format!("/api/conferences/room/members/{uuid}"), Value::Null);
    assert!(kick.0 == 404 || kick.0 == 400, "a kick naming A's leg: {kick:?}");
}

#[test]
fn another_workspace_sees_and_changes_nothing_of_a_live_call() {
    let c = calliope(&[]);
    let agent = talking_agent(&c, "2003");
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "cidNumber": CALLER, "apps": [
            {"app": "playback", "args": "tone_stream://%(120000,0,1000)"},
            {"app": "bridge", "args": "user/2003"}
        ]}),
    );
    assert_eq!(st, 200, "{body}");
    let call = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|x| x["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    let other_leg =
        legs.iter().find(|l| l["uuid"] != call.as_str()).unwrap()["uuid"].as_str().unwrap().to_owned();
    assert!(tone_heard(&ear) >= 800, "the callee hears the tone its call plays");

    // Workspace B, with its own credentials.
    let (st, ws) = c.call("POST", "/v1beta2/workspaces", json!({"name": "audit-b"}));
    assert!(st == 200 || st == 201, "{ws}");
    let (_, all) = c.call("GET", "/v1beta2/workspaces", Value::Null);
    let akid = all["items"].as_array().unwrap().iter().find(|w| w["name"] == "audit-b").unwrap()
        ["accessKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = Other { c: &c, akid };
    let jwt = voice_jwt(&b);
    let uuids = [call.as_str(), other_leg.as_str()];

    // Lists: nothing of A's call.
    let reply = b.pbx("GET", "/api/channels", Value::Null);
    assert_eq!(reply.0, 200, "{:?}", reply.1);
    assert_eq!(reply.1, json!([]), "B's channels");
    let reply = voice(&c, &jwt, "GET", "/v1/calls", Value::Null);
    assert_eq!(reply.0, 200, "{:?}", reply.1);
    blind("B's Vonage calls", &reply, &uuids);
    let reply = b.fonoster("GET", "/v1beta2/calls", Value::Null);
    assert_eq!(reply.0, 200, "{:?}", reply.1);
    blind("B's Fonoster calls", &reply, &uuids);
    for path in ["/api/conferences", "/api/voicemail"] {
        let reply = b.pbx("GET", path, Value::Null);
        assert_eq!(reply.0, 200, "{path}: {:?}", reply.1);
        blind(path, &reply, &uuids);
    }

    // Every action, on the call's id and on each leg's.
    for u in uuids {
        b_acts_on(&b, &jwt, u);
    }

    // Nothing changed in A: the same legs, live, and the callee still
    // hears the agent (not deaf, not hung up); no recording was started.
    let after = legs_when(&c, |l| l.len() == 2);
    let mut before_ids: Vec<&str> = legs.iter().map(|l| l["uuid"].as_str().unwrap()).collect();
    let mut after_ids: Vec<&str> = after.iter().map(|l| l["uuid"].as_str().unwrap()).collect();
    before_ids.sort_unstable();
    after_ids.sort_unstable();
    assert_eq!(before_ids, after_ids, "A's legs are as they were");
    assert!(after.iter().all(|l| l["callstate"] == "ACTIVE"), "{after:?}");
    assert!(tone_heard(&ear) >= 800, "the callee still hears its tone (not deaf, not hung up)");
    let wavs: Vec<_> = walkdir(c.dir.path()).into_iter().filter(|p| p.ends_with("audit.wav")).collect();
    assert!(wavs.is_empty(), "no recording was started: {wavs:?}");

    // A hangs up; once its records are written, B still learns nothing.
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{call}"), Value::Null).0, 200);
    wait(uas, "the callee was bridged, then got BYE");
    wait(agent, "the agent answered, then got BYE");
    let mut seen = 0;
    for _ in 0..50 {
        seen = c.pbx("PUT", &format!("/api/channels/{call}"), json!({"action": "mute", "mute": "on"})).0;
        if seen == 409 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(seen, 409, "A learns its call has ended");
    for u in uuids {
        b_acts_on(&b, &jwt, u);
    }
    blind("B's Vonage calls, after", &voice(&c, &jwt, "GET", "/v1/calls", Value::Null), &uuids);
    blind("B's Fonoster calls, after", &b.fonoster("GET", "/v1beta2/calls", Value::Null), &uuids);
}

/// Every file under `dir`.
fn walkdir(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}
