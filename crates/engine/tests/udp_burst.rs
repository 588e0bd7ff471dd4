//! Many datagrams at once: the switch receives them in batches and sends
//! its answers in batches; none may be lost or answered twice. Requests
//! from several phones are sent back to back, without waiting for
//! answers, and every one gets its own 200, from whichever of the
//! switch's shards their Call-IDs belong to.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use engine::calls::Registry;
use engine::clock::TestClock;
use engine::events::Bus;
use sip::{Message, StatusCode};
use store::Db;
use tokio::net::UdpSocket;

/// A switch of `shards` shards on a fresh store.
async fn switch(dir: &tempfile::TempDir, shards: usize, rtp: (u16, u16)) -> engine::signalling::SipHandle {
    let db = Db::open(None, dir.path()).await.unwrap();
    let sealer = Arc::new(engine::secrets::Sealer::new(None, dir.path()).unwrap());
    let mut config = engine::signalling::Config::new("127.0.0.1:0".parse().unwrap());
    config.rtp_ports = rtp;
    config.shards = shards;
    engine::signalling::start(
        config,
        db,
        sealer,
        Bus::default(),
        Arc::new(Registry::default()),
        Arc::new(TestClock::new(1_800_000_000_000)),
    )
    .await
    .unwrap()
}

fn options(to: SocketAddr, from: SocketAddr, n: usize) -> Vec<u8> {
    format!(
        "OPTIONS sip:{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bK-burst-{n}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:burst@{from}>;tag=b{n}\r\n\
         To: <sip:{to}>\r\n\
         Call-ID: burst-{n}@{from}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_datagrams_is_all_answered_once() {
    let dir = tempfile::tempdir().unwrap();
    let sip = switch(&dir, 4, (47_300, 47_320)).await;
    let server = sip.switch.transports.local_addr();

    const PHONES: usize = 4;
    const EACH: usize = 150;
    let mut phones = Vec::new();
    for _ in 0..PHONES {
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket2::SockRef::from(&phone).set_recv_buffer_size(4 << 20).unwrap();
        phones.push(phone);
    }
    // All requests first, interleaved between phones, then the answers.
    for i in 0..EACH {
        for (p, phone) in phones.iter().enumerate() {
            let from = phone.local_addr().unwrap();
            phone.send_to(&options(server, from, i * PHONES + p), server).await.unwrap();
        }
    }
    let mut buf = vec![0u8; 65_535];
    for (p, phone) in phones.iter().enumerate() {
        let mut answered = HashSet::new();
        while answered.len() < EACH {
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("phone {p}: {} of {EACH} answered", answered.len()))
                .unwrap();
            let Ok(Message::Response(r)) = sip::parse_message(&buf[..n]) else { panic!("not a response") };
            assert_eq!(r.status, StatusCode::OK);
            assert!(answered.insert(r.head.call_id.clone()), "answered twice: {}", r.head.call_id);
        }
        let want: HashSet<String> =
            (0..EACH).map(|i| format!("burst-{}@{}", i * PHONES + p, phone.local_addr().unwrap())).collect();
        assert_eq!(answered, want);
    }
    assert_eq!(sip.switch.transports.stats().udp_dropped, 0);
    sip.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_id_the_receiver_cannot_read_reaches_its_shard_once_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let sip = switch(&dir, 4, (47_330, 47_340)).await;
    let server = sip.switch.transports.local_addr();
    let picker = sip.switch.core.picker().clone();
    // Folded, the Call-ID is not read from the raw head: shard 0 takes the
    // request, parses it and hands it to the Call-ID's own shard.
    let call_id = (0..).map(|i| format!("folded-{i}")).find(|id| picker.of(id) != 0).unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let from = phone.local_addr().unwrap();
    let request = format!(
        "OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-folded\r\n\
         Max-Forwards: 70\r\nFrom: <sip:f@{from}>;tag=f\r\nTo: <sip:{server}>\r\n\
         Call-ID:\r\n {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(engine::signalling::shards::raw_call_id(request.as_bytes()), None);
    let mut buf = vec![0u8; 65_535];
    let mut tags = Vec::new();
    for _ in 0..2 {
        phone.send_to(request.as_bytes(), server).await.unwrap();
        let (n, _) =
            tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf)).await.unwrap().unwrap();
        let Ok(Message::Response(r)) = sip::parse_message(&buf[..n]) else { panic!("not a response") };
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.head.call_id, call_id);
        tags.push(r.head.to_tag().map(str::to_owned));
    }
    // The retransmission was absorbed by the same transaction: the same 200.
    assert_eq!(tags[0], tags[1]);
    sip.shutdown(Duration::from_secs(1)).await;
}
