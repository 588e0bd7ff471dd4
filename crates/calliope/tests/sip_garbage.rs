//! Garbage at the SIP listeners: random, truncated and mutated datagrams,
//! and TCP streams of the same, then registration over UDP and TCP and a
//! normal call still work and the process is alive.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use support::calliope::{assert_passed, free_port, Sipp};
use support::calls::{callee, caller, calliope, wait};

const REGISTER: &str = "REGISTER sip:calliope SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1\r\n\
From: <sip:2002@calliope>;tag=1\r\nTo: <sip:2002@calliope>\r\nCall-ID: garbage\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:2002@127.0.0.1:5099>\r\nAuthorization: Digest username=\"2002\", realm=\"calliope\", nonce=\"x\", \
uri=\"sip:calliope\", response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"\r\nContent-Length: 4\r\n\r\nv=0\n";

const INVITE: &str =
    "INVITE sip:2002@calliope SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK2\r\n\
From: <sip:2001@calliope>;tag=2\r\nTo: <sip:2002@calliope>\r\nCall-ID: garbage2\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:2001@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\nContent-Length: 60\r\n\r\n\
v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nm=audio 1 RTP/AVP 0\r\n";

/// A tiny xorshift, so that the garbage is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn garbage(rng: &mut Rng, i: usize) -> Vec<u8> {
    let base = if i.is_multiple_of(2) { REGISTER } else { INVITE }.as_bytes();
    match i % 5 {
        // Random bytes.
        0 => (0..rng.below(1500)).map(|_| rng.next() as u8).collect(),
        // Truncated anywhere.
        1 => base[..rng.below(base.len())].to_vec(),
        // Mutated: bytes flipped, inserted and removed.
        2 => {
            let mut v = base.to_vec();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(v.len());
                match rng.below(3) {
                    0 => v[at] = rng.next() as u8,
                    1 => v.insert(at, rng.next() as u8),
                    _ => {
                        v.remove(at);
                    }
                }
            }
            v
        }
        // Headers gone wild: huge values and counts.
        3 => {
            let mut s = String::from_utf8_lossy(base).into_owned();
            let header = format!("X-Junk: {}\r\n", "a".repeat(rng.below(70_000)));
            s = s.replacen("\r\n", &format!("\r\n{header}"), 1 + rng.below(300));
            s.into_bytes()
        }
        // A lying Content-Length.
        _ => String::from_utf8_lossy(base)
            .replace("Content-Length: 60", "Content-Length: 99999999")
            .into_bytes(),
    }
}

#[test]
fn garbage_does_not_stop_registrations_or_calls() {
    let mut c = calliope(&[]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3000 {
        let _ = udp.send_to(&garbage(&mut rng, i), c.sip);
        if i.is_multiple_of(500) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let mut hanging = Vec::new();
    for i in 0..60 {
        let Ok(mut tcp) = TcpStream::connect(c.sip) else { continue };
        let _ = tcp.set_write_timeout(Some(Duration::from_secs(1)));
        for j in 0..5 {
            let _ = tcp.write_all(&garbage(&mut rng, i * 5 + j));
        }
        // Half the connections are left hanging mid-message, half closed.
        if i % 2 == 0 {
            drop(tcp);
        } else {
            hanging.push(tcp);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.is_running(), "calliope survived the garbage");

    // Registering over TCP works too.
    let out = Sipp::new("register.xml", c.sip)
        .args(&["-t", "t1", "-s", "2001", "-au", "2001", "-ap", "caller-pw"])
        .run();
    assert_passed(&out, "register over TCP");

    let uas = callee(&c, "uas_hangup.xml", free_port());
    assert_passed(&caller(&c, "uac_hungup.xml", &[]), "caller");
    wait(uas, "callee");
    assert!(c.is_running());
    drop(hanging);
}
