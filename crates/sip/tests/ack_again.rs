//! A retransmitted 2xx gets the TU's ACK again, byte for byte, from what
//! the layer kept of it: for a dialog's first INVITE through proxies (its
//! Route lines are the 2xx's Record-Route reversed) and for a re-INVITE
//! in that dialog (its 2xx brings no Record-Route; the ACK still has the
//! dialog's routes).

use std::time::Instant;

use sip::dialog::Dialog;
use sip::transaction::{Peer, Transactions};
use sip::{parse_message, HeaderName, Message, Method, Request, Response, StatusCode, Via};

fn invite() -> Request {
    let text = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK5d2e8a9c01f4;rport\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: call-1@192.0.2.9\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:calliope@192.0.2.9:5060>\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";
    match parse_message(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn via(branch: &str) -> Via {
    Via::parse(&format!("SIP/2.0/UDP 192.0.2.9:5060;branch={branch};rport")).expect("via")
}

/// Sends `request`, takes `ok` for it, ACKs it with the dialog's ACK, then
/// checks that `ok` again gets that ACK again and is not reported.
fn ack_again(layer: &mut Transactions, dialog: &mut Dialog, request: Request, ok: &Response, branch: &str) {
    let (now, peer) = (Instant::now(), Peer::udp("192.0.2.2:5060".parse().expect("addr")));
    let id = layer.send_request(now, request, peer).expect("send");
    layer.handle_message(now, Message::Response(ok.clone()), peer);
    dialog.handle_response(ok).expect("in the dialog");
    let ack = dialog.ack_for_2xx(ok, via(branch));
    assert_eq!(ack.head.routes().expect("routes").len(), 2);
    layer.ack_2xx(id, ack.clone(), peer).expect("ack");
    while layer.poll_event().is_some() {}
    while layer.poll_transmit().is_some() {}
    layer.handle_message(now, Message::Response(ok.clone()), peer);
    assert!(layer.poll_event().is_none(), "an ACKed 2xx is not reported again");
    let again = layer.poll_transmit().expect("the ACK again");
    assert_eq!(again.bytes, ack.to_bytes());
}

#[test]
fn a_first_invite_and_a_re_invite_get_their_acks_again() {
    let mut layer = Transactions::default();
    let invite = invite();
    let ok = Response::for_request(&invite, StatusCode::OK, Some("b7"))
        .with_header(HeaderName::RecordRoute, "<sip:p2.example.net;lr>, <sip:p1.example.com;lr>")
        .with_header(HeaderName::Contact, "<sip:bob@192.0.2.20:5080>");
    let mut dialog = Dialog::from_uac(&invite, &ok).expect("dialog");
    ack_again(&mut layer, &mut dialog, invite, &ok, "z9hG4bK0c1d2e3f4a5b");
    let reinvite = dialog.request(Method::Invite, via("z9hG4bK1a2b3c4d5e6f")).expect("re-INVITE");
    let ok = Response::for_request(&reinvite, StatusCode::OK, None)
        .with_header(HeaderName::Contact, "<sip:bob@192.0.2.20:5080>");
    ack_again(&mut layer, &mut dialog, reinvite, &ok, "z9hG4bK2b3c4d5e6f7a");
}
