//! The transaction layer between two simulated endpoints: one scenario per
//! test, named for the behaviour.

mod sim;

use std::time::Duration;

use sim::{invite, ms, request, Fate, Side, Sim, CLIENT};
use sip::dialog::Dialog;
use sip::header::{Rport, Transport, Via};
use sip::transaction::{
    ClientTxId, Config, Event, Peer, Protocol, ServerTxId, TransactionError, Transactions, TxId,
};
use sip::{HeaderName, HostPort, Method, Request, Response, StatusCode};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The new requests the server's TU was given.
fn new_requests(events: &[Event]) -> Vec<(ServerTxId, Request)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Request { id, request, .. } => Some((*id, request.clone())),
            _ => None,
        })
        .collect()
}

/// (transaction, status) of every response the client's TU was given.
fn responses(events: &[Event]) -> Vec<(ClientTxId, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id, response } => Some((*id, response.status.code())),
            _ => None,
        })
        .collect()
}

fn response_of(events: &[Event], status: u16) -> Response {
    events
        .iter()
        .find_map(|e| match e {
            Event::Response { response, .. } if response.status.code() == status => Some(response.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {status} in {events:#?}"))
}

fn timeouts(events: &[Event]) -> Vec<TxId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Timeout { id } => Some(*id),
            _ => None,
        })
        .collect()
}

fn acks(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Ack { .. })).count()
}

fn status(code: u16) -> StatusCode {
    StatusCode::new(code).expect("status")
}

/// The server's TU answers `request` on `id`.
fn answer(sim: &mut Sim, id: ServerTxId, request: &Request, code: u16, tag: &str) {
    let mut r = Response::for_request(request, status(code), Some(tag));
    if code < 300 {
        r = r.with_header(HeaderName::Contact, "<sip:bob@192.0.2.2:5060>");
    }
    sim.server.layer.respond(sim.now, id, r).expect("respond");
    sim.flush();
}

/// Sends `request` from the client and returns its id and the server
/// transaction it created (when delivered).
fn send(sim: &mut Sim, request: Request) -> ClientTxId {
    let peer = sim.server.me;
    let id = sim.client.layer.send_request(sim.now, request, peer).expect("send");
    sim.flush();
    id
}

fn only_request(sim: &mut Sim) -> (ServerTxId, Request) {
    let events = sim.take_events(Side::Server);
    let reqs = new_requests(&events);
    assert_eq!(reqs.len(), 1, "{events:#?}");
    reqs.into_iter().next().expect("one request")
}

fn at(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|n| ms(*n)).collect()
}

#[test]
fn invite_retransmitted_until_100() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|s| {
        if s.is_response(100, &Method::Invite) && s.at < ms(1400) {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let id = send(&mut sim, invite("z9hG4bKa"));
    sim.advance(secs(20));
    // Timer A: T1, then doubling; the 100 that gets through stops it.
    assert_eq!(sim.request_times(Side::Client, Method::Invite), at(&[0, 500, 1500]));
    // 100 at 200 ms by timer, then once per retransmission.
    let trying: Vec<_> = sim.sent_by(Side::Server, |s| s.is_response(100, &Method::Invite));
    assert_eq!(trying.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[200, 500, 1500]));
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 100)]);
    assert_eq!(new_requests(&sim.take_events(Side::Server)).len(), 1);
}

#[test]
fn timer_b_times_out() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|s| if s.from == Side::Client { Fate::Drop } else { Fate::Deliver });
    let id = send(&mut sim, invite("z9hG4bKa"));
    sim.advance(ms(31_999));
    assert!(sim.take_events(Side::Client).is_empty());
    sim.advance(ms(1));
    assert_eq!(
        sim.request_times(Side::Client, Method::Invite),
        at(&[0, 500, 1500, 3500, 7500, 15_500, 31_500])
    );
    assert_eq!(
        sim.take_events(Side::Client),
        [Event::Timeout { id: TxId::Client(id) }, Event::Terminated { id: TxId::Client(id) }]
    );
    assert!(sim.client.layer.is_empty());
}

