//! Generated bad input: every operation of `/openapi.json` is sent
//! malformed path parameters, bodies of the wrong shape and every field of
//! the wrong type, with and without credentials. Nothing may answer 5xx
//! or break the connection, and the server must stay up.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use support::{Auth, Backend, Server};

on_both_stores!(no_endpoint_fails_on_bad_input);

const PATH_VALUES: &[&str] =
    &["1", "0", "-1", "abc", "99999999999999999999", "%00", "1%3BDROP", "%F0%9F%98%80"];

fn bad_values(rng: &mut StdRng) -> Vec<Value> {
    let mut v = vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(0),
        json!(1.5e308),
        json!(9_223_372_036_854_775_807u64),
        json!("abc"),
        json!(""),
        json!("x".repeat(5000)),
        json!("1; DROP TABLE routes"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({"ref": 5}),
        json!("\u{0000}\u{ffff}"),
    ];
    v.push(json!(rng.gen::<i64>()));
    v.push(json!((0..rng.gen_range(1..40)).map(|_| rng.gen_range(' '..'~')).collect::<String>()));
    v
}

fn bodies(op: &Value, rng: &mut StdRng) -> Vec<Option<String>> {
    let mut out =
        vec![None, Some("not json".into()), Some("[]".into()), Some("{}".into()), Some("null".into())];
    out.push(Some("{\"a\":".into()));
    out.push(Some("[{}, 1, \"x\"]".into()));
    let content = &op["requestBody"]["content"];
    let schema = content["application/json"]["schema"].clone();
    let props = match schema["type"].as_str() {
        Some("array") => schema["items"]["properties"].clone(),
        _ => schema["properties"].clone(),
    };
    let names: Vec<String> = props.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let wrap = |obj: Value| if schema["type"] == "array" { json!([obj]) } else { obj };
    for name in &names {
        // Every field gets a handful of the wrong values, chosen at random.
        let values = bad_values(rng);
        for _ in 0..5 {
            let bad = values[rng.gen_range(0..values.len())].clone();
            out.push(Some(wrap(json!({ name.as_str(): bad })).to_string()));
        }
    }
    // Everything at once, with random wrong values.
    for _ in 0..5 {
        let values = bad_values(rng);
        let obj: serde_json::Map<String, Value> =
            names.iter().map(|n| (n.clone(), values[rng.gen_range(0..values.len())].clone())).collect();
        out.push(Some(wrap(Value::Object(obj)).to_string()));
    }
    out
}

async fn no_endpoint_fails_on_bad_input(b: Backend) {
    let Some(s) =
        Server::start(b, Settings { rate_limit_per_minute: 1_000_000, ..Settings::default() }).await
    else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(7);
    let fonoster = s.fonoster().await;
    let owner = s.owner().await.in_workspace(&s.workspace);
    let pbx = s.pbx().await;
    let (key, secret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let vonage = Auth::Basic(key, secret);
    let (_, login) = s
        .post(
            "/v1.2/voipstudio/login",
            json!({"email": support::EMAIL, "password": support::PASSWORD}),
            &Auth::None,
        )
        .await;
    let voip = Auth::XAuth(login["user_token"].as_str().unwrap().into());

    let (_, doc) = s.get("/openapi.json", &Auth::None).await;
    let paths = doc["paths"].as_object().unwrap().clone();
    assert!(paths.len() > 10, "the document lists the endpoints");
    let mut sent = 0;
    for (path, item) in &paths {
        // Logging in and out or deleting ourselves would end the test's own session.
        if path.contains("/auth/") || path.ends_with("/login") || path.ends_with("/sessions") {
            continue;
        }
        let auth = if path.starts_with("/api/") {
            &pbx
        } else if path.starts_with("/v2/") {
            &vonage
        } else if path.starts_with("/v1.2/") {
            &voip
        } else {
            &fonoster
        };
        for (method, op) in item.as_object().unwrap() {
            if method == "delete"
                && (path.starts_with("/v1beta2/users") || path.starts_with("/v1beta2/workspaces"))
            {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (i, value) in PATH_VALUES.iter().enumerate() {
                let concrete = fill(path, value);
                for body in bodies(op, &mut rng) {
                    // Every body on the first path value; a sample on the others.
                    if i > 0 && rng.gen_range(0..16) != 0 {
                        continue;
                    }
                    // Without credentials every request stops at the door:
                    // a sample is enough.
                    let anonymous = rng.gen_range(0..8) == 0;
                    for who in [Some(auth), anonymous.then_some(&Auth::None)].into_iter().flatten() {
                        let mut rb = who.apply(s.req(method.clone(), &concrete));
                        if let Some(text) = &body {
                            rb = rb.header("content-type", "application/json").body(text.clone());
                        }
                        let resp = rb.send().await.unwrap_or_else(|e| panic!("{method} {concrete}: {e}"));
                        let status = resp.status().as_u16();
                        let text = resp.text().await.unwrap();
                        assert!(status < 500, "{method} {concrete} {body:?} -> {status} {text}");
                        sent += 1;
                    }
                }
            }
        }
    }
    assert!(sent > 1000, "sent {sent}");
    let (st, _) = s.get("/healthz", &Auth::None).await;
    assert_eq!(st, 200);
}

fn fill(path: &str, value: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { value.to_owned() } else { seg.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}
