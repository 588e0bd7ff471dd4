//! Calls follow the routing configuration, end to end: SIPp plays a
//! carrier trunk (known by its address and port) and the agents' phones;
//! the configuration is made through the HTTP API. A DID rings its agent;
//! an unknown caller is challenged then refused; a black list refuses;
//! extensions ring together or in turn; `proxy_media 0` leaves the media
//! unanchored; a route that leads back to us stops at the hop limit; a
//! route whose destination was deleted answers 410; and the route query
//! names the very route real calls take.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{legs_when, wait};

/// The carrier's number as the caller.
const CARRIER_CALLER: &str = "15551230000";

/// Calliope with agents 2002 and 2003 (their refs).
fn start() -> (Calliope, String, String) {
    let c = Calliope::start(&[]);
    let a2002 = c.agent("2002", "pw-2002");
    let a2003 = c.agent("2003", "pw-2003");
    (c, a2002, a2003)
}

/// The id a PBX create answers (`data`: a string, a number or the record).
fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// A PBX trunk at `127.0.0.1:port` whose calls are routed in `context-2`;
/// its id.
fn trunk(c: &Calliope, name: &str, port: u16) -> i64 {
    let body = json!({"name": name, "remote_addr": format!("127.0.0.1:{port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", body);
    assert_eq!(st, 200, "{answer}");
    id_of(&answer)
}

/// A route in `context-2`; its id.
fn route(c: &Calliope, fields: Value) -> i64 {
    let mut body = json!({"context": "context-2", "max_length": "20"});
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, answer) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{answer}");
    id_of(&answer)
}

/// Agent `user` (password `pw-<user>`) registered at a SIPp UAS running
/// `scenario`; `extra` SIPp arguments go first.
fn phone(c: &Calliope, user: &str, scenario: &str, extra: &[&str]) -> std::process::Child {
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = free_port().to_string();
    let child = uas
        .args(extra)
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", user])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", &format!("pw-{user}")])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the phone registers");
    child
}

/// The carrier (from `port`) calls `number` with `scenario`.
fn carrier(c: &Calliope, port: u16, scenario: &str, number: &str) -> std::process::Output {
    let media = free_port().to_string();
    Sipp::on_port(scenario, c.sip, port)
        .args(&["-s", number, "-key", "caller", CARRIER_CALLER, "-mp", &media])
        .run()
}

/// The call records once `n` are written.
fn records(c: &Calliope, n: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=1000", Value::Null);
        items = crate::support::calls::legs_of(&body);
        if items.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    items
}

fn no_live_calls(c: &Calliope) {
    let legs = legs_when(c, |l| l.is_empty());
    assert!(legs.is_empty(), "no call is left behind: {legs:?}");
}

#[test]
fn a_carrier_call_to_a_did_rings_its_agent() {
    let (c, a2002, _) = start();
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Main line", "telUrl": "tel:+15550001111", "ingressHandler": {"type": "AGENT", "ref": a2002}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    let callee = phone(&c, "2002", "uas_answer.xml", &[]);
    let media = free_port().to_string();
    let call = Sipp::on_port("trunk_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550001111", "-key", "caller", CARRIER_CALLER, "-mp", &media])
        .spawn();
    // The channel list shows the real call: the trunk's context, the DID.
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2, "{legs:?}");
    for leg in &legs {
        assert_eq!((&leg["context"], &leg["dest"]), (&json!("context-2"), &json!("+15550001111")), "{leg}");
    }
    wait(call, "the DID call is answered");
    wait(callee, "the agent's phone answered and got the BYE");
    let cdrs = records(&c, 2);
    assert_eq!(cdrs.len(), 2, "{cdrs:?}");
    for cdr in &cdrs {
        let fields = (&cdr["direction"], &cdr["type"], &cdr["from"], &cdr["to"], &cdr["status"]);
        assert_eq!(
            fields,
            (
                &json!("FROM_PSTN"),
                &json!("SIP_TRUNK"),
                &json!(CARRIER_CALLER),
                &json!("+15550001111"),
                &json!("NORMAL_CLEARING")
            ),
            "{cdr}"
        );
        assert!(cdr["answerTime"].is_string(), "answered: {cdr}");
    }
    no_live_calls(&c);
}