#[test]
fn timer_f_times_out() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|s| if s.from == Side::Client { Fate::Drop } else { Fate::Deliver });
    let id = send(&mut sim, request(Method::Options, "z9hG4bKo"));
    sim.advance(secs(40));
    // Timer E doubles up to T2 = 4 s.
    assert_eq!(
        sim.request_times(Side::Client, Method::Options),
        at(&[0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
    );
    let events = sim.take_events(Side::Client);
    assert_eq!(timeouts(&events), [TxId::Client(id)]);
    assert!(sim.client.layer.is_empty());
}

#[test]
fn non_invite_retransmits_every_t2_after_a_provisional() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, request(Method::Options, "z9hG4bKo"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 100, "t");
    sim.advance(secs(40));
    let times = at(&[0, 500, 4500, 8500, 12_500, 16_500, 20_500, 24_500, 28_500]);
    assert_eq!(sim.request_times(Side::Client, Method::Options), times);
    // Each retransmission gets the provisional response again.
    assert_eq!(sim.responses(Side::Server, 100, Method::Options), times.len());
    assert_eq!(timeouts(&sim.take_events(Side::Client)), [TxId::Client(id)]);
    assert!(sim.client.layer.is_empty());
}

#[test]
fn quick_answer_suppresses_100_trying() {
    let mut sim = Sim::udp();
    send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    sim.advance_ms(150);
    answer(&mut sim, sid, &req, 180, "bob");
    sim.advance(secs(2));
    assert_eq!(sim.responses(Side::Server, 100, Method::Invite), 0);
    assert_eq!(sim.responses(Side::Server, 180, Method::Invite), 1);
    assert_eq!(sim.requests(Side::Client, Method::Invite), 1);
}

#[test]
fn slow_answer_gets_100_trying_after_200ms() {
    let mut sim = Sim::udp();
    send(&mut sim, invite("z9hG4bKa"));
    sim.advance(secs(5));
    let trying = sim.sent_by(Side::Server, |s| s.is_response(100, &Method::Invite));
    assert_eq!(trying.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[200]));
    let t = &trying[0].message;
    assert_eq!(t.head().to_tag(), None, "100 Trying carries no tag");
    // Proceeding: no more retransmissions and no timeout.
    sim.advance(secs(60));
    assert_eq!(sim.requests(Side::Client, Method::Invite), 1);
    assert_eq!(sim.client.layer.len(), 1);
}

#[test]
fn trying_delay_zero_sends_100_at_once() {
    let config = Config { trying_delay: Duration::ZERO, ..Config::default() };
    let mut sim = Sim::new(Protocol::Udp, Config::default(), config);
    send(&mut sim, invite("z9hG4bKa"));
    let trying = sim.sent_by(Side::Server, |s| s.is_response(100, &Method::Invite));
    assert_eq!(trying.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[0]));
}

#[test]
fn non_2xx_final_is_acked_by_the_layer() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    let acks_sent = sim.sent_by(Side::Client, |s| s.is_request(&Method::Ack));
    assert_eq!(acks_sent.len(), 1);
    let ack = acks_sent[0].message.as_request().expect("request");
    assert_eq!(ack.head.branch(), Some("z9hG4bKa"), "same branch as the INVITE");
    assert_eq!((ack.head.cseq.seq, &ack.head.cseq.method), (1, &Method::Ack));
    assert_eq!(ack.head.to_tag(), Some("bob"), "To from the response");
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 486)]);
    // The ACK was absorbed by the server transaction, not given to the TU.
    assert_eq!(acks(&sim.take_events(Side::Server)), 0);
    sim.advance(secs(40));
    assert_eq!(sim.responses(Side::Server, 486, Method::Invite), 1);
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
}

#[test]
fn timer_i_and_d_end_the_transactions() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    sim.take_events(Side::Client);
    sim.take_events(Side::Server);
    sim.advance(ms(4999));
    assert_eq!(sim.server.layer.len(), 1);
    sim.advance(ms(1));
    assert_eq!(sim.take_events(Side::Server), [Event::Terminated { id: TxId::Server(sid) }]);
    sim.advance(ms(26_999));
    assert_eq!(sim.client.layer.len(), 1);
    sim.advance(ms(1));
    assert_eq!(sim.take_events(Side::Client), [Event::Terminated { id: TxId::Client(id) }]);
}

