//! Call records: VoIPstudio's filter example, operators, group_by and
//! pager, and the same records as Fonoster calls.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::CDRS;
use store::{Scope, Value as V};
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(cdrs_filter_group_and_page);

fn time(text: &str) -> V {
    V::Int(api::input::parse_time(text).unwrap())
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn srcs(body: &Value) -> Vec<&str> {
    body["data"].as_array().unwrap().iter().map(|r| r["src"].as_str().unwrap()).collect()
}

async fn cdrs_filter_group_and_page(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let ws = s.state.db.find(&store::schema::WORKSPACES, Scope::Global, &[]).await.unwrap().unwrap();
    let scope = Scope::Workspace(ws.id);
    let rows = [
        ("1001", "123456", 123456, "2018-08-30 10:00:00", 30),
        ("1002", "123456", 123456, "2018-09-02 11:00:00", 60),
        ("1001", "555", 777, "2018-09-03 12:00:00", 0),
        ("1003", "123456", 123456, "2018-09-04 13:00:00", 90),
    ];
    for (i, (src, dst, dst_id, date, billsec)) in rows.iter().enumerate() {
        let values = vec![
            ("call_ref", V::from(format!("call-{i}"))),
            ("calldate", time(date)),
            ("src", V::from(*src)),
            ("dst", V::from(*dst)),
            ("dst_id", V::Int(*dst_id)),
            ("billsec", V::Int(*billsec)),
            ("duration", V::Int(*billsec + 5)),
            ("disposition", V::from(if *billsec > 0 { "ANSWERED" } else { "NO ANSWER" })),
        ];
        s.state.db.insert(&CDRS, scope, values, 0).await.unwrap();
    }
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let voip = Auth::XAuth(body["user_token"].as_str().unwrap().into());

    // The seed's example: incoming calls to user 123456 after 1 September 2018.
    let filter = r#"[{"property":"dst_id","operator":"eq","value":"123456"},{"property":"calldate","operator":"gt","value":"2018-09-01 00:00:00"}]"#;
    let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(filter)), &voip).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(srcs(&body), ["1002", "1003"]);
    assert_eq!(body["data"][0]["calldate"], "2018-09-02 11:00:00");

    let (st, body) = s.get("/v1.2/voipstudio/cdrs?group_by=src", &voip).await;
    assert_eq!(st, 200);
    assert_eq!(body["total"], 3);
    assert_eq!(body["data"][0], json!({"src": "1001", "count": 2}));

    let (_, body) = s.get("/v1.2/voipstudio/cdrs?page=2&limit=3", &voip).await;
    assert_eq!((body["total"].clone(), srcs(&body)), (json!(4), vec!["1003"]));
    let (st, body) = s.get("/v1.2/voipstudio/cdrs?limit=5001", &voip).await;
    assert_eq!(st, 400, "{body}");
    assert!(body["errors"].is_array());

    let f = r#"[{"property":"billsec","operator":"in","value":[0,90]}]"#;
    let (_, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(f)), &voip).await;
    assert_eq!(srcs(&body), ["1001", "1003"]);
    let f = r#"[{"property":"nope","operator":"eq","value":1}]"#;
    let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(f)), &voip).await;
    assert_eq!(st, 400);
    assert!(body["message"].as_str().unwrap().contains("nope"), "{body}");
    let f = r#"[{"property":"src","operator":"between","value":1}]"#;
    let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs?filter={}", enc(f)), &voip).await;
    assert_eq!(st, 400);
    assert!(body["message"].as_str().unwrap().contains("between"), "{body}");

    let id = s.get("/v1.2/voipstudio/cdrs", &voip).await.1["data"][0]["id"].as_i64().unwrap();
    let (st, body) = s.get(&format!("/v1.2/voipstudio/cdrs/{id}"), &voip).await;
    assert_eq!((st, body["data"]["src"].clone(), body["links"].clone()), (200, json!("1001"), json!({})));
    let (st, _) = s.get("/v1.2/voipstudio/cdrs/999999", &voip).await;
    assert_eq!(st, 404);

    let fonoster = s.fonoster().await;
    let (st, body) = s.get("/v1beta2/calls?pageSize=3", &fonoster).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_ne!(body["nextPageToken"], "");
    let first = &body["items"][0];
    assert_eq!(
        (first["ref"].clone(), first["from"].clone(), first["to"].clone()),
        (json!("call-0"), json!("1001"), json!("123456"))
    );
    assert_eq!(
        (first["status"].clone(), first["startTime"].clone(), first["duration"].clone()),
        (json!("ANSWERED"), json!("2018-08-30T10:00:00Z"), json!(35))
    );
    let (st, body) = s.get("/v1beta2/calls/call-2", &fonoster).await;
    assert_eq!((st, body["status"].clone()), (200, json!("NO ANSWER")));
    let (st, body) = s.get("/v1beta2/calls/nope", &fonoster).await;
    assert_eq!((st, body["error"]["code"].clone()), (404, json!("NOT_FOUND")));
}
