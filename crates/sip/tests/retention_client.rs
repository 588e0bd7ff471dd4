//! What an accepted INVITE client transaction costs while timer M runs
//! (RFC 6026: 32 s over UDP, one per call a B2BUA places): memory per
//! transaction, from the process's RSS after a burst of INVITEs answered
//! 200 and ACKed. It should hold its key, its peer and the ACK it resends,
//! not the INVITE. One file, one test, so that nothing else moves the RSS
//! meanwhile.

use std::time::Instant;

use sip::transaction::{Config, Event, Peer, Transactions};
use sip::{parse_message, HeaderName, Message, Request, Response, StatusCode};

/// Resident memory of this process, in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn request(text: &str) -> Request {
    match parse_message(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

/// An INVITE like the one the switch sends to a callee, with its SDP.
fn invite(n: usize) -> Request {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
    request(&format!(
        "INVITE sip:20000@127.0.0.1:5070 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-b2bua-{n:08}-0;rport\r\n\
From: <sip:20001@127.0.0.1>;tag=calliope-{n:08}\r\n\
To: <sip:20000@127.0.0.1>\r\n\
Call-ID: b2bua-{n:08}@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:calliope@127.0.0.1:5060>\r\n\
Max-Forwards: 69\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    ))
}

/// The ACK the TU builds for the 2xx to `invite(n)`.
fn ack(n: usize) -> Request {
    request(&format!(
        "ACK sip:20000@127.0.0.1:5070 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-b2bua-{n:08}-1;rport\r\n\
From: <sip:20001@127.0.0.1>;tag=calliope-{n:08}\r\n\
To: <sip:20000@127.0.0.1>;tag=callee-{n:08}\r\n\
Call-ID: b2bua-{n:08}@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
    ))
}

/// Sends INVITE `n`, answers it 200 and ACKs the 200.
fn call(layer: &mut Transactions, now: Instant, n: usize) {
    let peer = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    let invite = invite(n);
    let mut ok = Response::for_request(&invite, StatusCode::OK, Some(&format!("callee-{n:08}")));
    ok.head.headers.push(HeaderName::Contact, "<sip:20000@127.0.0.1:5070>");
    let id = layer.send_request(now, invite, peer).expect("send");
    layer.handle_message(now, Message::Response(ok), peer);
    let mut responses = 0;
    while let Some(event) = layer.poll_event() {
        responses += usize::from(matches!(event, Event::Response { .. }));
    }
    assert_eq!(responses, 1, "the 200 reaches the TU (#{n})");
    layer.ack_2xx(id, ack(n), peer).expect("ack");
    while layer.poll_transmit().is_some() {}
}

#[test]
fn accepted_invite_clients_hold_their_ack_not_their_invite() {
    const N: usize = 50_000;
    let start = Instant::now();
    let mut layer = Transactions::new(Config { max_transactions: 2 * N, ..Config::default() });
    call(&mut layer, start, N);
    let before = rss();
    for i in 0..N {
        call(&mut layer, start, i);
    }
    let after = rss();
    let per_tx = after.saturating_sub(before) / N;
    println!(
        "{N} accepted INVITE client transactions: RSS +{} KiB, {per_tx} B each; {} live",
        after.saturating_sub(before) / 1024,
        layer.live()
    );
    assert_eq!(layer.live(), N + 1, "all wait for timer M");
    // The ACK is about 330 bytes, the key about 40; the INVITE (about
    // 1.3 KB parsed and as bytes) is gone.
    assert!(per_tx < 1_200, "an accepted INVITE client transaction holds its ACK and key: {per_tx} B");

    // A retransmitted 200 gets the same ACK again from the layer.
    let peer = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    let invite = invite(7);
    let mut ok = Response::for_request(&invite, StatusCode::OK, Some("callee-00000007"));
    // The same 200: its Contact is the ACK's Request-URI.
    ok.head.headers.push(HeaderName::Contact, "<sip:20000@127.0.0.1:5070>");
    layer.handle_message(start, Message::Response(ok), peer);
    assert!(layer.poll_event().is_none(), "an ACKed 2xx is not reported again");
    let resent = layer.poll_transmit().expect("the ACK again");
    assert!(resent.bytes.starts_with(b"ACK sip:20000@127.0.0.1:5070 SIP/2.0\r\n"));
    assert!(layer.poll_transmit().is_none());

    // After timer M they are all gone.
    layer.handle_timeout(start + 64 * layer.config().t1);
    assert!(layer.is_empty());
}
