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

    /// Listens until `frequency` sounded for `ms` in what came since
    /// `since` samples (or `limit` passed); whether it did.
    fn until_tone(&mut self, frequency: f32, ms: u32, limit: Duration) -> bool {
        let since = self.samples.len();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.listen(Duration::from_millis(250));
            if tone_report(&self.samples[since..], 8000, frequency).longest_run_ms >= ms {
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
    let heard = ear.until_tone(VOICE_HZ, 1500, Duration::from_secs(30));
    if !heard {
        let wav = media::wav::write(media::wav::Encoding::Pcm16, 8000, &ear.samples).unwrap();
        std::fs::write("/tmp/vm_heard.wav", wav).unwrap();
    }
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