#[test]
fn final_response_retransmitted_until_ack() {
    let mut sim = Sim::udp();
    let mut dropped = false;
    sim.fate = Box::new(move |s| {
        if s.is_request(&Method::Ack) && !dropped {
            dropped = true;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    sim.advance(secs(40));
    // Timer G resends the 486; the client's Completed state re-ACKs it.
    let finals = sim.sent_by(Side::Server, |s| s.is_response(486, &Method::Invite));
    assert_eq!(finals.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[0, 500]));
    assert_eq!(finals[0].bytes, finals[1].bytes);
    assert_eq!(sim.requests(Side::Client, Method::Ack), 2);
    assert!(timeouts(&sim.take_events(Side::Server)).is_empty());
    assert_eq!(responses(&sim.take_events(Side::Client)).len(), 1, "retransmissions are absorbed");
}

#[test]
fn timer_h_times_out_without_ack() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|s| if s.is_request(&Method::Ack) { Fate::Drop } else { Fate::Deliver });
    send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    sim.advance(secs(40));
    let finals = sim.sent_by(Side::Server, |s| s.is_response(486, &Method::Invite));
    // Timer G: T1 doubling up to T2, until timer H at 64*T1.
    assert_eq!(
        finals.iter().map(|s| s.at).collect::<Vec<_>>(),
        at(&[0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
    );
    let events = sim.take_events(Side::Server);
    assert_eq!(timeouts(&events), [TxId::Server(sid)]);
    assert!(sim.server.layer.is_empty());
}

#[test]
fn cancel_matches_its_invite() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    sim.advance_ms(300);
    let cancel = sim.client.layer.cancel(sim.now, id).expect("cancel");
    assert_eq!(sim.client.layer.cancel(sim.now, id), Ok(cancel), "asking twice gives the same CANCEL");
    sim.flush();
    let sent = sim.sent_by(Side::Client, |s| s.is_request(&Method::Cancel));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.head().branch(), Some("z9hG4bKa"));
    // The layer answered the CANCEL and told the TU which INVITE it cancels.
    assert_eq!(sim.responses(Side::Server, 200, Method::Cancel), 1);
    let events = sim.take_events(Side::Server);
    assert!(new_requests(&events).is_empty(), "CANCEL is not a new request for the TU");
    let cancelled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Cancel { invite, cancel } => Some((*invite, cancel.method.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, [(sid, Method::Cancel)]);
    answer(&mut sim, sid, &req, 487, "bob");
    let events = sim.take_events(Side::Client);
    assert_eq!(responses(&events), [(id, 100), (cancel, 200), (id, 487)]);
    assert_eq!(sim.requests(Side::Client, Method::Ack), 1);
    sim.advance(secs(40));
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
}

#[test]
fn cancel_before_a_provisional_waits_for_it() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let cancel = sim.client.layer.cancel(sim.now, id).expect("cancel");
    sim.advance_ms(199);
    assert_eq!(sim.requests(Side::Client, Method::Cancel), 0, "held until a provisional response");
    sim.advance_ms(1);
    assert_eq!(sim.request_times(Side::Client, Method::Cancel), at(&[200]));
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 100), (cancel, 200)]);
}

#[test]
fn held_cancel_is_dropped_when_a_final_comes_first() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let cancel = sim.client.layer.cancel(sim.now, id).expect("cancel");
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    assert_eq!(sim.requests(Side::Client, Method::Cancel), 0);
    let events = sim.take_events(Side::Client);
    assert!(events.contains(&Event::Terminated { id: TxId::Client(cancel) }), "{events:#?}");
    assert_eq!(sim.client.layer.cancel(sim.now, id), Err(TransactionError::AlreadyFinal));
}

#[test]
fn cancel_matching_nothing_gets_481() {
    let mut sim = Sim::udp();
    let lone = request(Method::Cancel, "z9hG4bKnothing");
    let id = send(&mut sim, lone);
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 481)]);
    assert!(sim.take_events(Side::Server).is_empty());
}

