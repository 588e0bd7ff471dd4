//! Calls that act on other calls, with real peers: hand-driven phones
//! registered as agents, each saying its own tone over real RTP and
//! keeping what it hears (judged with Goertzel). Eavesdrop, whisper and
//! barge by feature code and by the PBX `eavesdrop`/`three_way` apps;
//! pickup of a ringing extension by code and by `intercept`; force
//! breakdown; and the refusals: a call of another workspace, a call that
//! ended, a disabled code, an agent that is not a supervisor. A joining leg
//! (three-way, eavesdrop, intercept) is cleared when the call it joined
//! ends. Channel actions (PBX `PUT /api/channels/{uuid}`, Vonage
//! `PUT /v1/calls/{uuid}`) given a leg's uuid act on that leg, and a muted
//! leg's peer keeps getting RTP (silence).
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sip::digest::{Algorithm, Answer, Credentials};
use sip::{parse_message, HeaderName, MediaType, Message, Method, Request, Response, StatusCode};
use support::calliope::Calliope;
use support::ua::UdpUa;

/// Each phone's tone (Hz): 50 Hz multiples, a whole number of periods in
/// 20 ms.
const TONE_A: f32 = 500.0;
const TONE_B: f32 = 900.0;
const TONE_S: f32 = 1300.0;
/// The amplitude each phone says its tone at.
const LOUD: f32 = 4000.0;

/// How a phone answers calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answering {
    /// 180, then 200 at once.
    Answer,
    /// 180 only, until cancelled.
    Ring,
}

#[derive(Default)]
struct Shared {
    /// Where the phone's RTP goes: each call's media, by Call-ID.
    peers: Vec<(String, SocketAddr)>,
    /// What it heard, decoded.
    heard: Vec<i16>,
    /// Call-IDs of the BYEs and CANCELs it got.
    ended: Vec<String>,
    /// Call-IDs of INVITEs it got.
    invited: Vec<String>,
}

/// A phone registered as an agent, saying `tone` whenever in a call.
struct Phone {
    user: String,
    password: String,
    /// The agent's ref (Fonoster API).
    agent_ref: String,
    /// The last final response to an INVITE it sent.
    last: Option<Response>,
    sip: UdpSocket,
    local: SocketAddr,
    target: SocketAddr,
    rtp_port: u16,
    rtp: UdpSocket,
    shared: Arc<Mutex<Shared>>,
    responses: Mutex<mpsc::Receiver<Response>>,
    stop: Arc<AtomicBool>,
    branch: u32,
}

/// A dialog a phone started.
struct Dialog {
    to: String,
    call_id: String,
    tag: String,
    theirs: String,
}

fn tone_packet(seq: u16, tone: f32, phase: &mut f32) -> Vec<u8> {
    let step = std::f32::consts::TAU * tone / 8000.0;
    let payload: Vec<u8> = (0..160)
        .map(|_| {
            let s = (LOUD * phase.sin()) as i16;
            *phase = (*phase + step) % std::f32::consts::TAU;
            media::g711::ulaw_encode(s)
        })
        .collect();
    let pkt = media::rtp::RtpPacket::new(0, seq, u32::from(seq) * 160, 0x5000 + tone as u32, &payload);
    pkt.to_vec().unwrap()
}

impl Phone {
    /// Makes the agent, registers it and starts its threads.
    fn new(c: &Calliope, user: &str, tone: f32, answering: Answering) -> Phone {
        let password = format!("{user}-pw");
        let agent_ref = c.agent(user, &password);
        Phone::register(c, user, agent_ref, tone, answering)
    }