#[test]
fn an_unknown_caller_is_challenged_then_refused_and_a_trunk_port_is_kept_apart() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    // Neither an agent nor the trunk's port: challenged, and credentials
    // that match nobody get 403.
    let media = free_port().to_string();
    let out = Sipp::new("uac_forbidden.xml", c.sip)
        .args(&["-s", "2002", "-au", "stranger", "-ap", "nope", "-key", "caller", "stranger", "-mp", &media])
        .run();
    assert_passed(&out, "challenged, then 403");
    assert!(records(&c, 1).is_empty(), "a refused stranger takes no call slot and leaves no record");
    no_live_calls(&c);
}

#[test]
fn a_caller_on_a_routes_black_list_is_refused() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    let (st, list) =
        c.pbx("POST", "/api/blacklists", json!({"name": "blocked", "list_type": 0, "limit_user_type": 0}));
    assert_eq!(st, 200, "{list}");
    let list = id_of(&list);
    let (st, n) =
        c.pbx("POST", &format!("/api/blacklists/{list}/lists"), json!({"k": "carrier", "v": "1555123"}));
    assert_eq!(st, 200, "{n}");
    let callee = phone(&c, "2002", "uas_answer.xml", &[]);
    let id = route(
        &c,
        json!({"name": "to 2002", "prefix": "7", "dest_type": "FS_DEST_USER", "dest_uuid": "2002", "blacklist": list.to_string()}),
    );
    assert_passed(&carrier(&c, carrier_port, "trunk_403.xml", "7001"), "a caller on the black list gets 403");
    let cdrs = records(&c, 1);
    assert_eq!(cdrs.first().map(|r| &r["status"]), Some(&json!("CALL_REJECTED")), "{cdrs:?}");
    // Off the list, the same route rings the agent.
    let (st, _) = c.pbx("DELETE", &format!("/api/blacklists/{list}/lists/{}", id_of(&n)), Value::Null);
    assert_eq!(st, 200);
    assert_passed(&carrier(&c, carrier_port, "trunk_call.xml", "7001"), "off the list the call goes through");
    wait(callee, "the agent answered");
    let _ = id;
    no_live_calls(&c);
}

#[test]
fn extensions_ring_in_turn_and_together() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(
        &c,
        json!({"name": "in turn", "prefix": "81", "dest_type": "FS_DEST_SEQ_EXTNS", "body": "2002,2003"}),
    );
    route(
        &c,
        json!({"name": "together", "prefix": "82", "dest_type": "FS_DEST_RING_EXTNS", "body": "2002,2003"}),
    );

    // In turn: 2002 is busy, so 2003 rings next and answers.
    let busy = phone(&c, "2002", "uas_busy.xml", &[]);
    let answers = phone(&c, "2003", "uas_answer.xml", &[]);
    assert_passed(&carrier(&c, carrier_port, "trunk_call.xml", "8100"), "the second extension answers");
    wait(busy, "the first extension was tried and was busy");
    wait(answers, "the second extension answered");

    // Together: 2002 rings until cancelled, 2003 answers at once.
    let rings = phone(&c, "2002", "uas_ring.xml", &[]);
    let answers = phone(&c, "2003", "uas_answer.xml", &[]);
    assert_passed(&carrier(&c, carrier_port, "trunk_call.xml", "8200"), "one of the extensions answers");
    wait(rings, "the other extension rang and was cancelled");
    wait(answers, "the answering extension");
    no_live_calls(&c);
}

#[test]
fn proxy_media_0_passes_the_callers_sdp_to_the_callee() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(
        &c,
        json!({"name": "unanchored", "prefix": "6", "dest_type": "FS_DEST_USER", "dest_uuid": "2002", "proxy_media": "0"}),
    );
    let log = c.dir.path().join("callee-messages.log");
    let log_arg = log.display().to_string();
    let callee = phone(&c, "2002", "uas_answer.xml", &["-trace_msg", "-message_file", &log_arg]);
    let media = free_port();
    let out = Sipp::on_port("trunk_call.xml", c.sip, carrier_port)
        .args(&["-s", "6000", "-key", "caller", CARRIER_CALLER, "-mp", &media.to_string()])
        .run();
    assert_passed(&out, "the unanchored call is answered");
    wait(callee, "the callee");
    let messages = std::fs::read_to_string(&log).unwrap();
    let invite = messages.split("INVITE sip:").nth(1).expect("the callee got an INVITE");
    assert!(
        invite.contains(&format!("m=audio {media} ")),
        "the caller's own media port reaches the callee:\n{invite}"
    );
    assert!(invite.contains("o=carrier "), "the caller's SDP, unchanged:\n{invite}");
    let (lo, hi) = c.rtp;
    assert!(
        !(lo..=hi).any(|p| invite.contains(&format!("m=audio {p} "))),
        "no media port of ours:\n{invite}"
    );
    no_live_calls(&c);
}

