//! Calls leaving through gateways and trunks, with real peers: SIPp plays
//! the gateway (digest challenge, then the rewritten number), trunks of a
//! group (round robin, weights, failover on 503 and not on 486), and an
//! agent calling out; a silent socket plays a gateway that never answers.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{calliope, legs_when, wait, CALLER};

/// A request in the PBX dialect (X-XTRA-AUTH-ID with the owner's token).
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

/// Creates a PBX record at `path` and answers its id (the seed answers
/// an id, a string id or the whole record, depending on the resource).
fn create(c: &Calliope, path: &str, body: Value) -> i64 {
    let (st, resp) = pbx(c, "POST", path, body.clone());
    assert_eq!(st, 200, "POST {path} {body}: {resp}");
    let data = &resp["data"];
    let id = match data {
        Value::Object(o) => o.get("id").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match id {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("POST {path}: id {s}")),
        other => panic!("POST {path}: no id in {resp} ({other})"),
    }
}

/// A route in `context-1` for numbers starting with `prefix`.
fn route(c: &Calliope, prefix: &str, dest_type: &str, dest_uuid: &str, extra: Value) -> i64 {
    let mut body = json!({
        "name": format!("out {prefix}"),
        "prefix": prefix,
        "max_length": 20,
        "context": "context-1",
        "dest_type": dest_type,
        "dest_uuid": dest_uuid,
    });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    create(c, "/api/routes", body)
}

/// A PBX trunk to SIPp (or a socket) at `port`.
fn trunk(c: &Calliope, name: &str, port: u16) -> i64 {
    create(
        c,
        "/api/trunks",
        json!({"name": name, "remote_addr": format!("127.0.0.1:{port}"), "protocol": "UDP", "enabled": true}),
    )
}

/// A SIPp upstream (gateway or trunk) on `port` running `scenario`,
/// tracing its messages to `trace`.
fn upstream(c: &Calliope, scenario: &str, port: u16, trace: &Path, extra: &[&str]) -> Child {
    let rtp = free_port().to_string();
    Sipp::on_port(scenario, c.sip, port)
        .args(extra)
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU"])
        .args(&["-trace_msg", "-message_file", trace.to_str().unwrap()])
        .spawn()
}

/// The agent `CALLER` dials `number` with `scenario`, tracing to `trace`.
fn dial(c: &Calliope, scenario: &str, number: &str, trace: &Path, extra: &[&str]) -> Output {
    let media = free_port().to_string();
    Sipp::new(scenario, c.sip)
        .args(&["-s", number, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .args(&["-trace_msg", "-message_file", trace.to_str().unwrap()])
        .args(extra)
        .run()
}

fn trace_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The INVITEs a traced upstream received (their request lines).
fn invites(trace: &str) -> Vec<&str> {
    trace.lines().map(str::trim).filter(|l| l.starts_with("INVITE sip:")).collect()
}

/// The final failure statuses a traced caller received (407 aside;
/// retransmissions counted once).
fn failures(trace: &str) -> Vec<u16> {
    let mut seen: Vec<u16> = trace
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SIP/2.0 "))
        .filter_map(|l| l.get(..3)?.parse().ok())
        .filter(|s| *s >= 300 && *s != 407)
        .collect();
    seen.dedup();
    seen
}

/// Stops a SIPp that runs until killed and collects it.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn traces() -> (tempfile::TempDir, impl Fn(&str) -> PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_owned();
    (dir, move |name: &str| base.join(name))
}

/// The call records, once there are at least `n` (or the last seen).
fn call_records(c: &Calliope, n: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..50 {
        let (_, body) = c.call("GET", "/v1beta2/calls", Value::Null);
        items = crate::support::calls::legs_of(&body);
        if items.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    items
}

/// No call is left once `what` ended.
fn no_call_left(c: &Calliope, what: &str) {
    let legs = legs_when(c, |l| l.is_empty());
    assert!(legs.is_empty(), "{what}: legs left {legs:?}");
}

#[test]
fn a_gateway_call_answers_the_challenge_and_carries_the_rewritten_numbers() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let port = free_port();
    let gw = upstream(
        &c,
        "upstream_401.xml",
        port,
        &at("gw.log"),
        &["-key", "gw_user", "gwuser", "-key", "gw_pass", "gw-pass"],
    );
    let id = create(
        &c,
        "/api/gateways",
        json!({"name": "carrier", "realm": format!("127.0.0.1:{port}"), "username": "gwuser", "password": "gw-pass"}),
    );
    create(
        &c,
        "/api/dods",
        json!({"type": "GATEWAY", "extn": CALLER, "line_number": "6553998", "name": "carrier"}),
    );
    // Dialled 9 5551234: the route strips the 9 and prepends 0044.
    route(&c, "9", "FS_DEST_GATEWAY", &id.to_string(), json!({"dnc": "1:0044"}));
    let out = dial(&c, "uac_out.xml", "95551234", &at("caller.log"), &[]);
    assert_passed(&out, "the agent's call through the gateway was answered");
    wait(gw, "the gateway challenged, verified the digest and answered");
    let trace = trace_of(&at("gw.log"));
    let seen = invites(&trace);
    assert_eq!(seen.len(), 2, "the INVITE and the one with credentials: {seen:?}");
    assert!(
        seen.iter().all(|l| l.starts_with(&format!("INVITE sip:00445551234@127.0.0.1:{port} "))),
        "the gateway sees the rewritten number at its realm: {seen:?}"
    );
    assert!(trace.contains("Authorization: Digest username=\"gwuser\""), "{trace}");
    let from = trace.lines().find(|l| l.trim_start().starts_with("From:")).unwrap_or("");
    assert!(from.contains("sip:6553998@"), "the DOD number is the caller: {from}");
    no_call_left(&c, "the call through the gateway");
    // Both legs' records have the number as dialled and as sent.
    let records = call_records(&c, 2);
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        assert_eq!((&r["to"], &r["toDialled"]), (&json!("00445551234"), &json!("95551234")), "{r}");
    }
}

