//! Agents' call forwarding and do-not-disturb (set from phones by feature
//! codes) are shown and settable on Fonoster agents; numbers name the
//! trunk their calls leave through (`trunk`), which egress policies use.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use support::{Backend, Server};

on_both_stores!(
    forwarding_is_shown_set_and_checked,
    supervisor_is_off_by_default_shown_and_set,
    numbers_name_their_trunk,
    feature_codes_take_no_route
);

fn field_named(body: &Value, field: &str) -> bool {
    body["error"]["details"].as_array().is_some_and(|d| d.iter().any(|d| d["field"] == field))
}

async fn forwarding_is_shown_set_and_checked(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, agent) = s.post("/v1beta2/agents", json!({"name": "A", "username": "1001"}), &fon).await;
    assert_eq!(st, 201, "{agent}");
    assert_eq!(
        (&agent["forwardAlways"], &agent["forwardBusy"], &agent["forwardNoAnswer"], &agent["dnd"]),
        (&json!(""), &json!(""), &json!(""), &json!(false)),
        "off by default: {agent}"
    );
    let r = agent["ref"].as_str().unwrap();
    let path = format!("/v1beta2/agents/{r}");
    let (st, body) = s
        .put(&path, json!({"forwardAlways": "+1 (555) 123-4567", "forwardBusy": "1003", "dnd": true}), &fon)
        .await;
    assert_eq!(st, 200, "{body}");
    let (_, shown) = s.get(&path, &fon).await;
    assert_eq!(shown["forwardAlways"], "+15551234567", "separators dropped: {shown}");
    assert_eq!((&shown["forwardBusy"], &shown["dnd"]), (&json!("1003"), &json!(true)));
    for (field, bad) in [("forwardBusy", "abc"), ("forwardNoAnswer", "12 34x"), ("forwardAlways", "sip:x@y")]
    {
        let (st, body) = s.put(&path, json!({ field: bad }), &fon).await;
        assert_eq!(st, 400, "{field}={bad}: {body}");
        assert!(field_named(&body, field), "{field} named: {body}");
    }
    let (st, _) = s.put(&path, json!({"forwardAlways": "", "dnd": false}), &fon).await;
    assert_eq!(st, 200);
    let (_, shown) = s.get(&path, &fon).await;
    assert_eq!(
        (&shown["forwardAlways"], &shown["forwardBusy"], &shown["dnd"]),
        (&json!(""), &json!("1003"), &json!(false))
    );
}

/// Migration 0011's `supervisor` (may act on others' calls): false unless
/// set, shown as a boolean, set on create and update, and stored as such
/// on both stores; a value that is not a boolean is refused by name.
async fn supervisor_is_off_by_default_shown_and_set(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, agent) = s.post("/v1beta2/agents", json!({"name": "A", "username": "1001"}), &fon).await;
    assert_eq!(st, 201, "{agent}");
    assert_eq!(agent["supervisor"], json!(false), "off by default: {agent}");
    let path = format!("/v1beta2/agents/{}", agent["ref"].as_str().unwrap());
    let (st, body) = s.put(&path, json!({"supervisor": true}), &fon).await;
    assert_eq!(st, 200, "{body}");
    let (_, shown) = s.get(&path, &fon).await;
    assert_eq!(shown["supervisor"], json!(true), "{shown}");
    let (st, body) = s.put(&path, json!({"supervisor": "yes please"}), &fon).await;
    assert_eq!(st, 400, "{body}");
    assert!(field_named(&body, "supervisor"), "{body}");
    let (st, body) = s.put(&path, json!({"supervisor": false}), &fon).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(s.get(&path, &fon).await.1["supervisor"], json!(false));
    let (st, boss) =
        s.post("/v1beta2/agents", json!({"name": "B", "username": "1002", "supervisor": true}), &fon).await;
    assert_eq!(st, 201, "{boss}");
    assert_eq!(boss["supervisor"], json!(true), "set on create: {boss}");
    let stored = s
        .state
        .db
        .get(
            &store::schema::AGENTS,
            store::Scope::Global,
            &store::Key::Ref(boss["ref"].as_str().unwrap().to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(stored.int("supervisor"), Some(1), "stored: {stored:?}");
}

async fn numbers_name_their_trunk(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, trunk) = s
        .post("/v1beta2/trunks", json!({"name": "carrier", "outboundUri": "sip:127.0.0.1:5099"}), &fon)
        .await;
    assert_eq!(st, 201, "{trunk}");
    let t = trunk["ref"].as_str().unwrap();
    let (st, number) = s
        .post("/v1beta2/numbers", json!({"name": "out", "telUrl": "tel:+15550001", "trunkRef": t}), &fon)
        .await;
    assert_eq!(st, 201, "{number}");
    assert_eq!(number["trunk"]["ref"], t, "{number}");
    let (st, body) = s
        .post("/v1beta2/numbers", json!({"name": "bad", "telUrl": "tel:+15550002", "trunkRef": "nope"}), &fon)
        .await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = s.delete(&format!("/v1beta2/trunks/{t}"), &fon).await;
    assert_ne!(st / 100, 2, "a trunk a number uses stays: {body}");
    // The PBX hotline view does not show it.
    let pbx = s.pbx().await;
    let (_, hotlines) = s.get("/api/hotlines", &pbx).await;
    let row = &hotlines["data"][0];
    assert!(row.get("trunk_id").is_none(), "{row}");
}

/// The route query answers what a call would take: a feature code (a
/// default or the workspace's own) takes no route, a disabled one is
/// routed as dialled.
async fn feature_codes_take_no_route(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (st, body) = s
        .post(
            "/api/routes",
            json!({"name": "stars", "context": "context-1", "prefix": "*", "max_length": "12",
                   "dest_type": "FS_DEST_IP", "body": "sip:127.0.0.1:5099"}),
            &pbx,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let query = |n: &str| format!("/api/routes?destNumber={}&context=context-1", n.replace('*', "%2A"));
    for code in ["*721003", "*73", "*78"] {
        let (st, body) = s.get(&query(code), &pbx).await;
        assert_eq!(st, 404, "{code}: {body}");
    }
    let (st, body) = s.get(&query("*7812"), &pbx).await;
    assert_eq!((st, &body["data"][0]["name"]), (200, &json!("stars")), "not a code: {body}");
    let (st, body) = s
        .post("/api/func_code", json!({"func_code": "*78", "func_type": "FS_DEST_FUNC_CALL_DND"}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    let id = if body["data"].is_object() { body["data"]["id"].clone() } else { body["data"].clone() };
    let id = id.as_i64().or_else(|| id.as_str().and_then(|i| i.parse().ok())).unwrap();
    let (st, _) = s.put(&format!("/api/func_code/{id}"), json!({"action": "toggle"}), &pbx).await;
    assert_eq!(st, 200);
    let (st, body) = s.get(&query("*78"), &pbx).await;
    assert_eq!((st, &body["data"][0]["name"]), (200, &json!("stars")), "disabled: routed as dialled: {body}");
}