#[test]
fn cancel_after_the_final_response_gets_200_and_no_event() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|s| if s.is_response(486, &Method::Invite) { Fate::Drop } else { Fate::Deliver });
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    sim.advance_ms(300);
    answer(&mut sim, sid, &req, 486, "bob");
    sim.client.layer.cancel(sim.now, id).expect("cancel");
    sim.flush();
    let ok = sim.sent_by(Side::Server, |s| s.is_response(200, &Method::Cancel));
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].message.head().to_tag(), Some("bob"), "the INVITE's tag");
    assert!(!sim.take_events(Side::Server).iter().any(|e| matches!(e, Event::Cancel { .. })));
}

#[test]
fn ack_for_2xx_goes_to_the_tu() {
    let mut sim = Sim::udp();
    let inv = invite("z9hG4bKa");
    let id = send(&mut sim, inv.clone());
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    let ok = response_of(&sim.take_events(Side::Client), 200);
    let dialog = Dialog::from_uac(&inv, &ok).expect("dialog");
    let via = Via::new(Transport::Udp, HostPort::parse(CLIENT).expect("hp"), "z9hG4bKack");
    let ack = dialog.ack_for_2xx(&ok, via);
    let peer = sim.server.me;
    sim.client.layer.ack_2xx(id, ack, peer).expect("ack");
    sim.flush();
    let events = sim.take_events(Side::Server);
    let got: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Ack { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].head.branch(), Some("z9hG4bKack"), "a new transaction");
    assert_eq!((got[0].head.cseq.seq, &got[0].head.cseq.method), (1, &Method::Ack));
    sim.advance(secs(40));
    assert_eq!(sim.responses(Side::Server, 200, Method::Invite), 1, "the ACK stopped 2xx retransmissions");
    assert!(timeouts(&sim.take_events(Side::Server)).is_empty());
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
}

#[test]
fn an_accepted_invite_keeps_only_what_absorbing_needs() {
    let mut sim = Sim::udp();
    let inv = invite("z9hG4bKa");
    let id = send(&mut sim, inv.clone());
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    let ok = response_of(&sim.take_events(Side::Client), 200);
    let dialog = Dialog::from_uac(&inv, &ok).expect("dialog");
    let via = Via::new(Transport::Udp, HostPort::parse(CLIENT).expect("hp"), "z9hG4bKack");
    let peer = sim.server.me;
    sim.client.layer.ack_2xx(id, dialog.ack_for_2xx(&ok, via), peer).expect("ack");
    sim.flush();
    assert_eq!(acks(&sim.take_events(Side::Server)), 1);
    assert_eq!((sim.server.layer.live(), sim.server.layer.retained()), (0, 1), "finished, retained");
    assert_eq!(
        sim.server.layer.respond(sim.now, sid, Response::for_request(&req, StatusCode::OK, Some("bob"))),
        Err(TransactionError::AlreadyFinal)
    );
    // A retransmitted INVITE is absorbed; a CANCEL gets 200 with the tag.
    let client = sim.client.me;
    sim.server.layer.handle_message(sim.now, inv.into(), client);
    let cancel = request(Method::Cancel, "z9hG4bKa");
    sim.server.layer.handle_message(sim.now, cancel.into(), client);
    sim.flush();
    assert!(new_requests(&sim.take_events(Side::Server)).is_empty());
    assert_eq!(sim.responses(Side::Server, 200, Method::Invite), 1, "no 2xx again");
    let ok = sim.sent_by(Side::Server, |s| s.is_response(200, &Method::Cancel));
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].message.head().to_tag(), Some("bob"), "the INVITE's tag");
    // Timer L ends it, reported then as before.
    sim.advance(secs(40));
    assert!(sim.take_events(Side::Server).contains(&Event::Terminated { id: TxId::Server(sid) }));
    assert!(sim.server.layer.is_empty());
}

