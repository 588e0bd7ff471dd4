//! Attended transfer against real peers: Alice (a hand-driven UA, since
//! one SIPp cannot hold two dialogs) calls Bob and Carol (SIPp agents),
//! puts Bob on hold and sends REFER with `Replaces` on the first call; Bob and Carol must
//! then hear each other (RTP reaches sockets the test reads), Alice gets
//! NOTIFY 200 and BYE on both calls, and the records say how it ended.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use sip::digest::{Algorithm, Answer, Credentials};
use sip::{parse_message, Message, Method, Request, Response, StatusCode};
use support::calliope::{free_port, Calliope, Sipp};
use support::calls::{callee_with, calliope, rtp_packets, wait, CALLEE, CALLER, PCAP_A};

const TARGET: &str = "2003";

/// Sends `count` PCMA packets from `from` to `to`, 20 ms apart.
fn send_rtp(from: &UdpSocket, to: SocketAddr, count: u16, ssrc: u32) {
    for i in 0..count {
        let payload = [0xd5u8; 160];
        let pkt = media::rtp::RtpPacket::new(8, i + 1, u32::from(i) * 160, ssrc, &payload);
        from.send_to(&pkt.to_vec().unwrap(), to).unwrap();
        thread::sleep(Duration::from_millis(20));
    }
}

/// Where the first RTP packet reaching `socket` within `wait` came from.
fn first_rtp_from(socket: &UdpSocket, wait: Duration) -> Option<SocketAddr> {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if let Ok((len, from)) = socket.recv_from(&mut buf) {
            if len > 12 && buf[0] >> 6 == 2 {
                return Some(from);
            }
        }
    }
    None
}

/// Alice: two dialogs on one UDP socket.
struct Alice {
    socket: UdpSocket,
    target: SocketAddr,
    local: SocketAddr,
    media: UdpSocket,
    /// Requests Calliope sent her, answered 200.
    got: Vec<Request>,
    branch: u32,
}

impl Alice {
    fn new(target: SocketAddr) -> Alice {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let media = UdpSocket::bind("127.0.0.1:0").unwrap();
        Alice { socket, target, local, media, got: Vec::new(), branch: 0 }
    }

    fn send(&mut self, text: &str) {
        self.socket.send_to(text.as_bytes(), self.target).unwrap();
    }

    fn via(&mut self) -> String {
        self.branch += 1;
        format!("Via: SIP/2.0/UDP {};branch=z9hG4bK-alice-{}-{}", self.local, self.branch, std::process::id())
    }

