//! Voicemail end to end: agent 2002 (a SIPp phone) has voicemail on and
//! does not answer; caller 2001 (SIPp signalling, the test's own UDP socket
//! as its media) hears the greeting and the beep, leaves a 440 Hz tone and
//! presses `#`. The registered phone gets the message-summary NOTIFY
//! (`Messages-Waiting: yes`), the message is listed and downloaded through
//! the API and holds the tone. With the mailbox full (a cap of one), the
//! next caller hears a prompt and records nothing. 2002 dials `*97`: three
//! wrong PINs end the call; then the right PIN (RFC 4733 keys), the
//! message is heard and deleted with 7, and the phone's NOTIFY says `no`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};
use support::calls::{wait, CALLEE, CALLER};

/// The caller's voice: a tone the message must hold.
const VOICE_HZ: f32 = 440.0;
/// The beep before the recording.
const BEEP_HZ: f32 = 1000.0;

/// An RFC 4733 telephone-event for `digit` (PT 101) from `socket` to `to`.
fn press(socket: &UdpSocket, to: SocketAddr, digit: u8, seq: &mut u16, ts: &mut u32) {
    let event = match digit {
        b'0'..=b'9' => digit - b'0',
        b'*' => 10,
        _ => 11,
    };
    for (i, (end, duration)) in
        [(false, 160u16), (false, 320), (false, 480), (true, 480), (true, 480), (true, 480)]
            .into_iter()
            .enumerate()
    {
        let mut p = vec![0x80, if i == 0 { 0x80 | 101 } else { 101 }];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.push(event);
        p.push(if end { 0x80 | 10 } else { 10 });
        p.extend_from_slice(&duration.to_be_bytes());
        socket.send_to(&p, to).unwrap();
        *seq = seq.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(20));
    }
    *ts = ts.wrapping_add(1600);
    std::thread::sleep(Duration::from_millis(120));
}

/// Sends `ms` of a PCMU sine at `frequency`, paced in real time.
fn speak(socket: &UdpSocket, to: SocketAddr, frequency: f32, ms: u32, seq: &mut u16, ts: &mut u32) {
    for n in 0..ms / 20 {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        for i in 0..160u32 {
            let t = (n * 160 + i) as f32 / 8000.0;
            let s = (f32::sin(2.0 * std::f32::consts::PI * frequency * t) * 12000.0) as i16;
            p.push(media::g711::Law::Ulaw.encode(s));
        }
        socket.send_to(&p, to).unwrap();
        *seq = seq.wrapping_add(1);
        *ts = ts.wrapping_add(160);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a call's media socket hears: the audio so far and where it came from.
struct Ear {
    socket: UdpSocket,
    samples: Vec<i16>,
    from: Option<SocketAddr>,
}

impl Ear {
    fn new() -> Ear {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        Ear { socket, samples: Vec::new(), from: None }
    }

    fn port(&self) -> String {
        self.socket.local_addr().unwrap().port().to_string()
    }

    /// Listens for `window`.
    fn listen(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            if let Ok((n, peer)) = self.socket.recv_from(&mut buf) {
                if n > 12 && buf[1] & 0x7f == 0 {
                    self.from = Some(peer);
                    self.samples.extend(buf[12..n].iter().map(|&c| media::g711::Law::Ulaw.decode(c)));
                }
            }
        }
    }

    /// Listens until `frequency` sounded for `ms` in all (a loaded
    /// machine may break it up) in what comes from now on (or `limit`
    /// passed); whether it did.
    fn until_tone(&mut self, frequency: f32, ms: u32, limit: Duration) -> bool {
        let since = self.samples.len();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.listen(Duration::from_millis(250));
            if tone_report(&self.samples[since..], 8000, frequency).tone_ms >= ms {
                return true;
            }
        }
        false
    }

    fn to(&self) -> SocketAddr {
        self.from.unwrap_or_else(|| panic!("no audio from Calliope"))
    }

    /// Samples louder than speech's floor since `since`.
    fn loud_since(&self, since: usize) -> usize {
        self.samples[since..].iter().filter(|s| s.unsigned_abs() > 1000).count()
    }
}

