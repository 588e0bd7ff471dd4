//! Calls' media with real peers: a WAV played into a live call arrives
//! as the file's audio, a recording holds what each side said, and RTP
//! from a stranger never reaches the stranger nor stops the call's media.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use media::g711::{ulaw_decode, ulaw_encode};
use serde_json::{json, Value};
use support::calliope::{free_port, Sipp};
use support::calls::{callee, callee_with, calliope, legs_when, wait, CALLEE, CALLER};

const PCAP_A: &str = "/usr/share/sip-tester/g711a.pcap";

/// RTP packets (sequence number, payload type, payload) that reach
/// `socket` within `window`.
fn rtp(socket: &UdpSocket, window: Duration) -> Vec<(u16, u8, Vec<u8>)> {
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut out = Vec::new();
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            if let Ok(p) = media::rtp::parse(&buf[..n]) {
                out.push((p.sequence, p.payload_type, p.payload.to_vec()));
            }
        }
    }
    out
}

#[test]
fn a_wav_played_into_a_live_call_arrives_as_the_file() {
    let c = calliope(&[]);
    // One second of noise-like audio: easy to align, nothing like silence.
    let mut x: u32 = 12345;
    let samples: Vec<i16> = (0..8000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((x >> 16) as i16) / 4
        })
        .collect();
    let wav = media::wav::write(media::wav::Encoding::Pcm16, 8000, &samples).unwrap();
    // Files elsewhere on the server are not the workspace's to play.
    let outside = c.dir.path().join("noise.wav");
    std::fs::write(&outside, &wav).unwrap();
    let (st, body) = c.call(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "app": "playback", "args": outside.display().to_string()}),
    );
    assert_eq!(st, 400, "{body}");
    let path = c.upload_media("noise.wav", &wav);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let (st, body) =
        c.call("POST", "/api/channels", json!({"destNumber": CALLEE, "app": "playback", "args": path}));
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["result"], "ok");
    let mut packets = rtp(&ear, Duration::from_millis(2000));
    packets.sort_by_key(|p| p.0);
    assert!(packets.iter().all(|p| p.1 == 0), "PCMU, as the callee answered");
    let heard: Vec<i16> = packets.iter().flat_map(|p| p.2.iter().map(|b| ulaw_decode(*b))).collect();
    let expected: Vec<i16> = samples.iter().map(|s| ulaw_decode(ulaw_encode(*s))).collect();
    let start = (0..heard.len().saturating_sub(160))
        .find(|i| heard[*i..*i + 160] == expected[..160])
        .expect("the file's first 20 ms are in what the callee heard");
    let same = heard[start..].iter().zip(&expected).filter(|(h, e)| h == e).count();
    assert!(same >= expected.len() * 99 / 100, "{same} of {} samples match the file", expected.len());
    let uuid = body["uuid"].as_str().unwrap();
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "the callee heard the file, then got BYE");
}

