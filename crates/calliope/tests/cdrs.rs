//! Call records end to end: a SIPp carrier calls through a route that
//! translates both numbers (and records) to a SIPp agent; the call's two
//! legs are then checked field by field through the Fonoster, VoIPstudio,
//! PBX and Vonage views: one call with both legs, the numbers as dialled
//! and as translated, the route, the recording, times and durations. A
//! call refused before its callee is rung has its caller's record only; a
//! callee rung and busy has its own.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{callee, caller, calliope, wait, CALLER};

/// The carrier's number as it calls.
const CARRIER_CALLER: &str = "15551230000";

/// The id a PBX create answers.
fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// The finished calls once one has both its legs.
fn calls(c: &Calliope) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls", Value::Null);
        items = body["items"].as_array().cloned().unwrap_or_default();
        if items.iter().any(|i| i["legs"].as_array().is_some_and(|l| l.len() == 2)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    items
}

/// A GET in the VoIPstudio dialect (`X-Auth-Token`).
fn voip_get(c: &Calliope, path: &str) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}{}", c.http, path))
            .header("X-Auth-Token", c.token())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// A GET of the Vonage Voice API with a fresh JWT of a new application.
fn vonage(c: &Calliope, paths: &[String]) -> Vec<(u16, Value)> {
    let (st, app) = c.call("POST", "/v2/applications", json!({"name": "records"}));
    assert_eq!(st, 201, "{app}");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = json!({"application_id": app["id"], "iat": now, "jti": "cdrs-1", "exp": now + 300});
    let pem = app["keys"]["private_key"].as_str().unwrap();
    let jwt =
        encode(&Header::new(Algorithm::RS256), &claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
            .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        for path in paths {
            let resp = client.get(format!("{}{}", c.http, path)).bearer_auth(&jwt).send().await.unwrap();
            out.push((resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null)));
        }
        out
    })
}