/// `who` (with `password`) dials `number` with the media at `ear`; SIPp
/// expects the answer and Calliope's BYE.
fn dial(c: &Calliope, who: &str, password: &str, number: &str, ear: &Ear) -> Child {
    Sipp::new("uac_feature.xml", c.sip)
        .args(&[
            "-s",
            number,
            "-au",
            who,
            "-ap",
            password,
            "-key",
            "caller",
            who,
            "-key",
            "rtp_port",
            &ear.port(),
        ])
        .args(&["-timeout", "90s"])
        .spawn()
}

/// A phone for 2002 at `port` running `scenario` (with `keys`).
fn phone(c: &Calliope, scenario: &str, port: u16, keys: &[&str]) -> Child {
    Sipp::on_port(scenario, c.sip, port).args(keys).args(&["-s", CALLEE, "-timeout", "90s"]).spawn()
}

fn messages(c: &Calliope) -> Vec<Value> {
    let (st, body) = c.pbx_get("/api/voicemail?extension=2002");
    assert_eq!(st, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

fn download(c: &Calliope, path: &str) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}{}", c.http, path))
            .header("X-XTRA-AUTH-ID", c.token())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    })
}

#[test]
fn a_message_is_left_notified_downloaded_heard_and_deleted() {
    let c = Calliope::start(&["--ring-timeout", "2", "--voicemail-max-messages", "1"]);
    c.agent(CALLER, "caller-pw");
    let callee_ref = c.agent(CALLEE, "callee-pw");
    let (st, body) = c.pbx(
        "POST",
        "/api/routes",
        json!({"name": "extensions", "context": "context-1", "prefix": "200", "max_length": "4",
               "dest_type": "FS_DEST_USER"}),
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = c.call(
        "PUT",
        &format!("/v1beta2/agents/{callee_ref}"),
        json!({"voicemailEnabled": true, "voicemailPin": "1234"}),
    );
    assert_eq!(st, 200, "{body}");

    // 2002's phone rings and is not answered.
    let phone_port = free_port();
    let ring = phone(&c, "uas_ring.xml", phone_port, &[]);
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLEE, "-ap", "callee-pw"])
        .contact_port(phone_port)
        .run();
    assert_passed(&reg, "2002 registers");

    // 2001 calls: greeting, beep, then it speaks and presses #.
    let mut ear = Ear::new();
    let caller = dial(&c, CALLER, "caller-pw", CALLEE, &ear);
    wait(ring, "2002 rang, unanswered, until the ring timeout");
    let mwi = phone(&c, "uas_mwi_yes.xml", phone_port, &[]);
    assert!(ear.until_tone(BEEP_HZ, 300, Duration::from_secs(25)), "the beep is heard");
    assert!(ear.loud_since(0) > 4000, "a spoken greeting came before the beep");
    let (mut seq, mut ts) = (1u16, 8000u32);
    speak(&ear.socket, ear.to(), VOICE_HZ, 2500, &mut seq, &mut ts);
    press(&ear.socket, ear.to(), b'#', &mut seq, &mut ts);
    wait(caller, "the caller is thanked and hung up on");
    wait(mwi, "the phone is told a message waits (Messages-Waiting: yes, 1/0)");

    // Listed and downloaded through the API; the WAV holds the voice.
    let listed = messages(&c);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let m = &listed[0];
    assert_eq!(
        (&m["caller"], &m["status"], &m["extension"]),
        (&json!(CALLER), &json!("NEW"), &json!(CALLEE))
    );
    let ms = m["duration_ms"].as_i64().unwrap();
    assert!((2000..=4500).contains(&ms), "about 2.5 s: {m}");
    let (st, wav) = download(&c, m["url"].as_str().unwrap());
    assert_eq!(st, 200);
    let wav = media::wav::read(&wav).unwrap();
    let report = tone_report(&wav.samples, wav.sample_rate, VOICE_HZ);
    assert!(report.tone_ms >= 1800, "the message holds the caller's tone: {report:?}");
    let (st, _) = download(&c, "/api/voicemail/999/audio");
    assert_eq!(st, 404, "another message is not there");

    // The mailbox is full (cap 1): a prompt, no beep, nothing recorded.
    let ring = phone(&c, "uas_ring.xml", phone_port, &[]);
    let mut full = Ear::new();
    let caller = dial(&c, CALLER, "caller-pw", CALLEE, &full);
    wait(ring, "2002 rang again");
    full.listen(Duration::from_secs(4));
    assert!(full.loud_since(0) > 2000, "the caller hears that the mailbox is full");
    speak(&full.socket, full.to(), VOICE_HZ, 1000, &mut seq, &mut ts);
    wait(caller, "the caller is hung up on");
    assert_eq!(tone_report(&full.samples, 8000, BEEP_HZ).longest_run_ms, 0, "no beep for a full mailbox");
    assert_eq!(messages(&c).len(), 1, "nothing more was recorded");

    // *97 with a wrong PIN three times: goodbye.
    let mut wrong = Ear::new();
    let listener = dial(&c, CALLEE, "callee-pw", "*97", &wrong);
    wrong.listen(Duration::from_millis(1500));
    let (mut seq, mut ts) = (1u16, 8000u32);
    for _ in 0..3 {
        for d in *b"9999" {
            press(&wrong.socket, wrong.to(), d, &mut seq, &mut ts);
        }
        wrong.listen(Duration::from_secs(4));
    }
    wait(listener, "three wrong PINs end the call");
    assert_eq!(messages(&c).len(), 1, "nothing changed");

    // The right PIN: the message plays, 7 deletes it, the light goes off.
    let mwi = phone(&c, "uas_mwi_no.xml", phone_port, &[]);
    let mut ear = Ear::new();
    let listener = dial(&c, CALLEE, "callee-pw", "*97", &ear);
    ear.listen(Duration::from_millis(1500));
    for d in *b"1234" {
        press(&ear.socket, ear.to(), d, &mut seq, &mut ts);
    }
    let heard = ear.until_tone(VOICE_HZ, 1800, Duration::from_secs(30));
    assert!(heard, "the message is heard: {:?}", tone_report(&ear.samples, 8000, VOICE_HZ));
    press(&ear.socket, ear.to(), b'7', &mut seq, &mut ts);
    wait(listener, "the mailbox says goodbye and hangs up");
    wait(mwi, "the phone is told no message waits (Messages-Waiting: no, 0/0)");
    assert!(messages(&c).is_empty(), "the message is deleted");
    let file = c.dir.path().join("voicemail");
    let left: Vec<_> = std::fs::read_dir(&file)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .collect();
    assert!(left.is_empty(), "its file is gone: {left:?}");
}

