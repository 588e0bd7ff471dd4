//! The call engine with real peers (SIPp): early media, late offers, INFO
//! digits as events, a late second fork answer, calls placed from the
//! API, the call limit, and bad offers answered clearly.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{
    callee, callee_with, caller, calliope, legs_when, records, rtp_packets, wait, CALLEE, CALLER, PCAP_A,
};
use tokio_tungstenite::tungstenite::Message;

#[test]
fn early_media_reaches_the_caller_before_the_answer() {
    let c = calliope(&[]);
    let keys = ["-key", "pcap", PCAP_A, "-key", "codec", "8", "-key", "codec_name", "PCMA"];
    let uas = callee_with(&c, "uas_early.xml", free_port(), &keys);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = ear.local_addr().unwrap().port().to_string();
    let media = free_port().to_string();
    let uac = Sipp::new("uac_early.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .args(&["-key", "rtp_port", &port])
        .spawn();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "EARLY"));
    assert_eq!(legs.len(), 2, "both legs are early: {legs:?}");
    let heard = rtp_packets(&ear, Duration::from_millis(1000));
    assert!(heard > 10, "the caller heard the callee's early media before any answer: {heard} packets");
    wait(uac, "the caller got the 183 with SDP and cancelled");
    wait(uas, "the callee played early media and was cancelled");
    let items = records(&c);
    assert!(items.iter().all(|r| r["status"] == "ORIGINATOR_CANCEL"), "{items:?}");
}

#[test]
fn late_offer_from_the_caller_is_relayed_to_the_callee() {
    let c = calliope(&[]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_late.xml", ear.local_addr().unwrap().port());
    let caller_ear = free_port().to_string();
    let out = caller(&c, "uac_late.xml", &["-key", "rtp_port", &caller_ear, "-key", "pcap", PCAP_A]);
    assert_passed(&out, "the caller offered nothing, got our offer in the 200 and answered in its ACK");
    wait(uas, "the callee got no offer, offered in its 200 and got our answer in the ACK");
    // The caller's audio, sent after its ACK to the address of our offer,
    // reached the address of the callee's offer: both were resolved.
    let heard = rtp_packets(&ear, Duration::from_millis(300));
    assert!(heard > 10, "the caller's audio reached the callee: {heard} packets");
    let items = records(&c);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|r| r["status"] == "NORMAL_CLEARING"), "{items:?}");
}

#[test]
fn an_info_digit_arrives_as_an_event() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut ws = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let sub = json!({"type": "subscribe", "events": ["call.dtmf"]});
        ws.send(Message::Text(sub.to_string().into())).await.unwrap();
        ws
    });
    assert_passed(&caller(&c, "uac_info.xml", &[]), "the caller sent INFO and got 200");
    wait(uas, "callee");
    let event = rt.block_on(async {
        loop {
            let msg =
                tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "call.dtmf" {
                    return v;
                }
            }
        }
    });
    assert_eq!(event["data"]["digit"], "5", "{event}");
    assert_eq!(event["data"]["source"], "info");
    assert_eq!(event["data"]["durationMs"], 160);
}

#[test]
fn a_second_fork_answer_is_acked_and_sent_bye() {
    let c = calliope(&[]);
    // Two phones for the callee: one answers after 200 ms, the other
    // after 600 ms without ringing (so there is nothing to CANCEL first).
    let first = callee(&c, "uas_answer.xml", free_port());
    let second = callee(&c, "uas_answer_late.xml", free_port());
    let out = caller(
        &c,
        "uac_call.xml",
        &["-key", "pcap", PCAP_A, "-key", "dtmf", "/usr/share/sip-tester/dtmf_2833_1.pcap"],
    );
    assert_passed(&out, "caller");
    wait(first, "the phone that answered first");
    wait(second, "the phone that answered second got ACK then BYE");
    assert!(records(&c).iter().all(|r| r["status"] == "NORMAL_CLEARING"));
}