#[test]
fn a_translated_recorded_call_has_two_legs_in_every_view() {
    let c = Calliope::start(&[]);
    c.agent("2002", "pw-2002");
    let carrier_port = free_port();
    let trunk = json!({"name": "carrier", "remote_addr": format!("127.0.0.1:{carrier_port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", trunk);
    assert_eq!(st, 200, "{answer}");
    // 42002 -> 2002 (strip one digit); the caller gets a "+".
    let route = json!({"name": "translated", "context": "context-2", "max_length": "20", "prefix": "4",
        "dest_type": "FS_DEST_USER", "dnc": "1:", "sdnc": ":+", "auto_record": "1"});
    let (st, answer) = c.pbx("POST", "/api/routes", route);
    assert_eq!(st, 200, "{answer}");
    let route_id = id_of(&answer);

    let uas = Sipp::new("uas_answer.xml", c.sip);
    let uas_port = uas.port;
    let rtp = free_port().to_string();
    let callee = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", "2002"])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", "2002", "-au", "2002", "-ap", "pw-2002"])
        .contact_port(uas_port)
        .run();
    assert_passed(&reg, "the agent registers");
    let media = free_port().to_string();
    let call = Sipp::on_port("trunk_call.xml", c.sip, carrier_port)
        .args(&["-s", "42002", "-key", "caller", CARRIER_CALLER, "-mp", &media])
        .run();
    assert_passed(&call, "the carrier's call is answered");
    wait(callee, "the agent answered and got the BYE");

    // Fonoster: one call, both legs.
    let items = calls(&c);
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    let call_ref = item["ref"].as_str().unwrap().to_owned();
    let legs = item["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 2, "{item}");
    assert_eq!((&legs[0]["leg"], &legs[1]["leg"]), (&json!("A"), &json!("B")));
    assert_eq!(legs[0]["ref"], json!(call_ref), "the A leg's id is the call's");
    let b_ref = legs[1]["ref"].as_str().unwrap().to_owned();
    assert_ne!(b_ref, call_ref);
    for leg in legs {
        let numbers = (&leg["from"], &leg["to"], &leg["fromDialled"], &leg["toDialled"]);
        assert_eq!(
            numbers,
            (&json!("+15551230000"), &json!("2002"), &json!(CARRIER_CALLER), &json!("42002")),
            "{leg}"
        );
        assert_eq!((&leg["direction"], &leg["type"]), (&json!("FROM_PSTN"), &json!("SIP_TRUNK")), "{leg}");
        assert_eq!((&leg["status"], &leg["callRef"]), (&json!("NORMAL_CLEARING"), &json!(call_ref)), "{leg}");
        assert_eq!(leg["routeId"], json!(route_id), "{leg}");
        assert_eq!(leg["context"], "context-2");
        assert!(leg["answerTime"].is_string() && leg["endTime"].is_string(), "{leg}");
        let (duration, billsec) = (leg["duration"].as_i64().unwrap(), leg["billsec"].as_i64().unwrap());
        assert!((1..=10).contains(&billsec) && duration >= billsec, "{leg}");
    }
    let recording = legs[0]["recording"].as_str().expect("the routed call was recorded").to_owned();
    assert_eq!(item["recordingUrl"], json!(format!("/api/recordings/{recording}")));
    let (st, by_leg) = c.call("GET", &format!("/v1beta2/calls/{b_ref}"), Value::Null);
    assert_eq!((st, &by_leg["ref"]), (200, &json!(call_ref)), "{by_leg}");

    // VoIPstudio: the leg's fields, filtered and grouped.
    let filter = r#"[{"property":"leg","operator":"eq","value":"B"},{"property":"dst_dialled","operator":"eq","value":"42002"}]"#;
    let filter: String = filter.bytes().map(|b| format!("%{b:02X}")).collect();
    let (st, body) = voip_get(&c, &format!("/v1.2/voipstudio/cdrs?filter={filter}"));
    assert_eq!((st, &body["total"]), (200, &json!(1)), "{body}");
    let row = &body["data"][0];
    assert_eq!(
        (&row["leg_ref"], &row["call_ref"], &row["dst"]),
        (&json!(b_ref), &json!(call_ref), &json!("2002"))
    );
    assert_eq!(
        (&row["src"], &row["src_dialled"], &row["route_id"]),
        (&json!("+15551230000"), &json!(CARRIER_CALLER), &json!(route_id))
    );
    let (_, body) = voip_get(&c, "/v1.2/voipstudio/cdrs?group_by=call_ref");
    assert_eq!(body["data"], json!([{"call_ref": call_ref, "count": 2}]), "{body}");

    // PBX: both rows of the call; one by its leg's uuid.
    let (st, body) = c.pbx_get(&format!("/api/cdrs?call_uuid={call_ref}&direction=FROM_PSTN"));
    assert_eq!((st, &body["rowCount"]), (200, &json!(2)), "{body}");
    let (st, row) = c.pbx_get(&format!("/api/cdrs/{b_ref}"));
    assert_eq!(st, 200, "{row}");
    assert_eq!(
        (&row["leg"], &row["src_dialled"], &row["dst"]),
        (&json!("B"), &json!(CARRIER_CALLER), &json!("2002"))
    );
    assert_eq!((&row["hangup_cause"], &row["disposition"]), (&json!("NORMAL_CLEARING"), &json!("ANSWERED")));
    let (_, body) = c.pbx_get("/api/cdrs?src_dialled=15551230000&leg=A");
    assert_eq!(body["data"][0]["recording_url"], json!(format!("/api/recordings/{recording}")), "{body}");

    // Vonage: each leg a call of one conversation.
    let answers = vonage(&c, &["/v1/calls".to_owned(), format!("/v1/calls/{b_ref}")]);
    let (st, list) = &answers[0];
    assert_eq!(*st, 200, "{list}");
    let listed = list["_embedded"]["calls"].as_array().unwrap();
    let conversation = json!(format!("CON-{call_ref}"));
    for uuid in [&call_ref, &b_ref] {
        let leg =
            listed.iter().find(|l| l["uuid"] == json!(uuid)).unwrap_or_else(|| panic!("{uuid}: {list}"));
        assert_eq!(
            (&leg["conversation_uuid"], &leg["status"]),
            (&conversation, &json!("completed")),
            "{leg}"
        );
    }
    let (st, leg) = &answers[1];
    assert_eq!((*st, &leg["uuid"], &leg["direction"]), (200, &json!(b_ref), &json!("outbound")), "{leg}");
    assert_eq!(leg["to"], json!({"type": "phone", "number": "2002"}));
}

/// The PBX rows of `/api/cdrs` once there are at least `n` (or the last seen).
fn pbx_rows(c: &Calliope, n: usize) -> Vec<Value> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = c.pbx_get("/api/cdrs?perPage=100").1["data"].as_array().cloned().unwrap_or_default();
        if rows.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    rows
}

#[test]
fn only_legs_that_were_dialled_have_a_record() {
    let c = calliope(&[]);
    // A number nobody has: refused with 404 before anything is rung.
    let media = free_port().to_string();
    let refused = Sipp::new("uac_refused_404.xml", c.sip)
        .args(&["-s", "2999", "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .run();
    assert_passed(&refused, "a number nobody has is refused with 404");
    // A callee that is rung and busy: its leg was dialled.
    let uas = callee(&c, "uas_busy.xml", free_port());
    assert_passed(&caller(&c, "uac_busy.xml", &[]), "the busy callee answers 486");
    wait(uas, "the callee was rung and said busy");

    let rows = pbx_rows(&c, 3);
    let of = |dst: &str| -> Vec<&Value> { rows.iter().filter(|r| r["dst"] == dst).collect() };
    let refused = of("2999");
    assert_eq!(refused.len(), 1, "the refused call has its caller's record only: {rows:#?}");
    assert_eq!((&refused[0]["leg"], &refused[0]["src"]), (&json!("A"), &json!(CALLER)), "{rows:#?}");
    assert_eq!(refused[0]["uuid"], refused[0]["call_uuid"], "the caller's leg is the call");
    assert_ne!(refused[0]["hangup_cause"], "NORMAL_CLEARING", "{rows:#?}");
    let busy = of(support::calls::CALLEE);
    let mut legs: Vec<&Value> = busy.iter().map(|r| &r["leg"]).collect();
    legs.sort_by_key(|l| l.as_str().map(str::to_owned));
    assert_eq!(legs, [&json!("A"), &json!("B")], "the rung call has both legs: {rows:#?}");
    assert!(busy.iter().all(|r| r["hangup_cause"] == "USER_BUSY"), "{rows:#?}");
    assert_eq!(rows.len(), 3, "{rows:#?}");
}