#[test]
fn lost_ack_gets_the_2xx_again_and_the_layer_re_acks() {
    let mut sim = Sim::udp();
    let mut dropped = false;
    sim.fate = Box::new(move |s| {
        if s.is_request(&Method::Ack) && !dropped {
            dropped = true;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let inv = invite("z9hG4bKa");
    let id = send(&mut sim, inv.clone());
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    let ok = response_of(&sim.take_events(Side::Client), 200);
    let dialog = Dialog::from_uac(&inv, &ok).expect("dialog");
    let via = Via::new(Transport::Udp, HostPort::parse(CLIENT).expect("hp"), "z9hG4bKack");
    let peer = sim.server.me;
    sim.client.layer.ack_2xx(id, dialog.ack_for_2xx(&ok, via), peer).expect("ack");
    sim.advance(secs(40));
    let oks = sim.sent_by(Side::Server, |s| s.is_response(200, &Method::Invite));
    assert_eq!(oks.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[0, 500]));
    let acks_sent = sim.sent_by(Side::Client, |s| s.is_request(&Method::Ack));
    assert_eq!(acks_sent.len(), 2);
    assert_eq!(acks_sent[0].bytes, acks_sent[1].bytes, "the same ACK again");
    assert!(responses(&sim.take_events(Side::Client)).is_empty(), "the ACKed 2xx is not reported again");
    assert_eq!(acks(&sim.take_events(Side::Server)), 1);
}

#[test]
fn unacked_2xx_is_retransmitted_then_times_out() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    sim.advance(secs(40));
    let times = at(&[0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    let oks = sim.sent_by(Side::Server, |s| s.is_response(200, &Method::Invite));
    assert_eq!(oks.iter().map(|s| s.at).collect::<Vec<_>>(), times);
    // Every 2xx reaches the TU, which must ACK each.
    assert_eq!(responses(&sim.take_events(Side::Client)), vec![(id, 200); times.len()]);
    assert_eq!(timeouts(&sim.take_events(Side::Server)), [TxId::Server(sid)]);
}

#[test]
fn tu_retransmits_2xx_itself_when_the_layer_does_not() {
    let server = Config { retransmit_2xx: false, ..Config::default() };
    let mut sim = Sim::new(Protocol::Udp, Config::default(), server);
    let mut first = true;
    sim.fate = Box::new(move |s| {
        if s.is_response(200, &Method::Invite) && first {
            first = false;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    sim.advance(secs(2));
    // Accepted absorbs the INVITE retransmissions (at 0.5 and 1.5 s).
    assert_eq!(sim.requests(Side::Client, Method::Invite), 3);
    assert_eq!(sim.responses(Side::Server, 200, Method::Invite), 1);
    assert!(new_requests(&sim.take_events(Side::Server)).is_empty());
    answer(&mut sim, sid, &req, 200, "bob");
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 200)]);
    sim.advance(secs(40));
    assert!(timeouts(&sim.take_events(Side::Server)).is_empty(), "no ACK watch when the TU does it");
}

#[test]
fn forked_2xx_responses_all_reach_the_tu() {
    let mut sim = Sim::udp();
    let inv = invite("z9hG4bKa");
    let id = send(&mut sim, inv.clone());
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "fork-a");
    let mut second = Response::for_request(&req, StatusCode::OK, Some("fork-b"));
    second.head.to.set_tag("fork-b");
    sim.server.layer.respond(sim.now, sid, second).expect("second 2xx");
    sim.flush();
    let events = sim.take_events(Side::Client);
    let tags: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Response { id: rid, response } if *rid == id => response.head.to_tag().map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(tags, ["fork-a", "fork-b"]);
}

#[test]
fn stray_2xx_after_the_transaction_ended_goes_to_the_tu() {
    let mut sim = Sim::udp();
    let inv = invite("z9hG4bKa");
    send(&mut sim, inv);
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    sim.advance(secs(33));
    sim.take_events(Side::Client);
    assert!(sim.client.layer.is_empty(), "timer M ended the client transaction");
    let late = Response::for_request(&req, StatusCode::OK, Some("bob"));
    let peer = sim.client.me;
    sim.server.layer.send_stateless(late, peer);
    sim.flush();
    let events = sim.take_events(Side::Client);
    assert!(
        matches!(&events[..], [Event::StrayResponse { response, .. }] if response.status == StatusCode::OK)
    );
}

#[test]
fn retransmitted_request_gets_the_last_response() {
    let mut sim = Sim::udp();
    let mut first = true;
    sim.fate = Box::new(move |s| {
        if s.is_response(200, &Method::Options) && first {
            first = false;
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    let id = send(&mut sim, request(Method::Options, "z9hG4bKo"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    sim.advance(secs(40));
    let oks = sim.sent_by(Side::Server, |s| s.is_response(200, &Method::Options));
    assert_eq!(oks.iter().map(|s| s.at).collect::<Vec<_>>(), at(&[0, 500]));
    assert_eq!(oks[0].bytes, oks[1].bytes);
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 200)]);
    assert!(new_requests(&sim.take_events(Side::Server)).is_empty(), "no second request for the TU");
}

#[test]
fn retransmission_before_any_response_is_absorbed() {
    let mut sim = Sim::udp();
    send(&mut sim, request(Method::Options, "z9hG4bKo"));
    let (sid, req) = only_request(&mut sim);
    sim.advance_ms(1000);
    assert_eq!(sim.requests(Side::Client, Method::Options), 2);
    assert!(sim.sent_by(Side::Server, |_| true).is_empty());
    assert!(sim.take_events(Side::Server).is_empty());
    answer(&mut sim, sid, &req, 200, "bob");
    sim.advance(secs(40));
    assert_eq!(sim.responses(Side::Server, 200, Method::Options), 1);
}

#[test]
fn reliable_transport_has_no_retransmissions() {
    let mut sim = Sim::tcp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    sim.advance(secs(1));
    answer(&mut sim, sid, &req, 486, "bob");
    // No timer D or I: both transactions end with their last message.
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
    assert_eq!(sim.poll_timeouts(), (None, None));
    assert_eq!(sim.requests(Side::Client, Method::Invite), 1);
    assert_eq!(sim.requests(Side::Client, Method::Ack), 1);
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 100), (id, 486)]);

    let id = send(&mut sim, request(Method::Options, "z9hG4bKo"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty(), "no timer J or K");
    sim.advance(secs(40));
    assert_eq!(sim.requests(Side::Client, Method::Options), 1);
    assert_eq!(sim.responses(Side::Server, 200, Method::Options), 1);
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 200)]);
}

