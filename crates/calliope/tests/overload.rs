//! Overload with real peers (SIPp, an HTTP client): Calliope runs under a
//! low file descriptor limit (`prlimit`), calls are placed until one is
//! refused; the refused call gets 503 with Retry-After, the live calls keep
//! their media, REGISTER, the API and call records keep working, the API's
//! originations (Fonoster, PBX, Vonage) answer 503 in their dialect, the
//! refusals are counted, and once calls end a new one is admitted again.
//!
//! The server counts its descriptors other than media once a second, and a
//! count can catch a connection the API is about to close, or idle media
//! sockets closed since to make room: the edge moves by a few descriptors.
//! So the checks that need the server refusing hold idle connections until
//! the count is well past the edge (an absolute figure, not one relative to
//! an earlier count), and the check that needs room frees two calls' worth.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{TcpStream, UdpSocket};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee_with, caller, legs_when, rtp_packets, wait, CALLEE, CALLER, PCAP_A};
use support::vonage::{application, token, voice};

/// Descriptors kept free; the limit leaves room for a few calls above the
/// idle server's (about 25) and the reserve.
const RESERVE: &str = "64";
const NOFILE: &str = "--nofile=116:116";
/// Above this many descriptors in use, a call (4 more) would eat into the
/// reserve: 116 - 64 - 4.
const EDGE: f64 = 48.0;
/// How far past the edge the checks that need refusals wait for the count.
const PAST_EDGE: f64 = 6.0;

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

/// Waits until the descriptors the server counts satisfy `ok`; the count.
fn fds_until(c: &Calliope, what: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open = metric(c, "calliope_fds_open");
        if ok(open) {
            return open;
        }
        assert!(Instant::now() < deadline, "{what}: {open} descriptors counted");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `n` idle connections to the API, each a descriptor the server holds
/// (for up to its 15 s header timeout).
fn ballast(c: &Calliope, n: usize) -> Vec<TcpStream> {
    let addr = c.http.trim_start_matches("http://");
    (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect()
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
    let (app, key) = application(&c, json!({"name": "overload"}));
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
    assert!(live.len() >= 2, "at least two calls fit");
    eprintln!("{} calls fit under the limit", live.len());

    // Well past the edge: 12 more descriptors held until the count shows
    // it.
    let held = ballast(&c, 12);
    let holding = fds_until(&c, "the held connections are counted", |open| open >= EDGE + PAST_EDGE);
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
    let place =
        json!({"to": [{"type": "phone", "number": CALLEE}], "ncco": [{"action": "talk", "text": "hi"}]});
    let (st, body) = voice(&c, &token(&app, &key), "POST", "/v1/calls", place);
    assert_eq!((st, body["type"].as_str()), (503, Some("urn:calliope:error:unavailable")), "{body}");
    drop(held);
    fds_until(&c, "the closed connections are no longer counted", |open| open <= holding - 8.0);

    // Two calls hung up: their records are written, and a new call fits
    // again.
    let inbound: Vec<&Value> = legs.iter().filter(|l| l["direction"] == "inbound").collect();
    for (leg, uac) in inbound.iter().zip(live.drain(..2)) {
        hang_up(&c, leg["uuid"].as_str().unwrap());
        wait(uac, "the caller got our BYE");
    }
    let records = finished_records(&c, 4);
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