    /// The next response for `call_id`, answering requests meanwhile.
    fn response(&mut self, call_id: &str, wait: Duration) -> Option<Response> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).unwrap();
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else { return None };
            match parse_message(&buf[..n]) {
                Ok(Message::Response(r)) if r.head.call_id == call_id => return Some(r),
                Ok(Message::Request(r)) => self.answer(r),
                _ => {}
            }
        }
    }

    /// Answers a request of Calliope's 200 and keeps it.
    fn answer(&mut self, request: Request) {
        if request.method != Method::Ack {
            let ok = Response::for_request(&request, StatusCode::OK, Some("alice"));
            self.socket.send_to(&ok.to_bytes(), self.target).unwrap();
        }
        self.got.push(request);
    }

    /// Requests until `done` holds for what came, or `wait` passed.
    fn collect(&mut self, wait: Duration, done: impl Fn(&[Request]) -> bool) {
        let deadline = Instant::now() + wait;
        while !done(&self.got) && Instant::now() < deadline {
            let _ = self.response("none", Duration::from_millis(200));
        }
    }

    fn invite_text(&mut self, to: &str, call_id: &str, tag: &str, cseq: u32, auth: &str) -> String {
        let body = format!(
            "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
            self.media.local_addr().unwrap().port()
        );
        format!(
            "INVITE sip:{to}@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:{CALLER}@{l}>\r\nMax-Forwards: 70\r\n\
             {auth}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len(),
            via = self.via(),
            t = self.target,
            l = self.local,
        )
    }

    /// Sends an INVITE with `extra` headers, answering a digest challenge;
    /// returns the first final status and the last final response.
    fn invite(&mut self, to: &str, call_id: &str, tag: &str, extra: &str) -> (u16, Response) {
        let first = self.invite_text(to, call_id, tag, 1, extra);
        self.send(&first);
        let wait = Duration::from_secs(10);
        let challenge = loop {
            let r = self.response(call_id, wait).expect("an answer to the INVITE");
            if r.status.code() >= 200 {
                break r;
            }
        };
        let first_status = challenge.status.code();
        let via = first.lines().nth(1).unwrap().to_owned();
        let to_tag = challenge.head.to_tag().unwrap_or_default().to_owned();
        let ack = format!(
            "ACK sip:{to}@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={to_tag}\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            t = self.target
        );
        self.send(&ack);
        if first_status != 407 {
            return (first_status, challenge);
        }
        let c = challenge
            .head
            .proxy_authenticate()
            .into_iter()
            .filter_map(Result::ok)
            .find(|c| c.algorithm == Algorithm::Md5)
            .expect("an MD5 challenge");
        let uri = format!("sip:{to}@{}", self.target);
        let answer = Answer {
            username: CALLER,
            password: "caller-pw",
            method: &Method::Invite,
            uri: &uri,
            cnonce: "0a4f113b",
            nc: 1,
        };
        let auth = format!("{extra}Proxy-Authorization: {}\r\n", Credentials::answer(&c, &answer));
        let second = self.invite_text(to, call_id, tag, 2, &auth);
        self.send(&second);
        let last = loop {
            let r = self.response(call_id, Duration::from_secs(15)).expect("an answer to the INVITE");
            if r.status.code() >= 200 {
                break r;
            }
        };
        (first_status, last)
    }

    /// ACKs a 2xx to an INVITE with CSeq 2.
    fn ack_2xx(&mut self, to: &str, call_id: &str, tag: &str, theirs: &str) {
        let via = self.via();
        let ack = format!(
            "ACK sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {call_id}\r\nCSeq: 2 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            t = self.target
        );
        self.send(&ack);
    }

    /// Calls `to` (answering the digest challenge); returns Calliope's tag
    /// and the RTP port its answer gives.
    fn call(&mut self, to: &str, call_id: &str, tag: &str) -> (String, u16) {
        let (first, ok) = self.invite(to, call_id, tag, "");
        assert_eq!(first, 407, "{ok:?}");
        assert_eq!(ok.status.code(), 200, "{ok:?}");
        let theirs = ok.head.to_tag().unwrap().to_owned();
        self.ack_2xx(to, call_id, tag, &theirs);
        let sdp = String::from_utf8_lossy(&ok.body).into_owned();
        let port = sdp
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split(' ').next())
            .and_then(|p| p.parse().ok())
            .expect("an RTP port in the answer");
        (theirs, port)
    }

    /// Puts the far end of the dialog on hold (a sendonly re-INVITE with
    /// CSeq `cseq`) and returns the answer's status.
    fn hold(&mut self, dialog: (&str, &str, &str, &str), cseq: u32) -> u16 {
        let (to, call_id, tag, theirs) = dialog;
        let body = format!(
            "v=0\r\no=alice 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\n",
            self.media.local_addr().unwrap().port()
        );
        let via = self.via();
        let text = format!(
            "INVITE sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:{CALLER}@{l}>\r\nMax-Forwards: 70\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len(),
            t = self.target,
            l = self.local,
        );
        self.send(&text);
        let ok = loop {
            let r = self.response(call_id, Duration::from_secs(10)).expect("an answer to the re-INVITE");
            if r.status.code() >= 200 {
                break r;
            }
        };
        let via = self.via();
        self.send(&format!(
            "ACK sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            t = self.target
        ));
        ok.status.code()
    }

    /// Sends REFER in the dialog and returns the status of its answer.
    fn refer(&mut self, dialog: (&str, &str, &str, &str), cseq: u32, refer_to: &str) -> u16 {
        let (to, call_id, tag, theirs) = dialog;
        let via = self.via();
        let text = format!(
            "REFER sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} REFER\r\nContact: <sip:{CALLER}@{l}>\r\nRefer-To: {refer_to}\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            t = self.target,
            l = self.local,
        );
        self.send(&text);
        loop {
            let r = self.response(call_id, Duration::from_secs(5)).expect("an answer to the REFER");
            if r.status.code() >= 200 {
                return r.status.code();
            }
        }
    }
}