#[test]
fn a_recording_holds_what_each_side_said() {
    let c = calliope(&[]);
    // The callee says the pcap's audio; the call plays it a 1 kHz tone.
    let uas = callee_with(
        &c,
        "uas_answer_play.xml",
        free_port(),
        &["-key", "pcap", PCAP_A, "-key", "codec", "8", "-key", "codec_name", "PCMA"],
    );
    let (st, body) = c.call(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "apps": [
            {"app": "record_session", "args": "both.wav"},
            {"app": "playback", "args": "tone_stream://%(3000,0,1000)"}
        ]}),
    );
    assert_eq!(st, 200, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    legs_when(&c, |l| l.len() == 1 && l[0]["callstate"] == "ACTIVE");
    std::thread::sleep(Duration::from_millis(2000));
    let (st, body) =
        c.call("PUT", &format!("/api/channels/{uuid}"), json!({"action": "record", "record": "off"}));
    assert_eq!(st, 200, "{body}");
    let (st, _) = c.call(
        "PUT",
        &format!("/api/channels/{uuid}"),
        json!({"action": "record", "record": "on", "file_name": "x.mp4"}),
    );
    assert_eq!(st, 400, "video is refused");
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "callee");
    // Recordings are kept per workspace: recordings/<workspace id>/.
    let workspaces = std::fs::read_dir(c.dir.path().join("recordings")).unwrap();
    let dirs: Vec<_> = workspaces.flatten().map(|e| e.path()).collect();
    assert_eq!(dirs.len(), 1, "one workspace folder: {dirs:?}");
    let path = dirs[0].join("both.wav");
    let mut wav = None;
    for _ in 0..50 {
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(w) = media::wav::read_channels(&bytes) {
                if w.channels.first().is_some_and(|c| c.len() > 8000) {
                    wav = Some(w);
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let wav = wav.expect("a stereo recording of more than a second");
    assert_eq!(wav.channels.len(), 2, "one channel per direction");
    let power = |ch: &[i16], f: f32| {
        let x: Vec<f32> = ch.iter().map(|s| *s as f32 / 32768.0).collect();
        media::detect::goertzel_power(&x, f, 8000)
    };
    let energy = |ch: &[i16]| ch.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / ch.len().max(1) as f64;
    let (said, heard) = (&wav.channels[0], &wav.channels[1]);
    assert!(energy(said) > 1000.0, "the callee's side holds its audio: {}", energy(said));
    let tone_heard = power(heard, 1000.0) / power(heard, 1500.0).max(1e-9);
    assert!(tone_heard > 100.0, "the heard side holds the 1 kHz tone: ratio {tone_heard}");
    let tone_said = power(said, 1000.0) / power(heard, 1000.0).max(1e-9);
    assert!(tone_said < 0.1, "the tone is not on the callee's side: {tone_said}");
}

#[test]
fn rtp_from_a_stranger_is_dropped_and_the_call_media_keeps_flowing() {
    let c = calliope(&[]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let media_port = free_port().to_string();
    let uac = Sipp::new("uac_play_wait.xml", c.sip)
        .args(&[
            "-s",
            CALLEE,
            "-au",
            CALLER,
            "-ap",
            "caller-pw",
            "-key",
            "caller",
            CALLER,
            "-mp",
            &media_port,
        ])
        .args(&["-key", "pcap", PCAP_A])
        .spawn();
    let legs = legs_when(&c, |l| l.len() == 2 && l.iter().all(|l| l["callstate"] == "ACTIVE"));
    assert_eq!(legs.len(), 2);
    // Past the learning windows: both sides' peers are settled.
    std::thread::sleep(Duration::from_millis(2500));
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let forged = media::rtp::RtpPacket::new(0, 1, 160, 0xdead_beef, &[0x55; 160]).to_vec().unwrap();
    let ports: Vec<u16> = (c.rtp.0..=c.rtp.1).step_by(2).collect();
    let flowing = std::thread::scope(|s| {
        let counter = s.spawn(|| rtp(&ear, Duration::from_millis(1200)).len());
        for round in 0..25u16 {
            for p in &ports {
                let mut pkt = forged.clone();
                pkt[2..4].copy_from_slice(&(round + 1).to_be_bytes());
                let _ = stranger.send_to(&pkt, ("127.0.0.1", *p));
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        counter.join().unwrap()
    });
    assert!(flowing > 30, "the caller's audio kept reaching the callee: {flowing} packets in 1.2 s");
    let to_stranger = rtp(&stranger, Duration::from_millis(500)).len();
    assert_eq!(to_stranger, 0, "nothing was sent to the stranger");
    let uuid = legs[0]["uuid"].as_str().unwrap();
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uac, "caller");
    wait(uas, "callee");
}

#[test]
fn in_band_dtmf_is_detected_and_published() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let c = calliope(&[]);
    let ear = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uas = callee(&c, "uas_answer.xml", ear.local_addr().unwrap().port());
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut ws = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let sub = json!({"type": "subscribe", "events": ["call.dtmf"]});
        ws.send(Message::Text(sub.to_string().into())).await.unwrap();
        ws
    });
    let (st, body) = c.call(
        "POST",
        "/api/channels",
        json!({"destNumber": CALLEE, "apps": [
            {"app": "start_dtmf"},
            {"app": "playback", "args": "silence_stream://4000"}
        ]}),
    );
    assert_eq!(st, 200, "{body}");
    // The silence played to the callee shows where the call's port is.
    ear.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 2048];
    let (_, port) = ear.recv_from(&mut buf).unwrap();
    // The callee presses 7: 200 ms of the tone pair in its audio, then quiet.
    let digit = media::dtmf::Digit::from_char('7').unwrap();
    let mut audio = media::tone::dtmf_tone(8000, digit, 200, 8000.0);
    audio.extend(media::tone::silence(8000, 300));
    for (i, frame) in audio.chunks(160).enumerate() {
        let payload: Vec<u8> = frame.iter().map(|s| ulaw_encode(*s)).collect();
        let pkt = media::rtp::RtpPacket::new(0, i as u16 + 1, i as u32 * 160, 0x1234_5678, &payload);
        ear.send_to(&pkt.to_vec().unwrap(), port).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let event = rt.block_on(async {
        loop {
            let msg =
                tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "call.dtmf" {
                    return v;
                }
            }
        }
    });
    assert_eq!(
        (event["data"]["digit"].as_str(), event["data"]["source"].as_str()),
        (Some("7"), Some("inband")),
        "{event}"
    );
    let uuid = body["uuid"].as_str().unwrap();
    assert_eq!(c.call("DELETE", &format!("/api/channels/{uuid}"), Value::Null).0, 200);
    wait(uas, "callee");
}
