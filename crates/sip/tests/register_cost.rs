//! The CPU of the `sip` side of a digest registration, as the engine's
//! switch loop runs it: the REGISTER parsed and fed to the transaction
//! layer, its 401 built and written, the REGISTER with credentials parsed
//! and fed, its Contact, Expires, User-Agent and Authorization read, the
//! digest checked, its 200 built and written. Counted in instructions:
//! run the ignored test under callgrind with `REGISTER_COST_N` (default
//! 20 000) and divide by it (see benches/sip/README.md).
//!
//! Run by default, it checks a small batch is answered 401 then 200.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip::digest::{
    Algorithm, Answer, AuthConfig, Authenticator, Credentials, Outcome, Secret, NONCE_RANDOM_BYTES,
};
use sip::transaction::{Config, Event, Peer, Transactions};
use sip::{parse_message, HeaderName, Method, Response, StatusCode};

const REALM: &str = "127.0.0.1";

fn register(i: usize, cseq: u32, authorization: Option<&str>) -> Vec<u8> {
    let user = 20_000 + i % 1000;
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK-{i}-{cseq}-0\r\n\
         From: <sip:{user}@127.0.0.1>;tag=4242r{i}\r\n\
         To: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: {i}-4242@127.0.0.1\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}@127.0.0.1:15060>\r\n\
         Expires: 3600\r\n\
         Max-Forwards: 70\r\n\
         User-Agent: calliope-bench\r\n\
         {auth}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The request of the one event the layer has, with its id.
fn take_request(txs: &mut Transactions) -> (sip::transaction::ServerTxId, sip::Request) {
    match txs.poll_event() {
        Some(Event::Request { id, request, .. }) => (id, request),
        other => panic!("expected a request, got {other:?}"),
    }
}

/// `n` registrations; gives how many ended with a 200.
fn run(n: usize) -> usize {
    let config = AuthConfig { algorithms: vec![Algorithm::Md5], ..AuthConfig::default() };
    let mut auth = Authenticator::new(REALM, b"bench secret", config);
    let mut txs = Transactions::new(Config::default());
    let peer = Peer::udp(SocketAddr::from(([127, 0, 0, 1], 15060)));
    let start = Instant::now();
    let mut ok = 0;
    let mut sent = 0usize;
    for i in 0..n {
        let now = start + Duration::from_micros(i as u64 * 300);
        let now_ms = 1_000 + i as u64 / 3;
        // REGISTER, 401.
        let first = parse_message(&register(i, 1, None)).expect("parses");
        txs.handle_message(now, first, peer);
        let (id, req) = take_request(&mut txs);
        let mut random = [0u8; NONCE_RANDOM_BYTES];
        random[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let challenges = auth.challenges(now_ms, random, false);
        let mut resp = Response::for_request(&req, StatusCode::UNAUTHORIZED, Some("tagtagtag"));
        for c in &challenges {
            resp.head.headers.push(HeaderName::WwwAuthenticate, c.header_value());
        }
        txs.respond(now, id, resp).expect("401 sent");
        while let Some(t) = txs.poll_transmit() {
            sent += t.bytes.len();
        }
        // SIPp's answer.
        let answer = Answer {
            username: req.head.from.uri.user().unwrap_or_default(),
            password: "pw",
            method: &Method::Register,
            uri: "sip:127.0.0.1:5060",
            cnonce: "6b8b4567",
            nc: 1,
        };
        let creds = Credentials::answer(&challenges[0], &answer).to_string();
        // REGISTER with credentials, 200.
        let second = parse_message(&register(i, 2, Some(&creds))).expect("parses");
        txs.handle_message(now, second, peer);
        let (id, req) = take_request(&mut txs);
        let contacts = req.head.contacts().expect("contacts");
        let expires = req.head.expires().expect("expires");
        let _ua = req.head.user_agent();
        let creds = req.head.authorization(Some(REALM)).expect("credentials").expect("parse");
        let outcome = match auth.admit(&creds, now_ms) {
            Ok(a) => auth.verify_admitted(a, &creds, &req.method, &req.uri, Secret::Password("pw"), now_ms),
            Err(o) => o,
        };
        let mut resp = Response::for_request(&req, StatusCode::OK, Some("tagtagtag"));
        if outcome == Outcome::Ok && expires == Some(3600) {
            for c in contacts.iter().filter_map(sip::Contact::addr) {
                resp.head.headers.push(HeaderName::Contact, format!("<{}>;expires=3600", c.uri));
            }
            resp.head.headers.push(HeaderName::Date, "Sun, 06 Dec 2026 00:00:00 GMT");
            ok += 1;
        }
        txs.respond(now, id, resp).expect("200 sent");
        while let Some(t) = txs.poll_transmit() {
            sent += t.bytes.len();
        }
        while txs.poll_event().is_some() {}
        txs.handle_timeout(now);
    }
    assert!(sent > 0);
    ok
}

#[test]
fn every_registration_is_answered_200() {
    assert_eq!(run(200), 200);
}

#[test]
#[ignore = "a measurement: run under callgrind (see the file's doc)"]
fn cost() {
    let n = std::env::var("REGISTER_COST_N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    assert_eq!(run(n), n);
}
