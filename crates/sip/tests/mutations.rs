//! Feeds pseudo-random mutations of valid messages to every parser: none
//! may panic, and whatever parses must write back to something that parses
//! to the same value.

use sip::digest::{Challenge, Credentials};
use sip::{frame, parse_message, sdp, Limits, Message, NameAddr, Uri};

/// xorshift64*: small, deterministic, good enough to shuffle bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to SIP syntax, to make interesting mutations likely.
const SPECIAL: &[&[u8]] = &[
    b"\r\n",
    b"\r\n ",
    b"\n",
    b":",
    b";",
    b",",
    b"<",
    b">",
    b"\"",
    b"\\",
    b"@",
    b"[",
    b"]",
    b"%",
    b"=",
    b"?",
    b"/",
    b" ",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"0",
    b"9999999999999999999999",
    b"-1",
    b"Content-Length: 5\r\n",
    b"l: 0\r\n",
    b"Via: SIP/2.0/UDP [::1]\r\n",
    b"\r\n\r\n",
    b"sip:",
    b"tel:",
    b"a=rtpmap:",
    b"m=audio ",
    b"c=IN IP4 ",
];

/// Mutations per seed: `SIP_MUTATIONS` overrides the default for longer runs.
fn rounds() -> usize {
    std::env::var("SIP_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

/// The generator's start: `SIP_MUTATION_SEED` overrides `default`.
fn rng(default: u64) -> Rng {
    Rng(std::env::var("SIP_MUTATION_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(default) | 1)
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 if at < v.len() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            3 if at < v.len() => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let chunk = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, chunk);
            }
            4 => v.truncate(at),
            5 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = SPECIAL[rng.below(SPECIAL.len())][0];
            }
            _ => {
                let s = SPECIAL[rng.below(SPECIAL.len())];
                v.splice(at..at, s.iter().copied());
            }
        }
    }
    v
}

const MESSAGES: &[&str] = &[
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: \"Alice \\\"A\\\"\" <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.com;transport=tcp>;expires=60;q=0.5\r\n\
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 158\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n",
    "SIP/2.0 401 Unauthorized\r\n\
v: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKr;received=2001:db8::1;rport=5071\r\n\
f: <sip:1001@example.com>;tag=a\r\n\
t: <sip:1001@example.com>;tag=b\r\n\
i: reg-1\r\n\
CSeq: 1 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", opaque=\"x\", algorithm=SHA-256, qop=\"auth\"\r\n\
WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", algorithm=MD5, qop=\"auth\", stale=TRUE\r\n\
l: 0\r\n\r\n",
    "REGISTER sips:example.com;transport=tls SIP/2.0\r\n\
Via: SIP/2.0/TLS client.example.com:5061;branch=z9hG4bKreg,\r\n SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2\r\n\
From: sip:1001@example.com;tag=x\r\n\
To: sip:1001@example.com\r\n\
Call-ID: r@h\r\n\
CSeq: 2 REGISTER\r\n\
Contact: *\r\n\
Expires: 0\r\n\
Authorization: Digest username=\"1001\", realm=\"example.com\", nonce=\"abc\", uri=\"sips:example.com\",\r\n response=\"0123abcd\", algorithm=MD5, cnonce=\"c\", qop=auth, nc=00000001\r\n\
Allow: INVITE, ACK, BYE\r\n\
Supported: path, outbound\r\n\
\r\n",
    "MESSAGE tel:+1-201-555-0123;phone-context=example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKm\r\n\
From: Anonymous <sip:anonymous@anonymous.invalid>;tag=9\r\n\
To: <tel:+1-201-555-0123>\r\n\
Call-ID: m1\r\n\
CSeq: 7 MESSAGE\r\n\
Subject: folded\r\n  over lines\r\n\
Content-Type: text/plain;charset=utf-8\r\n\
\r\n\
Hello, héllo",
];

const SDPS: &[&str] = &["v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n\
a=fmtp:96 0-16\r\na=ptime:20\r\na=rtcp:40001 IN IP4 192.0.2.10\r\na=sendonly\r\n\
m=video 0 RTP/AVP 97\r\nb=AS:64\r\n"];

fn check_message(bytes: &[u8], limits: &Limits) {
    let _ = frame(bytes, limits);
    let Ok(message) = parse_message(bytes) else { return };
    let head = message.head();
    let _ = (head.contacts(), head.routes(), head.record_routes(), head.expires(), head.max_forwards());
    let _ = (head.content_type(), head.allow(), head.supported(), head.authorization(None));
    let _ = (head.www_authenticate(), head.proxy_authenticate());
    let written = message.to_bytes();
    match parse_message(&written) {
        Ok(again) => assert_eq!(again, message, "{}", String::from_utf8_lossy(&written)),
        Err(e) => panic!("written message does not parse ({e}):\n{}", String::from_utf8_lossy(&written)),
    }
    if let Message::Request(r) = &message {
        let _ = sdp::parse_bytes(&r.body);
    }
}