#[test]
fn a_call_placed_from_the_api_reaches_an_agent_and_hangs_up() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let (st, body) = c.call("POST", "/api/channels", json!({"destNumber": CALLEE, "cidNumber": "5550100"}));
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 1 && l[0]["callstate"] == "ACTIVE");
    assert_eq!(legs.len(), 1, "{legs:?}");
    assert_eq!(
        (legs[0]["uuid"].as_str(), legs[0]["cid_num"].as_str()),
        (Some(uuid.as_str()), Some("5550100"))
    );
    let (st, _) = c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null);
    assert_eq!(st, 200);
    wait(uas, "the agent answered and got BYE");
    assert!(legs_when(&c, |l| l.is_empty()).is_empty());
    // The call is gone: once its record is written, 409 (it has ended).
    let mut st = 0;
    for _ in 0..50 {
        st = c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0;
        if st == 409 {
            break;
        }
        assert_eq!(st, 404, "the call is gone");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(st, 409, "the call has ended");
    // Nobody registered at that extension: a clear error, nothing placed.
    let (st, body) = c.call("POST", "/api/channels", json!({"destNumber": "9999"}));
    assert_eq!(st, 404, "{body}");
    let mut items = Vec::new();
    for _ in 0..50 {
        items = crate::support::calls::legs_of(&c.call("GET", "/v1beta2/calls", Value::Null).1);
        if !items.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(items.len(), 1, "one record for the one leg: {items:?}");
    assert_eq!(items[0]["status"], "NORMAL_CLEARING");
}

#[test]
fn calls_beyond_max_calls_get_503_with_retry_after() {
    let c = calliope(&["--max-calls", "1"]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let media = free_port().to_string();
    let first = Sipp::new("uac_hungup.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .spawn();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    assert_passed(&caller(&c, "uac_503.xml", &[]), "the second call got 503 with Retry-After");
    let uuid = legs[0]["uuid"].as_str().unwrap().to_owned();
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(first, "the first call was hung up");
    wait(uas, "callee");
}

#[test]
fn bad_offers_are_answered_clearly() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_busy.xml", free_port());
    assert_passed(&caller(&c, "uac_g729.xml", &[]), "G.729 only: 488 with a Warning");
    assert_passed(&caller(&c, "uac_bad_sdp.xml", &[]), "unparsable SDP: 400 with a Warning");
    // The callee was never bothered; a good call still goes through.
    assert_passed(&caller(&c, "uac_busy.xml", &[]), "a good call after the bad ones");
    wait(uas, "callee");
}

/// Registers agent `user` at a SIPp UAS running `scenario`.
fn agent_phone(c: &Calliope, user: &str, password: &str, scenario: &str) -> std::process::Child {
    c.agent(user, password);
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", password])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the transfer target registers");
    child
}

#[test]
fn refer_transfers_the_callee_to_another_agent() {
    let c = calliope(&[]);
    // The callee waits for a BYE: after the transfer it comes from the
    // target, who hangs up 500 ms after answering.
    let transferee = callee(&c, "uas_answer.xml", free_port());
    let target = agent_phone(&c, "2003", "target-pw", "uas_hangup.xml");
    let out = caller(&c, "uac_refer.xml", &["-key", "target", "2003"]);
    assert_passed(&out, "the transferor got 202, NOTIFY 100 and 200, then BYE");
    wait(target, "the target answered the transferred call and hung up");
    wait(transferee, "the transferee talked to the target and got its BYE");
}

#[test]
fn refer_to_an_unknown_target_fails_with_a_notify_and_the_call_goes_on() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_answer.xml", free_port());
    let out = caller(&c, "uac_refer_fail.xml", &["-key", "target", "2999"]);
    assert_passed(&out, "the transferor got a 404 NOTIFY, then hung up the call it still had");
    wait(uas, "the callee stayed in the call until the caller's BYE");
    let items = records(&c);
    assert!(items.iter().all(|r| r["status"] == "NORMAL_CLEARING"), "{items:?}");
}

#[test]
fn a_crossing_reinvite_gets_491_and_the_call_is_unharmed() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_glare.xml", free_port());
    let out = caller(&c, "uac_glare.xml", &[]);
    assert_passed(&out, "the second re-INVITE got 491, the first its 200, and BYE went through");
    wait(uas, "callee");
    assert!(records(&c).iter().all(|r| r["status"] == "NORMAL_CLEARING"));
}

#[test]
fn update_is_relayed_like_a_reinvite() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_update.xml", free_port());
    assert_passed(&caller(&c, "uac_update.xml", &[]), "hold by UPDATE, answered recvonly through Calliope");
    wait(uas, "the callee got the UPDATE (sendonly), then the re-INVITE");
}

#[test]
fn an_unanswered_call_rings_out_after_the_ring_timeout() {
    let c = calliope(&["--ring-timeout", "1"]);
    let uas = callee(&c, "uas_ring.xml", free_port());
    let started = Instant::now();
    assert_passed(&caller(&c, "uac_unavailable.xml", &[]), "the caller got 480 after ringing");
    assert!(started.elapsed() < Duration::from_secs(5), "about a second of ringing: {:?}", started.elapsed());
    wait(uas, "the callee was cancelled");
    assert!(records(&c).iter().all(|r| r["status"] == "NO_ANSWER"));
}