#[test]
fn a_route_that_leads_back_to_us_is_stopped() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    // Calls we send to ourselves come from our own address: a trunk.
    trunk(&c, "ourselves", c.sip.port());
    route(
        &c,
        json!({"name": "loop", "prefix": "9", "dest_type": "FS_DEST_IP", "body": format!("sip:9000@{}", c.sip)}),
    );
    assert_passed(&carrier(&c, carrier_port, "trunk_482.xml", "9000"), "our INVITE came back: 482");
    // A call that says it was routed too often already stops at once.
    assert_passed(&carrier(&c, carrier_port, "trunk_483.xml", "9000"), "past the hop limit: 483");
    no_live_calls(&c);
    let cdrs = records(&c, 2);
    assert!(
        cdrs.iter().filter(|r| r["status"] == json!("EXCHANGE_ROUTING_ERROR")).count() >= 2,
        "the records say why: {cdrs:?}"
    );
}

#[test]
fn a_route_whose_destination_was_deleted_meanwhile_answers_410() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    let (st, ivr) = c.pbx("POST", "/api/ivrs", json!({"name": "menu"}));
    assert_eq!(st, 200, "{ivr}");
    let ivr = id_of(&ivr);
    route(
        &c,
        json!({"name": "menu", "prefix": "5", "dest_type": "FS_DEST_IVR", "dest_uuid": ivr.to_string()}),
    );
    // The API and the store refuse to delete what a route names: the menu
    // goes behind their backs, with SQL (as a deletion racing the call
    // would leave it); the next configuration change (any write) rebuilds
    // the routing snapshot.
    let db = c.dir.path().join("calliope.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg(format!("PRAGMA busy_timeout = 5000; DELETE FROM ivrs WHERE id = {ivr};"))
        .output()
        .expect("the sqlite3 shell");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    route(
        &c,
        json!({"name": "unrelated", "context": "context-1", "prefix": "4", "dest_type": "FS_DEST_USER"}),
    );
    assert_passed(&carrier(&c, carrier_port, "trunk_410.xml", "5000"), "the route's menu is gone");
    no_live_calls(&c);
    let cdrs = records(&c, 2);
    assert_eq!(cdrs.first().map(|r| &r["status"]), Some(&json!("NUMBER_CHANGED")), "{cdrs:?}");
}

#[test]
fn the_route_query_names_the_route_real_calls_take() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    // Routes to a call queue, a destination type Calliope does not
    // support: every call is refused at once with 501, its Warning saying
    // so and naming the route it took.
    let mut ids = Vec::new();
    for (n, (prefix, max)) in
        [("1", 4), ("12", 6), ("123", 8), ("2", 3), ("21", 10), ("3", 5)].into_iter().enumerate()
    {
        ids.push(route(
            &c,
            json!({"name": format!("r{n}"), "prefix": prefix, "max_length": max.to_string(), "dest_type": "FS_DEST_NUM_QUEUE", "dest_uuid": "1"}),
        ));
    }
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut numbers = Vec::new();
    while numbers.len() < 24 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 1 + (x % 9) as usize;
        let digits: String = (0..len).map(|i| char::from(b'1' + ((x >> (i * 3)) % 3) as u8)).collect();
        if !numbers.contains(&digits) {
            numbers.push(digits);
        }
    }
    let mut routed = 0;
    for (i, number) in numbers.iter().enumerate() {
        let (st, answer) =
            c.pbx("GET", &format!("/api/routes?destNumber={number}&context=context-2"), Value::Null);
        let expected = (st == 200).then(|| answer["data"][0]["id"].as_i64().unwrap());
        let scenario = if expected.is_some() { "trunk_501.xml" } else { "trunk_404.xml" };
        let log = c.dir.path().join(format!("carrier-{i}.log"));
        let media = free_port().to_string();
        let out = Sipp::on_port(scenario, c.sip, carrier_port)
            .args(&["-s", number, "-key", "caller", CARRIER_CALLER, "-mp", &media])
            .args(&["-trace_msg", "-message_file", &log.display().to_string()])
            .run();
        assert_passed(&out, &format!("{number}: {answer}"));
        let messages = std::fs::read_to_string(&log).unwrap();
        let warning = messages.lines().find(|l| l.starts_with("Warning:")).unwrap_or_default().to_owned();
        let taken = warning
            .split("(route ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|id| id.parse::<i64>().ok());
        assert_eq!(taken, expected, "{number}: the call took what the query names ({warning})");
        if expected.is_some() {
            assert!(
                warning.contains("destination type FS_DEST_NUM_QUEUE ('1') is not supported"),
                "{warning}"
            );
        }
        routed += usize::from(expected.is_some());
    }
    assert!(routed >= 6 && routed < numbers.len(), "the numbers cover both: {routed} routed");
    no_live_calls(&c);
}

