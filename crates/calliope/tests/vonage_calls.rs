//! The Vonage Voice API's call control against a running Calliope, with a
//! SIPp agent as the live call: a call placed with an application's JWT
//! (RS256, the private key Calliope handed out), listed, muted, sent DTMF
//! (RFC 4733 at the agent) and hung up; tokens signed by another key,
//! expired or missing are refused with 401 in Vonage's error shape; actions
//! on the finished call answer 404.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use support::calliope::Calliope;
use support::calls::{callee, calliope, legs_when, wait, CALLEE};

/// A new Vonage application; its id and private key.
fn application(c: &Calliope, name: &str) -> (String, String) {
    let (st, body) = c.call("POST", "/v2/applications", json!({"name": name}));
    assert_eq!(st, 201, "{body}");
    (body["id"].as_str().unwrap().to_owned(), body["keys"]["private_key"].as_str().unwrap().to_owned())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A Voice API token for `app`, signed with `private_pem`, issued at `iat`
/// and expiring at `exp`.
fn token(app: &str, private_pem: &str, iat: i64, exp: i64) -> String {
    let claims = json!({"application_id": app, "iat": iat, "jti": format!("jti-{iat}-{exp}"), "exp": exp});
    encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A Voice API request with `jwt` (none when empty).
fn voice(c: &Calliope, jwt: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
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

/// RTP packets of payload type `pt` heard on `socket` within `window`.
fn packets_of_type(socket: &UdpSocket, pt: u8, window: Duration) -> usize {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < deadline {
        if let Ok(len) = socket.recv(&mut buf) {
            if len > 12 && buf[0] >> 6 == 2 && buf[1] & 0x7f == pt {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_jwt_call_is_placed_steered_and_hung_up_and_bad_tokens_are_refused() {
    let c = calliope(&[]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (app, key) = application(&c, "voice");
    let (_, other_key) = application(&c, "other");
    let jwt = token(&app, &key, now(), now() + 300);

    // Refused: another key, expired, none; in Vonage's problem shape.
    let forged = token(&app, &other_key, now(), now() + 300);
    let (st, body) = voice(&c, &forged, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "a token signed by another key: {body}");
    assert_eq!(body["title"], "Unauthorized", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("signature"), "{body}");
    let expired = token(&app, &key, now() - 3600, now() - 1800);
    let (st, body) = voice(&c, &expired, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "an expired token: {body}");
    assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    assert_eq!(voice(&c, "", "GET", "/v1/calls", Value::Null).0, 401, "no token");
    let (st, body) = voice(&c, c.token(), "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 401, "a Fonoster token is no Voice API token: {body}");

    // Bad input: no program, nowhere to go.
    let to = json!([{"type": "phone", "number": CALLEE}]);
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to}));
    assert_eq!(st, 400, "no ncco or answer_url: {body}");
    let (st, body) = voice(
        &c,
        &jwt,
        "POST",
        "/v1/calls",
        json!({"to": [{"type": "phone", "number": "9999"}], "ncco": []}),
    );
    assert_eq!(st, 404, "nobody at 9999: {body}");

    // Placed: the agent answers, the call parks.
    let ncco = json!([{"action": "talk", "text": "hello"}]);
    let from = json!({"type": "phone", "number": "5550100"});
    let (st, body) = voice(&c, &jwt, "POST", "/v1/calls", json!({"to": to, "from": from, "ncco": ncco}));
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["status"], "started");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    let legs = legs_when(&c, |l| l.len() == 1 && l[0]["callstate"] == "ACTIVE");
    assert_eq!(legs.len(), 1, "{legs:?}");
    let (st, call) = voice(&c, &jwt, "GET", &format!("/v1/calls/{uuid}"), Value::Null);
    assert_eq!(st, 200, "{call}");
    assert_eq!((call["status"].as_str(), call["direction"].as_str()), (Some("answered"), Some("outbound")));
    assert_eq!(call["to"]["number"], CALLEE);
    assert_eq!(call["from"]["number"], "5550100");
    let (st, list) = voice(&c, &jwt, "GET", "/v1/calls", Value::Null);
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["_embedded"]["calls"][0]["uuid"], uuid.as_str(), "{list}");

    // Steered.
    let call_path = format!("/v1/calls/{uuid}");
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "mute"})).0, 204);
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "unmute"})).0, 204);
    let (st, body) = voice(&c, &jwt, "PUT", &call_path, json!({"action": "earmuff"}));
    assert_eq!(st, 400, "earmuff is said to be unsupported: {body}");
    let (st, body) = voice(&c, &jwt, "PUT", &call_path, json!({"action": "fly"}));
    assert_eq!((st, body["invalid_parameters"][0]["name"].as_str()), (400, Some("action")), "{body}");
    let (st, body) = voice(&c, &jwt, "PUT", &format!("{call_path}/dtmf"), json!({"digits": "12x"}));
    assert_eq!(st, 400, "{body}");
    packets_of_type(&ear, 101, Duration::from_millis(200));
    let (st, body) = voice(&c, &jwt, "PUT", &format!("{call_path}/dtmf"), json!({"digits": "19#"}));
    assert_eq!(st, 200, "{body}");
    let events = packets_of_type(&ear, 101, Duration::from_millis(1500));
    assert!(events >= 3, "the agent got the digits as RFC 4733 events: {events} packets");

    // Hung up.
    assert_eq!(voice(&c, &jwt, "PUT", &call_path, json!({"action": "hangup"})).0, 204);
    wait(uas, "the agent answered and got BYE");
    assert!(legs_when(&c, |l| l.is_empty()).is_empty());

    // Finished: actions answer 404; the call shows completed.
    let (st, body) = voice(&c, &jwt, "PUT", &call_path, json!({"action": "mute"}));
    assert_eq!(st, 404, "{body}");
    assert_eq!(voice(&c, &jwt, "PUT", &format!("{call_path}/dtmf"), json!({"digits": "1"})).0, 404);
    let mut call = Value::Null;
    for _ in 0..50 {
        call = voice(&c, &jwt, "GET", &call_path, Value::Null).1;
        if call["status"] == "completed" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(call["status"], "completed", "{call}");
    assert!(call["end_time"].is_string(), "{call}");
}
