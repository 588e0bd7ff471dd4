//! SIP over TCP against slow and greedy clients: a REGISTER trickled a byte
//! at a time is answered, idle connections are closed, keep-alives keep a
//! connection open, and one address cannot hold more than its share of
//! connections.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::calliope::Calliope;
use support::ua::{closed_within, read_tcp_response, register_text, trickle};

fn register_over(stream: &mut TcpStream, target: SocketAddr, user: &str, padding: usize) -> Vec<u8> {
    let local = stream.local_addr().unwrap();
    let text = register_text(target, local, "TCP", user, 1, None);
    // Pad the head so that a framer that rescans its buffer on every byte
    // does measurable work.
    let pad: String = (0..padding / 64).map(|i| format!("X-Pad-{i:04}: {}\r\n", "p".repeat(50))).collect();
    text.replacen("Content-Length: 0", &format!("{pad}Content-Length: 0"), 1).into_bytes()
}

#[test]
fn a_register_trickled_a_byte_at_a_time_gets_its_challenge() {
    let c = Calliope::start(&[]);
    c.agent("4001", "pw");
    let mut stream = TcpStream::connect(c.sip).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let bytes = register_over(&mut stream, c.sip, "4001", 4096);
    let started = Instant::now();
    trickle(&mut stream, &bytes, Duration::from_micros(200));
    let resp = read_tcp_response(&mut stream).expect("an answer on the same connection");
    assert_eq!(resp.status.code(), 401, "{resp:?}");
    eprintln!("{} bytes trickled and answered in {:?}", bytes.len(), started.elapsed());
}

#[test]
fn idle_connections_are_closed_and_keep_alives_keep_them() {
    let c = Calliope::start(&["--sip-tcp-idle", "1"]);
    let mut idle = TcpStream::connect(c.sip).unwrap();
    let mut lively = TcpStream::connect(c.sip).unwrap();
    let started = Instant::now();
    // The lively one pings (CRLFCRLF) every 300 ms for 2.5 s and gets pongs.
    use std::io::{Read, Write};
    lively.set_read_timeout(Some(Duration::from_millis(250))).unwrap();
    let mut pongs = 0;
    while started.elapsed() < Duration::from_millis(2500) {
        lively.write_all(b"\r\n\r\n").unwrap();
        let mut buf = [0u8; 16];
        if let Ok(n) = lively.read(&mut buf) {
            assert!(n > 0, "the lively connection was closed");
            pongs += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(pongs >= 3, "pongs: {pongs}");
    assert!(closed_within(&mut idle, Duration::from_millis(500)), "an idle connection is closed after 1 s");
    assert!(!closed_within(&mut lively, Duration::from_millis(200)), "the lively one stays open");
}

#[test]
fn one_address_holds_at_most_its_share_of_connections() {
    let c = Calliope::start(&[]);
    c.agent("4003", "pw");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // 80 connections from 127.0.0.4: the cap per address is 64.
    let mut streams: Vec<TcpStream> = (0..80)
        .map(|_| {
            rt.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind("127.0.0.4:0".parse().unwrap()).unwrap();
                socket.connect(c.sip).await.unwrap().into_std().unwrap()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let closed = streams
        .iter_mut()
        .filter_map(|s| {
            s.set_nonblocking(false).unwrap();
            closed_within(s, Duration::from_millis(20)).then_some(())
        })
        .count();
    assert_eq!(closed, 16, "the connections past 64 from one address are closed at once");
    // Another address is served as usual.
    let mut other = TcpStream::connect(c.sip).unwrap();
    other.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let bytes = register_over(&mut other, c.sip, "4003", 0);
    use std::io::Write;
    other.write_all(&bytes).unwrap();
    assert_eq!(read_tcp_response(&mut other).expect("an answer").status.code(), 401);
}
