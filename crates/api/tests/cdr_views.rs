//! One call's two legs (numbers translated, an application, a route, a
//! recording) and an older one-leg record, seen through every dialect:
//! Fonoster calls with their legs (by the call's or a leg's id), Vonage
//! legs sharing a conversation, VoIPstudio filters and group_by on the new
//! fields, the PBX `/api/cdrs` with its filters; deleting by a leg's id
//! takes the whole call; another workspace sees none of it.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use api::Settings;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use store::schema::{CDRS, WORKSPACES};
use store::{Filter, Scope, Value as V};
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(every_dialect_sees_the_legs_of_a_call);

const START: i64 = 1_788_000_000_000;

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A leg of call `call` as the engine writes it.
fn leg(call: &str, leg_ref: &str, side: &str, cause: &str) -> Vec<(&'static str, V)> {
    let answered = cause == "NORMAL_CLEARING";
    vec![
        ("call_ref", V::from(call)),
        ("leg_ref", V::from(leg_ref)),
        ("leg", V::from(side)),
        ("calldate", V::Int(START)),
        ("answer_date", if answered { V::Int(START + 2_000) } else { V::Null }),
        ("end_date", V::Int(START + 32_000)),
        ("src", V::from("+15550001111")),
        ("dst", V::from("2002")),
        ("src_dialled", V::from("5550001111")),
        ("dst_dialled", V::from("0042002")),
        ("direction", V::from("FROM_PSTN")),
        ("type", V::from("SIP_TRUNK")),
        ("disposition", V::from(if answered { "ANSWERED" } else { "BUSY" })),
        ("hangup_cause", V::from(cause)),
        ("duration", V::Int(32)),
        ("billsec", V::Int(if answered { 30 } else { 0 })),
        ("route_id", V::Int(77)),
        ("application_id", V::Int(5)),
        ("application_ref", V::from("app-5")),
        ("recording", if side == "A" { V::from("call-A.wav") } else { V::Null }),
        ("context", V::from("context-2")),
    ]
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn vonage_get(s: &Server, jwt: &str, path: &str) -> (u16, Value) {
    s.send(s.req(reqwest::Method::GET, path).bearer_auth(jwt)).await
}

async fn every_dialect_sees_the_legs_of_a_call(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let ws = s.state.db.find(&WORKSPACES, Scope::Global, &[]).await.unwrap().unwrap().id;
    let scope = Scope::Workspace(ws);
    s.state.db.insert(&CDRS, scope, leg("call-A", "call-A", "A", "NORMAL_CLEARING"), 0).await.unwrap();
    s.state.db.insert(&CDRS, scope, leg("call-A", "leg-B", "B", "NORMAL_CLEARING"), 0).await.unwrap();
    // A record as written before legs had ids and sides.
    let old = vec![
        ("call_ref", V::from("old-1")),
        ("calldate", V::Int(START - 60_000)),
        ("src", V::from("1001")),
        ("dst", V::from("1002")),
        ("hangup_cause", V::from("USER_BUSY")),
    ];
    let old_id = s.state.db.insert(&CDRS, scope, old, 0).await.unwrap().id;

    // Fonoster: one item per call, its legs under it.
    let fon = s.fonoster().await;
    let (st, body) = s.get("/v1beta2/calls", &fon).await;
    assert_eq!(st, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    let call = items.iter().find(|i| i["ref"] == "call-A").unwrap();
    assert_eq!((&call["from"], &call["to"]), (&json!("+15550001111"), &json!("2002")));
    assert_eq!((&call["fromDialled"], &call["toDialled"]), (&json!("5550001111"), &json!("0042002")));
    assert_eq!(
        (&call["appRef"], &call["routeId"], &call["billsec"]),
        (&json!("app-5"), &json!(77), &json!(30))
    );
    assert_eq!(call["recordingUrl"], "/api/recordings/call-A.wav");
    let legs = call["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 2, "{call}");
    assert_eq!((&legs[0]["ref"], &legs[0]["leg"]), (&json!("call-A"), &json!("A")));
    assert_eq!(
        (&legs[1]["ref"], &legs[1]["leg"], &legs[1]["callRef"]),
        (&json!("leg-B"), &json!("B"), &json!("call-A"))
    );
    let old_item = items.iter().find(|i| i["ref"] == "old-1").unwrap();
    assert_eq!(old_item["legs"].as_array().unwrap().len(), 1);
    assert_eq!((&old_item["status"], &old_item["fromDialled"]), (&json!("USER_BUSY"), &json!("")));
    for r in ["call-A", "leg-B"] {
        let (st, body) = s.get(&format!("/v1beta2/calls/{r}"), &fon).await;
        assert_eq!((st, &body["ref"]), (200, &json!("call-A")), "{r}: {body}");
        assert_eq!(body["legs"].as_array().unwrap().len(), 2);
    }
    assert_eq!(s.get("/v1beta2/calls/old-1", &fon).await.1["ref"], "old-1");

    // VoIPstudio: the new fields filter and group.
    let (_, login) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let voip = Auth::XAuth(login["user_token"].as_str().unwrap().into());
    let f = r#"[{"property":"leg","operator":"eq","value":"B"}]"#;
    let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(f)), &voip).await;
    assert_eq!((st, &body["total"]), (200, &json!(1)), "{body}");
    assert_eq!(
        (&body["data"][0]["leg_ref"], &body["data"][0]["dst_dialled"]),
        (&json!("leg-B"), &json!("0042002"))
    );
    let (_, body) = s.get("/v1.2/voipstudio/cdrs?group_by=leg", &voip).await;
    assert_eq!(body["data"], json!([{"leg": "A", "count": 2}, {"leg": "B", "count": 1}]), "{body}");
    let (_, body) = s.get("/v1.2/voipstudio/cdrs?group_by=call_ref", &voip).await;
    assert_eq!(body["total"], 2, "{body}");
    let f = r#"[{"property":"src_dialled","operator":"like","value":"555%"},{"property":"application_ref","operator":"eq","value":"app-5"}]"#;
    let (_, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(f)), &voip).await;
    assert_eq!(body["total"], 2, "{body}");
    for field in ["src_dialled", "dst_dialled", "application_ref", "application_id", "route_id", "recording"]
    {
        let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs?group_by={field}"), &voip).await;
        assert_eq!(st, 200, "group_by={field}: {body}");
    }

    // PBX: one row per leg, newest first, filtered.
    let pbx = s.pbx().await;
    let (st, body) = s.get("/api/cdrs", &pbx).await;
    assert_eq!((st, &body["rowCount"]), (200, &json!(3)), "{body}");
    assert_eq!(body["data"][2]["id"], old_id, "the oldest last");
    let (_, body) = s.get("/api/cdrs?leg=B", &pbx).await;
    assert_eq!(body["rowCount"], 1, "{body}");
    let row = &body["data"][0];
    assert_eq!(
        (&row["uuid"], &row["call_uuid"], &row["src"]),
        (&json!("leg-B"), &json!("call-A"), &json!("+15550001111"))
    );
    assert_eq!(
        (&row["src_dialled"], &row["calldate"]),
        (&json!("5550001111"), &json!("2026-08-29 10:40:00"))
    );
    let (_, body) = s.get("/api/cdrs?status=USER_BUSY", &pbx).await;
    assert_eq!(body["rowCount"], 1);
    let (_, body) = s
        .get(&format!("/api/cdrs?start_date={}&direction=FROM_PSTN", enc("2026-08-29 10:39:30")), &pbx)
        .await;
    assert_eq!(body["rowCount"], 2, "{body}");
    let (_, body) = s.get("/api/cdrs?end_date=2026-08-29%2010:39:30", &pbx).await;
    assert_eq!(body["rowCount"], 1, "{body}");
    let (_, body) = s.get("/api/cdrs?call_uuid=call-A&sortField=leg&sortOrder=desc", &pbx).await;
    assert_eq!(body["data"][0]["leg"], "B", "{body}");
    for bad in ["nope=1", "start_date=yesterday", "leg=C", "billsec=ten"] {
        let (st, body) = s.get(&format!("/api/cdrs?{bad}"), &pbx).await;
        assert_eq!(st, 400, "{bad}: {body}");
    }
    let (st, body) = s.get("/api/cdrs/leg-B", &pbx).await;
    assert_eq!((st, &body["leg"], &body["recording_url"]), (200, &json!("B"), &json!("")), "{body}");
    let (st, body) = s.get(&format!("/api/cdrs/{old_id}"), &pbx).await;
    assert_eq!((st, &body["uuid"]), (200, &json!("old-1")), "{body}");
    assert_eq!(s.get("/api/cdrs/999999", &pbx).await.0, 404);

    // Vonage: each leg a call, one conversation.
    let owner = s.owner().await;
    let (key_id, secret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let (st, app) =
        s.post("/v2/applications", json!({"name": "records"}), &Auth::Basic(key_id, secret)).await;
    assert_eq!(st, 201, "{app}");
    let claims = json!({"application_id": app["id"], "iat": now(), "jti": "j1", "exp": now() + 300});
    let pem = app["keys"]["private_key"].as_str().unwrap();
    let jwt =
        encode(&Header::new(Algorithm::RS256), &claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
            .unwrap();
    let (st, body) = vonage_get(&s, &jwt, "/v1/calls").await;
    assert_eq!(st, 200, "{body}");
    let calls = body["_embedded"]["calls"].as_array().unwrap();
    let by_uuid = |u: &str| calls.iter().find(|c| c["uuid"] == u).unwrap_or_else(|| panic!("{u}: {body}"));
    assert_eq!(by_uuid("call-A")["conversation_uuid"], "CON-call-A");
    assert_eq!(by_uuid("leg-B")["conversation_uuid"], "CON-call-A");
    assert_eq!(
        (&by_uuid("call-A")["direction"], &by_uuid("leg-B")["direction"]),
        (&json!("inbound"), &json!("outbound"))
    );
    let (st, body) = vonage_get(&s, &jwt, "/v1/calls/leg-B").await;
    assert_eq!((st, &body["uuid"], &body["duration"]), (200, &json!("leg-B"), &json!("30")), "{body}");

    // Another workspace sees nothing of it.
    let (st, other) = s.post("/v1beta2/workspaces", json!({"name": "Other"}), &owner).await;
    assert_eq!(st, 201, "{other}");
    let elsewhere = s.owner().await.in_workspace(other["accessKeyId"].as_str().unwrap());
    assert_eq!(s.get("/v1beta2/calls/leg-B", &elsewhere).await.0, 404);
    assert_eq!(s.delete("/v1beta2/calls/leg-B", &elsewhere).await.0, 404);
    assert_eq!(s.get("/v1beta2/calls", &elsewhere).await.1["items"], json!([]));

    // Deleting by a leg's id takes the whole call.
    let (st, body) = s.delete("/v1beta2/calls/leg-B", &fon).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(s.get("/v1beta2/calls/call-A", &fon).await.0, 404);
    let left = s.state.db.list(&CDRS, scope, &store::Query::default()).await.unwrap();
    assert_eq!(left.records.len(), 1, "only the other call stays");
    assert!(s.state.db.find(&CDRS, scope, &[Filter::eq("leg_ref", "leg-B")]).await.unwrap().is_none());
}
