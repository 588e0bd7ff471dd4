//! Fonoster calls placed and tracked with real peers (SIPp agents):
//! `POST /v1beta2/calls`, the `/track` server-sent events, the call seen
//! live and finished, a busy callee, a ringing call cancelled, and a
//! number nothing routes. A call placed with an `appRef` runs the
//! application (a real webhook server) against the callee once it answers:
//! the callee (the test's own RTP socket) hears its `say` and its tone.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{free_port, Calliope};
use support::calls::{callee, calliope, legs_when, wait, CALLEE};
use support::webhooks::{hear, loud, tone_start, Webhooks};

/// Reads `/v1beta2/calls/{r}/track` until the server closes it; answers
/// the statuses of its `data:` lines.
fn track(c: &Calliope, r: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}/v1beta2/calls/{r}/track", c.http))
            .bearer_auth(c.token())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let text = tokio::time::timeout(Duration::from_secs(30), resp.text())
            .await
            .expect("the track closes after the final status")
            .unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| serde_json::from_str::<Value>(d.trim()).unwrap()["status"].as_str().unwrap().to_owned())
            .collect()
    })
}

/// Places a call to `to`; answers its ref.
fn place(c: &Calliope, to: &str) -> String {
    let (st, body) = c.call("POST", "/v1beta2/calls", json!({"from": "5550100", "to": to}));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["status"], "TRYING");
    body["ref"].as_str().unwrap().to_owned()
}

