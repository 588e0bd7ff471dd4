use super::*;
use crate::dialog::Dialog;
use crate::header::{HeaderName, Via};
use crate::message::parse_message;
use crate::status::StatusCode;
use crate::Message;

fn request(text: &str) -> Request {
    match parse_message(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

/// The switch's INVITE to a callee, its Via as the engine writes it.
fn invite() -> Request {
    request(
        "INVITE sip:bob@192.0.2.20 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK5d2e8a9c01f4;rport\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: call-1@192.0.2.9\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:calliope@192.0.2.9:5060>\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n",
    )
}

/// Its 2xx with To tag `tag`, Contact `contact` and `record_routes`.
fn ok(tag: &str, contact: &str, record_routes: &[&str]) -> Response {
    let mut ok = Response::for_request(&invite(), StatusCode::OK, Some(tag));
    for rr in record_routes {
        ok.head.headers.push(HeaderName::RecordRoute, *rr);
    }
    ok.head.headers.push(HeaderName::Contact, contact);
    ok.head.headers.push(HeaderName::ContentType, "application/sdp");
    ok.body = b"v=0\r\n".to_vec();
    ok
}

/// The dialog's ACK for `ok`, with a random-looking branch.
fn ack_for(ok: &Response, branch: &str) -> Request {
    let dialog = Dialog::from_uac(&invite(), ok).expect("dialog");
    let via = Via::parse(&format!("SIP/2.0/UDP 192.0.2.9:5060;branch={branch};rport")).expect("via");
    dialog.ack_for_2xx(ok, via)
}

fn peer() -> Peer {
    Peer::udp("192.0.2.20:5080".parse().expect("addr"))
}

/// Keeps `ack` for `ok`, checks that `ok` gets it back byte for byte, also
/// once encoded and read back, and gives what it held.
fn kept_and_back(ack: &Request, ok: &Response, routes: bool) -> Ack2xx {
    let written = ack.to_bytes();
    let tag = ok.head.to_tag().expect("tag");
    let kept = Ack2xx::new(tag, ack, &written, peer(), routes);
    assert!(kept.acknowledges(tag) && !kept.acknowledges("other"));
    assert_eq!(
        kept.for_retransmission(ok).as_deref(),
        Some(&written[..]),
        "{}",
        String::from_utf8_lossy(&written)
    );
    let other_peer = Peer::udp("192.0.2.21:5080".parse().expect("addr"));
    for tx_peer in [peer(), other_peer] {
        let mut encoded = Vec::new();
        kept.encode(tx_peer, &mut encoded);
        encoded.push(7);
        let (read, rest) = KeptAck::decode(&encoded, tx_peer).expect("decodes");
        assert_eq!((read.peer, rest), (peer(), &[7][..]));
        assert_eq!(read.for_retransmission(ok).as_deref(), Some(&written[..]));
        assert_eq!(read.to_owned(), kept);
        assert!(KeptAck::decode(&encoded[..encoded.len() - 2], tx_peer).is_none(), "cut short");
    }
    kept
}

#[test]
fn a_plain_ack_is_its_branch_and_two_hashes() {
    let ok = ok("b7", "<sip:bob@192.0.2.20:5080>", &[]);
    let ack = ack_for(&ok, "z9hG4bK0c1d2e3f4a5b");
    let kept = kept_and_back(&ack, &ok, true);
    // Tag hash 4, hash 8, three lengths and six bytes of branch.
    assert!(kept.len() <= 22, "{} of {}", kept.len(), ack.to_bytes().len());
    // An odd or not hex branch, another end of Via: the same bytes again.
    for branch in ["z9hG4bK0c1d2", "z9hG4bKAbC.x", "z9hG4bK"] {
        kept_and_back(&ack_for(&ok, branch), &ok, true);
    }
    let mut ack = ack_for(&ok, "z9hG4bK0c1d2e3f4a5b");
    ack.head.via[0].params.remove("rport");
    kept_and_back(&ack, &ok, true);
}

#[test]
fn routes_credentials_and_a_body_come_back() {
    let rr = ["<sip:p2.example.net;lr>", "<sip:p1.example.com;lr;ftag=f1>, <sip:p0.example.com;lr>"];
    let ok = ok("b7", "\"Bob\" <sip:bob@192.0.2.20:5080;transport=udp>;expires=60", &rr);
    let ack = ack_for(&ok, "z9hG4bK0c1d2e3f4a5b");
    assert_eq!(ack.head.routes().expect("routes").len(), 3);
    let kept = kept_and_back(&ack, &ok, true);
    assert!(kept.len() <= 22, "{}", kept.len());
    // Credentials and a body: kept as they are.
    let mut with_more = ack.clone();
    with_more.head.headers.push(HeaderName::ProxyAuthorization, "Digest username=\"a\", response=\"00\"");
    with_more.head.headers.push(HeaderName::ContentType, "application/sdp");
    with_more.body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\n".to_vec();
    let kept = kept_and_back(&with_more, &ok, true);
    let others =
        "Proxy-Authorization: Digest username=\"a\", response=\"00\"\r\nContent-Type: application/sdp\r\n";
    assert!(kept.len() <= 22 + others.len() + with_more.body.len(), "{}", kept.len());
    // In a dialog (a re-INVITE's ACK), the routes are kept as they are.
    kept_and_back(&ack, &ok, false);
    // A strict router first: the Request-URI and routes are kept.
    let strict = ok.clone().with_header(HeaderName::RecordRoute, "<sip:strict.example.org>");
    let ack = ack_for(&strict, "z9hG4bK0c1d2e3f4a5b");
    assert_eq!(ack.uri.to_string(), "sip:strict.example.org");
    kept_and_back(&ack, &strict, true);
    let strict = self::ok("b7", "<sip:bob@192.0.2.20:5080>", &["<sip:strict.example.org>"]);
    kept_and_back(&ack_for(&strict, "z9hG4bK0c1d2e3f4a5b"), &strict, true);
}

#[test]
fn a_2xx_that_does_not_give_the_same_bytes_goes_to_the_tu() {
    let rr = ["<sip:p1.example.com;lr>"];
    let ok = ok("b7", "<sip:bob@192.0.2.20:5080>", &rr);
    let ack = ack_for(&ok, "z9hG4bK0c1d2e3f4a5b");
    let kept = kept_and_back(&ack, &ok, true);
    let changed = [
        self::ok("b7", "<sip:bob@192.0.2.20:5081>", &rr),
        self::ok("b7", "<sip:bob@192.0.2.20:5080>", &["<sip:p9.example.com;lr>"]),
        self::ok("b7", "<sip:bob@192.0.2.20:5080>", &[]),
    ];
    for other in &changed {
        assert_eq!(kept.for_retransmission(other), None);
    }
    let mut other = ok.clone();
    other.head.via[0] = Via::parse("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK5d2e8a9c01f4").expect("via");
    assert_eq!(kept.for_retransmission(&other), None);
    let mut other = ok.clone();
    other.head.cseq.seq = 2;
    assert_eq!(kept.for_retransmission(&other), None);
    let mut other = ok.clone();
    other.head.call_id = "call-2@192.0.2.9".into();
    assert_eq!(kept.for_retransmission(&other), None);
    let mut other = ok.clone();
    other.head.headers.remove(&HeaderName::Contact);
    assert_eq!(kept.for_retransmission(&other), None);
}

#[test]
fn each_fork_gets_its_own_ack() {
    let (ok1, ok2) = (ok("b1", "<sip:bob@192.0.2.20:5080>", &[]), ok("b2", "<sip:bob@192.0.2.30:5080>", &[]));
    let (ack1, ack2) = (ack_for(&ok1, "z9hG4bKaaaa"), ack_for(&ok2, "z9hG4bKbbbb"));
    let kept1 = Ack2xx::new("b1", &ack1, &ack1.to_bytes(), peer(), true);
    let kept2 = Ack2xx::new("b2", &ack2, &ack2.to_bytes(), peer(), true);
    let acks = with_ack(vec![kept1.clone()], kept2.clone());
    assert_eq!(acks.len(), 2);
    assert!(acks[1].acknowledges("b2") && !acks[1].acknowledges("b1"));
    assert_eq!(acks[1].for_retransmission(&ok2), Some(ack2.to_bytes()));
    assert_eq!(acks[0].for_retransmission(&ok2), None, "the other fork's 2xx");
    // The same fork ACKed again: in place of the first.
    let again = ack_for(&ok1, "z9hG4bKcccc");
    let acks = with_ack(acks.into_vec(), Ack2xx::new("b1", &again, &again.to_bytes(), peer(), true));
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].for_retransmission(&ok1), Some(again.to_bytes()));
}

#[test]
fn bytes_not_laid_out_so_are_kept_whole() {
    let ok = ok("b7", "<sip:bob@192.0.2.20:5080>", &[]);
    let ack = ack_for(&ok, "z9hG4bK0c1d2e3f4a5b");
    let odd = Ack2xx::new("b7", &ack, b"ACK", peer(), true);
    assert_eq!(odd.for_retransmission(&ok), Some(b"ACK".to_vec()));
    let mut two_vias = ack.clone();
    two_vias.head.via.push(Via::parse("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx").expect("via"));
    kept_and_back(&two_vias, &ok, true);
}