#[test]
fn mutated_messages_never_panic_and_round_trip() {
    let limits = Limits::default();
    let mut rng = rng(0x9e37_79b9_7f4a_7c15);
    for seed in MESSAGES {
        let seed = seed.as_bytes();
        check_message(seed, &limits);
        for _ in 0..rounds() {
            let m = mutate(&mut rng, seed);
            check_message(&m, &limits);
        }
    }
}

#[test]
fn mutated_sdp_never_panics_and_round_trips() {
    let mut rng = rng(42);
    for seed in SDPS {
        for _ in 0..rounds() {
            let m = mutate(&mut rng, seed.as_bytes());
            let Ok(s) = sdp::parse_bytes(&m) else { continue };
            let _ = s.audio().map(|a| (a.rtpmaps().count(), s.direction_of(a), a.rtcp()));
            let text = s.to_string();
            assert_eq!(sdp::parse(&text).as_ref(), Ok(&s), "{text}");
        }
    }
}

#[test]
fn mutated_header_values_never_panic_and_round_trip() {
    let seeds = [
        "\"Bob \\\"B\\\"\" <sip:bob:pw@[2001:db8::1]:5060;transport=tcp;lr?subject=x%20y&h=v>;tag=a;expires=10",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone;tag=z",
        "<tel:+1-201-555-0123;ext=1>",
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0f\", qop=auth, nc=00000001, cnonce=\"c\"",
    ];
    let mut rng = rng(7);
    for seed in seeds {
        for _ in 0..rounds() {
            let m = mutate(&mut rng, seed.as_bytes());
            let Ok(text) = std::str::from_utf8(&m) else { continue };
            if let Ok(a) = NameAddr::parse(text) {
                assert_eq!(NameAddr::parse(&a.to_string()).as_ref(), Ok(&a), "{a}");
            }
            if let Ok(u) = Uri::parse(text) {
                assert_eq!(Uri::parse(&u.to_string()).as_ref(), Ok(&u), "{u}");
            }
            if let Ok(c) = Credentials::parse(text) {
                assert_eq!(Credentials::parse(&c.to_string()).as_ref(), Ok(&c), "{c}");
            }
            let _ = Challenge::parse(text);
        }
    }
}

/// Messages for the transaction layer: requests and responses on a few
/// branches (one of them RFC 2543 style), so that mutations and random
/// picks hit live transactions in every state.
fn transaction_seeds() -> Vec<String> {
    let mut seeds = Vec::new();
    let branches = ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3", "old2543"];
    for branch in branches {
        for (method, seq) in [("INVITE", 1), ("ACK", 1), ("CANCEL", 1), ("OPTIONS", 2), ("BYE", 3)] {
            seeds.push(format!(
                "{method} sip:bob@192.0.2.2 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch};rport\r\n\
From: <sip:alice@192.0.2.1>;tag=a\r\n\
To: <sip:bob@192.0.2.2>{to_tag}\r\n\
Call-ID: c1\r\n\
CSeq: {seq} {method}\r\n\
Contact: <sip:alice@192.0.2.1>\r\n\
Content-Length: 0\r\n\r\n",
                to_tag = if method == "ACK" { ";tag=b" } else { "" }
            ));
        }
        for (status, method, seq) in [
            (100, "INVITE", 1),
            (180, "INVITE", 1),
            (200, "INVITE", 1),
            (486, "INVITE", 1),
            (200, "OPTIONS", 2),
        ] {
            seeds.push(format!(
                "SIP/2.0 {status} X\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}\r\n\
From: <sip:alice@192.0.2.1>;tag=a\r\n\
To: <sip:bob@192.0.2.2>;tag=b\r\n\
Call-ID: c1\r\n\
CSeq: {seq} {method}\r\n\
Content-Length: 0\r\n\r\n"
            ));
        }
    }
    seeds
}

