//! One B2BUA call as the switch makes it, fed through a transaction layer,
//! and the heap as jemalloc counts it: for the retention tests.
#![allow(dead_code)]

use std::time::Instant;

use sip::dialog::Dialog;
use sip::transaction::{Event, Peer, Transactions};
use sip::{parse_message, HeaderName, Message, Request, Response, StatusCode, Via};

/// The binary's allocator, whose statistics count the heap.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bytes allocated and not freed, in jemalloc's size classes.
pub fn live() -> isize {
    tikv_jemalloc_ctl::epoch::advance().expect("epoch");
    tikv_jemalloc_ctl::stats::allocated::read().expect("stats") as isize
}

pub fn request(text: &str) -> Request {
    match parse_message(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

const SDP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A request from the caller (SIPp's `uac.xml`), `extra` headers added.
pub fn from_caller(method: &str, n: usize, branch: usize, cseq: u32, to_tag: &str, extra: &str) -> Request {
    let body = if method == "INVITE" { SDP } else { "" };
    request(&format!(
        "{method} sip:20000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{n}-{branch}-0;rport\r\n\
From: <sip:20001@127.0.0.1:5060>;tag={n}SIPpTag001\r\n\
To: <sip:20000@127.0.0.1:5060>{to_tag}\r\n\
Call-ID: {n}-4242@127.0.0.1\r\n\
CSeq: {cseq} {method}\r\n\
Contact: <sip:20001@127.0.0.1:5070>\r\n\
Max-Forwards: 70\r\n{extra}\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// A request of the switch to the callee.
pub fn to_callee(method: &str, n: usize, branch: u32, to_tag: &str) -> Request {
    let body = if method == "INVITE" { SDP } else { "" };
    request(&format!(
        "{method} sip:20000@127.0.0.1:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK0192f3a4b5c6{n:08x}{branch};rport\r\n\
From: <sip:20001@127.0.0.1>;tag=0192f3a4-b5c6-7d8e-{n:08x}\r\n\
To: <sip:20000@127.0.0.1>{to_tag}\r\n\
Call-ID: 0192f3a4-b5c6-7d8e-9f00-{n:012x}\r\n\
CSeq: {} {method}\r\n\
Contact: <sip:calliope@127.0.0.1:5060>\r\n\
Max-Forwards: 70\r\n\
Content-Length: {}\r\n\r\n{body}",
        if method == "BYE" { 2 } else { 1 },
        body.len()
    ))
}

/// The switch's ACK for the callee's `ok` to `invite`, as the engine
/// builds it (`Dialog::ack_for_2xx`, a random-looking branch).
pub fn ack_to_callee(n: usize, invite: &Request, ok: &Response) -> Request {
    let dialog = Dialog::from_uac(invite, ok).expect("dialog");
    let via = format!("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{:012x};rport", n * 7919 + 1);
    dialog.ack_for_2xx(ok, Via::parse(&via).expect("via"))
}

/// Feeds `req` from the caller; answers a new request with `status`.
pub fn serve(layer: &mut Transactions, now: Instant, req: Request, status: StatusCode, tag: &str) {
    let peer = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    layer.handle_message(now, Message::Request(req), peer);
    while let Some(event) = layer.poll_event() {
        if let Event::Request { id, request, .. } = event {
            let mut resp = Response::for_request(&request, status, Some(tag));
            if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
                resp.head.headers.push(
                    HeaderName::ProxyAuthenticate,
                    "Digest realm=\"calliope\", nonce=\"AAABk_OkteYrb1xW4m-5YyzX0QMHvi_Y8mT0m6UPp0i2\", \
opaque=\"5ae3c5e3d1a2b4c6f8e0a1b2\", algorithm=MD5, qop=\"auth\"",
                );
            } else if request.method == sip::Method::Invite {
                resp.head.headers.push(HeaderName::Contact, "<sip:calliope@127.0.0.1:5060>");
                resp.head.headers.push(HeaderName::ContentType, "application/sdp");
                resp.body = SDP.as_bytes().to_vec();
            }
            layer.respond(now, id, resp).expect("respond");
        }
    }
}

/// One whole call through `layer`, as the switch of a B2BUA sees it.
pub fn call(layer: &mut Transactions, now: Instant, n: usize) {
    let caller = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    let callee = Peer::udp("127.0.0.1:5080".parse().expect("addr"));
    let tag = format!("0192f3a4-{n:08x}");
    let to_tag = format!(";tag={tag}");
    // A: INVITE, 407, ACK.
    serve(
        layer,
        now,
        from_caller("INVITE", n, 1, 1, "", ""),
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        &tag,
    );
    let ack = from_caller("ACK", n, 1, 1, &to_tag, "");
    layer.handle_message(now, Message::Request(ack), caller);
    // A: INVITE with credentials, 200, ACK.
    let creds =
        "Proxy-Authorization: Digest username=\"20001\",realm=\"calliope\",uri=\"sip:20000@127.0.0.1:5060\",\
nonce=\"AAABk_OkteYrb1xW4m-5YyzX0QMHvi_Y8mT0m6UPp0i2\",response=\"0123456789abcdef0123456789abcdef\",\
algorithm=MD5,opaque=\"5ae3c5e3d1a2b4c6f8e0a1b2\",cnonce=\"6b8b4567\",qop=auth,nc=00000001\r\n";
    serve(layer, now, from_caller("INVITE", n, 2, 2, "", creds), StatusCode::OK, &tag);
    let ack = from_caller("ACK", n, 3, 2, &to_tag, "");
    layer.handle_message(now, Message::Request(ack), caller);
    // B: INVITE, 200, the TU's ACK.
    let invite = to_callee("INVITE", n, 0, "");
    let mut ok = Response::for_request(&invite, StatusCode::OK, Some(&format!("{n}SIPpTag01")));
    ok.head.headers.push(HeaderName::Contact, "<sip:20000@127.0.0.1:5080>");
    let ack = ack_to_callee(n, &invite, &ok);
    let id = layer.send_request(now, invite, callee).expect("send");
    layer.handle_message(now, Message::Response(ok), callee);
    layer.ack_2xx(id, ack, callee).expect("ack");
    // A: BYE, 200; B: BYE, 200.
    serve(layer, now, from_caller("BYE", n, 4, 3, &to_tag, ""), StatusCode::OK, &tag);
    let bye = to_callee("BYE", n, 2, &format!(";tag={n}SIPpTag01"));
    let ok = Response::for_request(&bye, StatusCode::OK, None);
    layer.send_request(now, bye, callee).expect("send");
    layer.handle_message(now, Message::Response(ok), callee);
    while layer.poll_event().is_some() {}
    while layer.poll_transmit().is_some() {}
}