    /// Registers the agent `user` (password `<user>-pw`), made already,
    /// and starts its threads.
    fn register(c: &Calliope, user: &str, agent_ref: String, tone: f32, answering: Answering) -> Phone {
        let password = format!("{user}-pw");
        let ua = UdpUa::new("127.0.0.1".parse().unwrap(), c.sip, user);
        let ok = ua.register_fully(&password, 1);
        assert_eq!(ok.status.code(), 200, "{user} registers: {ok:?}");
        let sip = ua.socket;
        let local = sip.local_addr().unwrap();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtp_port = rtp.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, responses) = mpsc::channel();
        // SIP: requests answered, responses handed to the test.
        {
            let (sock, shared, stop, target) =
                (sip.try_clone().unwrap(), shared.clone(), stop.clone(), c.sip);
            let user = user.to_owned();
            thread::spawn(move || {
                sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                let mut buf = [0u8; 8192];
                let mut ringing: Option<Request> = None;
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, _)) = sock.recv_from(&mut buf) else { continue };
                    match parse_message(&buf[..n]) {
                        Ok(Message::Response(r)) => {
                            let _ = tx.send(r);
                        }
                        Ok(Message::Request(r)) => {
                            let reply = |resp: Response| {
                                sock.send_to(&resp.to_bytes(), target).unwrap();
                            };
                            match r.method {
                                Method::Invite => {
                                    let call_id = r.head.call_id.clone();
                                    shared.lock().unwrap().invited.push(call_id);
                                    reply(Response::for_request(&r, StatusCode::RINGING, Some("ph")));
                                    if answering == Answering::Ring {
                                        ringing = Some(r);
                                        continue;
                                    }
                                    if let Some(m) = media_of(&r.body) {
                                        shared.lock().unwrap().peers.push((r.head.call_id.clone(), m));
                                    }
                                    let body = sdp(rtp_port, &user);
                                    let mut ok = Response::for_request(&r, StatusCode::OK, Some("ph"))
                                        .with_body(&MediaType::sdp(), body.into_bytes());
                                    ok.head
                                        .headers
                                        .push(HeaderName::Contact, format!("<sip:{user}@{local}>"));
                                    reply(ok);
                                }
                                Method::Ack => {}
                                Method::Cancel => {
                                    reply(Response::for_request(&r, StatusCode::OK, Some("ph")));
                                    if let Some(inv) = ringing.take() {
                                        let status = StatusCode::new(487).unwrap();
                                        reply(Response::for_request(&inv, status, Some("ph")));
                                    }
                                    shared.lock().unwrap().ended.push(r.head.call_id.clone());
                                }
                                Method::Bye => {
                                    reply(Response::for_request(&r, StatusCode::OK, None));
                                    let mut s = shared.lock().unwrap();
                                    s.ended.push(r.head.call_id.clone());
                                    s.peers.retain(|p| p.0 != r.head.call_id);
                                }
                                _ => reply(Response::for_request(&r, StatusCode::OK, None)),
                            }
                        }
                        _ => {}
                    }
                }
            });
        }
        // RTP out: the tone, every 20 ms, while in a call.
        {
            let (sock, shared, stop) = (rtp.try_clone().unwrap(), shared.clone(), stop.clone());
            thread::spawn(move || {
                let (mut seq, mut phase) = (1u16, 0f32);
                let start = Instant::now();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let due = start + Duration::from_millis(20 * u64::from(n));
                    if let Some(d) = due.checked_duration_since(Instant::now()) {
                        thread::sleep(d);
                    }
                    let peers: Vec<SocketAddr> = shared.lock().unwrap().peers.iter().map(|p| p.1).collect();
                    if !peers.is_empty() {
                        let packet = tone_packet(seq, tone, &mut phase);
                        for peer in peers {
                            let _ = sock.send_to(&packet, peer);
                        }
                        seq = seq.wrapping_add(1);
                    }
                }
            });
        }
        // RTP in: decoded and kept.
        {
            let (sock, shared, stop) = (rtp.try_clone().unwrap(), shared.clone(), stop.clone());
            thread::spawn(move || {
                sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    let Ok(n) = sock.recv(&mut buf) else { continue };
                    let Ok(p) = media::rtp::parse(&buf[..n]) else { continue };
                    let samples: Vec<i16> = match p.payload_type {
                        0 => p.payload.iter().map(|b| media::g711::ulaw_decode(*b)).collect(),
                        8 => p.payload.iter().map(|b| media::g711::alaw_decode(*b)).collect(),
                        _ => continue,
                    };
                    let mut s = shared.lock().unwrap();
                    if s.heard.len() < 8000 * 60 {
                        s.heard.extend(samples);
                    }
                }
            });
        }
        Phone {
            user: user.to_owned(),
            password,
            agent_ref,
            last: None,
            sip,
            local,
            target: c.sip,
            rtp_port,
            rtp,
            shared,
            responses: Mutex::new(responses),
            stop,
            branch: 0,
        }
    }

    fn send(&self, text: &str) {
        self.sip.send_to(text.as_bytes(), self.target).unwrap();
    }

    fn via(&mut self) -> String {
        self.branch += 1;
        format!(
            "Via: SIP/2.0/UDP {};branch=z9hG4bK-{}-{}-{}",
            self.local,
            self.user,
            self.branch,
            std::process::id()
        )
    }

    /// The next final response for `call_id` within `wait`.
    fn final_response(&self, call_id: &str, wait: Duration) -> Option<Response> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = self.responses.lock().unwrap().recv_timeout(left).ok()?;
            if r.head.call_id == call_id && r.status.code() >= 200 {
                return Some(r);
            }
        }
    }

    fn invite_text(&mut self, to: &str, call_id: &str, tag: &str, cseq: u32, auth: &str) -> (String, String) {
        let body = sdp(self.rtp_port, &self.user);
        let via = self.via();
        let text = format!(
            "INVITE sip:{to}@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{u}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:{u}@{l}>\r\nMax-Forwards: 70\r\n\
             {auth}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len(),
            u = self.user,
            t = self.target,
            l = self.local,
        );
        (text, via)
    }

    fn ack_text(&self, via: &str, to: &str, call_id: &str, tag: &str, theirs: &str, cseq: u32) -> String {
        format!(
            "ACK sip:{to}@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{u}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            u = self.user,
            t = self.target
        )
    }

    /// Calls `to`, answering the digest challenge; the final status and,
    /// when answered, the dialog (its media then flows).
    fn dial(&mut self, to: &str) -> (u16, Option<Dialog>) {
        self.branch += 1;
        let call_id = format!("{}-{}-{}", self.user, self.branch, std::process::id());
        let tag = format!("t{}", self.branch);
        let (first, via) = self.invite_text(to, &call_id, &tag, 1, "");
        self.send(&first);
        let challenge =
            self.final_response(&call_id, Duration::from_secs(10)).expect("an answer to the INVITE");
        let theirs = challenge.head.to_tag().unwrap_or_default().to_owned();
        self.send(&self.ack_text(&via, to, &call_id, &tag, &theirs, 1));
        assert_eq!(challenge.status.code(), 407, "{challenge:?}");
        let c = challenge
            .head
            .proxy_authenticate()
            .into_iter()
            .filter_map(Result::ok)
            .find(|c| c.algorithm == Algorithm::Md5)
            .expect("an MD5 challenge");
        let uri = format!("sip:{to}@{}", self.target);
        let answer = Answer {
            username: &self.user,
            password: &self.password,
            method: &Method::Invite,
            uri: &uri,
            cnonce: "0a4f113b",
            nc: 1,
        };
        let auth = format!("Proxy-Authorization: {}\r\n", Credentials::answer(&c, &answer));
        let (second, via) = self.invite_text(to, &call_id, &tag, 2, &auth);
        self.send(&second);
        let last = self.final_response(&call_id, Duration::from_secs(20)).expect("a final answer");
        let theirs = last.head.to_tag().unwrap_or_default().to_owned();
        let status = last.status.code();
        self.last = Some(last.clone());
        if status >= 300 {
            self.send(&self.ack_text(&via, to, &call_id, &tag, &theirs, 2));
            return (status, None);
        }
        let via = self.via();
        self.send(&self.ack_text(&via, to, &call_id, &tag, &theirs, 2));
        if let Some(m) = media_of(&last.body) {
            self.shared.lock().unwrap().peers.push((call_id.clone(), m));
        }
        (status, Some(Dialog { to: to.to_owned(), call_id, tag, theirs }))
    }

    /// Hangs up a dialog it started.
    fn bye(&mut self, d: &Dialog) {
        let via = self.via();
        self.send(&format!(
            "BYE sip:calliope@{t} SIP/2.0\r\n{via}\r\nFrom: <sip:{u}@{t}>;tag={tag}\r\nTo: <sip:{to}@{t}>;tag={theirs}\r\n\
             Call-ID: {id}\r\nCSeq: 3 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            u = self.user,
            t = self.target,
            tag = d.tag,
            to = d.to,
            theirs = d.theirs,
            id = d.call_id,
        ));
        let ok = self.final_response(&d.call_id, Duration::from_secs(5));
        assert_eq!(ok.map(|r| r.status.code()), Some(200), "the BYE is answered");
        self.shared.lock().unwrap().peers.retain(|p| p.0 != d.call_id);
    }

    /// Presses `digits` in the call `d` (RFC 4733 telephone-events).
    fn keys(&self, d: &Dialog, digits: &str) {
        let peer = self.shared.lock().unwrap().peers.iter().find(|p| p.0 == d.call_id).map(|p| p.1);
        let peer = peer.expect("the call's media");
        // Each press its own timestamp (a repeated one is a duplicate).
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        let base = (now.as_millis() as u32).wrapping_mul(8);
        let mut seq = (base % 60_000) as u16;
        for (n, key) in digits.chars().enumerate() {
            let event = match key {
                '*' => 10,
                '#' => 11,
                k => k.to_digit(10).unwrap() as u8,
            };
            let ts = base.wrapping_add(n as u32 * 8000);
            for i in 0..8u16 {
                let end = i >= 5;
                let duration = (i.min(5) + 1) * 160;
                let mut payload = vec![event, if end { 0x80 | 10 } else { 10 }];
                payload.extend_from_slice(&duration.to_be_bytes());
                let pkt = media::rtp::RtpPacket::new(101, seq, ts, 0xd7f, &payload);
                self.rtp.send_to(&pkt.to_vec().unwrap(), peer).unwrap();
                seq = seq.wrapping_add(1);
                thread::sleep(Duration::from_millis(20));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// What it hears for `window` from now.
    fn listen(&self, window: Duration) -> Vec<i16> {
        self.shared.lock().unwrap().heard.clear();
        thread::sleep(window);
        std::mem::take(&mut self.shared.lock().unwrap().heard)
    }

    /// Whether a BYE or CANCEL came within `wait`.
    fn ended_within(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if !self.shared.lock().unwrap().ended.is_empty() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits until an INVITE reached it.
    fn invited_within(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if !self.shared.lock().unwrap().invited.is_empty() {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn sdp(port: u16, user: &str) -> String {
    format!(
        "v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

/// The RTP address an SDP body gives.
fn media_of(body: &[u8]) -> Option<SocketAddr> {
    let text = String::from_utf8_lossy(body);
    let ip = text.lines().find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?.trim().to_owned();
    let port: u16 =
        text.lines().find_map(|l| l.trim().strip_prefix("m=audio "))?.split(' ').next()?.parse().ok()?;
    format!("{ip}:{port}").parse().ok()
}

/// The mean amplitude of `frequency` in `samples` (Goertzel over 20 ms
/// blocks, each a whole number of periods of the test tones).
fn level(samples: &[i16], frequency: f32) -> f32 {
    let blocks: Vec<f32> = samples
        .chunks_exact(160)
        .map(|c| {
            let x: Vec<f32> = c.iter().map(|&s| f32::from(s)).collect();
            2.0 * media::detect::goertzel_power(&x, frequency, 8000).sqrt() / 160.0
        })
        .collect();
    if blocks.is_empty() {
        return 0.0;
    }
    blocks.iter().sum::<f32>() / blocks.len() as f32
}

/// Asserts which tones `samples` hold: each of `present` loud, each of
/// `absent` not at all.
fn hears(who: &str, samples: &[i16], present: &[f32], absent: &[f32]) {
    assert!(samples.len() >= 8000, "{who} heard {} samples only", samples.len());
    for f in present {
        let l = level(samples, *f);
        assert!(l > LOUD / 4.0, "{who} should hear {f} Hz: level {l}");
    }
    for f in absent {
        let l = level(samples, *f);
        assert!(l < LOUD / 20.0, "{who} should not hear {f} Hz: level {l}");
    }
}

/// Three phones: A (2001) calls B (2002), both talking; S (2003) is the
/// supervisor.
fn three_phones(c: &Calliope) -> (Phone, Phone, Phone, Dialog) {
    let (a, b, s, d) = a_call_and_a_third(c);
    set_supervisor(c, &s, true);
    (a, b, s, d)
}

/// A (2001) calls B (2002), both talking; S (2003) is an agent like them.
fn a_call_and_a_third(c: &Calliope) -> (Phone, Phone, Phone, Dialog) {
    let a = Phone::new(c, "2001", TONE_A, Answering::Answer);
    let b = Phone::new(c, "2002", TONE_B, Answering::Answer);
    let s = Phone::new(c, "2003", TONE_S, Answering::Answer);
    let mut a = a;
    let (status, dialog) = a.dial("2002");
    assert_eq!(status, 200);
    let d = dialog.unwrap();
    // The call is up: A and B hear each other.
    let heard = a.listen(Duration::from_millis(1000));
    hears("A before", &heard, &[TONE_B], &[TONE_S]);
    (a, b, s, d)
}

/// Makes `phone`'s agent a supervisor (or not) through the Fonoster API,
/// and gives the change time to reach the SIP side.
fn set_supervisor(c: &Calliope, phone: &Phone, on: bool) {
    let path = format!("/v1beta2/agents/{}", phone.agent_ref);
    let (st, body) = c.call("PUT", &path, json!({ "supervisor": on }));
    assert_eq!(st, 200, "{body}");
    let (_, shown) = c.call("GET", &path, Value::Null);
    assert_eq!(shown["supervisor"], json!(on), "{shown}");
    thread::sleep(Duration::from_millis(500));
}

fn window() -> Duration {
    Duration::from_millis(1500)
}

#[test]
fn eavesdrop_whisper_and_barge_by_feature_code() {
    let c = Calliope::start(&[]);
    let (mut a, b, mut s, call) = three_phones(&c);

    // Eavesdrop: S hears both sides; neither hears S.
    let (status, spy) = s.dial("*332002");
    assert_eq!(status, 200, "eavesdrop answered");
    let spy = spy.unwrap();
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a, heard_b) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        let ha = sc.spawn(|| a.listen(window()));
        let hb = b.listen(window());
        (hs.join().unwrap(), ha.join().unwrap(), hb)
    });
    hears("the eavesdropper", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("A while eavesdropped", &heard_a, &[TONE_B], &[TONE_S]);
    hears("B while eavesdropped", &heard_b, &[TONE_A], &[TONE_S]);
    s.bye(&spy);

    // Whisper to B: B hears S and A; A does not hear S.
    let (status, spy) = s.dial("*342002");
    assert_eq!(status, 200, "whisper answered");
    let spy = spy.unwrap();
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a, heard_b) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        let ha = sc.spawn(|| a.listen(window()));
        let hb = b.listen(window());
        (hs.join().unwrap(), ha.join().unwrap(), hb)
    });
    hears("the whisperer", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("B, whispered to", &heard_b, &[TONE_A, TONE_S], &[]);
    hears("A, not whispered to", &heard_a, &[TONE_B], &[TONE_S]);
    s.bye(&spy);

    // The call is plain again once the whisperer left.
    thread::sleep(Duration::from_millis(300));
    let heard_b = b.listen(window());
    hears("B after the whisper", &heard_b, &[TONE_A], &[TONE_S]);

    // Barge: all three hear each other.
    let (status, spy) = s.dial("*352002");
    assert_eq!(status, 200, "barge answered");
    let spy = spy.unwrap();
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a, heard_b) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        let ha = sc.spawn(|| a.listen(window()));
        let hb = b.listen(window());
        (hs.join().unwrap(), ha.join().unwrap(), hb)
    });
    hears("the barger", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("A in a barge", &heard_a, &[TONE_B, TONE_S], &[]);
    hears("B in a barge", &heard_b, &[TONE_A, TONE_S], &[]);

    // The call ends: the barging phone gets BYE too.
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)), "B got BYE");
    assert!(s.ended_within(Duration::from_secs(5)), "the barger got BYE when the call ended");
    let _ = spy;
}

