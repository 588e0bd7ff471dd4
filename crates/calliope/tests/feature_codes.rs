//! Feature codes dialled from a phone (SIPp as the agent): the change is
//! confirmed with a tone, stored (seen through the API) and followed by
//! the next calls: forwarding always sends calls to the agent elsewhere,
//! do-not-disturb makes it busy, and a disabled code routes as dialled.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{caller, records, wait, CALLEE, CALLER, PCAP_A};

const THIRD: &str = "2003";

/// Calliope with agents 2001, 2002 and 2003 (their refs), and a route of
/// context-1 that rings the dialled extension (`200x`).
fn setup() -> (Calliope, [String; 3]) {
    let c = Calliope::start(&[]);
    let refs = [c.agent(CALLER, "caller-pw"), c.agent(CALLEE, "callee-pw"), c.agent(THIRD, "third-pw")];
    let (st, body) = pbx(
        &c,
        "POST",
        "/api/routes",
        json!({"name": "extensions", "context": "context-1", "prefix": "200", "max_length": "4",
               "dest_type": "FS_DEST_USER"}),
    );
    assert_eq!(st, 200, "{body}");
    (c, refs)
}

/// A PBX-dialect request with the owner's token.
fn pbx(c: &Calliope, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .header("X-XTRA-AUTH-ID", c.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// The audio (PCMU decoded) reaching `socket` within `window`.
fn audio(socket: &UdpSocket, window: Duration) -> Vec<i16> {
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            if let Ok(p) = media::rtp::parse(&buf[..n]) {
                if p.payload_type == 0 {
                    samples.extend(p.payload.iter().map(|b| media::g711::ulaw_decode(*b)));
                }
            }
        }
    }
    samples
}

/// Agent `user` dials `dialled` with the scenario that expects an answer,
/// a confirmation and Calliope's BYE; SIPp's output and what it heard.
fn dial_feature(c: &Calliope, user: &str, password: &str, dialled: &str) -> (Output, Vec<i16>) {
    dial_feature_with(c, "uac_feature.xml", user, password, dialled)
}

/// [`dial_feature`] with another scenario (`uac_feature_late.xml`).
fn dial_feature_with(
    c: &Calliope,
    scenario: &str,
    user: &str,
    password: &str,
    dialled: &str,
) -> (Output, Vec<i16>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port().to_string();
    std::thread::scope(|s| {
        let heard = s.spawn(|| audio(&socket, Duration::from_secs(3)));
        let out = Sipp::new(scenario, c.sip)
            .args(&[
                "-s", dialled, "-au", user, "-ap", password, "-key", "caller", user, "-key", "rtp_port",
                &port,
            ])
            .run();
        (out, heard.join().unwrap())
    })
}

/// Agent `user` dials `dialled` with `scenario` (a refusal it expects).
fn dial_refused(c: &Calliope, user: &str, password: &str, dialled: &str, scenario: &str) -> Output {
    let media = free_port().to_string();
    Sipp::new(scenario, c.sip)
        .args(&["-s", dialled, "-au", user, "-ap", password, "-key", "caller", user, "-mp", &media])
        .run()
}

