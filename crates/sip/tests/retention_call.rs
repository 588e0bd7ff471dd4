//! What one B2BUA call leaves in the transaction layer once it is over:
//! the finished transactions that absorb retransmissions for their timers
//! (RFC 3261 17, RFC 6026). Counted in heap bytes from jemalloc's statistics
//! (the binary's allocator), not RSS, so that the figure is exact and does not move with
//! the allocator's pages. One file, one test, so that nothing else
//! allocates meanwhile.
//!
//! Per call, as the engine does it: on the caller's side (server
//! transactions) the INVITE answered 407 and ACKed (timer I, T4), the
//! INVITE with credentials answered 200 and ACKed (timer L, 64*T1) and the
//! BYE answered 200 (timer J, 64*T1); on the callee's side (client
//! transactions) the INVITE answered 200 and ACKed by the TU (timer M,
//! 64*T1) and the BYE answered 200 (timer K, T4).

mod call_model;

use std::time::{Duration, Instant};

use call_model::{ack_to_callee, call, from_caller, live, to_callee};
use sip::transaction::{Config, Peer, Transactions};
use sip::{HeaderName, Message, Response, StatusCode};

#[test]
fn a_finished_call_leaves_little_behind() {
    const N: usize = 20_000;
    let start = Instant::now();
    let mut layer = Transactions::new(Config::default());
    // Warm up: the tables' first growth and whatever is made once.
    call(&mut layer, start, N);
    let before = live();
    for i in 0..N {
        call(&mut layer, start, i);
    }
    let all = (live() - before) as usize / N;
    assert_eq!(layer.live(), 2 * (N + 1), "the callee's INVITE and BYE wait for timers M and K");
    assert_eq!(layer.retained(), 3 * (N + 1), "the caller's three transactions absorb retransmissions");
    // Past T4 only the three 64*T1 ones are left (timers L, J and M).
    layer.handle_timeout(start + Duration::from_secs(6));
    while layer.poll_event().is_some() {}
    let long = (live() - before) as usize / N;
    assert_eq!(layer.len(), 3 * (N + 1));
    // What a call costs over 64*T1, on average: all five for T4, three for the rest.
    let t4 = layer.config().t4.as_secs_f64();
    let window = (64 * layer.config().t1).as_secs_f64();
    let average = (all as f64 * t4 + long as f64 * (window - t4)) / window;
    println!("{N} calls: {all} B a call with all five, {long} B with three, {average:.0} B on average");

    // Retransmissions are still absorbed: the BYE gets its 200 again.
    let peer = Peer::udp("127.0.0.1:5070".parse().expect("addr"));
    let bye = from_caller("BYE", 7, 4, 3, ";tag=0192f3a4-00000007", "");
    layer.handle_message(start + Duration::from_secs(7), Message::Request(bye), peer);
    assert!(layer.poll_event().is_none());
    let again = layer.poll_transmit().expect("the 200 again");
    assert!(again.bytes.starts_with(b"SIP/2.0 200 OK\r\n"));
    // The callee's 2xx again gets the TU's ACK again, byte for byte.
    let callee = Peer::udp("127.0.0.1:5080".parse().expect("addr"));
    let invite = to_callee("INVITE", 7, 0, "");
    let mut ok = Response::for_request(&invite, StatusCode::OK, Some("7SIPpTag01"));
    ok.head.headers.push(HeaderName::Contact, "<sip:20000@127.0.0.1:5080>");
    let expected = ack_to_callee(7, &invite, &ok).to_bytes();
    layer.handle_message(start + Duration::from_secs(7), Message::Response(ok), callee);
    assert!(layer.poll_event().is_none(), "an ACKed 2xx is not reported again");
    let ack = layer.poll_transmit().expect("the ACK again");
    assert_eq!(ack.bytes, expected);

    // And then everything goes.
    layer.handle_timeout(start + 64 * layer.config().t1);
    while layer.poll_event().is_some() {}
    assert!(layer.is_empty());
    let left = live() - before;
    assert!(left < 512 * 1024, "the tables gave their room back: {left} B left");
    // 4 036 and 3 887 before the keys were hashed, the responses and the
    // ACK cut and the tables boxed (jemalloc's size classes, release and
    // debug alike); 1 621 and 1 385 before finished transactions (server
    // ones, then ACKed INVITE clients) went to logs of records: 1 256 and
    // 1 113, then 1 093 and 753; 888 and 556 once index entries took 16
    // bytes, kept responses and ACKs lost what the request or the 2xx
    // brings again (status line, Content-Length, CSeq, the Via's start)
    // and records counted ids and ends from their chunk's; with the ACK
    // as the engine builds it 789, 396 (three) and 457, then 665, 272 and
    // 333 once the ACK came from the 2xx and the BYE's 200 lost its tag.
    assert!(all < 750, "{all} B a call with all five");
    assert!(long <= 300, "{long} B a call with three");
    assert!(average < 400.0, "{average:.0} B a call on average");
}