/// Random and mutated input to `handle_message`, interleaved with random
/// TU calls and clock steps, on two layers that also exchange what they
/// send: nothing may panic, and everything they send must parse.
#[test]
fn random_input_never_panics_the_transaction_layer() {
    use sip::transaction::{Config, Event, Peer, Protocol, ServerTxId, Transactions};
    use sip::{Request, Response, StatusCode};
    use std::time::{Duration, Instant};

    let seeds = transaction_seeds();
    let config = Config { max_transactions: 64, ..Config::default() };
    let mut layers = [Transactions::new(config), Transactions::new(config)];
    let peers = [
        Peer { addr: "192.0.2.1:5060".parse().expect("addr"), protocol: Protocol::Udp },
        Peer { addr: "192.0.2.2:5060".parse().expect("addr"), protocol: Protocol::Udp },
        Peer { addr: "192.0.2.1:5060".parse().expect("addr"), protocol: Protocol::Tcp },
    ];
    let statuses = [100u16, 180, 183, 200, 202, 301, 404, 481, 486, 487, 500, 603];
    let mut rng = rng(0x5eed_7a11);
    let mut now = Instant::now();
    let mut pending: Vec<(usize, ServerTxId, Request)> = Vec::new();
    let mut clients = Vec::new();
    let mut oks: Vec<(usize, sip::transaction::ClientTxId, Response)> = Vec::new();
    for round in 0..rounds() * 4 {
        let side = rng.below(2);
        match rng.below(10) {
            0..=4 => {
                let seed = seeds[rng.below(seeds.len())].as_bytes();
                let bytes = if rng.below(3) == 0 { seed.to_vec() } else { mutate(&mut rng, seed) };
                if let Ok(m) = parse_message(&bytes) {
                    layers[side].handle_message(now, m, peers[rng.below(peers.len())]);
                }
            }
            5 => {
                now += Duration::from_millis(rng.below(5000) as u64);
                for l in &mut layers {
                    l.handle_timeout(now);
                }
            }
            6 if !pending.is_empty() => {
                let (side, id, request) = pending.swap_remove(rng.below(pending.len()));
                let code = statuses[rng.below(statuses.len())];
                let status = StatusCode::new(code).expect("status");
                let response = Response::for_request(&request, status, Some("t"));
                let _ = layers[side].respond(now, id, response);
                if code < 200 || rng.below(3) == 0 {
                    pending.push((side, id, request));
                }
            }
            7 => {
                let seed = &seeds[rng.below(seeds.len())];
                if let Ok(sip::Message::Request(mut r)) = parse_message(seed.as_bytes()) {
                    if let Some(v) = r.head.via.first_mut() {
                        v.params.set("branch", Some(&format!("z9hG4bK{round}")));
                    }
                    if let Ok(id) = layers[side].send_request(now, r, peers[rng.below(peers.len())]) {
                        clients.push((side, id));
                    }
                }
            }
            8 if !clients.is_empty() => {
                let (side, id) = clients[rng.below(clients.len())];
                let _ = layers[side].cancel(now, id);
                if let Some((s, id, ok)) = oks.pop() {
                    let mut ack = Request::new(
                        sip::Method::Ack,
                        "sip:bob@192.0.2.2".parse().expect("uri"),
                        ok.head.from.clone(),
                        ok.head.to.clone(),
                        ok.head.call_id.clone(),
                        ok.head.cseq.seq,
                    );
                    ack.head.via = ok.head.via.clone();
                    let _ = layers[s].ack_2xx(id, ack, peers[0]);
                }
            }
            _ => {
                if rng.below(50) == 0 {
                    layers[side].handle_transport_error(peers[rng.below(peers.len())]);
                }
            }
        }
        // Deliver what each layer sent to the other one, and collect events.
        for from in 0..2 {
            while let Some(t) = layers[from].poll_transmit() {
                let m = parse_message(&t.bytes).unwrap_or_else(|e| {
                    panic!("the layer sent what does not parse ({e}):\n{}", String::from_utf8_lossy(&t.bytes))
                });
                if rng.below(4) != 0 {
                    layers[1 - from].handle_message(now, m, peers[from]);
                }
            }
        }
        for (side, layer) in layers.iter_mut().enumerate() {
            while let Some(e) = layer.poll_event() {
                match e {
                    Event::Request { id, request, .. } => pending.push((side, id, request)),
                    Event::Response { id, response } if response.status.is_success() => {
                        oks.push((side, id, response))
                    }
                    _ => {}
                }
            }
            assert!(layer.len() <= 64 + 8, "the limit holds (CANCELs may exceed it a little)");
            if let Some(at) = layer.poll_timeout() {
                assert!(at + Duration::from_secs(40) >= now || at <= now, "deadlines are sane");
            }
        }
        oks.truncate(64);
        if clients.len() > 256 {
            clients.drain(..128);
        }
    }
    // Answer what is still open and let the clock run: no panics on the
    // way out either.
    for (side, id, request) in pending {
        let r = Response::for_request(&request, StatusCode::BUSY_HERE, Some("t"));
        let _ = layers[side].respond(now, id, r);
    }
    for _ in 0..100 {
        now += Duration::from_secs(1);
        for l in &mut layers {
            l.handle_timeout(now);
            while l.poll_transmit().is_some() {}
            while l.poll_event().is_some() {}
        }
    }
}