/// A SUBSCRIBE for `mailbox`'s message summary from `socket` (`event` the
/// package), with a Proxy-Authorization when given.
fn subscribe(
    socket: &UdpSocket,
    target: SocketAddr,
    mailbox: &str,
    event: &str,
    cseq: u32,
    expires: u32,
    auth: Option<&str>,
) -> String {
    let local = socket.local_addr().unwrap();
    let auth = auth.map(|a| format!("Proxy-Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "SUBSCRIBE sip:{mailbox}@{target} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-sub-{cseq}-{mailbox}\r\n\
         From: <sip:{CALLEE}@{target}>;tag=phone\r\n\
         To: <sip:{mailbox}@{target}>\r\n\
         Call-ID: mwi-{mailbox}-{event}@test\r\n\
         CSeq: {cseq} SUBSCRIBE\r\n\
         Contact: <sip:{CALLEE}@{local}>\r\n\
         Event: {event}\r\n\
         Accept: application/simple-message-summary\r\n\
         Expires: {expires}\r\n\
         {auth}Content-Length: 0\r\n\r\n"
    )
}

/// The next SIP message on `socket` within 5 s.
fn next_message(socket: &UdpSocket) -> sip::Message {
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a SIP message within 5 s");
    sip::parse_message(&buf[..n]).unwrap()
}

fn response_to(socket: &UdpSocket, target: SocketAddr, text: &str) -> sip::Response {
    socket.send_to(text.as_bytes(), target).unwrap();
    loop {
        match next_message(socket) {
            sip::Message::Response(r) if r.status.code() >= 200 => return r,
            _ => {}
        }
    }
}

/// SUBSCRIBEs `mailbox`, answering the digest challenge as 2002.
fn subscribed(
    socket: &UdpSocket,
    target: SocketAddr,
    mailbox: &str,
    event: &str,
    cseq: u32,
    expires: u32,
) -> sip::Response {
    let challenge =
        response_to(socket, target, &subscribe(socket, target, mailbox, event, cseq, expires, None));
    if challenge.status.code() != 407 {
        return challenge;
    }
    let c = challenge
        .head
        .proxy_authenticate()
        .into_iter()
        .filter_map(Result::ok)
        .find(|c| c.algorithm == sip::digest::Algorithm::Md5)
        .expect("an MD5 challenge");
    let uri = format!("sip:{mailbox}@{target}");
    let a = sip::digest::Answer {
        username: CALLEE,
        password: "callee-pw",
        method: &sip::Method::Subscribe,
        uri: &uri,
        cnonce: "0a4f113b",
        nc: 1,
    };
    let auth = sip::digest::Credentials::answer(&c, &a).to_string();
    response_to(socket, target, &subscribe(socket, target, mailbox, event, cseq + 1, expires, Some(&auth)))
}

/// The NOTIFY that comes next, answered 200; its text.
fn notified(socket: &UdpSocket, target: SocketAddr) -> String {
    loop {
        if let sip::Message::Request(r) = next_message(socket) {
            if r.method == sip::Method::Notify {
                let ok = sip::Response::for_request(&r, sip::StatusCode::OK, None);
                socket.send_to(&sip::Message::Response(ok).to_bytes(), target).unwrap();
                return String::from_utf8_lossy(&sip::Message::Request(r).to_bytes()).into_owned();
            }
        }
    }
}

#[test]
fn a_phone_subscribes_to_its_own_mailbox_only() {
    let c = Calliope::start(&[]);
    c.agent(CALLER, "caller-pw");
    c.agent(CALLEE, "callee-pw");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();

    // Its own mailbox: 200 with the lifetime, then the summary.
    let ok = subscribed(&socket, c.sip, CALLEE, "message-summary", 1, 600);
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    assert_eq!(ok.head.expires().unwrap(), Some(600));
    let notify = notified(&socket, c.sip);
    assert!(notify.contains("Subscription-State: active;expires=600"), "{notify}");
    assert!(notify.contains("Messages-Waiting: no\r\n"), "{notify}");
    assert!(notify.contains("Voice-Message: 0/0 (0/0)"), "{notify}");
    assert!(notify.contains("Content-Type: application/simple-message-summary"), "{notify}");

    // Ending it: 200, then a last NOTIFY.
    let ok = subscribed(&socket, c.sip, CALLEE, "message-summary", 10, 0);
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    assert!(notified(&socket, c.sip).contains("Subscription-State: terminated"));

    // Another agent's mailbox: 403; another package: 489.
    let other = subscribed(&socket, c.sip, CALLER, "message-summary", 20, 600);
    assert_eq!(other.status.code(), 403, "{other:?}");
    let presence = subscribed(&socket, c.sip, CALLEE, "presence", 30, 600);
    assert_eq!(presence.status.code(), 489, "{presence:?}");
}

#[test]
fn a_busy_agent_sends_the_caller_to_its_mailbox_and_silence_ends_the_message() {
    let c = Calliope::start(&[]);
    c.agent(CALLER, "caller-pw");
    let callee_ref = c.agent(CALLEE, "callee-pw");
    let (st, body) = c.pbx(
        "POST",
        "/api/routes",
        json!({"name": "extensions", "context": "context-1", "prefix": "200", "max_length": "4",
               "dest_type": "FS_DEST_USER"}),
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = c.call(
        "PUT",
        &format!("/v1beta2/agents/{callee_ref}"),
        json!({"voicemailEnabled": true, "voicemailGreetingText": "Busy now, speak after the tone"}),
    );
    assert_eq!(st, 200, "{body}");
    let phone_port = free_port();
    let busy = phone(&c, "uas_busy.xml", phone_port, &[]);
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLEE, "-ap", "callee-pw"])
        .contact_port(phone_port)
        .run();
    assert_passed(&reg, "2002 registers");

    // 486 from the phone: the greeting, the beep, then the caller says
    // nothing and the silence ends the message.
    let mut ear = Ear::new();
    let caller = dial(&c, CALLER, "caller-pw", CALLEE, &ear);
    wait(busy, "2002 answers busy");
    assert!(ear.until_tone(BEEP_HZ, 300, Duration::from_secs(25)), "the beep is heard");
    assert!(ear.loud_since(0) > 2000, "the agent's greeting text is spoken first");
    wait(caller, "the silence ends the message and Calliope hangs up");
    let listed = messages(&c);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["caller"], json!(CALLER));
    let ms = listed[0]["duration_ms"].as_i64().unwrap();
    assert!((3000..=8000).contains(&ms), "about the 5 s of silence: {ms}");
}