#[test]
fn a_fonoster_trunk_answers_a_challenge_with_its_outbound_credentials() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let port = free_port();
    let up = upstream(
        &c,
        "upstream_401.xml",
        port,
        &at("trunk.log"),
        &["-key", "gw_user", "acme", "-key", "gw_pass", "acme-pw"],
    );
    let (st, cred) = c.call(
        "POST",
        "/v1beta2/credentials",
        json!({"name": "carrier out", "username": "acme", "password": "acme-pw"}),
    );
    assert_eq!(st, 201, "{cred}");
    let (st, t) = c.call(
        "POST",
        "/v1beta2/trunks",
        json!({
            "name": "fonoster carrier",
            "outboundUri": format!("sip:127.0.0.1:{port}"),
            "outboundCredentials": {"ref": cred["ref"]},
        }),
    );
    assert_eq!(st, 201, "{t}");
    let (_, trunks) = pbx(&c, "GET", "/api/trunks", Value::Null);
    let rows = trunks["data"].as_array().cloned().or_else(|| trunks.as_array().cloned()).unwrap_or_default();
    let id = rows
        .iter()
        .find(|r| r["name"] == "fonoster carrier")
        .and_then(|r| r["id"].as_i64().or_else(|| r["id"].as_str()?.parse().ok()))
        .unwrap_or_else(|| panic!("the trunk in the PBX list: {trunks}"));
    route(&c, "7", "FS_DEST_CLUSTER_TRUNK", &id.to_string(), json!({}));
    let out = dial(&c, "uac_out.xml", "7123", &at("caller.log"), &[]);
    assert_passed(&out, "the call through the Fonoster trunk was answered");
    wait(up, "the trunk challenged, verified the outbound credentials and answered");
    let trace = trace_of(&at("trunk.log"));
    assert!(
        invites(&trace).iter().all(|l| l.starts_with(&format!("INVITE sip:7123@127.0.0.1:{port} "))),
        "{trace}"
    );
}

#[test]
fn round_robin_spreads_calls_evenly_over_the_groups_trunks() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    // Each trunk takes exactly two calls and then stops: a third call to
    // one of them (or none to another) fails the test.
    let mut ups = Vec::new();
    let mut ids = Vec::new();
    for n in 0..3 {
        let port = free_port();
        let name = format!("t{n}.log");
        ups.push(upstream(&c, "uas_answer.xml", port, &at(&name), &["-m", "2"]));
        ids.push(json!({"id": trunk(&c, &format!("rr{n}"), port), "priority": n + 1}));
    }
    let group = create(&c, "/api/trunk_groups", json!({"name": "rr", "strategy": "RR", "trunks": ids}));
    route(&c, "6", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    for call in 0..6 {
        let out = dial(&c, "uac_out.xml", &format!("6{call:03}"), &at(&format!("caller{call}.log")), &[]);
        assert_passed(&out, &format!("call {call} through the group"));
    }
    for (n, up) in ups.into_iter().enumerate() {
        wait(up, &format!("trunk {n} took its two calls"));
        assert_eq!(invites(&trace_of(&at(&format!("t{n}.log")))).len(), 2, "trunk {n}");
    }
    no_call_left(&c, "six calls through the group");
}