fn is_notify_with(r: &Request, status: &str) -> bool {
    r.method == Method::Notify && String::from_utf8_lossy(&r.body).starts_with(&format!("SIP/2.0 {status}"))
}

fn bye_for(got: &[Request], call_id: &str) -> bool {
    got.iter().any(|r| r.method == Method::Bye && r.head.call_id == call_id)
}

/// Registers an agent `user` at a SIPp UAS; returns it and its RTP ear.
fn phone(c: &Calliope, user: &str, password: &str, scenario: &str) -> (std::process::Child, UdpSocket) {
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = ear.local_addr().unwrap().port();
    if user == CALLEE {
        let mp = free_port().to_string();
        let keys = ["-key", "pcap", PCAP_A, "-key", "codec", "8", "-key", "codec_name", "PCMA", "-mp", &mp];
        return (callee_with(c, scenario, port, &keys), ear);
    }
    c.agent(user, password);
    let uas = Sipp::new(scenario, c.sip);
    let contact = uas.port;
    let child = uas
        .args(&["-key", "pcap", PCAP_A, "-key", "rtp_port", &port.to_string()])
        .args(&["-key", "codec", "8", "-key", "codec_name", "PCMA", "-s", user])
        .args(&["-mp", &free_port().to_string()])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", user, "-au", user, "-ap", password])
        .contact_port(contact)
        .run();
    support::calliope::assert_passed(&reg, "the agent registers");
    (child, ear)
}

/// Sharded switches whose hash key the tests know.
const SHARDED: &[&str] = &["--sip-shards", "4", "--sip-shard-key", "15"];

/// Two Call-IDs starting with `base` that the switch of [`SHARDED`] puts
/// in different shards.
fn in_two_shards(base: &str) -> (String, String) {
    let picker = engine::signalling::shards::Picker::keyed(4, [15, 0]);
    let first = format!("{base}-1");
    let second =
        (0..).map(|i| format!("{base}-2-{i}")).find(|id| picker.of(id) != picker.of(&first)).unwrap();
    (first, second)
}

#[test]
fn attended_transfer_joins_the_two_far_ends() {
    let c = calliope(&[]);
    let id1 = format!("alice-bob-{}", std::process::id());
    let id2 = format!("alice-carol-{}", std::process::id());
    attended_transfer(c, &id1, &id2);
}

#[test]
fn attended_transfer_works_across_shards() {
    let (id1, id2) = in_two_shards(&format!("alice-{}", std::process::id()));
    attended_transfer(calliope(SHARDED), &id1, &id2);
}

