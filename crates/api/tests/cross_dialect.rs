//! One store, many views: what one dialect makes, the others show.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::json;
use support::{Auth, Backend, Server};

on_both_stores!(one_record_many_views);

async fn one_record_many_views(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let fonoster = s.fonoster().await;
    let owner = s.owner().await.in_workspace(&s.workspace);
    let (key, secret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let vonage = Auth::Basic(key, secret);

    // A PBX hotline is a Fonoster number.
    let (st, body) =
        s.post("/api/hotlines", json!({"numbers": "1005", "line_number": "6553998"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let (_, numbers) = s.get("/v1beta2/numbers", &fonoster).await;
    let items = numbers["items"].as_array().unwrap();
    assert!(items.iter().any(|n| n["telUrl"] == "tel:6553998"), "{numbers}");

    // A Fonoster number is a PBX hotline.
    let (st, _) =
        s.post("/v1beta2/numbers", json!({"name": "Main", "telUrl": "tel:+17853178070"}), &fonoster).await;
    assert_eq!(st, 201);
    let (_, hotlines) = s.get("/api/hotlines?line_number=%2B17853178070", &pbx).await;
    assert_eq!(hotlines["rowCount"], 1, "{hotlines}");

    // A Vonage application is a Fonoster application, and back.
    let app = json!({"name": "IVR app", "capabilities": {"voice": {"webhooks": {
        "answer_url": {"address": "https://example.com/answer", "http_method": "GET"},
        "event_url": {"address": "https://example.com/event", "http_method": "POST"}}}}});
    let (st, created) = s.post("/v2/applications", app, &vonage).await;
    assert_eq!(st, 201, "{created}");
    let (st, seen) =
        s.get(&format!("/v1beta2/applications/{}", created["id"].as_str().unwrap()), &fonoster).await;
    assert_eq!(
        (st, seen["name"].clone(), seen["endpoint"].clone()),
        (200, json!("IVR app"), json!("https://example.com/answer"))
    );

    // The same workspace's records, whichever credential reads them.
    let (_, listed) = s.get("/v2/applications", &vonage).await;
    assert_eq!(listed["total_items"], 1, "{listed}");
}
