//! `GET /api/routes?destNumber=..&context=..` and the router agree: over
//! many generated routes and numbers (seeded), the query answers exactly
//! the route `engine::router::route` takes, which is also the plain rule
//! of `engine::router::select`; and the answer follows configuration
//! changes at once.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use engine::router::{route, select, Inbound, Snapshot, Source, Tables};
use serde_json::json;
use store::schema::{ROUTES, WORKSPACES};
use store::{Filter, Scope, Value};
use support::{Backend, Server};

on_both_stores!(route_query_agrees_with_the_router);

/// xorshift64, so every run generates the same routes and numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.next(3) as u8)).collect()
    }
}

async fn route_query_agrees_with_the_router(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await
        .unwrap()
        .unwrap()
        .id;
    let scope = Scope::Workspace(ws);
    let mut rng = Rng(0x0ddc_0ffe_e0dd_f00d);
    let mut seen = std::collections::HashSet::new();
    for n in 0..150 {
        let len = rng.next(5) as usize;
        let prefix = rng.digits(len);
        let max = (len as i64 + rng.next(6) as i64).max(1);
        if !seen.insert((prefix.clone(), max)) {
            continue;
        }
        let values = vec![
            ("name", Value::from(format!("gen{n}"))),
            ("prefix", Value::from(prefix)),
            ("max_length", Value::Int(max)),
            ("context", Value::from(if rng.next(4) == 0 { "context-2" } else { "context-1" })),
            ("dest_type", Value::from("FS_DEST_USER")),
            ("disabled", Value::Int(i64::from(rng.next(8) == 0))),
        ];
        s.state.db.insert(&ROUTES, scope, values, s.state.now()).await.unwrap();
    }
    let tables = Tables::load(&s.state.db, ws).await.unwrap();
    let snapshot = Snapshot::build(ws, &tables, jiff::tz::TimeZone::UTC);
    let (mut found, mut missing) = (0, 0);
    for _ in 0..250 {
        let len = 1 + rng.next(8) as usize;
        let number = rng.digits(len);
        let context = if rng.next(4) == 0 { "context-2" } else { "context-1" };
        let call = Inbound::new(Source::Test, context, "", &number);
        let routed = route(&snapshot, &call, s.state.now()).route_id();
        let in_context: Vec<_> =
            tables.routes.iter().filter(|r| r.text("context") == context).cloned().collect();
        assert_eq!(routed, select::choose(&in_context, &number).map(|r| r.id), "{number} in {context}");
        let (st, answer) = s.get(&format!("/api/routes?destNumber={number}&context={context}"), &pbx).await;
        match routed {
            Some(id) => {
                found += 1;
                assert_eq!(
                    (st, answer["data"][0]["id"].clone()),
                    (200, json!(id)),
                    "{number} in {context}: {answer}"
                );
            }
            None => {
                missing += 1;
                assert_eq!(st, 404, "{number} in {context}: {answer}");
            }
        }
    }
    assert!(found > 50 && missing > 10, "the generator should cover both: {found} found, {missing} not");

    // A change through the API is seen by the very next query.
    let number = (0..)
        .map(|_| {
            let len = 1 + rng.next(6) as usize;
            rng.digits(len)
        })
        .find(|n| snapshot.choose("context-1", n).is_some())
        .unwrap();
    let id = snapshot.choose("context-1", &number).unwrap().id;
    let (st, body) = s.put(&format!("/api/routes/{id}"), json!({"disabled": "1"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let (_, answer) = s.get(&format!("/api/routes?destNumber={number}&context=context-1"), &pbx).await;
    assert_ne!(answer["data"][0]["id"], json!(id), "{answer}");
    let fresh = Snapshot::build(ws, &Tables::load(&s.state.db, ws).await.unwrap(), jiff::tz::TimeZone::UTC);
    let now = fresh.choose("context-1", &number).map(|r| r.id);
    assert_eq!(answer["data"][0]["id"].as_i64(), now, "{answer}");
}
