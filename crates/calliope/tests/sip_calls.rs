//! Calls between agents through Calliope with SIPp at both ends: answered
//! and hung up by either side (with RTP transcoded PCMA to PCMU and an RFC
//! 4733 digit passed through), cancelled while ringing, a busy callee and
//! an unregistered one; each writes its call records.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::process::Child;
use std::time::Duration;

use support::calliope::{assert_passed, free_port, Calliope, Sipp};

const CALLER: &str = "2001";
const CALLEE: &str = "2002";

/// Registers the callee at a SIPp UAS running `scenario` on a free port,
/// answering with its media at `rtp_port`.
fn callee(c: &Calliope, scenario: &str, rtp_port: u16) -> Child {
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = rtp_port.to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", CALLEE])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLEE, "-ap", "callee-pw"])
        .contact_port(port)
        .run();
    assert_passed(&reg, "callee registers");
    child
}

fn caller(c: &Calliope, scenario: &str, keys: &[&str]) -> std::process::Output {
    let media = free_port().to_string();
    let mut args =
        vec!["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media];
    args.extend_from_slice(keys);
    Sipp::new(scenario, c.sip).args(&args).run()
}

fn calliope() -> Calliope {
    let c = Calliope::start(&[]);
    c.agent(CALLER, "caller-pw");
    c.agent(CALLEE, "callee-pw");
    c
}

fn wait(mut child: Child, what: &str) {
    let out = {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                break child.wait_with_output().unwrap();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break child.wait_with_output().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_passed(&out, what);
}

fn records(c: &Calliope) -> Vec<serde_json::Value> {
    for _ in 0..50 {
        let (_, body) = c.call("GET", "/v1beta2/calls", serde_json::Value::Null);
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= 2 {
            return items;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Vec::new()
}

#[test]
fn answered_call_relays_rtp_and_dtmf_and_caller_hangs_up() {
    let c = calliope();
    // The callee's media goes to a socket the test reads.
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let uas = callee(&c, "uas_answer.xml", media.local_addr().unwrap().port());
    let out = caller(
        &c,
        "uac_call.xml",
        &[
            "-key",
            "pcap",
            "/usr/share/sip-tester/g711a.pcap",
            "-key",
            "dtmf",
            "/usr/share/sip-tester/dtmf_2833_1.pcap",
        ],
    );
    assert_passed(&out, "caller");
    wait(uas, "callee");

    let (mut audio, mut events) = (0, 0);
    let mut buf = [0u8; 2048];
    while let Ok(n) = media.recv(&mut buf) {
        let pt = buf[1] & 0x7f;
        match (n, pt) {
            (_, 0) => audio += 1,
            (_, 101) => events += 1,
            _ => {}
        }
    }
    assert!(audio > 20, "the callee received the caller's audio, transcoded to PCMU: {audio} packets");
    assert!(events > 0, "the callee received the RFC 4733 digit");

    let items = records(&c);
    assert_eq!(items.len(), 2, "one record per leg: {items:?}");
    assert!(items
        .iter()
        .all(|r| r["status"] == "NORMAL_CLEARING" && r["from"] == CALLER && r["to"] == CALLEE));
}

#[test]
fn callee_hangs_up() {
    let c = calliope();
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_hangup.xml", media.local_addr().unwrap().port());
    assert_passed(&caller(&c, "uac_hungup.xml", &[]), "caller");
    wait(uas, "callee");
    assert_eq!(records(&c).len(), 2);
}

#[test]
fn call_cancelled_while_ringing() {
    let c = calliope();
    let uas = callee(&c, "uas_ring.xml", free_port());
    assert_passed(&caller(&c, "uac_cancel.xml", &[]), "caller");
    wait(uas, "callee");
    let items = records(&c);
    assert!(items.iter().all(|r| r["status"] == "ORIGINATOR_CANCEL"), "{items:?}");
}

#[test]
fn busy_callee() {
    let c = calliope();
    let uas = callee(&c, "uas_busy.xml", free_port());
    assert_passed(&caller(&c, "uac_busy.xml", &[]), "caller");
    wait(uas, "callee");
    assert!(records(&c).iter().all(|r| r["status"] == "USER_BUSY"));
}

#[test]
fn unregistered_callee() {
    let c = calliope();
    assert_passed(&caller(&c, "uac_unavailable.xml", &[]), "caller");
    assert!(records(&c).iter().all(|r| r["status"] == "USER_NOT_REGISTERED"));
}
