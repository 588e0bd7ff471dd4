//! Concurrent writes through the HTTP API: 20 clients writing 8 times each
//! at once, through two dialects (one of which also renews its session
//! token on every request), get no error; contention makes writers wait,
//! it never fails a request.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::json;
use support::{Backend, Server};

on_both_stores!(concurrent_writers_all_succeed);

const CLIENTS: usize = 20;
const WRITES: usize = 8;

async fn concurrent_writers_all_succeed(b: Backend) {
    let mut settings = Settings::default();
    settings.quotas.insert("numbers".into(), 1000);
    let Some(s) = Server::start(b, settings).await else { return };
    let s = std::sync::Arc::new(s);
    let fonoster = s.fonoster().await;
    let pbx = s.pbx().await;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (s, fonoster, pbx) = (s.clone(), fonoster.clone(), pbx.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for write in 0..WRITES {
                let (st, body) = if write % 2 == 0 {
                    let name = format!("agent-{client}-{write}");
                    s.post("/v1beta2/agents", json!({"name": name, "username": name}), &fonoster).await
                } else {
                    let number = format!("+1555{client:03}{write:03}");
                    s.post("/api/hotlines", json!({"line_number": number, "numbers": "1001"}), &pbx).await
                };
                if !(200..300).contains(&st) {
                    failures.push(format!("{st} {body}"));
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    assert!(failures.is_empty(), "{} of {} writes failed: {:?}", failures.len(), CLIENTS * WRITES, failures);
    let (_, agents) = s.get("/v1beta2/agents?pageSize=1000", &fonoster).await;
    assert_eq!(agents["items"].as_array().unwrap().len(), CLIENTS * WRITES / 2);
    let (_, hotlines) = s.get("/api/hotlines?perPage=1000", &pbx).await;
    assert_eq!(hotlines["rowCount"], json!(CLIENTS * WRITES / 2));
}