/// The call's record, once written.
fn finished(c: &Calliope, r: &str) -> Value {
    for _ in 0..50 {
        let (st, body) = c.call("GET", &format!("/v1beta2/calls/{r}"), Value::Null);
        if st == 200 && body["live"].is_null() {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("call {r} has no record");
}

#[test]
fn an_agent_answers_a_placed_call_and_the_track_follows_it() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_hangup.xml", free_port());
    let r = place(&c, CALLEE);
    let seen = track(&c, &r);
    assert_eq!(seen.first().map(String::as_str), Some("TRYING"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("ANSWER"), "{seen:?}");
    assert!(seen.len() <= 3, "each status once: {seen:?}");
    wait(uas, "the agent answered, then hung up");
    let rec = finished(&c, &r);
    assert_eq!(
        (rec["status"].as_str(), rec["callStatus"].as_str()),
        (Some("NORMAL_CLEARING"), Some("ANSWER"))
    );
    assert_eq!(rec["type"], "API_ORIGINATED");
    assert_eq!((rec["from"].as_str(), rec["to"].as_str()), (Some("5550100"), Some(CALLEE)));
    assert!(rec["answerTime"].is_string() && rec["endTime"].is_string(), "{rec}");
    // The track of a finished call: its final status, then the end.
    assert_eq!(track(&c, &r), ["ANSWER"]);
    let items = c.call("GET", "/v1beta2/calls", Value::Null).1["items"].as_array().cloned().unwrap();
    assert!(items.iter().any(|i| i["ref"] == r.as_str()), "{items:?}");
}

#[test]
fn a_busy_agent_ends_the_track_with_busy() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_busy.xml", free_port());
    let r = place(&c, CALLEE);
    let seen = track(&c, &r);
    assert_eq!(seen.last().map(String::as_str), Some("BUSY"), "{seen:?}");
    wait(uas, "the agent answered busy");
    assert_eq!(finished(&c, &r)["callStatus"], "BUSY");
}

#[test]
fn a_ringing_call_is_live_then_cancelled() {
    let c = calliope(&[]);
    let uas = callee(&c, "uas_ring.xml", free_port());
    let r = place(&c, CALLEE);
    let mut live = Value::Null;
    for _ in 0..50 {
        live = c.call("GET", &format!("/v1beta2/calls/{r}"), Value::Null).1;
        if live["status"] == "PROGRESS" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!((live["status"].as_str(), live["live"].as_bool()), (Some("PROGRESS"), Some(true)), "{live}");
    let listed = c.call("GET", "/v1beta2/calls", Value::Null).1;
    assert_eq!(listed["items"][0]["ref"], r.as_str(), "live calls lead the list: {listed}");
    let reader = {
        let (http, token, r) = (c.http.clone(), c.token().to_owned(), r.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let resp = reqwest::Client::new()
                    .get(format!("{http}/v1beta2/calls/{r}/track"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                tokio::time::timeout(Duration::from_secs(30), resp.text()).await.unwrap().unwrap()
            })
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.call("DELETE", &format!("/api/channels/{r}"), Value::Null).0, 200);
    let text = reader.join().unwrap();
    let seen: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| {
            if d.contains("\"CANCEL\"") {
                "CANCEL"
            } else if d.contains("\"PROGRESS\"") {
                "PROGRESS"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(seen.last(), Some(&"CANCEL"), "{text}");
    assert!(seen.contains(&"PROGRESS"), "{text}");
    wait(uas, "the ringing agent was cancelled");
}

#[test]
fn nothing_routable_is_a_clear_client_error() {
    let c = calliope(&[]);
    let (st, body) = c.call("POST", "/v1beta2/calls", json!({"from": "5550100", "to": "4455667788"}));
    assert!((400..500).contains(&st), "{st} {body}");
    assert!(body.to_string().contains("to"), "the error names the field: {body}");
    let (st, body) = c.call("POST", "/v1beta2/calls", json!({"to": "not a number"}));
    assert_eq!(st, 400, "{body}");
    let (st, _) = c.call("POST", "/v1beta2/calls", json!({"from": "1"}));
    assert_eq!(st, 400, "`to` is required");
    let (st, _) = c.call("GET", "/v1beta2/calls/no-such-call/track", Value::Null);
    assert_eq!(st, 404);
}

#[test]
fn the_official_sdk_places_and_tracks_a_call_over_grpc() {
    let modules =
        std::env::var_os("CALLIOPE_FONOSTER_SDK").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap())
                .join(".cache/calliope/fonoster-sdk-0.18.2/node_modules")
        });
    if !modules.is_dir() {
        eprintln!("skipped: the Fonoster SDK is not installed at {}", modules.display());
        return;
    }
    let c = calliope(&[]);
    let uas = callee(&c, "uas_hangup.xml", free_port());
    let (_, workspaces) = c.call("GET", "/v1beta2/workspaces", Value::Null);
    let key = workspaces["items"][0]["accessKeyId"].as_str().unwrap().to_owned();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grpc/sdk_call.js");
    let out = std::process::Command::new("timeout")
        .args(["60", "node"])
        .arg(script)
        .env("NODE_PATH", &modules)
        .env("ENDPOINT", c.grpc.to_string())
        .env("EMAIL", support::calliope::EMAIL)
        .env("PASSWORD", support::calliope::PASSWORD)
        .env("ACCESS_KEY_ID", key)
        .env("TO", CALLEE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let statuses: Vec<&str> =
        report["statuses"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(statuses.first(), Some(&"TRYING"), "{report}");
    assert_eq!(statuses.last(), Some(&"ANSWER"), "{report}");
    wait(uas, "the agent answered the SDK's call, then hung up");
    let r = report["ref"].as_str().unwrap();
    assert_eq!(finished(&c, r)["callStatus"], "ANSWER");
}

/// A PBX-dialect create; answers the new id.
fn pbx_create(c: &Calliope, path: &str, body: Value) -> i64 {
    let (st, resp) = c.pbx("POST", path, body.clone());
    assert_eq!(st, 200, "POST {path} {body}: {resp}");
    let id = match &resp["data"] {
        Value::Object(o) => o.get("id").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match id {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("POST {path}: no id in {resp} ({other})"),
    }
}

#[test]
fn a_number_is_routed_out_through_a_sipp_trunk() {
    let c = calliope(&[]);
    let port = free_port();
    let rtp = free_port().to_string();
    let far = support::calliope::Sipp::on_port("uas_hangup.xml", c.sip, port)
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU"])
        .spawn();
    let trunk = pbx_create(
        &c,
        "/api/trunks",
        json!({"name": "far", "remote_addr": format!("127.0.0.1:{port}"), "protocol": "UDP", "enabled": true}),
    );
    let members = json!([{"id": trunk, "priority": 1}]);
    let group =
        pbx_create(&c, "/api/trunk_groups", json!({"name": "out", "strategy": "RR", "trunks": members}));
    pbx_create(
        &c,
        "/api/routes",
        json!({"name": "out 4", "prefix": "4", "max_length": 20, "context": "context-1", "dnc": "1:7",
            "dest_type": "FS_DEST_CLUSTER_TRUNK_GROUP", "dest_uuid": group.to_string()}),
    );
    let (st, body) = c.call("POST", "/v1beta2/calls", json!({"from": support::calls::CALLER, "to": "4000"}));
    assert_eq!(st, 200, "{body}");
    let r = body["ref"].as_str().unwrap().to_owned();
    let seen = track(&c, &r);
    assert_eq!(seen.last().map(String::as_str), Some("ANSWER"), "{seen:?}");
    wait(far, "the trunk answered the routed call, then hung up");
    let rec = finished(&c, &r);
    assert_eq!((rec["to"].as_str(), rec["callStatus"].as_str()), (Some("7000"), Some("ANSWER")), "{rec}");
    assert_eq!(rec["toDialled"], "4000", "the number as given, before the route translated it: {rec}");
}

#[test]
fn a_placed_call_runs_its_application_against_the_answered_callee() {
    let c = calliope(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, _| {
        json!({"commands": [
            {"say": {"text": "Hello, this is your application calling you back"}},
            {"play": {"url": "tone_stream://%(1500,0,1000)"}},
            {"hangup": {}}
        ]})
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "outbound", "type": "EXTERNAL", "endpoint": hooks.at("/voice")}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();

    // An appRef that names nothing: a clear error, no call.
    let (st, body) =
        c.call("POST", "/v1beta2/calls", json!({"from": "5550100", "to": CALLEE, "appRef": "nope"}));
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("appRef"), "the error names the field: {body}");
    assert!(legs_when(&c, |l| l.is_empty()).is_empty(), "nothing was placed");

    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) =
        c.call("POST", "/v1beta2/calls", json!({"from": "5550100", "to": CALLEE, "appRef": app_ref}));
    assert_eq!((st, body["status"].as_str()), (200, Some("TRYING")), "{body}");
    let r = body["ref"].as_str().unwrap().to_owned();
    let seen = track(&c, &r);
    assert_eq!(seen.first().map(String::as_str), Some("TRYING"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("ANSWER"), "{seen:?}");

    // The callee hears the say, then the 1 kHz tone; then the application
    // hangs up (the callee gets BYE).
    let heard = hear(&ear, Duration::from_secs(8));
    let tone = tone_report(&heard, 8000, 1000.0);
    assert!(tone.longest_run_ms >= 1000, "the tone is heard: {tone:?} ({:?})", hooks.hits());
    let start = tone_start(&heard, 1000.0).unwrap_or(0);
    assert!(loud(&heard[..start]) > 800, "the say is heard before the tone");
    wait(uas, "the callee heard the application, which hung up");

    let hits = hooks.hits();
    assert_eq!(hits.len(), 1, "one request for the program: {hits:?}");
    let hit = &hits[0];
    assert!(hit.signed, "{hit:?}");
    assert_eq!(hit.body["appRef"], json!(app_ref), "{hit:?}");
    assert_eq!(hit.body["sessionRef"], json!(r), "{hit:?}");
    assert_eq!(hit.body["calleeNumber"], json!(CALLEE), "{hit:?}");
    assert_eq!(hit.body["callerNumber"], json!("5550100"), "{hit:?}");
    assert_eq!(hit.body["direction"], json!("TO_PSTN"), "an outbound call: {hit:?}");
    let rec = finished(&c, &r);
    assert_eq!(
        (rec["callStatus"].as_str(), rec["type"].as_str()),
        (Some("ANSWER"), Some("API_ORIGINATED")),
        "{rec}"
    );
}
