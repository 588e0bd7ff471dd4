//! Failed logins are throttled per account and per address with lockouts
//! that grow: a guesser gets a few tries, while the real user, from another
//! address, still gets in. Clients come from different loopback addresses
//! (127.0.0.x) to the server on 127.0.0.1.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr};

use api::Settings;
use serde_json::{json, Value};
use support::{Backend, Server, EMAIL, PASSWORD};

on_both_stores!(a_guesser_is_slowed_and_the_user_gets_in, an_account_guessed_from_many_addresses);

/// A client whose connections come from 127.0.0.`last`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().unwrap()
}

/// A PBX login; status, body and `Retry-After`.
async fn login(s: &Server, from: &reqwest::Client, password: &str) -> (u16, Value, Option<u64>) {
    let resp = from
        .post(format!("{}/api/sessions", s.url))
        .json(&json!({"login": EMAIL, "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (status, resp.json().await.unwrap_or(Value::Null), retry)
}

async fn a_guesser_is_slowed_and_the_user_gets_in(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let guesser = client_from(1);
    let user = client_from(2);
    let mut checked = 0;
    for i in 0..40 {
        let (st, body, retry) = login(&s, &guesser, &format!("guess {i}")).await;
        match st {
            401 => checked += 1,
            429 => {
                assert_eq!(body["code"], json!(429), "PBX shape: {body}");
                assert!(retry.is_some_and(|r| (1..=900).contains(&r)), "Retry-After: {retry:?}");
                assert!(!body.to_string().contains(EMAIL), "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(checked <= 8, "{checked} guesses were checked");
    // A guess of the right password from the guesser's address waits too.
    assert_eq!(login(&s, &guesser, PASSWORD).await.0, 429);
    // The user, from elsewhere, gets in, in every dialect.
    let (st, body, _) = login(&s, &user, PASSWORD).await;
    assert_eq!(st, 200, "{body}");
    let resp = user
        .post(format!("{}/v1beta2/auth/login", s.url))
        .json(&json!({"username": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Lockouts end: an hour later the guesser's address may try again.
    s.clock.advance_secs(3600 * 2);
    assert_eq!(login(&s, &guesser, PASSWORD).await.0, 200);
}

async fn an_account_guessed_from_many_addresses(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let home = client_from(2);
    assert_eq!(login(&s, &home, PASSWORD).await.0, 200);
    for last in 10..30 {
        login(&s, &client_from(last), "guess").await;
    }
    // New addresses wait; the address the user logged in from before does not.
    let (st, body, _) = login(&s, &client_from(50), PASSWORD).await;
    assert_eq!((st, body["code"].clone()), (429, json!(429)), "{body}");
    assert_eq!(login(&s, &home, PASSWORD).await.0, 200);
}
