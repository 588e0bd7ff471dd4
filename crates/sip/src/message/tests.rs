//! Messages in the style of RFC 3261 section 24 and the RFC 4475 torture
//! tests (written for this crate).

use super::*;
use crate::address::Contact;
use crate::error::ParseError;
use crate::header::{HeaderName, Rport, Transport};
use crate::method::Method;
use crate::status::StatusCode;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn request(bytes: &[u8]) -> Request {
    match parse_message(bytes) {
        Ok(Message::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn response(bytes: &[u8]) -> Response {
    match parse_message(bytes) {
        Ok(Message::Response(r)) => r,
        other => panic!("not a response: {other:?}"),
    }
}

const ALICE_INVITE: &str = "INVITE sip:bob@biloxi.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@biloxi.com>
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.com>
Content-Type: application/sdp
Content-Length: 142

v=0
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com
s=-
c=IN IP4 pc33.atlanta.com
t=0 0
m=audio 49172 RTP/AVP 0
a=rtpmap:0 PCMU/8000
";

#[test]
fn rfc3261_invite() {
    let r = request(&crlf(ALICE_INVITE));
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.to_string(), "sip:bob@biloxi.com");
    assert_eq!(r.head.branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(r.head.via[0].transport, Transport::Udp);
    assert_eq!(r.head.from_tag(), Some("1928301774"));
    assert_eq!(r.head.to_tag(), None);
    assert_eq!(r.head.from.display.as_deref(), Some("Alice"));
    assert_eq!(r.head.call_id, "a84b4c76e66710@pc33.atlanta.com");
    assert_eq!((r.head.cseq.seq, &r.head.cseq.method), (314159, &Method::Invite));
    assert_eq!(r.head.max_forwards(), Ok(Some(70)));
    assert!(r.head.content_type().expect("ct").expect("present").is("application", "sdp"));
    assert_eq!(r.body.len(), 142);
    assert!(r.body.starts_with(b"v=0\r\n"));
    let contacts = r.head.contacts().expect("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].addr().map(|a| a.uri.to_string()).as_deref(), Some("sip:alice@pc33.atlanta.com"));
}

#[test]
fn rfc3261_response_with_several_vias_and_record_route() {
    let bytes = crlf(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bKnashds8;received=192.0.2.3
Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds ;received=192.0.2.1
Record-Route: <sip:server10.biloxi.com;lr>, <sip:bigbox3.site3.atlanta.com;lr>
To: Bob <sip:bob@biloxi.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

",
    );
    let r = response(&bytes);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.reason, "OK");
    assert_eq!(r.head.via.len(), 3);
    assert_eq!(r.head.via[2].received(), Some("192.0.2.1"));
    assert_eq!(r.head.to_tag(), Some("a6c85cf"));
    let rr = r.head.record_routes().expect("rr");
    assert_eq!(rr.len(), 2);
    assert!(rr[1].uri.as_sip().is_some_and(|u| u.lr()));
    assert!(r.body.is_empty());
}

/// A tortuous but valid request: compact forms, folding, odd whitespace,
/// several Vias on one line, escapes, an unknown header and method.
#[test]
fn tortuous_but_valid() {
    let bytes = crlf(
        "\n\nNEWMETHOD sip:%61lice;p=%20x@[2001:db8::10]:5070;transport=tcp SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 3
cseq: 0009
  NEWMETHOD
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;rport;branch=390skdjuw
v:  SIP/2.0/TCP spindle.example.com ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
k: foo, bar
l: 3

abcdef",
    );
    let r = request(&bytes);
    assert_eq!(r.method, Method::Other("NEWMETHOD".into()));
    let uri = r.uri.as_sip().expect("sip uri");
    assert_eq!(uri.user_unescaped().as_deref(), Some("alice;p= x"));
    assert_eq!(uri.port, Some(5070));
    assert_eq!(r.head.to.tag(), Some("1918181833n"));
    assert_eq!(r.head.from.display.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(r.head.from.tag(), Some("98asjd8"));
    assert_eq!(r.head.max_forwards(), Ok(Some(68)));
    assert_eq!(r.head.cseq.seq, 9);
    assert_eq!(r.head.via.len(), 3);
    assert_eq!(r.head.via[0].rport(), Rport::Requested);
    assert!(!r.head.via[0].has_rfc3261_branch());
    assert_eq!(r.head.via[1].transport, Transport::Tcp);
    assert_eq!(r.head.via[2].branch(), Some("z9hG4bK30239"));
    let contacts = r.head.contacts().expect("contact");
    let c = contacts[0].addr().expect("addr");
    assert_eq!(c.display.as_deref(), Some("Quoted string \"\""));
    assert_eq!(c.params.get("newparam"), Some("newvalue"));
    assert!(c.params.has("secondparam"));
    assert_eq!(c.q(), Some(330));
    assert_eq!(
        r.head.headers.get(&HeaderName::Other("newfangledheader".into())),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(r.head.supported(), vec!["foo", "bar"]);
    assert_eq!(r.body, b"abc", "the body is cut to Content-Length");

    // Written back and parsed again, it is the same message.
    let again = request(&r.to_bytes());
    assert_eq!(again, r);
}

#[test]
fn datagram_without_content_length_takes_the_rest() {
    let r = request(&crlf(
        "MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa
From: <sip:a@example.org>;tag=1
To: <sip:kumiko@example.org>
Call-ID: m1
CSeq: 1 MESSAGE
Content-Type: text/plain

Hello there",
    ));
    assert_eq!(r.body, b"Hello there");
}

#[test]
fn response_without_reason_phrase_and_register_contacts() {
    let r = response(&crlf(
        "SIP/2.0 200
v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr;received=203.0.113.9;rport=6000
f: <sip:bob@biloxi.com>;tag=456248
t: <sip:bob@biloxi.com>;tag=2493k59kd
i: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
m: <sip:bob@192.0.2.4>;expires=3600, <sip:bob@[2001:db8::4]:5070>;expires=60;q=0.5
Expires: 7200
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE
Supported: path
Require: outbound
User-Agent: Calliope test
l: 0

",
    ));
    assert_eq!(r.reason, "");
    assert_eq!(r.head.via[0].rport(), Rport::Port(6000));
    let contacts = r.head.contacts().expect("contacts");
    assert_eq!(contacts.iter().filter_map(|c| c.addr()?.expires()).collect::<Vec<_>>(), vec![3600, 60]);
    assert_eq!(r.head.expires(), Ok(Some(7200)));
    assert_eq!(r.head.allow().expect("allow").len(), 5);
    assert_eq!(r.head.supported(), vec!["path"]);
    assert_eq!(r.head.require(), vec!["outbound"]);
    assert_eq!(r.head.user_agent(), Some("Calliope test"));
}

#[test]
fn wildcard_contact_and_huge_expires() {
    let r = request(&crlf(
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKw
From: <sip:bob@example.com>;tag=1
To: <sip:bob@example.com>
Call-ID: w
CSeq: 2 REGISTER
Contact: *
Expires: 99999999999999999999999

",
    ));
    assert_eq!(r.head.contacts(), Ok(vec![Contact::Wildcard]));
    assert_eq!(r.head.expires(), Ok(Some(u32::MAX)));
}

fn parse_err(s: &str) -> ParseError {
    match parse_message(&crlf(s)) {
        Err(e) => e,
        Ok(m) => panic!("parsed: {m:?}"),
    }
}

const HEADERS: &str = "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: c1
";

#[test]
fn invalid_messages_are_errors() {
    assert_eq!(parse_err(""), ParseError::Empty);
    assert_eq!(parse_err("\n\n"), ParseError::Empty);
    assert_eq!(
        parse_err(&format!(
            "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nContent-Length: 10\n\nshort"
        )),
        ParseError::BodyTooShort { expected: 10, got: 5 }
    );
    assert_eq!(
        parse_err(&format!(
            "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nContent-Length: -1\n\n"
        )),
        ParseError::ContentLength
    );
    assert_eq!(
        parse_err(&format!("INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nl: 1\nl: 2\n\nab")),
        ParseError::ContentLength
    );
    assert_eq!(
        parse_err(&format!(
            "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nContent-Length: 99999999999\n\n"
        )),
        ParseError::ContentLength
    );
    assert_eq!(
        parse_err(&format!("INVITE sip:b@example.com SIP/7.0\n{HEADERS}CSeq: 1 INVITE\n\n")),
        ParseError::Version("7.0".into())
    );
    assert_eq!(
        parse_err(&format!("SIP/3.0 200 OK\n{HEADERS}CSeq: 1 INVITE\n\n")),
        ParseError::Version("3.0".into())
    );
    assert_eq!(
        parse_err(&format!("INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 ACK\n\n")),
        ParseError::CSeqMethod
    );
    assert_eq!(
        parse_err(&format!("INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nCSeq: 2 INVITE\n\n")),
        ParseError::Duplicate("CSeq")
    );
    assert_eq!(
        parse_err("OPTIONS sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCSeq: 1 OPTIONS\n\n"),
        ParseError::Missing("Call-ID")
    );
    // Unterminated: no empty line after the headers.
    assert_eq!(
        parse_err(&format!("INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\n")),
        ParseError::Unterminated
    );
    for start in [
        "INVITE sip:b@example.com; lr SIP/2.0",
        "INVITE  sip:b@example.com SIP/2.0",
        "INVITE sip:b@example.com SIP/2.0 ",
        "INVITE <sip:b@example.com> SIP/2.0",
        "INVITE sip:b@example.com HTTP/1.1",
        "SIP/2.0 2000 OK",
        "SIP/2.0 099 Too low",
        "SIP/2.0 20 OK",
    ] {
        let e = parse_err(&format!("{start}\n{HEADERS}CSeq: 1 INVITE\n\n"));
        assert!(
            matches!(e, ParseError::StartLine | ParseError::Uri(_) | ParseError::Status),
            "{start}: {e:?}"
        );
    }
    let bad_headers = [
        "To: \"Unterminated <sip:b@example.com>\n",
        "Via: SIP/2.0/UDP\n",
        "Bad Header: x\n",
        "NoColon\n",
        "Call-ID: has space\n",
        "From: <sip:a@example.com;tag=2\n",
    ];
    for h in bad_headers {
        let e = parse_err(&format!("INVITE sip:b@example.com SIP/2.0\n{h}{HEADERS}CSeq: 1 INVITE\n\n"));
        assert!(
            matches!(e, ParseError::Header { .. } | ParseError::HeaderLine | ParseError::Duplicate(_)),
            "{h}: {e:?}"
        );
    }
}

#[test]
fn limits_are_enforced() {
    let limits = Limits { max_message_bytes: 2000, max_headers: 10, max_header_line: 400 };
    let many =
        format!("INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\n{}\n", "X-A: 1\n".repeat(20));
    assert_eq!(parse_message_with(&crlf(&many), &limits), Err(ParseError::TooManyHeaders(10)));
    let many_vias = format!(
        "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nVia: {}\n\n",
        ["SIP/2.0/UDP h"; 20].join(",")
    );
    assert_eq!(parse_message_with(&crlf(&many_vias), &limits), Err(ParseError::TooManyHeaders(10)));
    let long = format!(
        "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nSubject: {}\n\n",
        "x".repeat(500)
    );
    assert_eq!(parse_message_with(&crlf(&long), &limits), Err(ParseError::HeaderTooLong(400)));
    let folded = format!(
        "INVITE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 INVITE\nSubject: x{}\n\n",
        "\n x".repeat(250)
    );
    assert_eq!(parse_message_with(&crlf(&folded), &limits), Err(ParseError::HeaderTooLong(400)));
    assert_eq!(parse_message_with(&vec![b'A'; 2001], &limits), Err(ParseError::TooLarge(2000)));
    assert_eq!(parse_message(b"INVITE sip:a@b SIP/2.0\r\nSubject: \xff\r\n\r\n"), Err(ParseError::NotUtf8));
}

#[test]
fn stream_framing_cuts_messages() {
    let limits = Limits::default();
    let one =
        crlf(&format!("BYE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 2 BYE\nContent-Length: 4\n\nbody"));
    let mut buf = b"\r\n\r\n".to_vec();
    buf.extend_from_slice(&one);
    buf.extend_from_slice(&one);
    buf.extend_from_slice(&one[..one.len() - 3]);

    assert_eq!(frame(&buf, &limits), Ok(Frame::KeepAlive(4)));
    let mut rest = &buf[4..];
    for _ in 0..2 {
        let Ok(Frame::Message(n)) = frame(rest, &limits) else { panic!("message") };
        assert_eq!(n, one.len());
        let r = request(&rest[..n]);
        assert_eq!(r.body, b"body");
        rest = &rest[n..];
    }
    assert_eq!(frame(rest, &limits), Ok(Frame::Incomplete));
    assert_eq!(frame(&one[..20], &limits), Ok(Frame::Incomplete));
    assert_eq!(frame(b"", &limits), Ok(Frame::Incomplete));

    let no_length = crlf(&format!("BYE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 2 BYE\n\n"));
    assert_eq!(frame(&no_length, &limits), Err(ParseError::NoContentLength));
    let huge = crlf(&format!("BYE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 2 BYE\nl: 70000\n\n"));
    assert_eq!(frame(&huge, &limits), Err(ParseError::TooLarge(limits.max_message_bytes)));
    let small = Limits { max_message_bytes: 64, ..Limits::default() };
    assert_eq!(frame(&[b'x'; 64], &small), Err(ParseError::TooLarge(64)));
    // Content-Length folded onto the next line still counts.
    let folded =
        crlf(&format!("BYE sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 2 BYE\nContent-Length:\n 2\n\nok"));
    assert_eq!(frame(&folded, &limits), Ok(Frame::Message(folded.len())));
}

#[test]
fn writing_round_trips_and_sets_content_length() {
    let r = request(&crlf(ALICE_INVITE));
    let bytes = r.to_bytes();
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert!(text.starts_with(
        "INVITE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    ));
    assert!(text.contains("\r\nContent-Length: 142\r\n\r\nv=0\r\n"));
    assert_eq!(request(&bytes), r);

    let mut changed = r.clone();
    changed.body = b"x".to_vec();
    changed.head.headers.push(HeaderName::Subject, "evil\r\nInjected: yes");
    let text = String::from_utf8(changed.to_bytes()).expect("utf8");
    assert!(text.contains("Content-Length: 1\r\n"));
    assert!(text.contains("Subject: evil  Injected: yes\r\n"));
}

#[test]
fn response_builder_copies_the_right_headers() {
    let mut invite = request(&crlf(ALICE_INVITE));
    invite.head.headers.push(HeaderName::Timestamp, "54");
    let trying = Response::for_request(&invite, StatusCode::TRYING, Some("ignored"));
    assert_eq!(trying.head.to_tag(), None, "100 Trying gets no To tag");
    assert_eq!(trying.head.headers.get(&HeaderName::Timestamp), Some("54"));
    let ringing = Response::for_request(&invite, StatusCode::RINGING, Some("a6c85cf"));
    assert_eq!(ringing.reason, "Ringing");
    assert_eq!(ringing.head.to_tag(), Some("a6c85cf"));
    assert_eq!(ringing.head.via, invite.head.via);
    assert_eq!(ringing.head.from, invite.head.from);
    assert_eq!(ringing.head.call_id, invite.head.call_id);
    assert_eq!(ringing.head.cseq, invite.head.cseq);
    assert!(ringing.head.headers.is_empty());
    let ok = Response::for_request(&invite, StatusCode::OK, Some("a6c85cf"))
        .with_body(&crate::header::MediaType::sdp(), b"v=0\r\n".to_vec());
    let parsed = response(&ok.to_bytes());
    assert_eq!(parsed, ok);

    let mut tagged = invite.clone();
    tagged.head.to.set_tag("existing");
    assert_eq!(Response::for_request(&tagged, StatusCode::OK, Some("new")).head.to_tag(), Some("existing"));
}

#[test]
fn request_builders() {
    let alice: crate::NameAddr = "Alice <sip:alice@atlanta.com>;tag=1928301774".parse().expect("from");
    let bob: crate::NameAddr = "Bob <sip:bob@biloxi.com>".parse().expect("to");
    let via = crate::header::Via::parse("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds").expect("via");
    let invite =
        Request::new(Method::Invite, "sip:bob@biloxi.com".parse().expect("uri"), alice, bob, "call-1", 1)
            .with_via(via)
            .with_header(HeaderName::Route, "<sip:proxy.atlanta.com;lr>")
            .with_body(&crate::header::MediaType::sdp(), b"v=0\r\n".to_vec());
    let parsed = request(&invite.to_bytes());
    assert_eq!(parsed, invite);
    assert_eq!(parsed.head.max_forwards(), Ok(Some(70)));

    let cancel = invite.cancel();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!((cancel.head.cseq.seq, &cancel.head.cseq.method), (1, &Method::Cancel));
    assert_eq!(cancel.head.via, invite.head.via);
    assert_eq!(cancel.uri, invite.uri);
    assert_eq!(cancel.head.routes().expect("routes").len(), 1);
    assert!(cancel.body.is_empty());

    let busy = Response::for_request(&invite, StatusCode::BUSY_HERE, Some("b1"));
    let ack = invite.ack_for(&busy);
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.head.to_tag(), Some("b1"));
    assert_eq!(ack.head.branch(), invite.head.branch());
    assert_eq!(request(&ack.to_bytes()), ack);
}

/// More cases in the spirit of RFC 4475: unknown URI schemes and
/// transports, UTF-8 reason phrases, repeated equal Content-Lengths, two
/// requests in one datagram, scalar fields at their limits.
#[test]
fn torture_odds_and_ends() {
    let r = request(&crlf(
        "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
Via: SIP/2.0/UNKNOWN 192.0.2.1;branch=z9hG4bKu
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: u1
CSeq: 1 OPTIONS
Max-Forwards: 0
Content-Length: 2
Content-Length: 2

okINVITE sip:second@example.com SIP/2.0
",
    ));
    assert_eq!(r.uri, crate::uri::Uri::Other("nobodyKnowsThisScheme:totallyopaquecontent".into()));
    assert_eq!(r.head.via[0].transport, Transport::Other("UNKNOWN".into()));
    assert_eq!(r.head.max_forwards(), Ok(Some(0)));
    assert_eq!(r.body, b"ok", "the second request in the datagram is dropped");

    let resp = response(&crlf(&format!("SIP/2.0 200 Ça marche ☺\n{HEADERS}CSeq: 1 INVITE\n\n")));
    assert_eq!(resp.reason, "Ça marche ☺");
    assert_eq!(response(&resp.to_bytes()), resp);

    let unknown_scheme =
        request(&crlf(&format!("REGISTER sip:example.com SIP/2.0\n{HEADERS}CSeq: 1 REGISTER\nAuthorization: NoOneKnowsThisScheme opaque-data=here\n\n")));
    assert_eq!(
        unknown_scheme.head.authorization(None),
        Some(Err(crate::digest::DigestError::Scheme)),
        "a registrar sees the scheme it cannot use and challenges"
    );

    for (header, cause) in [
        ("Max-Forwards: 4294967296", "Max-Forwards"),
        ("Expires: soon", "Expires"),
        ("Contact: <sip:a@b", "Contact"),
        ("Route: sip:a@b, <", "Route"),
    ] {
        let r = request(&crlf(&format!(
            "OPTIONS sip:b@example.com SIP/2.0\n{HEADERS}CSeq: 1 OPTIONS\n{header}\n\n"
        )));
        let errors = [
            r.head.max_forwards().err(),
            r.head.expires().err(),
            r.head.contacts().err(),
            r.head.routes().err(),
        ];
        assert!(
            errors.iter().flatten().any(|e| matches!(e, ParseError::Header { name, .. } if name == cause)),
            "{header}: {errors:?}"
        );
    }
}

#[test]
fn writer_takes_typed_headers_from_their_fields_only() {
    let mut r = request(&crlf(ALICE_INVITE));
    r.head.headers.push(HeaderName::CallId, "stray");
    r.head.headers.push(HeaderName::Via, "SIP/2.0/UDP stray");
    r.head.headers.push(HeaderName::ContentLength, "999");
    let text = String::from_utf8(r.to_bytes()).expect("utf8");
    assert_eq!(text.matches("Call-ID:").count(), 1);
    assert_eq!(text.matches("Via:").count(), 1);
    assert!(!text.contains("stray") && !text.contains("999"));
}