#[test]
fn weights_share_calls_in_proportion() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let (light_port, heavy_port) = (free_port(), free_port());
    let light = upstream(&c, "uas_answer.xml", light_port, &at("light.log"), &["-m", "1000"]);
    let heavy = upstream(&c, "uas_answer.xml", heavy_port, &at("heavy.log"), &["-m", "1000"]);
    let members = json!([
        {"id": trunk(&c, "light", light_port), "weight": 1, "priority": 1},
        {"id": trunk(&c, "heavy", heavy_port), "weight": 3, "priority": 2},
    ]);
    let group =
        create(&c, "/api/trunk_groups", json!({"name": "w", "strategy": "WEIGHT", "trunks": members}));
    route(&c, "5", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    let calls = 60;
    let out = dial(&c, "uac_out.xml", "5000", &at("caller.log"), &["-m", "60", "-r", "10", "-l", "5"]);
    assert_passed(&out, "sixty calls through the weighted group");
    no_call_left(&c, "sixty calls");
    stop(light);
    stop(heavy);
    let l = invites(&trace_of(&at("light.log"))).len();
    let h = invites(&trace_of(&at("heavy.log"))).len();
    assert_eq!(l + h, calls, "every call went to one trunk once");
    // Binomial(60, 1/4): mean 15, sd 3.4; even shares (30) or all on one
    // are far outside.
    assert!((5..=26).contains(&l), "weight 1 of 4 took {l} of {calls} (weight 3 took {h})");
}

#[test]
fn a_503_fails_over_to_the_next_member_and_a_486_does_not() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let (bad, good) = (free_port(), free_port());
    let refusing = upstream(&c, "trunk_503.xml", bad, &at("bad.log"), &[]);
    let answering = upstream(&c, "uas_answer.xml", good, &at("good.log"), &[]);
    let members =
        json!([{"id": trunk(&c, "bad", bad), "priority": 1}, {"id": trunk(&c, "good", good), "priority": 2}]);
    let group = create(&c, "/api/trunk_groups", json!({"name": "fo", "strategy": "RR", "trunks": members}));
    route(&c, "4", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    let out = dial(&c, "uac_out.xml", "4000", &at("caller.log"), &[]);
    assert_passed(&out, "the call failed over from the 503 to the next trunk, which answered");
    wait(refusing, "the first trunk answered 503");
    wait(answering, "the second trunk answered");

    let busy_port = free_port();
    let busy = upstream(&c, "trunk_486.xml", busy_port, &at("busy.log"), &[]);
    let never = UdpSocket::bind("127.0.0.1:0").unwrap();
    let never_port = never.local_addr().unwrap().port();
    let members = json!([
        {"id": trunk(&c, "busy", busy_port), "priority": 1},
        {"id": trunk(&c, "next", never_port), "priority": 2},
    ]);
    let group = create(&c, "/api/trunk_groups", json!({"name": "nofo", "strategy": "RR", "trunks": members}));
    route(&c, "3", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    let out = dial(&c, "uac_out_fail.xml", "3000", &at("caller486.log"), &[]);
    assert_passed(&out, "the caller was refused");
    wait(busy, "the first trunk answered 486");
    assert_eq!(
        failures(&trace_of(&at("caller486.log"))),
        [486],
        "the busy callee's answer reaches the caller"
    );
    never.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut buf = [0u8; 4096];
    assert!(never.recv(&mut buf).is_err(), "no failover on 486: the next trunk got nothing");
    no_call_left(&c, "the failover calls");
}

#[test]
fn a_silent_member_is_unreachable_and_the_next_one_takes_the_call() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let good = free_port();
    let answering = upstream(&c, "uas_answer.xml", good, &at("good.log"), &[]);
    let members = json!([
        {"id": trunk(&c, "silent", silent_port), "priority": 1},
        {"id": trunk(&c, "good", good), "priority": 2},
    ]);
    let group =
        create(&c, "/api/trunk_groups", json!({"name": "quiet", "strategy": "RR", "trunks": members}));
    route(&c, "4", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    let started = Instant::now();
    let out = dial(&c, "uac_out.xml", "4000", &at("caller.log"), &[]);
    assert_passed(&out, "the second trunk answered after the first stayed silent");
    wait(answering, "the second trunk answered");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "given up before the transaction timer: {took:?}");
    silent.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = [0u8; 4096];
    assert!(silent.recv(&mut buf).is_ok(), "the silent trunk was tried first");
    no_call_left(&c, "the failed-over call");
}

