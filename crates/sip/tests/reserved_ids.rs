//! Client transaction ids the TU reserves itself (`TxIds`), so that it
//! need not wait for the layer to learn them.

mod sim;

use sim::{invite, request, Side, Sim};
use sip::transaction::{Event, TransactionError, Transactions};
use sip::{Method, Response, StatusCode};

#[test]
fn a_reserved_id_names_the_transaction_and_its_responses() {
    let mut sim = Sim::udp();
    let ids = sim.client.layer.ids();
    let id = ids.client();
    let peer = sim.server.me;
    sim.client.layer.send_request_as(sim.now, id, request(Method::Options, "z9hG4bKr1"), peer).expect("send");
    sim.flush();
    let events = sim.take_events(Side::Server);
    let Some(Event::Request { id: sid, request: got, .. }) = events.into_iter().next() else {
        panic!("no request")
    };
    let ok = Response::for_request(&got, StatusCode::OK, Some("t"));
    sim.server.layer.respond(sim.now, sid, ok).expect("respond");
    sim.flush();
    let answered = sim.take_events(Side::Client).into_iter().any(
        |e| matches!(e, Event::Response { id: rid, response } if rid == id && response.status.code() == 200),
    );
    assert!(answered, "the 200 comes under the reserved id");
}

#[test]
fn ids_are_never_given_twice() {
    let mut layer = Transactions::default();
    let now = std::time::Instant::now();
    let peer = sip::transaction::Peer::udp("192.0.2.2:5060".parse().expect("addr"));
    let shared = layer.ids();
    let mine = shared.clone().client();
    let theirs = layer.send_request(now, request(Method::Options, "z9hG4bKa"), peer).expect("send");
    assert_ne!(mine, theirs);
    assert_ne!(shared.client(), mine);
    layer.send_request_as(now, mine, invite("z9hG4bKb"), peer).expect("send");
    assert_eq!(
        layer.send_request_as(now, mine, invite("z9hG4bKc"), peer),
        Err(TransactionError::IdInUse),
        "a live id is refused"
    );
    assert_eq!(
        layer.send_request_as(now, theirs, request(Method::Options, "z9hG4bKd"), peer),
        Err(TransactionError::IdInUse)
    );
}
