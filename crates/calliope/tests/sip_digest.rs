//! Digest details SIPp cannot exercise, with a hand-driven UDP user agent:
//! SHA-256 (RFC 8760) and a replayed nonce-count.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use sip::digest::{Algorithm, Answer, Credentials};
use sip::{parse_message, Message, Method, Response};
use support::calliope::Calliope;

struct Ua {
    socket: UdpSocket,
    target: std::net::SocketAddr,
    user: String,
}

impl Ua {
    fn register(&self, cseq: u32, authorization: Option<&str>) -> Response {
        let local = self.socket.local_addr().unwrap();
        let user = &self.user;
        let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
        let text = format!(
            "REGISTER sip:{target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-ua-{cseq}\r\n\
             From: <sip:{user}@{target}>;tag=ua1\r\n\
             To: <sip:{user}@{target}>\r\n\
             Call-ID: digest-test@{local}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@{local}>\r\n\
             Expires: 600\r\n\
             {auth}Content-Length: 0\r\n\r\n",
            target = self.target,
        );
        self.socket.send_to(text.as_bytes(), self.target).unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = self.socket.recv_from(&mut buf).unwrap();
        match parse_message(&buf[..n]).unwrap() {
            Message::Response(r) => r,
            Message::Request(r) => panic!("expected a response, got {}", r.method),
        }
    }
}

fn answer(challenge_of: &Response, algorithm: Algorithm, ua: &Ua, password: &str, nc: u32) -> String {
    let challenge = challenge_of
        .head
        .www_authenticate()
        .into_iter()
        .filter_map(Result::ok)
        .find(|c| c.algorithm == algorithm)
        .expect("a challenge for the algorithm");
    let uri = format!("sip:{}", ua.target);
    let a =
        Answer { username: &ua.user, password, method: &Method::Register, uri: &uri, cnonce: "0a4f113b", nc };
    Credentials::answer(&challenge, &a).to_string()
}

#[test]
fn sha256_works_and_a_replayed_nonce_count_is_challenged_again() {
    let c = Calliope::start(&[]);
    c.agent("2001", "s3cret");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ua = Ua { socket, target: c.sip, user: "2001".into() };

    let challenge = ua.register(1, None);
    assert_eq!(challenge.status.code(), 401);
    let algorithms: Vec<Algorithm> =
        challenge.head.www_authenticate().into_iter().filter_map(Result::ok).map(|c| c.algorithm).collect();
    assert!(
        algorithms.contains(&Algorithm::Md5) && algorithms.contains(&Algorithm::Sha256),
        "{algorithms:?}"
    );

    let first = answer(&challenge, Algorithm::Sha256, &ua, "s3cret", 1);
    assert_eq!(ua.register(2, Some(&first)).status.code(), 200, "SHA-256 digest");
    // The same credentials again, in a new request: a replay.
    assert_eq!(ua.register(3, Some(&first)).status.code(), 401, "replayed nonce-count");
    // The next count with the same nonce is fine.
    let next = answer(&challenge, Algorithm::Sha256, &ua, "s3cret", 2);
    assert_eq!(ua.register(4, Some(&next)).status.code(), 200);
    // A wrong password is forbidden.
    let wrong = answer(&challenge, Algorithm::Md5, &ua, "nope", 3);
    assert_eq!(ua.register(5, Some(&wrong)).status.code(), 403);
}