#[test]
fn refusals_a_call_that_ended_a_disabled_code_and_force_breakdown() {
    let c = Calliope::start(&[]);
    let (mut a, b, mut s, call) = three_phones(&c);
    // Nobody at 2004 is talking: 404.
    let (status, _) = s.dial("*332004");
    assert_eq!(status, 404, "no call to listen to");
    // Its own extension: 484.
    let (status, _) = s.dial("*332003");
    assert_eq!(status, 484);

    // A workspace's own disabled eavesdrop code: the digits route as
    // dialled (nothing is listened to).
    let (st, body) = c.pbx(
        "POST",
        "/api/func_code",
        json!({"func_code": "*33", "func_type": "FS_DEST_EAVESDROP", "description": "listen"}),
    );
    assert_eq!(st, 200, "{body}");
    let id = if body["data"].is_object() { &body["data"]["id"] } else { &body["data"] };
    let id: i64 =
        id.as_i64().or_else(|| id.as_str().and_then(|i| i.parse().ok())).unwrap_or_else(|| panic!("{body}"));
    let (st, body) = c.pbx("PUT", &format!("/api/func_code/{id}"), json!({"action": "toggle"}));
    assert_eq!(st, 200, "{body}");
    thread::sleep(Duration::from_millis(500));
    let (status, d) = s.dial("*332002");
    assert_ne!(status, 200, "a disabled code listens to nothing");
    assert!(d.is_none());

    // Force breakdown hangs the call up (confirmed with a tone).
    let (status, fb) = s.dial("*362002");
    assert_eq!(status, 200, "breakdown confirmed");
    assert!(a.ended_within(Duration::from_secs(5)), "A got BYE");
    assert!(b.ended_within(Duration::from_secs(5)), "B got BYE");
    let _ = (fb, call);
    thread::sleep(Duration::from_millis(500));
    // The call ended: there is nothing to barge into.
    let (status, _) = s.dial("*352002");
    assert_eq!(status, 404, "a call that ended");
    let _ = &mut a;
}

