//! The generic PBX resource endpoints, through blocks (the seed's stored
//! call flows): create, list, get, update, delete, in the seed's shapes.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::json;
use support::{Backend, Server};

on_both_stores!(blocks_replay_the_seed);

async fn blocks_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;

    let (st, body) = s.post("/api/blocks", json!({"name": "test", "description": "test"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["code"].clone(), body["message"].clone()), (json!(200), json!("success")));
    let id = body["data"].as_i64().unwrap();

    let (st, list) = s.get("/api/blocks", &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(row["name"], "test");
    assert_eq!(row["xml"], "");
    assert_eq!(row["deleted_at"], "");
    assert!(row["created_at"].as_str().unwrap().len() == 19, "{row}");

    let (st, body) =
        s.put(&format!("/api/blocks/{id}"), json!({"name": "test2", "description": "test"}), &pbx).await;
    assert_eq!((st, body["data"].clone()), (200, json!(id.to_string())));
    let (st, one) = s.get(&format!("/api/blocks/{id}"), &pbx).await;
    assert_eq!((st, one["name"].clone(), one["id"].clone()), (200, json!("test2"), json!(id)));

    let (st, body) = s.post("/api/blocks", json!({"description": "no name"}), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (400, json!(400), json!("{}")));
    assert!(body["message"].as_str().unwrap().contains("name"), "{body}");

    let (st, body) = s.delete(&format!("/api/blocks/{id}"), &pbx).await;
    assert_eq!((st, body["data"].clone()), (200, json!(id.to_string())));
    let (st, body) = s.get(&format!("/api/blocks/{id}"), &pbx).await;
    assert_eq!((st, body), (404, json!({"code": 404, "message": "block not found", "data": "{}"})));
    let (st, _) = s.get("/api/blocks/abc", &pbx).await;
    assert_eq!(st, 404);

    let (st, doc) = s.get("/openapi.json", &support::Auth::None).await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/blocks/{id}"]["put"].is_object(), "{doc}");
}