#[test]
fn a_gateway_that_never_answers_ends_the_call_within_the_ring_timeout() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let id = create(&c, "/api/gateways", json!({"name": "void", "realm": format!("127.0.0.1:{port}")}));
    let rid = route(&c, "2", "FS_DEST_GATEWAY", &id.to_string(), json!({}));
    let (st, resp) =
        pbx(&c, "POST", &format!("/api/routes/{rid}/params"), json!({"k": "call_timeout", "v": "3"}));
    assert_eq!(st, 200, "{resp}");
    let started = Instant::now();
    let out = dial(&c, "uac_out_fail.xml", "2000", &at("caller.log"), &[]);
    let took = started.elapsed();
    assert_passed(&out, "the caller was refused");
    let statuses = failures(&trace_of(&at("caller.log")));
    assert!(matches!(statuses.as_slice(), [408] | [480]), "408 or 480: {statuses:?}");
    assert!(took < Duration::from_secs(8), "ended by the 3 s ring timeout, not later: {took:?}");
    silent.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = [0u8; 4096];
    let n = silent.recv(&mut buf).expect("the gateway was sent the INVITE");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with(&format!("INVITE sip:2000@127.0.0.1:{port}")));
    no_call_left(&c, "the unanswered call");
    let items = call_records(&c, 1);
    assert!(!items.is_empty(), "the call has a record");
    assert!(
        items.iter().all(|r| r["status"].as_str().is_some_and(|s| !s.is_empty() && s != "NORMAL_CLEARING")),
        "the record says why: {items:?}"
    );
}

#[test]
fn a_trunk_group_without_members_refuses_with_503() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let group = create(&c, "/api/trunk_groups", json!({"name": "empty", "strategy": "RR"}));
    route(&c, "1", "FS_DEST_CLUSTER_TRUNK_GROUP", &group.to_string(), json!({}));
    let out = dial(&c, "uac_out_fail.xml", "1000", &at("caller.log"), &[]);
    assert_passed(&out, "the caller was refused");
    assert_eq!(failures(&trace_of(&at("caller.log"))), [503]);
    no_call_left(&c, "the refused call");
}

#[test]
fn a_uri_naming_a_host_is_resolved_and_one_that_does_not_resolve_is_refused() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let port = free_port();
    let up = upstream(&c, "uas_answer.xml", port, &at("host.log"), &[]);
    route(&c, "8", "FS_DEST_IP", "", json!({"body": format!("sip:localhost:{port}")}));
    let out = dial(&c, "uac_out.xml", "8123", &at("caller.log"), &[]);
    assert_passed(&out, "the call to a host name was answered");
    wait(up, "the host named by the URI answered");
    let trace = trace_of(&at("host.log"));
    assert!(
        invites(&trace).iter().all(|l| l.starts_with(&format!("INVITE sip:8123@localhost:{port} "))),
        "{trace}"
    );

    // RFC 6761: .invalid never resolves; the caller hears why, at once.
    route(&c, "77", "FS_DEST_IP", "", json!({"body": "sip:carrier.invalid"}));
    let started = Instant::now();
    let out = dial(&c, "uac_out_fail.xml", "77123", &at("bad.log"), &[]);
    assert_passed(&out, "the caller was refused");
    assert_eq!(failures(&trace_of(&at("bad.log"))), [502]);
    assert!(started.elapsed() < Duration::from_secs(6), "bounded by the lookup timeout");
    no_call_left(&c, "the calls to host names");
    let refused = call_records(&c, 2);
    assert!(
        refused.iter().any(|r| r["status"] == "NO_ROUTE_DESTINATION"),
        "the record says why: {refused:?}"
    );
}

#[test]
fn a_tcp_trunk_carries_the_call_over_tcp() {
    let c = calliope(&[]);
    let (_dir, at) = traces();
    let port = free_port();
    let up = upstream(&c, "uas_answer.xml", port, &at("tcp.log"), &["-t", "t1"]);
    let id = create(
        &c,
        "/api/trunks",
        json!({"name": "tcp", "remote_addr": format!("127.0.0.1:{port}"), "protocol": "TCP", "enabled": true}),
    );
    route(&c, "5", "FS_DEST_CLUSTER_TRUNK", &id.to_string(), json!({}));
    let out = dial(&c, "uac_out.xml", "5123", &at("caller.log"), &[]);
    assert_passed(&out, "the call through the TCP trunk was answered");
    wait(up, "the trunk took the call over TCP");
    let trace = trace_of(&at("tcp.log"));
    let seen = invites(&trace);
    assert_eq!(seen.len(), 1, "{trace}");
    assert!(seen[0].starts_with(&format!("INVITE sip:5123@127.0.0.1:{port};transport=tcp ")), "{seen:?}");
    assert!(trace.contains("TCP message received"), "{trace}");
    no_call_left(&c, "the call over TCP");
}
