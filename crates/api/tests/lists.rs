//! List machinery: VoIPstudio filters (every operator, typed) and
//! group_by, its pager; Fonoster page tokens.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(filters_and_group_by, fonoster_pages);

fn names(body: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        body["data"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

async fn filters_and_group_by(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let voip = Auth::XAuth(body["user_token"].as_str().unwrap().into());
    for (name, expiry) in [("alpha", 100), ("beta", 20), ("Gamma app", 20), ("delta", 0)] {
        let (st, _) =
            s.post("/v1.2/voipstudio/apitokens", json!({"name": name, "expiry": expiry}), &voip).await;
        assert_eq!(st, 200);
    }
    let list = |filter: Value| {
        let s = &s;
        let voip = voip.clone();
        async move {
            let path = format!("/v1.2/voipstudio/apitokens?filter={}", urlencode(&filter.to_string()));
            s.get(&path, &voip).await
        }
    };
    let f = |p: &str, op: &str, v: Value| json!([{"property": p, "operator": op, "value": v}]);

    let (st, all) = s.get("/v1.2/voipstudio/apitokens", &voip).await;
    assert_eq!((st, all["total"].as_u64()), (200, Some(4)));
    assert!(all["data"][0].get("token").is_none(), "tokens are shown once");

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (f("expiry", "eq", json!("20")), vec!["Gamma app", "beta"]),
        (f("expiry", "=", json!(20)), vec!["Gamma app", "beta"]),
        (f("expiry", "ne", json!(20)), vec!["alpha", "delta"]),
        (f("expiry", "<>", json!(20)), vec!["alpha", "delta"]),
        // Typed: 100 > 20 as numbers, though "100" < "20" as text.
        (f("expiry", "gt", json!("20")), vec!["alpha"]),
        (f("expiry", ">=", json!("20")), vec!["Gamma app", "alpha", "beta"]),
        (f("expiry", "lt", json!("100")), vec!["Gamma app", "beta", "delta"]),
        (f("expiry", "lte", json!(0)), vec!["delta"]),
        (f("name", "in", json!(["alpha", "delta", "zeta"])), vec!["alpha", "delta"]),
        (f("name", "like", json!("%a%p%")), vec!["Gamma app", "alpha"]),
        (f("name", "like", json!("gamma%")), vec!["Gamma app"]),
        (f("name", "notlike", json!("%a")), vec!["Gamma app"]),
        (f("created_at", "gt", json!("2018-09-01 00:00:00")), vec!["Gamma app", "alpha", "beta", "delta"]),
        (f("created_at", "lt", json!("2018-09-01 00:00:00")), vec![]),
        (
            json!([{"property": "expiry", "operator": "eq", "value": 20}, {"property": "name", "operator": "eq", "value": "beta"}]),
            vec!["beta"],
        ),
    ];
    for (filter, expected) in cases {
        let (st, body) = list(filter.clone()).await;
        assert_eq!(st, 200, "{filter}: {body}");
        assert_eq!(names(&body), expected, "{filter}");
        assert_eq!(body["total"].as_u64(), Some(expected.len() as u64));
    }
    for (filter, needle) in [
        (f("planet", "eq", json!(1)), "planet"),
        (f("name", "approx", json!(1)), "approx"),
        (f("token_hash", "eq", json!("x")), "token_hash"),
        (f("expiry", "gt", json!("lots")), "expiry"),
        (f("name", "in", json!("alpha")), "array"),
        (json!({"property": "name"}), "filter"),
    ] {
        let (st, body) = list(filter.clone()).await;
        assert_eq!(st, 400, "{filter}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{filter}: {body}");
    }

    let (st, body) = s.get("/v1.2/voipstudio/apitokens?group_by=expiry", &voip).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body["data"],
        json!([{"expiry": 0, "count": 1}, {"expiry": 20, "count": 2}, {"expiry": 100, "count": 1}])
    );
    assert_eq!(body["total"], 3);
    let (st, _) = s.get("/v1.2/voipstudio/apitokens?group_by=nope", &voip).await;
    assert_eq!(st, 400);

    let (_, p1) = s.get("/v1.2/voipstudio/apitokens?page=1&limit=3&sort=name", &voip).await;
    let (_, p2) = s.get("/v1.2/voipstudio/apitokens?page=2&limit=3&sort=name", &voip).await;
    assert_eq!((p1["data"].as_array().unwrap().len(), p2["data"].as_array().unwrap().len()), (3, 1));
    assert_eq!((p1["total"].as_u64(), p2["total"].as_u64()), (Some(4), Some(4)));
    let (st, body) = s.get("/v1.2/voipstudio/apitokens?limit=5001", &voip).await;
    assert_eq!(st, 400, "{body}");
}

async fn fonoster_pages(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(s.api_key(&owner, "WORKSPACE_MEMBER").await.2);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (st, body) = s.get(&format!("/v1beta2/apikeys?pageSize=2&pageToken={token}"), &owner).await;
        assert_eq!(st, 200, "{body}");
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["ref"].as_str().unwrap().to_owned()));
        token = body["nextPageToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, made);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