#[test]
fn reliable_transport_still_times_out() {
    let mut sim = Sim::tcp();
    sim.fate = Box::new(|s| if s.from == Side::Client { Fate::Drop } else { Fate::Deliver });
    let id = send(&mut sim, invite("z9hG4bKa"));
    sim.advance(secs(40));
    assert_eq!(sim.request_times(Side::Client, Method::Invite), at(&[0]));
    assert_eq!(timeouts(&sim.take_events(Side::Client)), [TxId::Client(id)]);
}

#[test]
fn duplicated_packets_are_absorbed() {
    let mut sim = Sim::udp();
    sim.fate = Box::new(|_| Fate::Duplicate);
    let id = send(&mut sim, request(Method::Options, "z9hG4bKo"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 200, "bob");
    assert_eq!(responses(&sim.take_events(Side::Client)), [(id, 200)]);

    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, req) = only_request(&mut sim);
    answer(&mut sim, sid, &req, 486, "bob");
    // The duplicate INVITE is a retransmission: it gets the 100 at once;
    // each provisional response reaches the TU, the final one only once.
    let finals: Vec<_> =
        responses(&sim.take_events(Side::Client)).into_iter().filter(|r| r.1 >= 200).collect();
    assert_eq!(finals, [(id, 486)]);
    assert_eq!(acks(&sim.take_events(Side::Server)), 0);
    sim.advance(secs(40));
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
}

#[test]
fn transport_error_ends_the_transactions_of_that_peer() {
    let mut sim = Sim::udp();
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, _) = only_request(&mut sim);
    sim.take_events(Side::Client);
    let server = sim.server.me;
    sim.client.layer.handle_transport_error(server);
    assert_eq!(
        sim.take_events(Side::Client),
        [Event::TransportError { id: TxId::Client(id) }, Event::Terminated { id: TxId::Client(id) }]
    );
    let client = sim.client.me;
    sim.server.layer.handle_transport_error(client);
    assert_eq!(
        sim.take_events(Side::Server),
        [Event::TransportError { id: TxId::Server(sid) }, Event::Terminated { id: TxId::Server(sid) }]
    );
    assert_eq!(
        sim.server.layer.respond(
            sim.now,
            sid,
            Response::for_request(&invite("z9hG4bKa"), StatusCode::OK, None)
        ),
        Err(TransactionError::UnknownTransaction)
    );
}

