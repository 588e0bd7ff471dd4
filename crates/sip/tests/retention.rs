//! What finished server transactions cost while they absorb
//! retransmissions (timer J: 32 s over UDP): memory per transaction, from
//! the process's RSS after a burst of REGISTERs answered 200, and that
//! they no longer count against the limit of live transactions. One file,
//! one test, so that nothing else moves the RSS meanwhile.

use std::time::{Duration, Instant};

use sip::transaction::{Config, Event, Peer, Transactions};
use sip::{parse_message, HeaderName, Message, Request, Response, StatusCode};

/// Resident memory of this process, in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// A REGISTER like SIPp's, with its credentials.
fn register(n: usize) -> Request {
    let text = format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{n}-1-0;rport\r\n\
From: <sip:{user}@127.0.0.1:5060>;tag={n}SIPpTag001\r\n\
To: <sip:{user}@127.0.0.1:5060>\r\n\
Call-ID: {n}-42@127.0.0.1\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:{user}@127.0.0.1:5070;transport=udp>\r\n\
Max-Forwards: 70\r\n\
Expires: 3600\r\n\
Authorization: Digest username=\"{user}\",realm=\"calliope\",uri=\"sip:127.0.0.1:5060\",\
nonce=\"5f1b6c0d2e3a4b5c6d7e8f901a2b3c4d\",response=\"0123456789abcdef0123456789abcdef\",\
algorithm=MD5,cnonce=\"6b8b4567\",qop=auth,nc=00000001\r\n\
User-Agent: SIPp\r\n\
Content-Length: 0\r\n\r\n",
        user = 20000 + n % 1000
    );
    match parse_message(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn ok(req: &Request) -> Response {
    let mut resp = Response::for_request(req, StatusCode::OK, Some("a1b2c3d4"));
    let contact = "<sip:20000@127.0.0.1:5070;transport=udp>;expires=3600";
    resp.head.headers.push(HeaderName::Contact, contact);
    resp.head.headers.push(HeaderName::Date, "Wed, 02 Dec 2026 10:30:00 GMT");
    resp
}

/// Feeds `req` and answers each new request 200; returns (new requests
/// seen, bytes sent).
fn exchange(layer: &mut Transactions, now: Instant, req: Request) -> (usize, Vec<Vec<u8>>) {
    let peer = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    layer.handle_message(now, Message::Request(req), peer);
    let mut new = 0;
    while let Some(event) = layer.poll_event() {
        if let Event::Request { id, request, .. } = event {
            new += 1;
            layer.respond(now, id, ok(&request)).expect("respond");
        }
    }
    let mut sent = Vec::new();
    while let Some(t) = layer.poll_transmit() {
        sent.push(t.bytes.to_vec());
    }
    (new, sent)
}

#[test]
fn finished_transactions_are_light_and_outside_the_live_limit() {
    const N: usize = 50_000;
    let start = Instant::now();
    // Memory: N REGISTERs answered 200 within timer J of each other.
    let mut layer = Transactions::new(Config { max_transactions: 2 * N, ..Config::default() });
    let _ = exchange(&mut layer, start, register(N));
    let before = rss();
    for i in 0..N {
        let (new, sent) = exchange(&mut layer, start, register(i));
        assert!(new == 1 && sent.len() == 1, "one request and one response per REGISTER (#{i})");
    }
    let after = rss();
    let per_tx = after.saturating_sub(before) / N;
    println!(
        "{N} finished REGISTER transactions: RSS +{} KiB, {per_tx} B each; {} live, {} retained",
        after.saturating_sub(before) / 1024,
        layer.live(),
        layer.retained()
    );
    assert_eq!(layer.len(), N + 1, "all still absorb retransmissions");
    assert_eq!(layer.live(), 0, "none is live");
    assert!(per_tx < 1_000, "a finished transaction holds its key and last response: {per_tx} B");

    // A retransmission of the first gets its 200 again, not a new request.
    let (new, sent) = exchange(&mut layer, start + Duration::from_secs(1), register(0));
    assert_eq!(new, 0);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with(b"SIP/2.0 200 OK\r\n"));

    // Timer J ends them all.
    layer.handle_timeout(start + Duration::from_secs(33));
    assert!(layer.is_empty());
    let (new, _) = exchange(&mut layer, start + Duration::from_secs(34), register(0));
    assert_eq!(new, 1, "after timer J the same request is new again");

    // The live limit is far below a burst of finished transactions: they
    // are not refused for it.
    let mut layer = Transactions::new(Config { max_transactions: 1_000, ..Config::default() });
    let refused = (0..5_000).filter(|i| exchange(&mut layer, start, register(*i)).0 == 0).count();
    assert_eq!(refused, 0, "finished transactions do not count against max_transactions");
    assert_eq!(layer.retained(), 5_000);

    // Their memory is bounded: past max_retained_bytes the oldest go first
    // (and their retransmissions are new requests again).
    let small = Config { max_retained_bytes: 500 * 1024, ..Config::default() };
    let mut layer = Transactions::new(small);
    for i in 0..5_000 {
        let _ = exchange(&mut layer, start, register(i));
        while layer.poll_event().is_some() {}
    }
    assert!(layer.retained_bytes() <= 500 * 1024);
    assert!(layer.retained() < 5_000 && layer.retained() > 100, "{} retained", layer.retained());
    assert_eq!(exchange(&mut layer, start, register(0)).0, 1, "the oldest was forgotten");
    assert_eq!(exchange(&mut layer, start, register(4_999)).0, 0, "the newest is kept");
}
