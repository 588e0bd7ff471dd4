//! Calls between agents through Calliope with SIPp at both ends: answered
//! and hung up by either side (with RTP transcoded PCMA to PCMU and an RFC
//! 4733 digit passed through), cancelled while ringing, a busy callee and
//! an unregistered one; each writes its call records.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use support::calliope::{assert_passed, free_port};
use support::calls::{callee, caller, calliope, records, wait, CALLEE, CALLER};

#[test]
fn answered_call_relays_rtp_and_dtmf_and_caller_hangs_up() {
    let c = calliope(&[]);
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
    let c = calliope(&[]);
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_hangup.xml", media.local_addr().unwrap().port());
    assert_passed(&caller(&c, "uac_hungup.xml", &[]), "caller");
    wait(uas, "callee");
    assert_eq!(records(&c).len(), 2);
}

#[test]
fn call_cancelled_while_ringing() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_ring.xml", free_port());
    assert_passed(&caller(&c, "uac_cancel.xml", &[]), "caller");
    wait(uas, "callee");
    let items = records(&c);
    assert!(items.iter().all(|r| r["status"] == "ORIGINATOR_CANCEL"), "{items:?}");
}

#[test]
fn busy_callee() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_busy.xml", free_port());
    assert_passed(&caller(&c, "uac_busy.xml", &[]), "caller");
    wait(uas, "callee");
    assert!(records(&c).iter().all(|r| r["status"] == "USER_BUSY"));
}

#[test]
fn unregistered_callee() {
    let c = calliope(&[]);
    assert_passed(&caller(&c, "uac_unavailable.xml", &[]), "caller");
    assert!(records(&c).iter().all(|r| r["status"] == "USER_NOT_REGISTERED"));
}

#[test]
fn hold_and_unhold_are_relayed() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_hold.xml", free_port());
    assert_passed(&caller(&c, "uac_hold.xml", &[]), "caller");
    wait(uas, "callee");
}

#[test]
fn a_call_without_media_ends_after_the_rtp_timeout() {
    let c = calliope(&["--rtp-timeout", "1"]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    assert_passed(&caller(&c, "uac_hungup.xml", &[]), "caller hung up by Calliope");
    wait(uas, "callee hung up by Calliope");
    assert!(records(&c).iter().all(|r| r["status"] == "MEDIA_TIMEOUT"));
}

#[test]
fn registrations_survive_a_restart() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_busy.xml", free_port());
    let c = c.restart(&[]);
    // The callee did not register again, yet the call reaches it.
    let out = support::calls::caller(&c, "uac_busy.xml", &[]);
    assert_passed(&out, "caller");
    wait(uas, "callee");
}

#[test]
fn forked_call_first_answer_wins_and_the_other_contact_is_cancelled() {
    let c = calliope(&[]);
    // The callee has two phones: one rings on, one answers after 200 ms.
    let ringing = callee(&c, "uas_ring.xml", free_port());
    let answering = callee(&c, "uas_answer.xml", free_port());
    assert_passed(
        &caller(
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
        ),
        "caller",
    );
    wait(answering, "the phone that answered");
    wait(ringing, "the phone that was cancelled");
    assert!(records(&c).iter().all(|r| r["status"] == "NORMAL_CLEARING"));
}

#[test]
fn the_api_lists_a_live_call_and_hangs_it_up() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let media = free_port().to_string();
    let uac = support::calliope::Sipp::new("uac_hungup.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .spawn();
    let mut legs = Vec::new();
    for _ in 0..100 {
        let (st, body) = c.pbx_get("/api/channels");
        assert_eq!(st, 200);
        legs = body.as_array().cloned().unwrap_or_default();
        if legs.len() == 2 && legs.iter().all(|l| l["callstate"] == "ACTIVE") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(legs.len(), 2, "{legs:?}");
    let inbound = legs.iter().find(|l| l["direction"] == "inbound").unwrap();
    assert_eq!(
        (inbound["cid_num"].clone(), inbound["dest"].clone()),
        (serde_json::json!(CALLER), serde_json::json!(CALLEE))
    );
    let (st, _) = c.call(
        "DELETE",
        &format!("/api/channels/{}", inbound["uuid"].as_str().unwrap()),
        serde_json::Value::Null,
    );
    assert_eq!(st, 200);
    wait(uac, "the caller got BYE");
    wait(uas, "the callee got BYE");
    assert_eq!(c.pbx_get("/api/channels").1, serde_json::json!([]));
}