#[test]
fn too_many_transactions_are_refused_with_503() {
    let one = Config { max_transactions: 1, ..Config::default() };
    let mut sim = Sim::new(Protocol::Udp, one, one);
    send(&mut sim, request(Method::Options, "z9hG4bK1"));
    let peer = sim.server.me;
    assert_eq!(
        sim.client.layer.send_request(sim.now, request(Method::Options, "z9hG4bK2"), peer),
        Err(TransactionError::TooManyTransactions)
    );
    let mut other = Transactions::new(Config::default());
    other.send_request(sim.now, request(Method::Options, "z9hG4bK2"), peer).expect("send");
    let t = other.poll_transmit().expect("transmit");
    let client = sim.client.me;
    sim.server.layer.handle_message(sim.now, sip::parse_message(&t.bytes).expect("parse"), client);
    sim.flush();
    assert_eq!(sim.responses(Side::Server, 503, Method::Options), 1);
    assert_eq!(new_requests(&sim.take_events(Side::Server)).len(), 1, "only the first one");
}

#[test]
fn received_and_rport_are_stamped_on_requests() {
    let mut sim = Sim::udp();
    let mut req = request(Method::Options, "z9hG4bKo");
    req.head.via[0].sent_by = HostPort::parse("10.0.0.7:5070").expect("hp");
    req.head.via[0].params.set("rport", None);
    send(&mut sim, req);
    let (_, got) = only_request(&mut sim);
    let via = &got.head.via[0];
    assert_eq!(via.received(), Some("192.0.2.1"));
    assert_eq!(via.rport(), Rport::Port(5060));
}

#[test]
fn tu_errors() {
    let mut layer = Transactions::default();
    let now = std::time::Instant::now();
    let peer = Peer::udp("192.0.2.2:5060".parse().expect("addr"));
    let mut no_branch = request(Method::Options, "old-style");
    assert_eq!(layer.send_request(now, no_branch.clone(), peer), Err(TransactionError::NoBranch));
    no_branch.head.via.clear();
    assert_eq!(layer.send_request(now, no_branch, peer), Err(TransactionError::NoBranch));
    assert_eq!(layer.send_request(now, request(Method::Ack, "z9hG4bKx"), peer), Err(TransactionError::Ack));
    let id = layer.send_request(now, request(Method::Options, "z9hG4bKx"), peer).expect("send");
    assert_eq!(
        layer.send_request(now, request(Method::Options, "z9hG4bKx"), peer),
        Err(TransactionError::DuplicateBranch)
    );
    assert_eq!(layer.cancel(now, id), Err(TransactionError::NotInvite));
    assert_eq!(layer.ack_2xx(id, request(Method::Ack, "z9hG4bKy"), peer), Err(TransactionError::NotInvite));
    let inv = layer.send_request(now, invite("z9hG4bKi"), peer).expect("send");
    assert_eq!(
        layer.ack_2xx(inv, request(Method::Ack, "z9hG4bKy"), peer),
        Err(TransactionError::NotAccepted)
    );
    assert_eq!(layer.ack_2xx(inv, request(Method::Bye, "z9hG4bKy"), peer), Err(TransactionError::NotAck));

    // Server side: wrong method, answers after the final one.
    let mut server = Transactions::default();
    let client = Peer::udp(CLIENT.parse().expect("addr"));
    let req = invite("z9hG4bKs");
    server.handle_message(now, req.clone().into(), client);
    let Some(Event::Request { id: sid, .. }) = server.poll_event() else { panic!("no request") };
    let wrong = Response::for_request(&request(Method::Options, "z9hG4bKs"), StatusCode::OK, None);
    assert_eq!(server.respond(now, sid, wrong), Err(TransactionError::WrongMethod));
    server.respond(now, sid, Response::for_request(&req, status(486), Some("t"))).expect("486");
    assert_eq!(
        server.respond(now, sid, Response::for_request(&req, StatusCode::OK, Some("t"))),
        Err(TransactionError::AlreadyFinal)
    );
}

