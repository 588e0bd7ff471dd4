//! The Vonage Voice API from a test: applications, their RS256 tokens and
//! requests signed with them.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::calliope::Calliope;
use super::webhooks::Webhooks;

/// A new Vonage application made by the owner (`body`: its fields, at
/// least `name`); its id and private key.
pub fn application(c: &Calliope, body: Value) -> (String, String) {
    let (st, body) = c.call("POST", "/v2/applications", body);
    assert_eq!(st, 201, "{body}");
    (body["id"].as_str().unwrap().to_owned(), body["keys"]["private_key"].as_str().unwrap().to_owned())
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A Voice API token for `app`, signed with `private_pem`, issued at `iat`
/// and expiring at `exp`.
pub fn token_between(app: &str, private_pem: &str, iat: i64, exp: i64) -> String {
    let claims =
        json!({"application_id": app, "iat": iat, "jti": format!("jti-{app}-{iat}-{exp}"), "exp": exp});
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

/// A Voice API token for `app`, valid for the next ten minutes.
pub fn token(app: &str, private_pem: &str) -> String {
    token_between(app, private_pem, now(), now() + 600)
}

/// A Voice API request with `jwt` (none when empty) and a JSON body
/// (`Null`: none).
pub fn voice(c: &Calliope, jwt: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new().request(method.parse().unwrap(), format!("{}{}", c.http, path));
        if !jwt.is_empty() {
            rb = rb.bearer_auth(jwt);
        }
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// An application's `capabilities` with `hooks`' `/answer` (GET) and
/// `/event` (POST) as its voice webhooks.
pub fn voice_hooks(hooks: &Webhooks) -> Value {
    json!({"voice": {"webhooks": {
        "answer_url": {"address": hooks.at("/answer"), "http_method": "GET"},
        "event_url": {"address": hooks.at("/event"), "http_method": "POST"}
    }}})
}