fn attended_transfer(c: Calliope, id1: &str, id2: &str) {
    let (id1, id2) = (id1.to_owned(), id2.to_owned());
    let (bob, bob_ear) = phone(&c, CALLEE, "callee-pw", "uas_xfer_transferee.xml");
    let (carol, carol_ear) = phone(&c, TARGET, "target-pw", "uas_xfer_target.xml");

    let mut alice = Alice::new(c.sip);
    let (bob_tag, _) = alice.call(CALLEE, &id1, "a1");
    // Alice puts Bob on hold, then calls Carol.
    assert_eq!(alice.hold((CALLEE, &id1, "a1", &bob_tag), 3), 200, "Bob is held");
    let (carol_tag, alice_port_2) = alice.call(TARGET, &id2, "a2");
    let alice_side_2 = SocketAddr::new(c.sip.ip(), alice_port_2);
    // Alice speaks to Carol: Carol's ear learns where her call's media is.
    let speaking = {
        let media = alice.media.try_clone().unwrap();
        thread::spawn(move || send_rtp(&media, alice_side_2, 25, 0xa11ce))
    };
    let carol_side = first_rtp_from(&carol_ear, Duration::from_secs(3)).expect("Carol hears Alice");
    speaking.join().unwrap();

    let replaces = format!("{id2}%3Bto-tag%3D{carol_tag}%3Bfrom-tag%3Da2");
    let refer_to = format!("<sip:{TARGET}@{}?Replaces={replaces}>", c.sip);
    assert_eq!(alice.refer((CALLEE, &id1, "a1", &bob_tag), 4, &refer_to), 202);
    alice.collect(Duration::from_secs(10), |got| {
        got.iter().any(|r| is_notify_with(r, "200")) && bye_for(got, &id1) && bye_for(got, &id2)
    });
    assert!(alice.got.iter().any(|r| is_notify_with(r, "200")), "NOTIFY 200: {:?}", alice.got);
    assert!(bye_for(&alice.got, &id1), "BYE on the first call");
    assert!(bye_for(&alice.got, &id2), "BYE on the second call");

    // Bob was moved to the endpoint Alice had in Carol's call. Carol
    // speaks first, so what Bob hears went where his re-INVITE's answer
    // said (nothing was learnt from his packets yet); then Bob speaks.
    let to_bob = thread::scope(|s| {
        let bob_hears = s.spawn(|| rtp_packets(&bob_ear, Duration::from_millis(1200)));
        send_rtp(&carol_ear, carol_side, 40, 0xca401);
        bob_hears.join().unwrap()
    });
    let to_carol = thread::scope(|s| {
        let carol_hears = s.spawn(|| rtp_packets(&carol_ear, Duration::from_millis(1200)));
        send_rtp(&bob_ear, alice_side_2, 40, 0xb0b);
        carol_hears.join().unwrap()
    });
    let legs = c.pbx_get("/api/channels").1.as_array().cloned().unwrap_or_default();
    assert_eq!(legs.len(), 2, "only Bob's and Carol's legs are live: {legs:?}");
    let to_alice = rtp_packets(&alice.media, Duration::from_millis(300));
    assert!(to_bob > 20, "Carol's RTP reached Bob: {to_bob} packets");
    assert!(to_carol > 20, "Bob's RTP reached Carol: {to_carol} packets");
    assert_eq!(to_alice, 0, "Alice is out of the call");
    wait(carol, "Carol talked to Bob and hung up");
    wait(bob, "Bob was moved to Carol and got the BYE when she hung up");

    let mut items = Vec::new();
    for _ in 0..50 {
        let (_, body) = c.call("GET", "/v1beta2/calls", serde_json::Value::Null);
        items = crate::support::calls::legs_of(&body);
        if items.len() >= 4 {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(items.len(), 4, "two records per call: {items:?}");
    assert!(items.iter().all(|r| r["status"] == "ATTENDED_TRANSFER"), "{items:?}");
}

#[test]
fn a_replaces_naming_no_live_dialog_fails_with_a_notify_and_the_call_goes_on() {
    let c = calliope(&[]);
    let (bob, _bob_ear) = phone(&c, CALLEE, "callee-pw", "uas_answer.xml");
    let mut alice = Alice::new(c.sip);
    let id1 = format!("alice-bob-{}", std::process::id());
    let (bob_tag, _) = alice.call(CALLEE, &id1, "a1");
    let refer_to = format!("<sip:{TARGET}@{}?Replaces=nosuchcall%3Bto-tag%3Dx%3Bfrom-tag%3Dy>", c.sip);
    assert_eq!(alice.refer((CALLEE, &id1, "a1", &bob_tag), 3, &refer_to), 202);
    alice.collect(Duration::from_secs(5), |got| got.iter().any(|r| is_notify_with(r, "481")));
    assert!(alice.got.iter().any(|r| is_notify_with(r, "481")), "NOTIFY 481: {:?}", alice.got);
    assert!(!bye_for(&alice.got, &id1), "the call goes on");
    // Alice hangs up the call she still has; Bob gets the BYE.
    let via = alice.via();
    let t = c.sip;
    let bye = format!(
        "BYE sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag=a1\r\nTo: <sip:{CALLEE}@{t}>;tag={bob_tag}\r\n\
         Call-ID: {id1}\r\nCSeq: 4 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    alice.send(&bye);
    let ok = alice.response(&id1, Duration::from_secs(5)).expect("an answer to the BYE");
    assert_eq!(ok.status.code(), 200);
    wait(bob, "Bob stayed in the call until Alice's BYE");
}

#[test]
fn an_invite_with_replaces_takes_over_a_leg_and_unknown_ones_get_481() {
    let id1 = format!("alice-bob-{}", std::process::id());
    let id2 = format!("dave-{}", std::process::id());
    take_over(calliope(&[]), &id1, &id2);
}

#[test]
fn an_invite_with_replaces_takes_over_a_leg_in_another_shard() {
    let (id1, id2) = in_two_shards(&format!("alice-dave-{}", std::process::id()));
    take_over(calliope(SHARDED), &id1, &id2);
}

/// Dave's INVITE (Call-ID `id2`) with `Replaces` takes over the leg of
/// Alice's call (Call-ID `id1`) to Bob.
fn take_over(c: Calliope, id1: &str, id2: &str) {
    let (bob, bob_ear) = phone(&c, CALLEE, "callee-pw", "uas_answer.xml");
    let mut alice = Alice::new(c.sip);
    let (bob_tag, alice_port) = alice.call(CALLEE, id1, "a1");

    let mut dave = Alice::new(c.sip);
    let unknown = "Replaces: nosuchcall;to-tag=x;from-tag=y\r\n";
    let (status, _) = dave.invite(CALLEE, &format!("{id2}-x"), "d0", unknown);
    assert_eq!(status, 481, "no call owns the dialog");
    let wrong_tag = format!("Replaces: {id1};to-tag=nope;from-tag=a1\r\n");
    let (first, refused) = dave.invite(CALLEE, &format!("{id2}-y"), "d0", &wrong_tag);
    assert_eq!(first, 407, "taking a leg over needs credentials");
    assert_eq!(refused.status.code(), 481, "a mismatched tag: {refused:?}");

    let header = format!("Replaces: {id1};to-tag={bob_tag};from-tag=a1\r\n");
    let (first, ok) = dave.invite(CALLEE, id2, "d1", &header);
    assert_eq!(first, 407, "taking a leg over needs credentials");
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    let sdp = String::from_utf8_lossy(&ok.body).into_owned();
    assert!(sdp.contains(&format!("m=audio {alice_port} ")), "Dave gets Alice's endpoint: {sdp}");
    let theirs = ok.head.to_tag().unwrap().to_owned();
    let t = c.sip;
    dave.ack_2xx(CALLEE, id2, "d1", &theirs);
    alice.collect(Duration::from_secs(5), |got| bye_for(got, id1));
    assert!(bye_for(&alice.got, id1), "the replaced leg got BYE");

    // Dave speaks where Alice did; Bob hears him.
    let to_bob = thread::scope(|s| {
        let bob_hears = s.spawn(|| rtp_packets(&bob_ear, Duration::from_millis(1200)));
        send_rtp(&dave.media, SocketAddr::new(t.ip(), alice_port), 40, 0xda7e);
        bob_hears.join().unwrap()
    });
    assert!(to_bob > 20, "Dave's RTP reached Bob: {to_bob} packets");
    let via = dave.via();
    dave.send(&format!(
        "BYE sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{CALLER}@{t}>;tag=d1\r\nTo: <sip:{CALLEE}@{t}>;tag={theirs}\r\n\
         Call-ID: {id2}\r\nCSeq: 3 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ));
    let bye_ok = dave.response(id2, Duration::from_secs(5)).expect("an answer to the BYE");
    assert_eq!(bye_ok.status.code(), 200);
    wait(bob, "Bob talked to Dave and got the BYE when Dave hung up");
}
