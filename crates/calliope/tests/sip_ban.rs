//! Digest guessing: a flood of wrong passwords from one address ends in
//! silence (the address is banned for a while), forged nonces are answered
//! with a fresh challenge without ever counting as a guess, and a real
//! phone on another address keeps registering throughout.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::IpAddr;
use std::time::Duration;

use support::calliope::Calliope;
use support::ua::{answer, UdpUa};

const ATTACKER: [u8; 4] = [127, 0, 0, 2];

#[test]
fn a_flood_of_wrong_digests_ends_in_silence_and_others_still_register() {
    let c = Calliope::start(&[]);
    c.agent("3001", "right-password");
    let attacker = UdpUa::new(IpAddr::from(ATTACKER), c.sip, "3001");
    let wait = Duration::from_millis(700);

    let challenge = attacker.register(1, None, wait).expect("a challenge");
    assert_eq!(challenge.status.code(), 401);
    let mut answered = Vec::new();
    for i in 0..30u32 {
        let guess = answer(&challenge, c.sip, "3001", &format!("guess-{i}"), i + 1);
        let code = attacker.register(2 + i, Some(&guess), wait).map(|r| r.status.code());
        answered.push(code);
    }
    let forbidden = answered.iter().filter(|c| **c == Some(403)).count();
    assert_eq!(forbidden, 10, "ten wrong guesses are answered 403, then silence: {answered:?}");
    assert!(answered[..10].iter().all(|c| *c == Some(403)), "{answered:?}");
    assert!(answered[10..].iter().all(Option::is_none), "the banned address is not answered: {answered:?}");
    // Not even a request without credentials is answered now.
    assert!(attacker.register(100, None, wait).is_none(), "banned means silent");

    // A real phone elsewhere registers as usual.
    let phone = UdpUa::new(IpAddr::from([127, 0, 0, 1]), c.sip, "3001");
    assert_eq!(phone.register_fully("right-password", 1).status.code(), 200);
}

#[test]
fn forged_nonces_are_challenged_and_never_ban() {
    let c = Calliope::start(&[]);
    c.agent("3002", "pw");
    let ua = UdpUa::new(IpAddr::from([127, 0, 0, 3]), c.sip, "3002");
    let wait = Duration::from_secs(2);
    let challenge = ua.register(1, None, wait).expect("a challenge");
    let real = answer(&challenge, c.sip, "3002", "wrong", 1);
    let nonce = challenge.head.www_authenticate()[0].as_ref().unwrap().nonce.clone();
    let mut forged_nonce = nonce.clone();
    forged_nonce.replace_range(0..1, if nonce.starts_with('A') { "B" } else { "A" });
    let forged = real.replace(&nonce, &forged_nonce);
    for i in 0..40 {
        let r = ua.register(2 + i, Some(&forged), wait).expect("forged credentials are answered");
        assert_eq!(r.status.code(), 401, "a forged nonce gets a fresh challenge, not a verdict");
    }
    // Still answered, and the right password works from the same address.
    assert_eq!(ua.register_fully("pw", 100).status.code(), 200);
}

#[test]
fn a_banned_address_loses_its_tcp_connections_too() {
    use std::io::Write;
    use support::ua::{closed_within, read_tcp_response, register_text};

    let c = Calliope::start(&["--sip-auth-failures", "3"]);
    c.agent("3003", "pw");
    let socket = {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind("127.0.0.5:0".parse().unwrap()).unwrap();
            s.connect(c.sip).await.unwrap().into_std().unwrap()
        })
    };
    let mut tcp = socket;
    tcp.set_nonblocking(false).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let local = tcp.local_addr().unwrap();
    tcp.write_all(register_text(c.sip, local, "TCP", "3003", 1, None).as_bytes()).unwrap();
    let challenge = read_tcp_response(&mut tcp).expect("a challenge");
    for i in 0..3u32 {
        let guess = answer(&challenge, c.sip, "3003", "nope", i + 1);
        tcp.write_all(register_text(c.sip, local, "TCP", "3003", 2 + i, Some(&guess)).as_bytes()).unwrap();
        assert_eq!(read_tcp_response(&mut tcp).expect("a verdict").status.code(), 403);
    }
    // Banned now: the next message closes the connection unanswered.
    tcp.write_all(register_text(c.sip, local, "TCP", "3003", 9, None).as_bytes()).unwrap();
    assert!(closed_within(&mut tcp, Duration::from_secs(3)), "the banned address's connection is closed");
    // And a new connection from it is not served.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let again = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind("127.0.0.5:0".parse().unwrap()).unwrap();
        s.connect(c.sip).await.map(|s| s.into_std().unwrap())
    });
    if let Ok(mut again) = again {
        again.set_nonblocking(false).unwrap();
        assert!(closed_within(&mut again, Duration::from_secs(3)), "a new connection is closed at once");
    }
}
