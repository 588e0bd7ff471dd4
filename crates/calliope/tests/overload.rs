//! Overload with real peers (SIPp, an HTTP client): Calliope runs under a
//! low file descriptor limit (`prlimit`), calls are placed until one is
//! refused; the refused call gets 503 with Retry-After, the live calls keep
//! their media, REGISTER, the API and call records keep working, the API's
//! originations answer 503 in their dialect, the refusals are counted, and
//! once a call ends a new one is admitted again.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee_with, caller, legs_when, rtp_packets, wait, CALLEE, CALLER, PCAP_A};

/// Descriptors kept free; the limit leaves room for a few calls above the
/// idle server's (about 25) and the reserve.
const RESERVE: &str = "64";
const NOFILE: &str = "--nofile=116:116";

/// A caller that plays audio once answered and waits for our BYE.
fn talking_caller(c: &Calliope) -> Child {
    let media = free_port().to_string();
    Sipp::new("uac_play_wait.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .args(&["-key", "pcap", PCAP_A])
        .spawn()
}

fn active_legs(c: &Calliope) -> Vec<Value> {
    let legs = c.pbx_get("/api/channels").1.as_array().cloned().unwrap_or_default();
    legs.into_iter().filter(|l| l["callstate"] == "ACTIVE").collect()
}

/// Waits until the caller's call is up (`true`) or the caller has given up
/// (`false`: it was refused).
fn admitted(c: &Calliope, uac: &mut Child, live_before: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if active_legs(c).len() >= 2 * (live_before + 1) {
            return true;
        }
        if uac.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("call {} was neither answered nor refused", live_before + 1);
}

fn metric(c: &Calliope, name_and_labels: &str) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let page = rt
        .block_on(async { reqwest::get(format!("{}/metrics", c.http)).await.unwrap().text().await.unwrap() });
    page.lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// Hangs up the call with leg `uuid` through the API.
fn hang_up(c: &Calliope, uuid: &str) {
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
}

#[test]
fn short_of_descriptors_new_calls_are_refused_and_live_ones_go_on() {
    let c = Calliope::start_under(&["prlimit", NOFILE], &["--fd-reserve", RESERVE]);
    c.agent(CALLER, "caller-pw");
    c.agent(CALLEE, "callee-pw");
    assert_eq!(metric(&c, "calliope_fds_limit"), 116.0, "the limit prlimit set is the one admitted against");
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee_with(&c, "uas_answer.xml", ear.local_addr().unwrap().port(), &["-m", "40"]);

    // Calls until one is refused.
    let mut live: Vec<Child> = Vec::new();
    let refused = loop {
        assert!(live.len() < 20, "20 calls were admitted under a limit of 116 descriptors");
        let mut uac = talking_caller(&c);
        if !admitted(&c, &mut uac, live.len()) {
            break uac;
        }
        live.push(uac);
    };
    let out = refused.wait_with_output().unwrap();
    assert!(!out.status.success(), "the refused caller did not get its 200");
    assert!(!live.is_empty(), "at least one call fit");
    eprintln!("{} calls fit under the limit", live.len());
    assert_passed(&caller(&c, "uac_503.xml", &[]), "the extra call got 503 with Retry-After");
    assert!(metric(&c, "calliope_calls_refused_total{reason=\"overload\"}") >= 2.0, "refusals are counted");

    // The live calls keep their media.
    let heard = rtp_packets(&ear, Duration::from_millis(1000));
    assert!(heard > 20, "the callers' audio still reaches the callee: {heard} packets in 1 s");

    // REGISTER and the API keep working; originations answer 503.
    let reg = Sipp::new("register.xml", c.sip).args(&["-s", CALLER, "-au", CALLER, "-ap", "caller-pw"]).run();
    assert_passed(&reg, "a REGISTER while overloaded");
    let legs = active_legs(&c);
    assert_eq!(legs.len(), 2 * live.len(), "{legs:?}");
    let (st, body) = c.call("POST", "/v1beta2/calls", json!({"from": "5550100", "to": CALLEE}));
    assert_eq!((st, body["error"]["code"].as_str()), (503, Some("UNAVAILABLE")), "{body}");
    let (st, body) = c.pbx("POST", "/api/channels", json!({"destNumber": CALLEE}));
    assert_eq!((st, body["code"].as_i64()), (503, Some(503)), "{body}");

    // A call hung up: its records are written, and a new call fits again.
    let first = live.remove(0);
    hang_up(&c, legs[0]["uuid"].as_str().unwrap());
    wait(first, "the first caller got our BYE");
    let records = finished_records(&c, 2);
    assert!(records.iter().all(|r| r["status"] == "NORMAL_CLEARING"), "{records:?}");
    let mut again = talking_caller(&c);
    assert!(admitted(&c, &mut again, live.len()), "a new call is admitted once one has ended");
    live.push(again);

    for leg in legs_when(&c, |l| l.len() == 2 * live.len()).iter().filter(|l| l["direction"] == "inbound") {
        hang_up(&c, leg["uuid"].as_str().unwrap());
    }
    for uac in live {
        wait(uac, "a caller got our BYE");
    }
    let mut uas = uas;
    let _ = uas.kill();
    let _ = uas.wait();
}

/// The records of finished calls (one per leg), once at least `n` are
/// written.
fn finished_records(c: &Calliope, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (st, body) = c.call("GET", "/v1beta2/calls", Value::Null);
        assert_eq!(st, 200, "{body}");
        let items: Vec<Value> =
            support::calls::legs_of(&body).into_iter().filter(|r| r["live"] != true).collect();
        if items.len() >= n || Instant::now() > deadline {
            assert!(items.len() >= n, "{n} records: {body}");
            return items;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
