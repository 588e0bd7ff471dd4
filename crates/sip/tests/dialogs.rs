//! Dialogs: creation on both sides, requests inside them (CSeq, route
//! set, remote target), target refresh, and a whole call through two
//! simulated transaction layers.

mod sim;

use sim::{Side, Sim, CLIENT, SERVER};
use sip::dialog::{copy_record_route, Dialog, DialogError, DialogId, DialogState};
use sip::header::{Transport, Via};
use sip::transaction::Event;
use sip::{parse_message, HeaderName, HostPort, Message, Method, NameAddr, Request, Response, StatusCode};

fn parse_request(text: &str) -> Request {
    match parse_message(text.replace('\n', "\r\n").as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn parse_response(text: &str) -> Response {
    match parse_message(text.replace('\n', "\r\n").as_bytes()) {
        Ok(Message::Response(r)) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn via(branch: &str) -> Via {
    Via::new(Transport::Udp, HostPort::parse("pc33.atlanta.com").expect("hp"), branch)
}

/// Alice's INVITE to Bob through two record-routing proxies.
fn alice_invite() -> Request {
    parse_request(
        "INVITE sip:bob@biloxi.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@biloxi.com>
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.com>
Content-Length: 0

",
    )
}

/// Bob's answer as Alice receives it: Record-Route as the proxies wrote it
/// (the one nearest Bob first).
fn bob_answer(status: u16, contact: &str) -> Response {
    parse_response(&format!(
        "SIP/2.0 {status} Whatever
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.1
Record-Route: <sip:p2.biloxi.com;lr>, <sip:p1.atlanta.com;lr>
To: Bob <sip:bob@biloxi.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: 314159 INVITE
Contact: <{contact}>
Content-Length: 0

"
    ))
}

/// The INVITE as Bob receives it, with the proxies' Record-Route.
fn bob_receives() -> Request {
    let mut r = alice_invite();
    r.head.headers.push(HeaderName::RecordRoute, "<sip:p2.biloxi.com;lr>");
    r.head.headers.push(HeaderName::RecordRoute, "<sip:p1.atlanta.com;lr>");
    r
}

fn routes(r: &Request) -> Vec<String> {
    r.head.routes().expect("routes").iter().map(|a| a.uri.to_string()).collect()
}

fn in_dialog(method: &str, seq: u32, contact: Option<&str>) -> Request {
    let contact = contact.map(|c| format!("Contact: <{c}>\n")).unwrap_or_default();
    parse_request(&format!(
        "{method} sip:alice@pc33.atlanta.com SIP/2.0
Via: SIP/2.0/UDP bobspc.biloxi.com;branch=z9hG4bK{seq}{method}
From: Bob <sip:bob@biloxi.com>;tag=a6c85cf
To: Alice <sip:alice@atlanta.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: {seq} {method}
{contact}Content-Length: 0

"
    ))
}

fn answered_dialog() -> Dialog {
    Dialog::from_uac(&alice_invite(), &bob_answer(200, "sip:bob@192.0.2.4")).expect("dialog")
}

#[test]
fn uac_dialog_takes_the_reversed_record_route_and_the_contact() {
    let d = answered_dialog();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(
        d.id(),
        &DialogId {
            call_id: "a84b4c76e66710@pc33.atlanta.com".into(),
            local_tag: "1928301774".into(),
            remote_tag: "a6c85cf".into(),
        }
    );
    let route_set: Vec<_> = d.route_set().iter().map(|a| a.uri.to_string()).collect();
    assert_eq!(route_set, ["sip:p1.atlanta.com;lr", "sip:p2.biloxi.com;lr"]);
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
    assert_eq!(d.next_hop().to_string(), "sip:p1.atlanta.com;lr");
    assert_eq!((d.local_seq(), d.remote_seq()), (Some(314159), None));
    assert_eq!(d.local_contact().map(|c| c.uri.to_string()).as_deref(), Some("sip:alice@pc33.atlanta.com"));
}

#[test]
fn responses_without_a_to_tag_or_of_the_wrong_class_create_no_dialog() {
    let mut no_tag = bob_answer(180, "sip:bob@192.0.2.4");
    no_tag.head.to.params.remove("tag");
    assert_eq!(Dialog::from_uac(&alice_invite(), &no_tag), Err(DialogError::NotDialogCreating));
    for status in [100, 486] {
        let r = bob_answer(status, "sip:bob@192.0.2.4");
        assert_eq!(Dialog::from_uac(&alice_invite(), &r), Err(DialogError::NotDialogCreating));
    }
    let mut other_call = bob_answer(200, "sip:bob@192.0.2.4");
    other_call.head.call_id = "other".into();
    assert_eq!(Dialog::from_uac(&alice_invite(), &other_call), Err(DialogError::NotThisDialog));
}

#[test]
fn early_dialog_is_confirmed_by_the_2xx_which_sets_route_set_and_target() {
    let mut ringing = bob_answer(180, "sip:bob@192.0.2.9");
    ringing.head.headers.remove(&HeaderName::RecordRoute);
    let mut d = Dialog::from_uac(&alice_invite(), &ringing).expect("early dialog");
    assert_eq!(d.state(), DialogState::Early);
    assert!(d.route_set().is_empty());
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.9");
    d.handle_response(&bob_answer(183, "sip:bob@192.0.2.8")).expect("183");
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.8", "a 1xx updates an early dialog's target");
    d.handle_response(&bob_answer(200, "sip:bob@192.0.2.4")).expect("200");
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.route_set().len(), 2, "recomputed from the 2xx");
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
}

#[test]
fn non_2xx_final_ends_an_early_dialog() {
    let mut d = Dialog::from_uac(&alice_invite(), &bob_answer(180, "sip:bob@192.0.2.9")).expect("early");
    d.handle_response(&bob_answer(486, "sip:bob@192.0.2.9")).expect("486");
    assert_eq!(d.state(), DialogState::Terminated);
    assert_eq!(d.request(Method::Bye, via("z9hG4bKb")), Err(DialogError::Terminated));
}

#[test]
fn requests_in_the_dialog_increment_the_cseq() {
    let mut d = answered_dialog();
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!((bye.head.cseq.seq, &bye.head.cseq.method), (314160, &Method::Bye));
    let info = d.request(Method::Info, via("z9hG4bKinfo")).expect("info");
    assert_eq!(info.head.cseq.seq, 314161);
    assert_eq!(d.local_seq(), Some(314161));
    assert_eq!(bye.head.from.to_string(), "\"Alice\" <sip:alice@atlanta.com>;tag=1928301774");
    assert_eq!(bye.head.to.to_string(), "\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf");
    assert_eq!(bye.head.call_id, "a84b4c76e66710@pc33.atlanta.com");
    assert_eq!(bye.head.branch(), Some("z9hG4bKbye"));
    assert_eq!(bye.head.max_forwards(), Ok(Some(70)));
    assert!(bye.head.contacts().expect("contacts").is_empty(), "BYE is no target refresh");
    assert_eq!(d.request(Method::Ack, via("z9hG4bKx")), Err(DialogError::Method(Method::Ack)));
    assert_eq!(d.request(Method::Cancel, via("z9hG4bKx")), Err(DialogError::Method(Method::Cancel)));
    // Written and parsed back, the request is the same.
    assert_eq!(parse_message(&bye.to_bytes()), Ok(Message::Request(bye)));
}

#[test]
fn loose_route_set_keeps_the_remote_target_as_request_uri() {
    let mut d = answered_dialog();
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4");
    assert_eq!(routes(&bye), ["sip:p1.atlanta.com;lr", "sip:p2.biloxi.com;lr"]);
}

#[test]
fn strict_router_becomes_the_request_uri() {
    let mut answer = bob_answer(200, "sip:bob@192.0.2.4");
    answer
        .head
        .headers
        .set(HeaderName::RecordRoute, "<sip:p2.biloxi.com;lr>, <sip:p1.atlanta.com;method=INVITE>");
    let mut d = Dialog::from_uac(&alice_invite(), &answer).expect("dialog");
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.uri.to_string(), "sip:p1.atlanta.com", "the method parameter is not allowed there");
    assert_eq!(routes(&bye), ["sip:p2.biloxi.com;lr", "sip:bob@192.0.2.4"], "remote target last");
    assert_eq!(d.next_hop().to_string(), "sip:p1.atlanta.com;method=INVITE");
}

#[test]
fn without_route_set_requests_go_to_the_remote_target() {
    let mut answer = bob_answer(200, "sip:bob@192.0.2.4");
    answer.head.headers.remove(&HeaderName::RecordRoute);
    let mut d = Dialog::from_uac(&alice_invite(), &answer).expect("dialog");
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4");
    assert!(routes(&bye).is_empty());
    assert_eq!(d.next_hop().to_string(), "sip:bob@192.0.2.4");
}

#[test]
fn missing_contact_in_the_2xx_falls_back_to_the_request_uri() {
    let mut answer = bob_answer(200, "sip:bob@192.0.2.4");
    answer.head.headers.remove(&HeaderName::Contact);
    let d = Dialog::from_uac(&alice_invite(), &answer).expect("dialog");
    assert_eq!(d.remote_target().to_string(), "sip:bob@biloxi.com");
}

#[test]
fn ack_for_2xx_uses_the_invite_cseq_and_the_route_set() {
    let mut d = answered_dialog();
    let ok = bob_answer(200, "sip:bob@192.0.2.4");
    let ack = d.ack_for_2xx(&ok, via("z9hG4bKack"));
    assert_eq!(
        (ack.method.clone(), ack.head.cseq.seq, ack.head.cseq.method.clone()),
        (Method::Ack, 314159, Method::Ack)
    );
    assert_eq!(ack.uri.to_string(), "sip:bob@192.0.2.4");
    assert_eq!(routes(&ack), ["sip:p1.atlanta.com;lr", "sip:p2.biloxi.com;lr"]);
    assert_eq!(ack.head.branch(), Some("z9hG4bKack"));
    assert_eq!(d.local_seq(), Some(314159), "an ACK takes no new CSeq");
    // A re-INVITE later: its ACK carries its CSeq.
    let reinvite = d.request(Method::Invite, via("z9hG4bKre")).expect("re-INVITE");
    let ok2 = Response::for_request(&reinvite, StatusCode::OK, None);
    assert_eq!(d.ack_for_2xx(&ok2, via("z9hG4bKack2")).head.cseq.seq, 314160);
}

#[test]
fn uas_dialog_keeps_the_record_route_order() {
    let request = bob_receives();
    let d = Dialog::from_uas(&request, "a6c85cf").expect("dialog");
    assert_eq!(d.state(), DialogState::Early);
    // Alice's BYE, as Bob receives it, names Bob's dialog.
    let alices_bye = answered_dialog().request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(DialogId::of_request(&alices_bye).as_ref(), Some(d.id()));
    assert_eq!(DialogId::of_request(&alice_invite()), None, "no To tag: not in a dialog");
    let route_set: Vec<_> = d.route_set().iter().map(|a| a.uri.to_string()).collect();
    assert_eq!(route_set, ["sip:p2.biloxi.com;lr", "sip:p1.atlanta.com;lr"]);
    assert_eq!(d.remote_target().to_string(), "sip:alice@pc33.atlanta.com");
    assert_eq!((d.local_seq(), d.remote_seq()), (None, Some(314159)));
    assert_eq!(d.local_uri().tag(), Some("a6c85cf"));
    assert_eq!(d.remote_uri().tag(), Some("1928301774"));
}

#[test]
fn uas_first_request_uses_cseq_1() {
    let mut d = Dialog::from_uas(&bob_receives(), "a6c85cf").expect("dialog");
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.head.cseq.seq, 1);
    assert_eq!(bye.uri.to_string(), "sip:alice@pc33.atlanta.com");
    assert_eq!(routes(&bye), ["sip:p2.biloxi.com;lr", "sip:p1.atlanta.com;lr"]);
    assert_eq!(bye.head.from.tag(), Some("a6c85cf"));
    assert_eq!(bye.head.to.tag(), Some("1928301774"));
}

#[test]
fn uas_dialog_is_confirmed_by_its_2xx_and_ended_by_a_failure() {
    let request = bob_receives();
    let mut d = Dialog::from_uas(&request, "a6c85cf").expect("dialog");
    d.handle_sent_response(&Response::for_request(&request, StatusCode::RINGING, Some("a6c85cf")));
    assert_eq!(d.state(), DialogState::Early);
    d.handle_sent_response(&Response::for_request(&request, StatusCode::OK, Some("a6c85cf")));
    assert_eq!(d.state(), DialogState::Confirmed);
    let mut d = Dialog::from_uas(&request, "a6c85cf").expect("dialog");
    d.handle_sent_response(&Response::for_request(&request, StatusCode::BUSY_HERE, Some("a6c85cf")));
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn uas_request_without_contact_is_refused_with_400() {
    let mut request = bob_receives();
    request.head.headers.remove(&HeaderName::Contact);
    let err = Dialog::from_uas(&request, "x").expect_err("no contact");
    assert_eq!(err, DialogError::NoContact);
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    let tagged = in_dialog("INVITE", 2, Some("sip:a@b"));
    assert_eq!(Dialog::from_uas(&tagged, "x"), Err(DialogError::NotDialogCreating));
}

#[test]
fn lower_cseq_is_refused_with_500() {
    let mut d = answered_dialog();
    d.handle_request(&in_dialog("INFO", 10, None)).expect("first");
    assert_eq!(d.remote_seq(), Some(10));
    let err = d.handle_request(&in_dialog("INFO", 9, None)).expect_err("out of order");
    assert_eq!(err, DialogError::CSeqOutOfOrder { got: 9, last: 10 });
    assert_eq!(err.status(), Some(StatusCode::SERVER_INTERNAL_ERROR));
    assert_eq!(d.remote_seq(), Some(10), "nothing changed");
    d.handle_request(&in_dialog("INFO", 11, None)).expect("in order");
    assert_eq!(d.remote_seq(), Some(11));
    // ACK and CANCEL are not held to the order.
    d.handle_request(&in_dialog("ACK", 3, None)).expect("ack");
    assert_eq!(d.remote_seq(), Some(11));
}

#[test]
fn request_of_another_dialog_gets_481() {
    let mut d = answered_dialog();
    let mut other = in_dialog("BYE", 5, None);
    other.head.from.set_tag("someone-else");
    let err = d.handle_request(&other).expect_err("other dialog");
    assert_eq!(err, DialogError::NotThisDialog);
    assert_eq!(err.status(), Some(StatusCode::CALL_DOES_NOT_EXIST));
    let mut other = bob_answer(200, "sip:bob@192.0.2.4");
    other.head.to.set_tag("fork-2");
    assert_eq!(d.handle_response(&other), Err(DialogError::NotThisDialog));
}

#[test]
fn reinvite_and_update_refresh_the_remote_target() {
    let mut d = answered_dialog();
    d.handle_request(&in_dialog("INVITE", 1, Some("sip:bob@198.51.100.7"))).expect("re-INVITE");
    assert_eq!(d.remote_target().to_string(), "sip:bob@198.51.100.7");
    d.handle_request(&in_dialog("UPDATE", 2, Some("sip:bob@198.51.100.8"))).expect("UPDATE");
    assert_eq!(d.remote_target().to_string(), "sip:bob@198.51.100.8");
    d.handle_request(&in_dialog("INFO", 3, Some("sip:bob@198.51.100.9"))).expect("INFO");
    assert_eq!(d.remote_target().to_string(), "sip:bob@198.51.100.8", "INFO is no target refresh");
    d.handle_request(&in_dialog("INVITE", 4, None)).expect("re-INVITE without Contact");
    assert_eq!(d.remote_target().to_string(), "sip:bob@198.51.100.8");
    let bad = in_dialog("INVITE", 5, Some("not a uri"));
    assert!(matches!(d.handle_request(&bad), Err(DialogError::BadHeader(_))));
    assert_eq!(d.remote_seq(), Some(4), "nothing changed");
}

#[test]
fn target_refresh_requests_carry_the_local_contact_and_its_2xx_refreshes() {
    let mut d = answered_dialog();
    let reinvite = d.request(Method::Invite, via("z9hG4bKre")).expect("re-INVITE");
    let contacts = reinvite.head.contacts().expect("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].to_string(), "<sip:alice@pc33.atlanta.com>");
    d.set_local_contact("<sip:alice@203.0.113.5>".parse::<NameAddr>().expect("addr"));
    let update = d.request(Method::Update, via("z9hG4bKup")).expect("UPDATE");
    assert_eq!(update.head.contacts().expect("contacts")[0].to_string(), "<sip:alice@203.0.113.5>");
    let mut ok = bob_answer(200, "sip:bob@192.0.2.77");
    ok.head.cseq = reinvite.head.cseq.clone();
    d.handle_response(&ok).expect("2xx");
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.77");
    let mut bye_ok = bob_answer(200, "sip:bob@192.0.2.99");
    bye_ok.head.cseq.method = Method::Bye;
    d.handle_response(&bye_ok).expect("2xx to BYE");
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.77", "BYE is no target refresh");
}

#[test]
fn a_481_or_408_terminates_the_dialog() {
    for status in [481, 408] {
        let mut d = answered_dialog();
        let info = d.request(Method::Info, via("z9hG4bKi")).expect("info");
        let r = Response::for_request(&info, StatusCode::new(status).expect("status"), None);
        d.handle_response(&r).expect("response");
        assert_eq!(d.state(), DialogState::Terminated);
    }
}

#[test]
fn record_route_is_copied_into_responses() {
    let request = bob_receives();
    let mut ok = Response::for_request(&request, StatusCode::OK, Some("a6c85cf"));
    copy_record_route(&request, &mut ok);
    let rr: Vec<_> = ok.head.record_routes().expect("rr").iter().map(|a| a.uri.to_string()).collect();
    assert_eq!(rr, ["sip:p2.biloxi.com;lr", "sip:p1.atlanta.com;lr"]);
    // Alice builds the same dialog from it as Bob has, seen from her side.
    ok.head.headers.push(HeaderName::Contact, "<sip:bob@192.0.2.4>");
    let alice = Dialog::from_uac(&alice_invite(), &ok).expect("uac");
    let bob = Dialog::from_uas(&request, "a6c85cf").expect("uas");
    assert_eq!(alice.id().local_tag, bob.id().remote_tag);
    assert_eq!(alice.id().remote_tag, bob.id().local_tag);
    let reversed: Vec<_> = bob.route_set().iter().rev().cloned().collect();
    assert_eq!(alice.route_set(), &reversed[..]);
    assert_eq!(DialogId::of_response(&ok).as_ref(), Some(alice.id()));
}

/// A whole call between two transaction layers: INVITE, 180, 200, ACK,
/// a re-INVITE from the callee, BYE from the caller.
#[test]
fn call_set_up_refreshed_and_hung_up_through_dialogs() {
    let mut sim = Sim::udp();
    let caller_via = |branch: &str| Via::new(Transport::Udp, HostPort::parse(CLIENT).expect("hp"), branch);
    let callee_via = |branch: &str| Via::new(Transport::Udp, HostPort::parse(SERVER).expect("hp"), branch);
    let invite = sim::invite("z9hG4bKinv");
    let server = sim.server.me;
    let client = sim.client.me;
    let inv_id = sim.client.layer.send_request(sim.now, invite.clone(), server).expect("invite");
    sim.flush();

    // Callee: a dialog, 180 then 200 with its Contact.
    let events = sim.take_events(Side::Server);
    let Some(Event::Request { id: sid, request, .. }) = events.into_iter().next() else {
        panic!("no INVITE")
    };
    let mut callee = Dialog::from_uas(&request, "callee-tag").expect("uas dialog");
    callee.set_local_contact("<sip:bob@192.0.2.2:5060>".parse().expect("contact"));
    let ringing = Response::for_request(&request, StatusCode::RINGING, Some("callee-tag"))
        .with_header(HeaderName::Contact, "<sip:bob@192.0.2.2:5060>");
    sim.server.layer.respond(sim.now, sid, ringing).expect("180");
    let ok = Response::for_request(&request, StatusCode::OK, Some("callee-tag"))
        .with_header(HeaderName::Contact, "<sip:bob@192.0.2.2:5060>");
    callee.handle_sent_response(&ok);
    sim.server.layer.respond(sim.now, sid, ok).expect("200");
    sim.flush();

    // Caller: an early dialog from the 180, confirmed by the 200, ACKed.
    let events = sim.take_events(Side::Client);
    let responses: Vec<Response> = events
        .into_iter()
        .filter_map(|e| match e {
            Event::Response { response, .. } => Some(response),
            _ => None,
        })
        .collect();
    assert_eq!(responses.iter().map(|r| r.status.code()).collect::<Vec<_>>(), [180, 200]);
    let mut caller = Dialog::from_uac(&invite, &responses[0]).expect("early");
    assert_eq!(caller.state(), DialogState::Early);
    caller.handle_response(&responses[1]).expect("200");
    assert_eq!(caller.state(), DialogState::Confirmed);
    let ack = caller.ack_for_2xx(&responses[1], caller_via("z9hG4bKack"));
    sim.client.layer.ack_2xx(inv_id, ack, server).expect("ack");
    sim.flush();
    let events = sim.take_events(Side::Server);
    let Some(Event::Ack { request: ack, .. }) = events.first() else { panic!("no ACK: {events:#?}") };
    callee.handle_request(ack).expect("ACK in dialog");
    assert_eq!(callee.state(), DialogState::Confirmed);

    // The callee puts the call on hold: a re-INVITE from its side, CSeq 1.
    let reinvite = callee.request(Method::Invite, callee_via("z9hG4bKhold")).expect("re-INVITE");
    assert_eq!(reinvite.head.cseq.seq, 1);
    assert_eq!(reinvite.uri.to_string(), "sip:alice@192.0.2.1:5060");
    sim.server.layer.send_request(sim.now, reinvite, client).expect("send re-INVITE");
    sim.flush();
    let events = sim.take_events(Side::Client);
    let Some(Event::Request { id: rid, request: re, .. }) =
        events.into_iter().find(|e| matches!(e, Event::Request { .. }))
    else {
        panic!("no re-INVITE")
    };
    assert_eq!(DialogId::of_request(&re).as_ref(), Some(caller.id()));
    caller.handle_request(&re).expect("re-INVITE in dialog");
    assert_eq!(caller.remote_seq(), Some(1));
    let ok = Response::for_request(&re, StatusCode::OK, None)
        .with_header(HeaderName::Contact, "<sip:alice@192.0.2.1:5060>");
    sim.client.layer.respond(sim.now, rid, ok).expect("200 to re-INVITE");
    sim.flush();
    let events = sim.take_events(Side::Server);
    let Some(Event::Response { id: re_id, response: re_ok }) =
        events.into_iter().find(|e| matches!(e, Event::Response { .. }))
    else {
        panic!("no 200 to the re-INVITE")
    };
    callee.handle_response(&re_ok).expect("2xx in dialog");
    let ack = callee.ack_for_2xx(&re_ok, callee_via("z9hG4bKack2"));
    assert_eq!(ack.head.cseq.seq, 1);
    sim.server.layer.ack_2xx(re_id, ack, client).expect("ack re-INVITE");

    // The caller hangs up.
    let bye = caller.request(Method::Bye, caller_via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.head.cseq.seq, 2, "after the INVITE's CSeq 1");
    sim.client.layer.send_request(sim.now, bye, server).expect("send BYE");
    sim.flush();
    let events = sim.take_events(Side::Server);
    let Some(Event::Request { id: bye_id, request: bye, .. }) =
        events.into_iter().find(|e| matches!(e, Event::Request { .. }))
    else {
        panic!("no BYE")
    };
    callee.handle_request(&bye).expect("BYE in dialog");
    callee.terminate();
    sim.server
        .layer
        .respond(sim.now, bye_id, Response::for_request(&bye, StatusCode::OK, None))
        .expect("200");
    sim.flush();
    caller.terminate();
    sim.advance(std::time::Duration::from_secs(60));
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
    let timeouts = |events: Vec<Event>| events.iter().filter(|e| matches!(e, Event::Timeout { .. })).count();
    assert_eq!(timeouts(sim.take_events(Side::Client)), 0);
    assert_eq!(timeouts(sim.take_events(Side::Server)), 0);
    assert_eq!(sim.responses(Side::Server, 200, Method::Invite), 1, "ACKed: not retransmitted");
    assert_eq!(sim.responses(Side::Client, 200, Method::Invite), 1, "ACKed: not retransmitted");
}
