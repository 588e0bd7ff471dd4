//! `GET /metrics` with real peers: every family of the Prometheus page is
//! there and moves when a relayed call (SIPp at both ends), an originated
//! call playing a file, a registration, channel-state pushes to a receiver
//! that is down and API requests happen; the page is the local host's only
//! unless a token is configured, then the token's.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::baresip::tones_wav;
use support::calliope::{assert_passed, Calliope};
use support::calls::{callee, caller, calliope, records, wait, CALLEE};

/// One GET of `/metrics` with `token` (if any): status and body.
fn scrape(c: &Calliope, token: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new().get(format!("{}/metrics", c.http));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

/// Samples by name with labels (`name{a="b"}`), as the page writes them.
fn samples(page: &str) -> HashMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of every sample of `family` whose labels contain `labels`.
fn total(s: &HashMap<String, f64>, family: &str, labels: &str) -> f64 {
    s.iter()
        .filter(|(k, _)| {
            let name = k.split('{').next().unwrap_or("");
            name == family && k.contains(labels)
        })
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn every_family_is_present_and_moves_with_calls_registrations_and_requests() {
    let down = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", down.local_addr().unwrap());
    drop(down);
    let c = calliope(&["--post-event-url", &url, "--post-event-secret", "s3cret"]);
    let (st, before) = scrape(&c, None);
    assert_eq!(st, 200, "the local host reads the metrics: {before}");
    let before = samples(&before);

    // A relayed call between two agents, with audio and a digit.
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
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
    assert_eq!(records(&c).len(), 2);

    // An originated call playing a file: the media session ticks.
    let path = c.upload_media("tone.wav", &tones_wav(&[(1000.0, 600)]));
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) =
        c.pbx_form("POST", "/api/channels", &[("destNumber", CALLEE), ("app", "playback"), ("args", &path)]);
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(c.pbx("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the originated callee");

    // The pushes to the receiver that is down are tried and fail.
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let (st, page) = scrape(&c, None);
        assert_eq!(st, 200);
        let s = samples(&page);
        if total(&s, "calliope_webhook_requests_total", "") > 0.0 || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let moved = |family: &str, labels: &str| {
        let (b, a) = (total(&before, family, labels), total(&after, family, labels));
        assert!(a > b, "{family}{{{labels}}} moved: {b} -> {a}\n{after:#?}");
    };
    moved("calliope_call_setups_total", "");
    moved("calliope_calls_ended_total", "cause=\"NORMAL_CLEARING\"");
    moved("calliope_registrations_total", "outcome=\"ok\"");
    moved("calliope_registrations_total", "outcome=\"challenged\"");
    moved("calliope_rtp_packets_received_total", "");
    moved("calliope_rtp_packets_sent_total", "");
    moved("calliope_media_ticks_total", "");
    moved("calliope_webhook_requests_total", "outcome=\"WEBHOOK_NETWORK_ERROR\"");
    moved("calliope_webhook_duration_seconds_count", "");
    moved("calliope_store_batch_duration_seconds_count", "kind=\"cdrs\"");
    moved("calliope_http_requests_total", "status=\"200\"");
    for family in [
        "calliope_calls_live",
        "calliope_legs_live",
        "calliope_sip_transactions_live",
        "calliope_sip_transactions_retained",
        "calliope_store_queue_depth",
    ] {
        assert!(after.keys().any(|k| k.split('{').next() == Some(family)), "{family} is on the page");
    }
    assert!(total(&after, "calliope_sip_transactions_retained", "") > 0.0, "finished transactions are kept");
    assert_eq!(total(&after, "calliope_calls_live", ""), 0.0, "no call is left");
}

#[test]
fn with_a_token_the_metrics_ask_for_it() {
    let c = Calliope::start(&["--metrics-token", "scrape-me"]);
    assert_eq!(scrape(&c, None).0, 401);
    assert_eq!(scrape(&c, Some("wrong")).0, 401);
    let (st, page) = scrape(&c, Some("scrape-me"));
    assert_eq!(st, 200);
    assert!(page.contains("calliope_http_requests_total"), "{page}");
}
