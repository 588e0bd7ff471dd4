//! A TCP contact that cannot be reached (its connect never completes) or
//! that stops reading delays nothing else: while a call is being sent to
//! it, UDP REGISTERs are answered at once and a UDP call goes through.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::calliope::{assert_passed, free_port, Sipp};
use support::calls::{callee, caller, calliope, wait};
use support::ua::{answer, UdpUa};

/// A listener whose accept queue is full and that never accepts: a connect
/// to it is never completed (the SYN is dropped), as with an unreachable
/// phone. Returns it with the connections that fill its queue.
fn black_hole(rt: &tokio::runtime::Runtime) -> (tokio::net::TcpListener, Vec<TcpStream>, SocketAddr) {
    let listener = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.listen(0).unwrap()
    });
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            fillers.push(s);
        }
    }
    // The proof that the hole works: one more connect does not complete.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "the black hole accepted a connection"
    );
    (listener, fillers, addr)
}

/// How long a UDP REGISTER from 127.0.0.1 takes to be challenged.
fn register_latency(ua: &UdpUa, cseq: u32) -> Duration {
    let started = Instant::now();
    let r = ua.register(cseq, None, Duration::from_secs(10)).expect("a UDP REGISTER is answered");
    assert_eq!(r.status.code(), 401);
    started.elapsed()
}

#[test]
fn an_unreachable_tcp_contact_does_not_delay_udp_registrations_or_calls() {
    let c = calliope(&[]);
    c.agent("2003", "tcp-pw");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (_listener, _fillers, hole) = black_hole(&rt);

    // 2003 registers over TCP with its contact in the black hole.
    let out = Sipp::new("register.xml", c.sip)
        .args(&["-t", "t1", "-s", "2003", "-au", "2003", "-ap", "tcp-pw"])
        .contact_port(hole.port())
        .run();
    assert_passed(&out, "2003 registers over TCP");

    // Calls to 2003: Calliope tries to connect to the black hole.
    let mut stuck: Vec<_> = (0..3)
        .map(|_| {
            let media = free_port().to_string();
            Sipp::new("uac_unavailable.xml", c.sip)
                .args(&[
                    "-s",
                    "2003",
                    "-au",
                    "2001",
                    "-ap",
                    "caller-pw",
                    "-key",
                    "caller",
                    "2001",
                    "-mp",
                    &media,
                ])
                .spawn()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    let ua = UdpUa::new(IpAddr::from([127, 0, 0, 1]), c.sip, "2001");
    let mut worst = Duration::ZERO;
    for i in 0..10 {
        worst = worst.max(register_latency(&ua, 10 + i));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(worst < Duration::from_millis(500), "a UDP REGISTER waited {worst:?}");

    // A whole UDP call goes through meanwhile.
    let started = Instant::now();
    let uas = callee(&c, "uas_hangup.xml", free_port());
    assert_passed(&caller(&c, "uac_hungup.xml", &[]), "caller");
    wait(uas, "callee");
    assert!(started.elapsed() < Duration::from_secs(15), "the UDP call took {:?}", started.elapsed());
    // And a full registration with credentials.
    let challenge = ua.register(50, None, Duration::from_secs(2)).unwrap();
    let auth = answer(&challenge, c.sip, "2001", "caller-pw", 1);
    assert_eq!(ua.register(51, Some(&auth), Duration::from_secs(2)).unwrap().status.code(), 200);

    for mut s in stuck.drain(..) {
        let _ = s.kill();
        let _ = s.wait();
    }
}

#[test]
fn a_tcp_contact_that_stops_reading_does_not_delay_udp_registrations() {
    let c = calliope(&[]);
    c.agent("2004", "tcp-pw");
    // A phone that accepts the connection and never reads.
    let deaf = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = deaf.local_addr().unwrap();
    let out = Sipp::new("register.xml", c.sip)
        .args(&["-t", "t1", "-s", "2004", "-au", "2004", "-ap", "tcp-pw"])
        .contact_port(addr.port())
        .run();
    assert_passed(&out, "2004 registers over TCP");
    let mut stuck: Vec<_> = (0..20)
        .map(|_| {
            let media = free_port().to_string();
            Sipp::new("uac_unavailable.xml", c.sip)
                .args(&[
                    "-s",
                    "2004",
                    "-au",
                    "2001",
                    "-ap",
                    "caller-pw",
                    "-key",
                    "caller",
                    "2001",
                    "-mp",
                    &media,
                ])
                .spawn()
        })
        .collect();
    // Calliope connects to it; the connection is accepted and never read.
    deaf.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let _accepted = loop {
        match deaf.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let mut s = stuck.pop().unwrap();
                let _ = s.kill();
                let out = s.wait_with_output().unwrap();
                panic!(
                    "Calliope never connected to the TCP contact: {e}\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            }
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let ua = UdpUa::new(IpAddr::from([127, 0, 0, 1]), c.sip, "2001");
    let mut worst = Duration::ZERO;
    for i in 0..10 {
        worst = worst.max(register_latency(&ua, 10 + i));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(worst < Duration::from_millis(500), "a UDP REGISTER waited {worst:?}");
    for mut s in stuck.drain(..) {
        let _ = s.kill();
        let _ = s.wait();
    }
}