/// Registers `user` at a SIPp UAS answering calls (`uas_answer.xml`).
fn answering(c: &Calliope, user: &str, password: &str) -> std::process::Child {
    let uas = Sipp::new("uas_answer.xml", c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", password])
        .contact_port(port)
        .run();
    assert_passed(&reg, &format!("{user} registers"));
    child
}

/// The Fonoster view of the agent `r`.
fn agent(c: &Calliope, r: &str) -> Value {
    let (st, body) = c.call("GET", &format!("/v1beta2/agents/{r}"), Value::Null);
    assert_eq!(st, 200, "{body}");
    body
}

fn call_2001_to_2002(c: &Calliope) -> Output {
    caller(
        c,
        "uac_call.xml",
        &["-key", "pcap", PCAP_A, "-key", "dtmf", "/usr/share/sip-tester/dtmf_2833_1.pcap"],
    )
}

#[test]
fn forwarding_set_from_the_phone_redirects_calls_until_cancelled() {
    let (c, [_, r2, _]) = setup();
    // *72 + number: answered, confirmed with the 880 Hz tone, stored.
    let (out, heard) = dial_feature(&c, CALLEE, "callee-pw", "*722003");
    assert_passed(&out, "*722003 is answered, confirmed and hung up");
    let tone = tone_report(&heard, 8000, 880.0);
    assert!(tone.longest_run_ms >= 400, "the confirmation tone: {tone:?} in {} samples", heard.len());
    assert_eq!(agent(&c, &r2)["forwardAlways"], THIRD);

    // 2002 is not even registered: its calls reach 2003.
    let uas = answering(&c, THIRD, "third-pw");
    assert_passed(&call_2001_to_2002(&c), "2001 calls 2002, 2003 answers");
    wait(uas, "2003 took the forwarded call");

    // *73 cancels: 2002's calls ring 2002 again (not registered: 480).
    let (out, _) = dial_feature(&c, CALLEE, "callee-pw", "*73");
    assert_passed(&out, "*73 is confirmed");
    assert_eq!(agent(&c, &r2)["forwardAlways"], "");
    assert_passed(&dial_refused(&c, CALLER, "caller-pw", CALLEE, "uac_unavailable.xml"), "2002 itself, away");

    // A forwarding code without a number, or with letters: 484, nothing stored.
    assert_passed(&dial_refused(&c, CALLEE, "callee-pw", "*72", "uac_refused_484.xml"), "*72 alone");
    assert_passed(&dial_refused(&c, CALLEE, "callee-pw", "*9012a", "uac_refused_484.xml"), "*9012a");
    let shown = agent(&c, &r2);
    assert_eq!((&shown["forwardAlways"], &shown["forwardBusy"]), (&json!(""), &json!("")));
    // The feature calls have records of their own.
    let recs = records(&c);
    let feature = recs.iter().find(|r| r["to"] == "*722003").unwrap_or_else(|| panic!("{recs:?}"));
    assert_eq!((&feature["from"], &feature["status"]), (&json!(CALLEE), &json!("NORMAL_CLEARING")));
}

#[test]
fn do_not_disturb_makes_the_agent_busy_and_a_disabled_code_routes_as_dialled() {
    let (c, [_, r2, _]) = setup();
    let (out, _) = dial_feature(&c, CALLEE, "callee-pw", "*78");
    assert_passed(&out, "*78 is confirmed");
    assert_eq!(agent(&c, &r2)["dnd"], true);
    let uas = answering(&c, CALLEE, "callee-pw");
    assert_passed(&dial_refused(&c, CALLER, "caller-pw", CALLEE, "uac_busy.xml"), "2002 on DND: 486");
    // Dialled without SDP (a late offer): the same confirmation.
    let (out, heard) = dial_feature_with(&c, "uac_feature_late.xml", CALLEE, "callee-pw", "*79");
    assert_passed(&out, "*79 is confirmed");
    let tone = tone_report(&heard, 8000, 880.0);
    assert!(tone.longest_run_ms >= 400, "the confirmation tone: {tone:?} in {} samples", heard.len());
    assert_eq!(agent(&c, &r2)["dnd"], false);
    assert_passed(&call_2001_to_2002(&c), "2002 answers again");
    wait(uas, "2002 took the call");

    // The workspace's own DND code, disabled: *78 is just a number (no
    // agent has it: 404) and changes nothing.
    let (st, body) = pbx(
        &c,
        "POST",
        "/api/func_code",
        json!({"func_code": "*78", "func_type": "FS_DEST_FUNC_CALL_DND", "description": "dnd"}),
    );
    assert_eq!(st, 200, "{body}");
    // The seed answers the new code's id as `data`.
    let id = if body["data"].is_object() { &body["data"]["id"] } else { &body["data"] };
    let id =
        id.as_i64().or_else(|| id.as_str().and_then(|i| i.parse().ok())).unwrap_or_else(|| panic!("{body}"));
    let (st, body) = pbx(&c, "PUT", &format!("/api/func_code/{id}"), json!({"action": "toggle"}));
    assert_eq!(st, 200, "{body}");
    assert_passed(&dial_refused(&c, CALLEE, "callee-pw", "*78", "uac_refused_404.xml"), "disabled *78");
    assert_eq!(agent(&c, &r2)["dnd"], false);
}