/// A request with the owner's token in the Fonoster dialect for the
/// workspace with access key id `akid`.
fn fonoster_in(c: &Calliope, akid: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .bearer_auth(c.token())
            .header("accesskeyid", akid)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// A second workspace named `name`: its access key id.
fn other_workspace(c: &Calliope, name: &str) -> String {
    let (st, ws) = c.call("POST", "/v1beta2/workspaces", json!({ "name": name }));
    assert!(st == 200 || st == 201, "{ws}");
    let (_, all) = c.call("GET", "/v1beta2/workspaces", Value::Null);
    let other = all["items"].as_array().unwrap().iter().find(|w| w["name"] == name).cloned();
    other.unwrap_or_else(|| panic!("{all}"))["accessKeyId"].as_str().unwrap().to_owned()
}

/// The records of the feature calls that dialled `to`, once there are
/// `n` of them.
fn records_to(c: &Calliope, to: &str, n: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=1000", Value::Null);
        let items = body["items"].as_array().cloned().unwrap_or_default();
        found = items.into_iter().filter(|r| r["to"] == json!(to)).collect();
        if found.len() >= n {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    found
}

#[test]
fn only_supervisors_act_on_calls_and_only_in_their_own_workspace() {
    let c = Calliope::start(&[]);
    let (mut a, b, mut s, call) = a_call_and_a_third(&c);

    // S is not a supervisor: each code that acts on another's call is
    // refused with 403 and a Warning, before anything is looked at.
    for code in ["*332002", "*342002", "*352002", "*362002", "*33"] {
        let (status, d) = s.dial(code);
        assert_eq!(status, 403, "{code} by a non-supervisor");
        assert!(d.is_none());
        let last = s.last.take().unwrap();
        let warning = last.head.headers.get(&HeaderName::Warning).unwrap_or_default().to_owned();
        assert!(warning.contains("supervisor"), "{code}: {warning:?}");
    }
    // Nothing happened to the call: no BYE, nobody new hears or is heard.
    assert!(!a.ended_within(Duration::from_millis(200)) && !b.ended_within(Duration::from_millis(200)));
    let (heard_s, heard_a, heard_b) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        let ha = sc.spawn(|| a.listen(window()));
        (hs.join().unwrap(), ha.join().unwrap(), b.listen(window()))
    });
    assert!(heard_s.len() < 800, "the refused phone hears nothing: {} samples", heard_s.len());
    hears("A after the refusals", &heard_a, &[TONE_B], &[TONE_S]);
    hears("B after the refusals", &heard_b, &[TONE_A], &[TONE_S]);
    // Each refusal is on record as CALL_REJECTED.
    let rejected = records_to(&c, "*332002", 1);
    assert!(
        !rejected.is_empty() && rejected.iter().all(|r| r["status"] == json!("CALL_REJECTED")),
        "{rejected:?}"
    );

    // A supervisor of another workspace cannot see this workspace's call.
    let akid = other_workspace(&c, "elsewhere");
    let (st, cred) = fonoster_in(
        &c,
        &akid,
        "POST",
        "/v1beta2/credentials",
        json!({"name": "2005", "username": "2005", "password": "2005-pw"}),
    );
    assert_eq!(st, 201, "{cred}");
    let (st, boss) = fonoster_in(
        &c,
        &akid,
        "POST",
        "/v1beta2/agents",
        json!({"name": "Boss", "username": "2005", "credentials": {"ref": cred["ref"]}, "supervisor": true}),
    );
    assert_eq!(st, 201, "{boss}");
    assert_eq!(boss["supervisor"], json!(true));
    let mut boss =
        Phone::register(&c, "2005", boss["ref"].as_str().unwrap().to_owned(), 1700.0, Answering::Answer);
    for code in ["*332002", "*362002"] {
        let (status, d) = boss.dial(code);
        assert_eq!(status, 404, "{code} from another workspace names no call");
        assert!(d.is_none());
    }
    assert!(!a.ended_within(Duration::from_millis(200)), "the other workspace broke nothing down");

    // Once the API makes S a supervisor, the same code listens.
    set_supervisor(&c, &s, true);
    let (status, spy) = s.dial("*332002");
    assert_eq!(status, 200, "a supervisor eavesdrops");
    let spy = spy.unwrap();
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        (hs.join().unwrap(), a.listen(window()))
    });
    hears("the new supervisor", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("A, listened to", &heard_a, &[TONE_B], &[TONE_S]);
    s.bye(&spy);

    // And no longer once it is taken back.
    set_supervisor(&c, &s, false);
    let (status, _) = s.dial("*352002");
    assert_eq!(status, 403, "not a supervisor any more");
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
}

