//! Rate limits, body limits, quotas and bad input: each refused in the
//! dialect's shape, nothing changed.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::json;
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(
    rate_limit_answers_429_with_retry_after,
    body_limit_is_413,
    bad_input_changes_nothing,
    workspace_quota
);

async fn rate_limit_answers_429_with_retry_after(b: Backend) {
    let Some(s) = Server::start(b, Settings { rate_limit_per_minute: 5, ..Settings::default() }).await else {
        return;
    };
    let owner = s.owner().await;
    for _ in 0..5 {
        assert_eq!(s.get("/v1beta2/workspaces", &owner).await.0, 200);
    }
    let resp = owner.apply(s.req(reqwest::Method::GET, "/v1.2/voipstudio/apitokens")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["errors"].is_array(), "VoIPstudio shape: {body}");
    let (st, body) = s.get("/v1beta2/workspaces", &owner).await;
    assert_eq!((st, body["error"]["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));
    s.clock.advance_secs(61);
    assert_eq!(s.get("/v1beta2/workspaces", &owner).await.0, 200, "a new minute");
    // Logins are limited per address.
    for _ in 0..10 {
        s.post("/api/sessions", json!({"login": EMAIL, "password": "wrong"}), &Auth::None).await;
    }
    let (st, body) =
        s.post("/api/sessions", json!({"login": EMAIL, "password": PASSWORD}), &Auth::None).await;
    assert_eq!((st, body["code"].as_i64()), (429, Some(429)));
}

async fn body_limit_is_413(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let big = json!({"name": "x".repeat(1024 * 1024 + 10)});
    let (st, body) = s.post("/v1beta2/workspaces", big.clone(), &owner).await;
    assert_eq!((st, body["error"]["code"].as_str()), (413, Some("RESOURCE_EXHAUSTED")));
    let (st, body) = s.post("/api/sessions", big, &Auth::None).await;
    assert_eq!((st, body["code"].as_i64()), (413, Some(413)));
    let (_, list) = s.get("/v1beta2/workspaces", &owner).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn bad_input_changes_nothing(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let before = key_count(&s, &owner).await;

    let raw = |body: &'static str| owner.apply(s.req(reqwest::Method::POST, "/v1beta2/apikeys")).body(body);
    let (st, body) = s.send(raw("{not json")).await;
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("INVALID_ARGUMENT")));
    let (st, body) = s.send(raw("[1,2]")).await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_KING"}), &owner).await;
    assert_eq!(st, 400);
    assert_eq!(body["error"]["details"][0]["field"], "role");
    let (st, body) = s.post("/v1beta2/apikeys", json!({}), &owner).await;
    assert_eq!((st, body["error"]["details"][0]["message"].as_str()), (400, Some("is required")));
    let (st, body) = s.post("/v1beta2/apikeys", json!({"role": 7, "expiresAt": "someday"}), &owner).await;
    assert_eq!(st, 400);
    let fields: Vec<_> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["role", "expiresAt"], "camelCase field names: {body}");
    assert_eq!(key_count(&s, &owner).await, before);

    // Typed bodies name the field at fault, in each dialect's shape.
    let (st, body) = s.post("/v1beta2/auth/login", json!({"username": EMAIL}), &Auth::None).await;
    assert_eq!((st, body["error"]["details"][0]["field"].as_str()), (400, Some("password")));
    let (st, body) = s.post("/api/sessions", json!({"login": 5, "password": "x"}), &Auth::None).await;
    assert_eq!((st, body["code"].as_i64(), body["data"].as_str()), (400, Some(400), Some("{}")));
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let voip = Auth::XAuth(body["user_token"].as_str().unwrap().into());
    let (st, body) =
        s.post("/v1.2/voipstudio/apitokens", json!({"name": "x", "expiry": "soon"}), &voip).await;
    assert_eq!(st, 400);
    assert_eq!(body["errors"][0], "expiry: must be an integer");
    let (st, body) = s
        .post(
            "/v1beta2/users",
            json!({"name": "A", "email": "not-an-email", "password": "long enough"}),
            &owner,
        )
        .await;
    assert_eq!((st, body["error"]["details"][0]["field"].as_str()), (400, Some("email")));
    let (st, _) =
        s.post("/v1beta2/users", json!({"name": "A", "email": "a@b.c", "password": "short"}), &owner).await;
    assert_eq!(st, 400);
    let (st, body) = s.get("/v1beta2/apikeys?pageSize=-1", &owner).await;
    assert_eq!(st, 400, "{body}");
    let (st, _) = s.get("/v1beta2/apikeys?pageToken=garbage!", &owner).await;
    assert_eq!(st, 400);
    let (st, body) = s.get("/v1.2/voipstudio/apitokens/abc", &voip).await;
    assert_eq!((st, body["errors"].is_array()), (400, true));
    let (st, body) = s.get("/v2/applications/nothing-here", &owner).await;
    assert_eq!(st, 404);
    assert!(body["title"].is_string() && body["detail"].is_string(), "Vonage shape: {body}");
    assert_eq!(key_count(&s, &owner).await, before);
}

async fn key_count(s: &Server, owner: &Auth) -> usize {
    s.get("/v1beta2/apikeys", owner).await.1["items"].as_array().unwrap().len()
}

async fn workspace_quota(b: Backend) {
    let mut settings = Settings::default();
    settings.quotas.insert("workspaces".into(), 2);
    let Some(s) = Server::start(b, settings).await else { return };
    let owner = s.owner().await;
    assert_eq!(s.post("/v1beta2/workspaces", json!({"name": "second"}), &owner).await.0, 201);
    let (st, body) = s.post("/v1beta2/workspaces", json!({"name": "third"}), &owner).await;
    assert_eq!((st, body["error"]["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));
    assert!(body["error"]["message"].as_str().unwrap().contains("workspaces"));
}