#[test]
fn a_routes_codec_preference_params_and_auto_record_are_honoured() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(
        &c,
        json!({"name": "recorded", "prefix": "4", "dest_type": "FS_DEST_USER", "dest_uuid": "2002", "auto_record": "1", "media_codec": "PCMA,PCMU"}),
    );
    let id =
        c.pbx("GET", "/api/routes?destNumber=4000&context=context-2", Value::Null).1["data"][0]["id"].clone();
    for (o, v) in [
        (1, "sip_h_X-Account=acme-42"),
        (2, "effective_caller_id_number=5550100"),
        (3, "effective_caller_id_name=Front Desk"),
    ] {
        let (st, body) =
            c.pbx("POST", &format!("/api/routes/{id}/params"), json!({"k": "set", "v": v, "o": o}));
        assert_eq!(st, 200, "{body}");
    }
    let log = c.dir.path().join("callee-messages.log");
    let log_arg = log.display().to_string();
    let callee = phone(&c, "2002", "uas_answer.xml", &["-trace_msg", "-message_file", &log_arg]);
    // The carrier offers PCMU only; the route prefers PCMA towards the agent.
    assert_passed(&carrier(&c, carrier_port, "trunk_call.xml", "4000"), "the recorded call is answered");
    wait(callee, "the callee");
    let messages = std::fs::read_to_string(&log).unwrap();
    let invite = messages.split("INVITE sip:").nth(1).expect("the callee got an INVITE");
    let m = invite.lines().find(|l| l.starts_with("m=audio")).unwrap_or_default();
    assert!(m.contains("RTP/AVP 8 0"), "PCMA offered first: {m}");
    let head = |name: &str| {
        invite.lines().find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:"))).unwrap_or_default()
    };
    assert_eq!(head("x-account"), "X-Account: acme-42", "the route's sip_h_ header:\n{invite}");
    let from = head("from");
    assert!(
        from.contains("\"Front Desk\"") && from.contains("sip:5550100@"),
        "the route's caller id: {from}"
    );
    no_live_calls(&c);
    // The recording is where record_session recordings go: the
    // workspace's recordings folder, named after the call.
    let dir = c.dir.path().join("recordings");
    let wavs: Vec<_> = walk(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "wav")).collect();
    assert_eq!(wavs.len(), 1, "one recording in {}: {wavs:?}", dir.display());
    let size = std::fs::metadata(&wavs[0]).unwrap().len();
    assert!(size > 44 + 8000, "about a second of stereo audio was written ({size} bytes)");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_trunk_known_by_its_inbound_credentials_is_routed_in_its_context() {
    let (c, _, _) = start();
    let (st, cred) = c.call(
        "POST",
        "/v1beta2/credentials",
        json!({"name": "carrier in", "username": "carrier-in", "password": "carrier-secret"}),
    );
    assert!(st == 200 || st == 201, "{cred}");
    let (st, trunk) = c.call(
        "POST",
        "/v1beta2/trunks",
        json!({"name": "by credentials", "inboundCredentials": {"ref": cred["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{trunk}");
    // Its calls are routed in context-2 (a trunk's default): to the agent
    // whose extension is dialled.
    route(&c, json!({"name": "extensions", "prefix": "2", "dest_type": "FS_DEST_USER"}));
    let callee = phone(&c, "2002", "uas_busy.xml", &[]);
    let media = free_port().to_string();
    let out = Sipp::new("uac_busy.xml", c.sip)
        .args(&["-s", "2002", "-au", "carrier-in", "-ap", "carrier-secret", "-key", "caller", CARRIER_CALLER])
        .args(&["-mp", &media])
        .run();
    assert_passed(&out, "challenged, authenticated as the trunk, routed to 2002 (busy)");
    wait(callee, "the agent was rung");
    let cdrs = records(&c, 2);
    assert!(
        cdrs.iter().all(|r| r["direction"] == json!("FROM_PSTN") && r["type"] == json!("SIP_TRUNK")),
        "{cdrs:?}"
    );
    // The wrong password is no trunk's: 403.
    let out = Sipp::new("uac_forbidden.xml", c.sip)
        .args(&["-s", "2002", "-au", "carrier-in", "-ap", "wrong", "-key", "caller", CARRIER_CALLER])
        .args(&["-mp", &media])
        .run();
    assert_passed(&out, "a wrong password gets 403");
    no_live_calls(&c);
}

#[test]
fn early_media_from_one_extension_carries_over_to_the_next() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(
        &c,
        json!({"name": "in turn", "prefix": "81", "dest_type": "FS_DEST_SEQ_EXTNS", "body": "2002,2003"}),
    );
    // 2002 sends early media, then is busy; 2003 answers.
    let early = phone(&c, "2002", "uas_early_busy.xml", &[]);
    let answers = phone(&c, "2003", "uas_answer.xml", &[]);
    let log = c.dir.path().join("carrier-messages.log");
    let media = free_port().to_string();
    let out = Sipp::on_port("trunk_call.xml", c.sip, carrier_port)
        .args(&["-s", "8100", "-key", "caller", CARRIER_CALLER, "-mp", &media])
        .args(&["-trace_msg", "-message_file", &log.display().to_string()])
        .run();
    assert_passed(&out, "early media, then the answer of the next extension");
    wait(early, "the first extension sent early media and was busy");
    wait(answers, "the second extension answered");
    // The caller keeps the answer it got with the early media: the 200
    // carries the same media address as the 183.
    let messages = std::fs::read_to_string(&log).unwrap();
    let media_line = |status: &str| {
        let at =
            messages.find(&format!("SIP/2.0 {status}")).unwrap_or_else(|| panic!("no {status}:\n{messages}"));
        messages[at..].lines().find(|l| l.starts_with("m=audio")).unwrap_or_default().to_owned()
    };
    let (progress, ok) = (media_line("183"), media_line("200"));
    assert!(!progress.is_empty(), "the 183 carries SDP:\n{messages}");
    assert_eq!(progress, ok, "one answer for the caller across both attempts");
    no_live_calls(&c);
}

#[test]
fn an_agent_that_does_not_answer_forwards_the_call() {
    let c = Calliope::start(&["--ring-timeout", "2"]);
    let a2002 = c.agent("2002", "pw-2002");
    c.agent("2003", "pw-2003");
    let (st, body) = c.call("PUT", &format!("/v1beta2/agents/{a2002}"), json!({"forwardNoAnswer": "2003"}));
    assert_eq!(st, 200, "{body}");
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(&c, json!({"name": "extensions", "prefix": "2", "dest_type": "FS_DEST_USER"}));
    let rings = phone(&c, "2002", "uas_ring.xml", &[]);
    let answers = phone(&c, "2003", "uas_answer.xml", &[]);
    assert_passed(&carrier(&c, carrier_port, "trunk_call.xml", "2002"), "the forwarded call is answered");
    wait(rings, "2002 rang out and was cancelled");
    wait(answers, "2003 answered the forwarded call");
    let cdrs = records(&c, 2);
    assert!(cdrs.iter().all(|r| r["to"] == json!("2003")), "the records name the forwarded number: {cdrs:?}");
    no_live_calls(&c);
}

#[test]
fn a_routes_call_timeout_is_the_ring_timeout() {
    let (c, _, _) = start();
    let carrier_port = free_port();
    trunk(&c, "carrier", carrier_port);
    route(&c, json!({"name": "short", "prefix": "2", "dest_type": "FS_DEST_USER"}));
    let id =
        c.pbx("GET", "/api/routes?destNumber=2002&context=context-2", Value::Null).1["data"][0]["id"].clone();
    let (st, body) =
        c.pbx("POST", &format!("/api/routes/{id}/params"), json!({"k": "set", "v": "call_timeout=2"}));
    assert_eq!(st, 200, "{body}");
    let rings = phone(&c, "2002", "uas_ring.xml", &[]);
    let started = std::time::Instant::now();
    assert_passed(&carrier(&c, carrier_port, "trunk_480.xml", "2002"), "nobody answered in time: 480");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(10),
        "rang {took:?}, not the default 60 s"
    );
    wait(rings, "the phone rang and was cancelled");
    no_live_calls(&c);
}