/// A request in the PBX dialect for the workspace with access key id
/// `akid`.
fn pbx_in(c: &Calliope, akid: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .header("X-XTRA-AUTH-ID", c.token())
            .header("accesskeyid", akid)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn pbx_eavesdrop_and_three_way_apps_and_another_workspace() {
    let c = Calliope::start(&[]);
    let (mut a, b, s, call) = three_phones(&c);
    let legs = c.pbx_get("/api/channels").1;
    let uuid = legs[0]["call_uuid"].as_str().unwrap().to_owned();

    // Another workspace cannot name this call.
    let akid = other_workspace(&c, "other");
    let (st, body) = pbx_in(
        &c,
        &akid,
        "POST",
        "/api/channels",
        json!({"destNumber": "2003", "app": "eavesdrop", "args": uuid}),
    );
    assert_eq!(st, 404, "another workspace's call: {body}");
    // Nor a uuid that names no call.
    let (st, _) =
        c.pbx("POST", "/api/channels", json!({"destNumber": "2003", "app": "three_way", "args": "nope"}));
    assert_eq!(st, 404);

    // eavesdrop: 2003 is called, hears both, is not heard.
    let (st, body) =
        c.pbx_form("POST", "/api/channels", &[("destNumber", "2003"), ("app", "eavesdrop"), ("args", &uuid)]);
    assert_eq!(st, 200, "{body}");
    let spy = body["uuid"].as_str().unwrap().to_owned();
    assert!(s.invited_within(Duration::from_secs(10)));
    thread::sleep(Duration::from_millis(800));
    let (heard_s, heard_a) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        (hs.join().unwrap(), a.listen(window()))
    });
    hears("the PBX eavesdropper", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("A, eavesdropped by the PBX", &heard_a, &[TONE_B], &[TONE_S]);
    assert_eq!(c.call("DELETE", &format!("/api/channels/{spy}"), Value::Null).0, 200);
    assert!(s.ended_within(Duration::from_secs(5)));
    s.shared.lock().unwrap().ended.clear();

    // three_way: everyone hears everyone.
    let (st, body) =
        c.pbx("POST", "/api/channels", json!({"destNumber": "2003", "app": "three_way", "args": uuid}));
    assert_eq!(st, 200, "{body}");
    thread::sleep(Duration::from_millis(1500));
    let (heard_s, heard_a, heard_b) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        let ha = sc.spawn(|| a.listen(window()));
        (hs.join().unwrap(), ha.join().unwrap(), b.listen(window()))
    });
    hears("the third party", &heard_s, &[TONE_A, TONE_B], &[]);
    hears("A in three-way", &heard_a, &[TONE_B, TONE_S], &[]);
    hears("B in three-way", &heard_b, &[TONE_A, TONE_S], &[]);
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
    // The joined call ended: the three-way party is cleared too.
    assert!(s.ended_within(Duration::from_secs(5)), "the three-way leg got BYE when the call ended");
    legs_gone(&c);
}