#[test]
fn rfc2543_requests_match_on_their_fields() {
    let mut layer = Transactions::default();
    let now = std::time::Instant::now();
    let client = Peer::udp(CLIENT.parse().expect("addr"));
    let old = invite("not-a-cookie");
    layer.handle_message(now, old.clone().into(), client);
    layer.handle_message(now, old.clone().into(), client);
    let events: Vec<_> = std::iter::from_fn(|| layer.poll_event()).collect();
    let reqs = new_requests(&events);
    assert_eq!(reqs.len(), 1, "the retransmission matched");
    let mut r = Response::for_request(&old, status(404), Some("t"));
    r.head.via = old.head.via.clone();
    layer.respond(now, reqs[0].0, r.clone()).expect("404");
    // The ACK (same fields, To tag added) is absorbed by the transaction.
    let ack = old.ack_for(&r);
    layer.handle_message(now, ack.into(), client);
    assert!(std::iter::from_fn(|| layer.poll_event()).all(|e| !matches!(e, Event::Ack { .. })));
}

#[test]
fn every_timer_is_cleaned_up() {
    let mut sim = Sim::udp();
    sim.fate =
        Box::new(|s| if s.at < ms(600) && s.is_request(&Method::Ack) { Fate::Drop } else { Fate::Deliver });
    for (i, code) in [200u16, 486, 180].into_iter().enumerate() {
        let id = send(&mut sim, invite(&format!("z9hG4bKi{i}")));
        let (sid, req) = only_request(&mut sim);
        answer(&mut sim, sid, &req, code, "bob");
        if code == 180 {
            sim.client.layer.cancel(sim.now, id).expect("cancel");
            sim.flush();
            answer(&mut sim, sid, &req, 487, "bob");
        }
        send(&mut sim, request(Method::Options, &format!("z9hG4bKo{i}")));
        let (sid, req) = only_request(&mut sim);
        answer(&mut sim, sid, &req, 200, "bob");
        sim.advance_ms(100);
    }
    sim.advance(secs(60));
    assert!(sim.client.layer.is_empty() && sim.server.layer.is_empty());
    assert_eq!((sim.client.layer.queued_timers(), sim.server.layer.queued_timers()), (0, 0));
    assert_eq!(sim.poll_timeouts(), (None, None));
}

#[test]
fn cancel_is_answered_even_at_the_limit() {
    let one = Config { max_transactions: 1, ..Config::default() };
    let mut sim = Sim::new(Protocol::Udp, Config::default(), one);
    let id = send(&mut sim, invite("z9hG4bKa"));
    let (sid, _) = only_request(&mut sim);
    sim.advance_ms(300);
    sim.client.layer.cancel(sim.now, id).expect("cancel");
    sim.flush();
    assert_eq!(sim.responses(Side::Server, 200, Method::Cancel), 1);
    let events = sim.take_events(Side::Server);
    assert!(
        events.iter().any(|e| matches!(e, Event::Cancel { invite, .. } if *invite == sid)),
        "{events:#?}"
    );
}

#[test]
fn server_transactions_are_held_to_a_byte_budget() {
    // Room for about two requests with a 3 KB Via each.
    let small = Config { max_server_bytes: 9_000, ..Config::default() };
    let mut sim = Sim::new(Protocol::Udp, Config::default(), small);
    let fat = |branch: &str| {
        let mut r = request(Method::Options, branch);
        r.head.via[0].params.set("x-pad", Some("p".repeat(3000).as_str()));
        r
    };
    for b in ["z9hG4bKf1", "z9hG4bKf2", "z9hG4bKf3"] {
        send(&mut sim, fat(b));
    }
    let events = sim.take_events(Side::Server);
    assert_eq!(new_requests(&events).len(), 2, "the third is refused: {events:#?}");
    assert_eq!(sim.responses(Side::Server, 503, Method::Options), 1);
    assert!(sim.server.layer.server_bytes() <= 9_000);
    // Small requests still fit beside them... until the budget is spent.
    for (id, _) in new_requests(&events) {
        let ok = Response::for_request(&fat("z9hG4bKx"), StatusCode::OK, Some("t"));
        let _ = sim.server.layer.respond(sim.now, id, ok);
    }
    sim.advance(secs(40));
    assert_eq!(sim.server.layer.server_bytes(), 0, "ended transactions give their bytes back");
    send(&mut sim, fat("z9hG4bKf4"));
    assert_eq!(new_requests(&sim.take_events(Side::Server)).len(), 1, "room again");
}
