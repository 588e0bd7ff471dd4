//! An application's webhook signing secret, read by its workspace's admins
//! through the Fonoster and Vonage dialects: the one the switch signs with
//! (derived from the data dir's `webhook-signing.key`), one per
//! application, refused to members and invisible from other workspaces.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use engine::webhooks::SecretKeeper;
use serde_json::json;
use support::{Auth, Backend, Server};

on_both_stores!(admins_read_the_secret_that_signs_an_applications_webhooks);

async fn admins_read_the_secret_that_signs_an_applications_webhooks(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let app = |name: &str| json!({"name": name, "type": "EXTERNAL", "endpoint": "https://example.com/hook"});
    let (st, one) = s.post("/v1beta2/applications", app("One"), &fon).await;
    assert_eq!(st, 201, "{one}");
    let (st, two) = s.post("/v1beta2/applications", app("Two"), &fon).await;
    assert_eq!(st, 201, "{two}");
    let (one, two) = (one["ref"].as_str().unwrap(), two["ref"].as_str().unwrap());

    let keeper = SecretKeeper::open(None, &s.state.settings.data_dir).unwrap();
    let (st, body) = s.get(&format!("/v1beta2/applications/{one}/webhook-secret"), &fon).await;
    assert_eq!(st, 200, "{body}");
    let secret = body["webhookSecret"].as_str().unwrap();
    assert_eq!(secret, keeper.for_application(one).expose(), "the secret the switch signs with");
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 64, "{secret}");
    assert_eq!(body["header"], "X-Calliope-Signature");
    let (_, other) = s.get(&format!("/v1beta2/applications/{two}/webhook-secret"), &fon).await;
    assert_ne!(other["webhookSecret"], body["webhookSecret"], "one secret per application");

    // The Vonage dialect shows the same secret for the same application.
    let (id, key_secret, _) = s.api_key(&fon, "WORKSPACE_ADMIN").await;
    let admin = Auth::Basic(id, key_secret);
    let (st, v) = s.get(&format!("/v2/applications/{one}/webhook-secret"), &admin).await;
    assert_eq!((st, v["webhook_secret"].as_str()), (200, Some(secret)), "{v}");

    // Members may not read it; nobody reads an unknown application's.
    let (id, key_secret, _) = s.api_key(&fon, "WORKSPACE_MEMBER").await;
    let member = Auth::Basic(id, key_secret);
    let (st, body) = s.get(&format!("/v2/applications/{one}/webhook-secret"), &member).await;
    assert_eq!(st, 403, "{body}");
    assert!(!body.to_string().contains("whsec_"), "{body}");
    let (st, _) = s.get("/v1beta2/applications/no-such-app/webhook-secret", &fon).await;
    assert_eq!(st, 404);

    // Another workspace of the same owner does not see it.
    let owner = s.owner().await;
    let (st, ws) = s.post("/v1beta2/workspaces", json!({"name": "Elsewhere"}), &owner).await;
    assert_eq!(st, 201, "{ws}");
    // A fresh login: the new workspace is in its claims.
    let elsewhere = s.owner().await.in_workspace(ws["accessKeyId"].as_str().unwrap());
    let (st, body) = s.get(&format!("/v1beta2/applications/{one}/webhook-secret"), &elsewhere).await;
    assert_eq!(st, 404, "{body}");
}