/// Waits until no leg is live.
fn legs_gone(c: &Calliope) {
    for _ in 0..100 {
        if c.pbx_get("/api/channels").1.as_array().is_some_and(Vec::is_empty) {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("legs stay: {}", c.pbx_get("/api/channels").1);
}

#[test]
fn an_eavesdropper_is_cleared_when_the_call_ends() {
    let c = Calliope::start(&[]);
    let (mut a, b, s, call) = three_phones(&c);
    let legs = c.pbx_get("/api/channels").1;
    let uuid = legs[0]["call_uuid"].as_str().unwrap().to_owned();
    let (st, body) =
        c.pbx("POST", "/api/channels", json!({"destNumber": "2003", "app": "eavesdrop", "args": uuid}));
    assert_eq!(st, 200, "{body}");
    assert!(s.invited_within(Duration::from_secs(10)));
    thread::sleep(Duration::from_millis(800));
    hears("the eavesdropper", &s.listen(window()), &[TONE_A, TONE_B], &[]);
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
    assert!(s.ended_within(Duration::from_secs(5)), "the eavesdropper got BYE when the call ended");
    legs_gone(&c);
}

/// A Voice API token (RS256) of a new Vonage application of the
/// workspace.
fn voice_jwt(c: &Calliope) -> String {
    let (st, app) = c.call("POST", "/v2/applications", json!({"name": "leg actions"}));
    assert_eq!(st, 201, "{app}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims =
        json!({"application_id": app["id"], "iat": now, "jti": format!("jti-{now}"), "exp": now + 600});
    let key = app["keys"]["private_key"].as_str().unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
}

/// A Voice API request with `jwt`.
fn voice(c: &Calliope, jwt: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .bearer_auth(jwt)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

/// The live legs of the call A (2001) placed to B (2002): A's, then B's.
fn both_legs(c: &Calliope) -> (String, String) {
    let legs = c.pbx_get("/api/channels").1;
    let legs = legs.as_array().unwrap();
    let of = |dir: &str| {
        legs.iter().find(|l| l["direction"] == dir).unwrap_or_else(|| panic!("{legs:?}"))["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (of("inbound"), of("outbound"))
}

/// What A and B hear for a window, at the same time.
fn both_hear(a: &Phone, b: &Phone) -> (Vec<i16>, Vec<i16>) {
    thread::sleep(Duration::from_millis(300));
    thread::scope(|sc| {
        let ha = sc.spawn(|| a.listen(window()));
        (ha.join().unwrap(), b.listen(window()))
    })
}

#[test]
fn channel_actions_by_a_leg_uuid_act_on_that_leg_and_muting_sends_silence() {
    let c = Calliope::start(&[]);
    let (mut a, b, _s, call) = three_phones(&c);
    let (leg_a, leg_b) = both_legs(&c);
    assert_ne!(leg_a, leg_b);
    let put = |leg: &str, body: Value| {
        let (st, reply) = c.pbx("PUT", &format!("/api/channels/{leg}"), body.clone());
        assert_eq!(st, 200, "{body} on {leg}: {reply}");
    };

    // B's leg muted: A hears silence (its RTP still flows), B still hears A.
    put(&leg_b, json!({"action": "mute", "mute": "on"}));
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A while B is muted (silence, RTP flowing)", &heard_a, &[], &[TONE_B]);
    hears("B while muted", &heard_b, &[TONE_A], &[]);
    put(&leg_b, json!({"action": "mute", "mute": "off"}));
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A once B is unmuted", &heard_a, &[TONE_B], &[]);
    hears("B once unmuted", &heard_b, &[TONE_A], &[]);

    // A's leg muted: the other way round.
    put(&leg_a, json!({"action": "mute", "mute": "on"}));
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A while muted", &heard_a, &[TONE_B], &[]);
    hears("B while A is muted (silence, RTP flowing)", &heard_b, &[], &[TONE_A]);
    put(&leg_a, json!({"action": "mute", "mute": "off"}));

    // B's leg deaf: B hears silence, A still hears B.
    put(&leg_b, json!({"action": "deaf", "deaf": "on"}));
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A while B is deaf", &heard_a, &[TONE_B], &[]);
    hears("B while deaf (silence, RTP flowing)", &heard_b, &[], &[TONE_A]);
    put(&leg_b, json!({"action": "deaf", "deaf": "off"}));
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A after", &heard_a, &[TONE_B], &[]);
    hears("B after", &heard_b, &[TONE_A], &[]);

    // The Vonage Voice API on B's leg: earmuff and mute act on B.
    let jwt = voice_jwt(&c);
    let vonage = |leg: &str, action: &str| {
        let (st, reply) = voice(&c, &jwt, "PUT", &format!("/v1/calls/{leg}"), json!({"action": action}));
        assert_eq!(st, 204, "{action} on {leg}: {reply}");
    };
    vonage(&leg_b, "earmuff");
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A while B is earmuffed", &heard_a, &[TONE_B], &[]);
    hears("B while earmuffed", &heard_b, &[], &[TONE_A]);
    vonage(&leg_b, "unearmuff");
    vonage(&leg_b, "mute");
    let (heard_a, heard_b) = both_hear(&a, &b);
    hears("A while B is muted by Vonage", &heard_a, &[], &[TONE_B]);
    hears("B while muted by Vonage", &heard_b, &[TONE_A], &[]);
    vonage(&leg_b, "unmute");
    let (heard_a, _) = both_hear(&a, &b);
    hears("A once B is unmuted by Vonage", &heard_a, &[TONE_B], &[]);

    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
    legs_gone(&c);
}

#[test]
fn pickup_of_a_ringing_extension_by_code_and_by_intercept() {
    let c = Calliope::start(&[]);
    let mut a = Phone::new(&c, "2001", TONE_A, Answering::Answer);
    let b = Phone::new(&c, "2002", TONE_B, Answering::Ring);
    let mut s = Phone::new(&c, "2003", TONE_S, Answering::Answer);
    // A calls B, which only rings; A waits for its answer in a thread.
    let caller = thread::spawn(move || {
        let (status, d) = a.dial("2002");
        (a, status, d)
    });
    assert!(b.invited_within(Duration::from_secs(10)), "B rings");
    thread::sleep(Duration::from_millis(300));
    // Nothing rings 2004.
    let (status, _) = s.dial("**2004");
    assert_eq!(status, 404);
    let (status, picked) = s.dial("**2002");
    assert_eq!(status, 200, "S picked B's call up");
    let picked = picked.unwrap();
    let (a, status, call) = caller.join().unwrap();
    assert_eq!(status, 200, "A's call was answered");
    assert!(b.ended_within(Duration::from_secs(5)), "B's ringing was cancelled");
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        (hs.join().unwrap(), a.listen(window()))
    });
    hears("the picker", &heard_s, &[TONE_A], &[TONE_B]);
    hears("A, picked up", &heard_a, &[TONE_S], &[TONE_B]);
    // The picker hangs up: A's call ends.
    s.bye(&picked);
    assert!(a.ended_within(Duration::from_secs(5)), "A got BYE when the picker left");
    let _ = call;
}

#[test]
fn intercept_app_answers_a_ringing_call() {
    let c = Calliope::start(&[]);
    let mut a = Phone::new(&c, "2001", TONE_A, Answering::Answer);
    let b = Phone::new(&c, "2002", TONE_B, Answering::Ring);
    let s = Phone::new(&c, "2003", TONE_S, Answering::Answer);
    let caller = thread::spawn(move || {
        let (status, d) = a.dial("2002");
        (a, status, d)
    });
    assert!(b.invited_within(Duration::from_secs(10)), "B rings");
    thread::sleep(Duration::from_millis(300));
    let legs = c.pbx_get("/api/channels").1;
    let uuid = legs[0]["call_uuid"].as_str().unwrap().to_owned();
    let (st, body) =
        c.pbx("POST", "/api/channels", json!({"destNumber": "2003", "app": "intercept", "args": uuid}));
    assert_eq!(st, 200, "{body}");
    let (mut a, status, call) = caller.join().unwrap();
    assert_eq!(status, 200, "A's call was answered by the intercept");
    thread::sleep(Duration::from_millis(500));
    let (heard_s, heard_a) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        (hs.join().unwrap(), a.listen(window()))
    });
    hears("the interceptor", &heard_s, &[TONE_A], &[TONE_B]);
    hears("A, intercepted", &heard_a, &[TONE_S], &[TONE_B]);
    a.bye(&call.unwrap());
    assert!(s.ended_within(Duration::from_secs(5)), "the interceptor is cleared when the caller leaves");
    // A call that is answered cannot be intercepted.
    let (st, _) =
        c.pbx("POST", "/api/channels", json!({"destNumber": "2003", "app": "intercept", "args": uuid}));
    assert_eq!(st, 404);
}

#[test]
fn record_on_and_off_from_another_line() {
    let c = Calliope::start(&[]);
    let (mut a, b, _s, call) = three_phones(&c);
    // A dials *1 on a second line: its call with B is recorded.
    let (status, _) = a.dial("*1");
    assert_eq!(status, 200, "recording on, confirmed");
    thread::sleep(Duration::from_millis(2000));
    let (status, _) = a.dial("*1");
    assert_eq!(status, 200, "recording off, confirmed");
    let dir = c.dir.path().join("recordings").join("1");
    let mut wav = None;
    for _ in 0..50 {
        let files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        if let Some(f) = files.first() {
            if let Ok(w) = media::wav::read_channels(&std::fs::read(f).unwrap()) {
                if w.channels.first().is_some_and(|c| c.len() > 8000) {
                    wav = Some(w);
                    break;
                }
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    let wav = wav.unwrap_or_else(|| panic!("a recording in {}", dir.display()));
    assert_eq!(wav.channels.len(), 2, "one channel per side");
    hears("the caller's channel", &wav.channels[0], &[TONE_A], &[TONE_B]);
    hears("the callee's channel", &wav.channels[1], &[TONE_B], &[TONE_A]);
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
}

#[test]
fn group_pickup_answers_the_call_ringing_a_colleague() {
    let c = Calliope::start(&[]);
    let mut a = Phone::new(&c, "2001", TONE_A, Answering::Answer);
    let b = Phone::new(&c, "2002", TONE_B, Answering::Ring);
    let mut s = Phone::new(&c, "2003", TONE_S, Answering::Answer);
    // Nothing rings yet.
    let (status, _) = s.dial("*8");
    assert_eq!(status, 404, "nothing to pick up");
    let caller = thread::spawn(move || {
        let (status, d) = a.dial("2002");
        (a, status, d)
    });
    assert!(b.invited_within(Duration::from_secs(10)), "B rings");
    thread::sleep(Duration::from_millis(300));
    let (status, picked) = s.dial("*8");
    assert_eq!(status, 200, "S picked up the call ringing its colleague");
    let (a, status, call) = caller.join().unwrap();
    assert_eq!(status, 200);
    assert!(b.ended_within(Duration::from_secs(5)), "B's ringing was cancelled");
    thread::sleep(Duration::from_millis(300));
    let (heard_s, heard_a) = thread::scope(|sc| {
        let hs = sc.spawn(|| s.listen(window()));
        (hs.join().unwrap(), a.listen(window()))
    });
    hears("the group picker", &heard_s, &[TONE_A], &[TONE_B]);
    hears("A, picked up by the group", &heard_a, &[TONE_S], &[TONE_B]);
    let mut a = a;
    a.bye(&call.unwrap());
    assert!(s.ended_within(Duration::from_secs(5)), "the picker got BYE when A hung up");
    let _ = picked;
}

/// The WAV recordings of workspace 1, once one is complete with more than
/// a second of audio.
fn finished_recording(c: &Calliope) -> media::wav::WavChannels {
    let dir = c.dir.path().join("recordings").join("1");
    for _ in 0..50 {
        let files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        for f in files {
            if let Ok(w) = media::wav::read_channels(&std::fs::read(f).unwrap()) {
                if w.channels.first().is_some_and(|c| c.len() > 8000) {
                    return w;
                }
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("no recording in {}", dir.display());
}

#[test]
fn record_on_and_off_by_keys_during_the_call() {
    let c = Calliope::start(&[]);
    let (mut a, b, _s, call) = three_phones(&c);
    a.keys(&call, "*1");
    thread::sleep(Duration::from_millis(2000));
    a.keys(&call, "*1");
    let wav = finished_recording(&c);
    assert_eq!(wav.channels.len(), 2, "one channel per side");
    hears("the caller's channel", &wav.channels[0], &[TONE_A], &[TONE_B]);
    hears("the callee's channel", &wav.channels[1], &[TONE_B], &[TONE_A]);
    a.bye(&call);
    assert!(b.ended_within(Duration::from_secs(5)));
}
