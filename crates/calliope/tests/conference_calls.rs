//! Calls in conference rooms, end to end: SIPp plays carrier trunks
//! calling a route (or a number) whose destination is a conference room;
//! each caller's media is a UDP socket of the test that sends its own
//! tone (PCMU or PCMA) and decodes what it hears, measured with Goertzel.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::detect::goertzel_power;
use media::g711::Law;
use serde_json::{json, Value};
use support::calliope::{free_port, Calliope, Sipp};

/// The tones the members send: multiples of 50 Hz (a whole number of
/// periods in 20 ms), away from the entry and exit tones.
const TONES: [f32; 4] = [850.0, 1150.0, 1450.0, 1750.0];

/// One caller: its SIPp (signalling) and its socket (media).
struct Member {
    sipp: Child,
    /// Where Calliope's media for this call comes from (known once heard).
    peer: Arc<Mutex<Option<SocketAddr>>>,
    heard: Arc<Mutex<Vec<i16>>>,
    /// The tone it sends (`None`: nothing).
    tone: Arc<Mutex<Option<f32>>>,
    socket: UdpSocket,
    seq: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Member {
    /// Calls `number` through the trunk at `trunk_port` with `codec`,
    /// `scenario` being `trunk_conf_call.xml` (waits for BYE) or
    /// `trunk_conf_hangup.xml` (hangs up after `extra`'s `-d`).
    fn call(c: &Calliope, trunk_port: u16, number: &str, law: Law, scenario: &str, extra: &[&str]) -> Member {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtp_port = socket.local_addr().unwrap().port().to_string();
        let (codec, name) = match law {
            Law::Ulaw => ("0", "PCMU"),
            Law::Alaw => ("8", "PCMA"),
        };
        let sipp = Sipp::on_port(scenario, c.sip, trunk_port)
            .args(&["-s", number, "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
            .args(&["-key", "codec", codec, "-key", "codec_name", name, "-timeout", "120s"])
            .args(extra)
            .spawn();
        Member::attach(sipp, socket, law)
    }

    /// A member whose signalling is `sipp` (any scenario) and whose media
    /// is `socket`, sending and hearing `law`.
    fn attach(sipp: Child, socket: UdpSocket, law: Law) -> Member {
        let peer = Arc::new(Mutex::new(None));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let tone = Arc::new(Mutex::new(None::<f32>));
        let stop = Arc::new(AtomicBool::new(false));
        let seq = Arc::new(AtomicU16::new(1));
        let receiver = {
            let (socket, peer, heard, stop) =
                (socket.try_clone().unwrap(), peer.clone(), heard.clone(), stop.clone());
            std::thread::spawn(move || {
                socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
                    let law = match buf[1] & 0x7f {
                        0 => Law::Ulaw,
                        8 => Law::Alaw,
                        _ => continue,
                    };
                    if n <= 12 {
                        continue;
                    }
                    *peer.lock().unwrap() = Some(from);
                    heard.lock().unwrap().extend(buf[12..n].iter().map(|&b| law.decode(b)));
                }
            })
        };
        let sender = {
            let (socket, peer, tone, stop, seq) =
                (socket.try_clone().unwrap(), peer.clone(), tone.clone(), stop.clone(), seq.clone());
            std::thread::spawn(move || {
                let mut phase = 0f32;
                let started = Instant::now();
                let mut sent = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    // Paced on the wall clock: 20 ms per packet on average.
                    let due = started + Duration::from_millis(u64::from(sent) * 20);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    sent += 1;
                    let (Some(to), Some(f)) = (*peer.lock().unwrap(), *tone.lock().unwrap()) else {
                        continue;
                    };
                    let step = 2.0 * std::f32::consts::PI * f / 8000.0;
                    let mut p = vec![0x80, law.payload_type()];
                    let s = seq.fetch_add(1, Ordering::Relaxed);
                    p.extend_from_slice(&s.to_be_bytes());
                    p.extend_from_slice(&(u32::from(s) * 160).to_be_bytes());
                    p.extend_from_slice(&0x0c0f_0000u32.to_be_bytes());
                    for _ in 0..160 {
                        p.push(law.encode((phase.sin() * 5000.0) as i16));
                        phase = (phase + step) % (2.0 * std::f32::consts::PI);
                    }
                    let _ = socket.send_to(&p, to);
                }
            })
        };
        Member { sipp, peer, heard, tone, socket, seq, stop, threads: vec![receiver, sender] }
    }

    /// Waits for Calliope's first audio (it answered with our media).
    fn answered(&self) -> SocketAddr {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(p) = *self.peer.lock().unwrap() {
                return p;
            }
            assert!(Instant::now() < deadline, "the conference answers with audio");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn say(&self, tone: Option<f32>) {
        *self.tone.lock().unwrap() = tone;
    }

    /// What it hears during the next `window`.
    fn listen(&self, window: Duration) -> Vec<i16> {
        self.heard.lock().unwrap().clear();
        std::thread::sleep(window);
        std::mem::take(&mut *self.heard.lock().unwrap())
    }

    /// Presses `keys` as RFC 4733 events (the tone is paused meanwhile).
    fn press(&self, keys: &str) {
        let to = self.answered();
        let tone = self.tone.lock().unwrap().take();
        for key in keys.bytes() {
            let event = match key {
                b'0'..=b'9' => key - b'0',
                b'*' => 10,
                _ => 11,
            };
            let ts = u32::from(self.seq.load(Ordering::Relaxed)) * 160 + 80_000;
            for (i, (end, duration)) in
                [(false, 160u16), (false, 320), (false, 480), (true, 480), (true, 480), (true, 480)]
                    .into_iter()
                    .enumerate()
            {
                let mut p = vec![0x80, if i == 0 { 0x80 | 101 } else { 101 }];
                p.extend_from_slice(&self.seq.fetch_add(1, Ordering::Relaxed).to_be_bytes());
                p.extend_from_slice(&ts.to_be_bytes());
                p.extend_from_slice(&0x0c0f_0000u32.to_be_bytes());
                p.push(event);
                p.push(if end { 0x80 | 10 } else { 10 });
                p.extend_from_slice(&duration.to_be_bytes());
                self.socket.send_to(&p, to).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(150));
        }
        *self.tone.lock().unwrap() = tone;
    }

    /// Waits for its SIPp to end; true when it passed (the BYE came, or
    /// its own BYE was answered).
    fn ended(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(s) = self.sipp.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !status.success() {
            let mut out = String::new();
            if let Some(mut e) = self.sipp.stderr.take() {
                let _ = e.read_to_string(&mut out);
            }
            eprintln!("sipp failed: {out}");
        }
        status.success()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.sipp.kill();
        let _ = self.sipp.wait();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The share of the energy of `samples` at `frequency` (0 to 1), over
/// 20 ms blocks; and whether there was sound at all.
fn share(samples: &[i16], frequency: f32) -> f32 {
    let (mut at, mut total) = (0f32, 0f32);
    for block in samples.chunks_exact(160) {
        let x: Vec<f32> = block.iter().map(|&s| f32::from(s)).collect();
        let energy: f32 = x.iter().map(|v| v * v).sum();
        at += 2.0 * goertzel_power(&x, frequency, 8000) / 160.0;
        total += energy;
    }
    if total <= 0.0 {
        0.0
    } else {
        at / total
    }
}

fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / samples.len() as f32).sqrt()
}

/// Asserts `samples` hold every tone of `present` and none of `absent`.
fn hears(who: &str, samples: &[i16], present: &[f32], absent: &[f32]) {
    assert!(samples.len() > 8000, "{who} hears a second of audio or more ({} samples)", samples.len());
    for f in present {
        let s = share(samples, *f);
        assert!(s > 0.15, "{who} hears {f} Hz (share {s:.3}, rms {:.0})", rms(samples));
    }
    for f in absent {
        let s = share(samples, *f);
        assert!(s < 0.03, "{who} does not hear {f} Hz (share {s:.3}, rms {:.0})", rms(samples));
    }
}

fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap_or_else(|| o["id"].as_str().unwrap().parse().unwrap()),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// A PBX trunk at `127.0.0.1:port`, routed in `context-2`.
fn trunk(c: &Calliope, port: u16) {
    let body = json!({"name": format!("carrier-{port}"), "remote_addr": format!("127.0.0.1:{port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", body);
    assert_eq!(st, 200, "{answer}");
    id_of(&answer);
}

/// A route in `context-2` for numbers starting with `prefix` to the
/// conference room `room` with `settings` (the destination's body).
fn route_to_room(c: &Calliope, prefix: &str, room: &str, settings: &str) {
    let body = json!({"name": format!("room {room}"), "context": "context-2", "max_length": "20", "prefix": prefix,
                      "dest_type": "FS_DEST_CONFERENCE_ROOM", "dest_uuid": room, "body": settings});
    let (st, answer) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{answer}");
}

/// The room's members (empty when it does not run), once `check` holds
/// (or the last seen, after 15 s).
fn members_when(c: &Calliope, room: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (st, body) = c.pbx_get(&format!("/api/conferences/{room}"));
        let members = if st == 200 {
            body["data"]["members"].as_array().cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        if check(&members) || Instant::now() > deadline {
            return members;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Trunks for `n` callers, one port each.
fn trunks(c: &Calliope, n: usize) -> Vec<u16> {
    (0..n)
        .map(|_| {
            let p = free_port();
            trunk(c, p);
            p
        })
        .collect()
}

#[test]
fn three_members_hear_each_other_and_not_themselves_a_pcma_one_too_and_a_muted_one_is_unheard() {
    let c = Calliope::start(&[]);
    let ports = trunks(&c, 3);
    route_to_room(&c, "7", "sales", "");
    let laws = [Law::Ulaw, Law::Ulaw, Law::Alaw];
    let mut members = Vec::new();
    for (i, (port, law)) in ports.iter().zip(laws).enumerate() {
        let m = Member::call(&c, *port, "7000", law, "trunk_conf_call.xml", &[]);
        m.answered();
        m.say(Some(TONES[i]));
        let listed = members_when(&c, "sales", |ms| ms.len() == i + 1);
        assert_eq!(listed.len(), i + 1, "member {} joins the room: {listed:?}", i + 1);
        members.push(m);
    }
    // Past the entry tones: each hears the other two and not itself.
    std::thread::sleep(Duration::from_millis(700));
    let heard: Vec<Vec<i16>> = members.iter().map(|m| m.listen(Duration::from_secs(2))).collect();
    // (The three listen one after another; each window is their own.)
    hears("A (PCMU)", &heard[0], &[TONES[1], TONES[2]], &[TONES[0]]);
    hears("B (PCMU)", &heard[1], &[TONES[0], TONES[2]], &[TONES[1]]);
    hears("C (PCMA)", &heard[2], &[TONES[0], TONES[1]], &[TONES[2]]);

    // C is muted through the API: nobody hears it; it still hears.
    let listed = members_when(&c, "sales", |ms| ms.len() == 3);
    let c_id = listed[2]["id"].as_i64().unwrap();
    let (st, answer) =
        c.pbx("PUT", &format!("/api/conferences/sales/members/{c_id}"), json!({"action": "mute"}));
    assert_eq!(st, 200, "{answer}");
    assert_eq!(members_when(&c, "sales", |ms| ms[2]["mute"] == json!(true))[2]["mute"], json!(true));
    std::thread::sleep(Duration::from_millis(300));
    hears("A with C muted", &members[0].listen(Duration::from_secs(2)), &[TONES[1]], &[TONES[0], TONES[2]]);
    hears("B with C muted", &members[1].listen(Duration::from_secs(2)), &[TONES[0]], &[TONES[1], TONES[2]]);
    hears("muted C", &members[2].listen(Duration::from_secs(2)), &[TONES[0], TONES[1]], &[TONES[2]]);

    // Kicked, each call ends with a BYE; the room goes with the last.
    for m in listed.iter().rev() {
        let id = m["id"].as_i64().unwrap();
        let (st, answer) = c.pbx("DELETE", &format!("/api/conferences/sales/members/{id}"), Value::Null);
        assert_eq!(st, 200, "{answer}");
    }
    for (i, m) in members.iter_mut().enumerate() {
        assert!(m.ended(Duration::from_secs(20)), "member {} gets a BYE once kicked", i + 1);
    }
    let (st, _) = c.pbx_get("/api/conferences/sales");
    assert_eq!(st, 404, "the room ends with its last member");
}

#[test]
fn a_wrong_pin_is_refused_then_the_right_one_joins_and_three_wrong_ones_hang_up() {
    let c = Calliope::start(&[]);
    let ports = trunks(&c, 2);
    route_to_room(&c, "8", "board", "pin=2468;moh=tone_stream://%(1000,0,1750);loops=-1");

    let mut first = Member::call(&c, ports[0], "8000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    first.answered();
    // The prompt (speech) is heard, then a wrong PIN, then the right one.
    let prompt = first.listen(Duration::from_secs(1));
    assert!(rms(&prompt) > 300.0, "a PIN prompt is heard (rms {:.0})", rms(&prompt));
    first.press("1111");
    std::thread::sleep(Duration::from_millis(500));
    assert!(members_when(&c, "board", |_| true).is_empty(), "a wrong PIN does not join");
    first.press("2468");
    let listed = members_when(&c, "board", |ms| ms.len() == 1);
    assert_eq!(listed.len(), 1, "the right PIN joins: {listed:?}");
    // Alone in the room: its music on hold.
    std::thread::sleep(Duration::from_millis(800));
    hears("the member alone", &first.listen(Duration::from_secs(2)), &[1750.0], &[]);

    // Three wrong PINs: told, then hung up; never in the room.
    let mut second = Member::call(&c, ports[1], "8000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    second.answered();
    std::thread::sleep(Duration::from_millis(300));
    second.press("1357");
    second.press("9999");
    second.press("0000");
    assert!(second.ended(Duration::from_secs(45)), "three wrong PINs: the call is hung up");
    assert_eq!(members_when(&c, "board", |_| true).len(), 1, "the wrong caller never joined");

    // The first one hangs up by being kicked; the room ends.
    let id = listed[0]["id"].as_i64().unwrap();
    c.pbx("DELETE", &format!("/api/conferences/board/members/{id}"), Value::Null);
    assert!(first.ended(Duration::from_secs(20)));
}

/// A webhook server answering every request with `answer(body)`.
struct Hooks {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hooks {
    fn start(answer: impl Fn(&Value) -> Value + Send + 'static) -> Hooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let Ok(n) = stream.read(&mut chunk) else { break None };
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse().ok()))
                        .unwrap_or(0usize);
                    if buf.len() >= end + 4 + length {
                        break Some(
                            serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap_or(Value::Null),
                        );
                    }
                };
                let Some(body) = body else { continue };
                let reply = answer(&body).to_string();
                let text = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(text.as_bytes());
            }
        });
        Hooks { addr, stop, thread: Some(thread) }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn an_ncco_conversation_with_end_on_exit_ends_the_others_when_its_member_leaves() {
    let c = Calliope::start(&[]);
    // +15550004441 is the moderator (endOnExit), +15550004442 everyone else.
    let hooks = Hooks::start(|body| {
        let moderator = body["calleeNumber"].as_str().is_some_and(|n| n.ends_with('1'));
        json!([{"action": "conversation", "name": "standup", "endOnExit": moderator, "startOnEnter": true}])
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "standup", "type": "EXTERNAL", "endpoint": format!("http://{}/answer", hooks.addr)}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    for (name, tel) in [("moderator", "tel:+15550004441"), ("members", "tel:+15550004442")] {
        let (st, number) = c.call(
            "POST",
            "/v1beta2/numbers",
            json!({"name": name, "telUrl": tel, "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
        );
        assert!(st == 200 || st == 201, "{number}");
    }
    let ports = trunks(&c, 3);
    let mut others = Vec::new();
    for (i, port) in ports[..2].iter().enumerate() {
        let m = Member::call(&c, *port, "+15550004442", Law::Ulaw, "trunk_conf_call.xml", &[]);
        m.answered();
        m.say(Some(TONES[i]));
        assert_eq!(members_when(&c, "standup", |ms| ms.len() == i + 1).len(), i + 1);
        others.push(m);
    }
    // The moderator hangs up 8 s after its call is answered.
    let mut moderator =
        Member::call(&c, ports[2], "+15550004441", Law::Ulaw, "trunk_conf_hangup.xml", &["-d", "8000"]);
    moderator.answered();
    moderator.say(Some(TONES[2]));
    assert_eq!(members_when(&c, "standup", |ms| ms.len() == 3).len(), 3, "the moderator joins");
    std::thread::sleep(Duration::from_millis(600));
    hears("a member", &others[0].listen(Duration::from_secs(2)), &[TONES[1], TONES[2]], &[TONES[0]]);

    assert!(moderator.ended(Duration::from_secs(30)), "the moderator's BYE is answered");
    for (i, m) in others.iter_mut().enumerate() {
        assert!(m.ended(Duration::from_secs(20)), "member {} is hung up when the moderator leaves", i + 1);
    }
    let (st, _) = c.pbx_get("/api/conferences/standup");
    assert_eq!(st, 404, "the room ended");
}

/// A PBX request in the workspace whose AccessKeyId is `akid`.
fn pbx_in(c: &Calliope, akid: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rb = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{}", c.http, path))
            .header("X-XTRA-AUTH-ID", c.token())
            .header("AccessKeyId", akid);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn a_room_name_in_another_workspace_is_another_room() {
    let c = Calliope::start(&[]);
    let (st, other) = c.call("POST", "/v1beta2/workspaces", json!({"name": "elsewhere"}));
    assert_eq!(st, 201, "{other}");
    let akid = other["accessKeyId"].as_str().unwrap().to_owned();
    // The same trunk and route set-up in both workspaces, each its own port.
    let ports = trunks(&c, 1);
    route_to_room(&c, "7", "sales", "");
    let other_port = free_port();
    let trunk = json!({"name": "carrier-elsewhere", "remote_addr": format!("127.0.0.1:{other_port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = pbx_in(&c, &akid, "POST", "/api/trunks", trunk);
    assert_eq!(st, 200, "{answer}");
    let route = json!({"name": "room sales", "context": "context-2", "max_length": "20", "prefix": "7",
                       "dest_type": "FS_DEST_CONFERENCE_ROOM", "dest_uuid": "sales"});
    let (st, answer) = pbx_in(&c, &akid, "POST", "/api/routes", route);
    assert_eq!(st, 200, "{answer}");

    let mut here = Member::call(&c, ports[0], "7000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    here.answered();
    here.say(Some(TONES[0]));
    let mut there = Member::call(&c, other_port, "7000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    there.answered();
    there.say(Some(TONES[1]));
    let mine = members_when(&c, "sales", |ms| ms.len() == 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    let theirs = loop {
        let (st, body) = pbx_in(&c, &akid, "GET", "/api/conferences/sales", Value::Null);
        let ms = body["data"]["members"].as_array().cloned().unwrap_or_default();
        if (st == 200 && ms.len() == 1) || Instant::now() > deadline {
            break ms;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (mine.len(), theirs.len()),
        (1, 1),
        "one member in each workspace's room: {mine:?} {theirs:?}"
    );
    assert_ne!(mine[0]["uuid"], theirs[0]["uuid"]);
    std::thread::sleep(Duration::from_millis(600));
    // Each is alone in its room: neither hears the other.
    let heard_here = here.listen(Duration::from_secs(2));
    let heard_there = there.listen(Duration::from_secs(2));
    assert!(share(&heard_here, TONES[1]) < 0.03, "the other workspace's caller is not heard");
    assert!(share(&heard_there, TONES[0]) < 0.03, "nor this one there");
    let (_, listed) = c.pbx_get("/api/conferences");
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");

    let id = mine[0]["id"].as_i64().unwrap();
    c.pbx("DELETE", &format!("/api/conferences/sales/members/{id}"), Value::Null);
    assert!(here.ended(Duration::from_secs(20)));
    // The other workspace's room is untouched by this one's kick.
    let (st, _) = pbx_in(&c, &akid, "GET", "/api/conferences/sales", Value::Null);
    assert_eq!(st, 200, "the other workspace's room still runs");
    let id = theirs[0]["id"].as_i64().unwrap();
    pbx_in(&c, &akid, "DELETE", &format!("/api/conferences/sales/members/{id}"), Value::Null);
    assert!(there.ended(Duration::from_secs(20)));
}

#[test]
fn an_ivr_conference_action_joins_the_room_it_names() {
    let c = Calliope::start(&[]);
    let ports = trunks(&c, 1);
    let (st, menu) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "front", "greet_long": "tone_stream://%(3000,0,440)", "timeout": 8000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{menu}");
    let menu = id_of(&menu);
    let (st, a) = c.pbx(
        "POST",
        &format!("/api/ivrs/{menu}/actions"),
        json!({"ivr_menu_id": menu, "digits": "1", "action": "IVR_CONFERENCE", "args": "lobby", "body": "flags=mute"}),
    );
    assert_eq!(st, 200, "{a}");
    let route = json!({"name": "menu", "context": "context-2", "max_length": "20", "prefix": "6",
                       "dest_type": "FS_DEST_IVR", "dest_uuid": menu.to_string()});
    let (st, answer) = c.pbx("POST", "/api/routes", route);
    assert_eq!(st, 200, "{answer}");

    let mut caller = Member::call(&c, ports[0], "6000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    caller.answered();
    caller.press("1");
    let listed = members_when(&c, "lobby", |ms| ms.len() == 1);
    assert_eq!(listed.len(), 1, "key 1 joins the room: {listed:?}");
    assert_eq!(listed[0]["mute"], json!(true), "with the action's settings: {listed:?}");
    let id = listed[0]["id"].as_i64().unwrap();
    c.pbx("DELETE", &format!("/api/conferences/lobby/members/{id}"), Value::Null);
    assert!(caller.ended(Duration::from_secs(20)), "kicked, the menu's call ends");
}

/// An application (Fonoster `EXTERNAL`) whose answer hook is `hooks`, and
/// the numbers `tels` (`tel:` URLs) routed to it.
fn app_numbers(c: &Calliope, hooks: &Hooks, name: &str, tels: &[&str]) {
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": name, "type": "EXTERNAL", "endpoint": format!("http://{}/answer", hooks.addr)}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    for (i, tel) in tels.iter().enumerate() {
        let (st, number) = c.call(
            "POST",
            "/v1beta2/numbers",
            json!({"name": format!("{name}-{i}"), "telUrl": tel, "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
        );
        assert!(st == 200 || st == 201, "{number}");
    }
}

#[test]
fn can_speak_and_can_hear_lists_name_the_legs_that_hear_and_are_heard() {
    let c = Calliope::start(&[]);
    // Each caller's NCCO may name the legs (call uuids, the hook's
    // `sessionRef`) of those who called before it: callers dial
    // +1555000666N in the order A (1), B (2), D (3), C (4).
    let refs: Arc<Mutex<std::collections::HashMap<String, String>>> = Arc::default();
    let seen = refs.clone();
    let hooks = Hooks::start(move |body| {
        let callee = body["calleeNumber"].as_str().unwrap_or_default().to_owned();
        let mut refs = seen.lock().unwrap();
        if let Some(r) = body["sessionRef"].as_str() {
            refs.insert(callee.clone(), r.to_owned());
        }
        let leg = |n: char| refs.get(&format!("+1555000666{n}")).cloned().unwrap_or_default();
        let mut conversation = json!({"action": "conversation", "name": "panel"});
        match callee.chars().last() {
            // B is heard by A alone.
            Some('2') => conversation["canSpeak"] = json!([leg('1')]),
            // C hears B and D only.
            Some('4') => conversation["canHear"] = json!([leg('2'), leg('3')]),
            _ => {}
        }
        json!([conversation])
    });
    let tels = ["tel:+15550006661", "tel:+15550006662", "tel:+15550006663", "tel:+15550006664"];
    app_numbers(&c, &hooks, "panel", &tels);
    let ports = trunks(&c, 4);
    let mut members = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let number = format!("+155500066{}", 61 + i);
        let m = Member::call(&c, *port, &number, Law::Ulaw, "trunk_conf_call.xml", &[]);
        m.answered();
        m.say(Some(TONES[i]));
        let listed = members_when(&c, "panel", |ms| ms.len() == i + 1);
        assert_eq!(listed.len(), i + 1, "caller {} joins: {listed:?}", i + 1);
        let leg = refs.lock().unwrap().get(&number).cloned();
        assert_eq!(listed[i]["uuid"].as_str(), leg.as_deref(), "a member's uuid is its leg's id");
        members.push(m);
    }
    std::thread::sleep(Duration::from_millis(700));
    let heard: Vec<Vec<i16>> = members.iter().map(|m| m.listen(Duration::from_secs(2))).collect();
    // TONES by caller: A 0, B 1, D 2, C 3.
    hears("A (no lists)", &heard[0], &[TONES[1], TONES[2], TONES[3]], &[TONES[0]]);
    hears("B (canSpeak [A])", &heard[1], &[TONES[0], TONES[2], TONES[3]], &[TONES[1]]);
    hears("D (not in B's canSpeak)", &heard[2], &[TONES[0], TONES[3]], &[TONES[1], TONES[2]]);
    hears("C (canHear [B, D])", &heard[3], &[TONES[2]], &[TONES[0], TONES[1], TONES[3]]);

    let listed = members_when(&c, "panel", |ms| ms.len() == 4);
    for m in listed.iter().rev() {
        let id = m["id"].as_i64().unwrap();
        c.pbx("DELETE", &format!("/api/conferences/panel/members/{id}"), Value::Null);
    }
    for (i, m) in members.iter_mut().enumerate() {
        assert!(m.ended(Duration::from_secs(20)), "caller {} gets a BYE once kicked", i + 1);
    }
}

/// A new Vonage application's id and private key.
fn vonage_application(c: &Calliope) -> (String, String) {
    let (st, body) = c.call("POST", "/v2/applications", json!({"name": "rooms"}));
    assert_eq!(st, 201, "{body}");
    (body["id"].as_str().unwrap().to_owned(), body["keys"]["private_key"].as_str().unwrap().to_owned())
}

/// A Voice API token for `app`, valid for five minutes.
fn vonage_token(app: &str, private_pem: &str) -> String {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"application_id": app, "iat": now, "jti": format!("jti-{now}"), "exp": now + 300});
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

/// An agent `extension` (password `pw`) registered at a SIPp that answers
/// with its media at a new socket: the member its call will be.
fn agent_member(c: &Calliope, extension: &str, pw: &str) -> Member {
    c.agent(extension, pw);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = socket.local_addr().unwrap().port().to_string();
    let uas = Sipp::new("uas_answer.xml", c.sip);
    let port = uas.port;
    let child = uas
        .args(&[
            "-key",
            "rtp_port",
            &rtp,
            "-key",
            "codec",
            "0",
            "-key",
            "codec_name",
            "PCMU",
            "-s",
            extension,
        ])
        .args(&["-timeout", "120s"])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", extension, "-au", extension, "-ap", pw])
        .contact_port(port)
        .run();
    support::calliope::assert_passed(&reg, "the agent registers");
    Member::attach(child, socket, Law::Ulaw)
}

#[test]
fn api_placed_calls_join_rooms_by_an_ncco_conversation_and_by_the_pbx_conference_app() {
    let c = Calliope::start(&[]);
    let ports = trunks(&c, 1);
    route_to_room(&c, "7", "huddle", "");
    let host = Member::call(&c, ports[0], "7000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    host.answered();
    host.say(Some(TONES[0]));
    assert_eq!(members_when(&c, "huddle", |ms| ms.len() == 1).len(), 1);

    // Vonage POST /v1/calls to an agent, its NCCO a `conversation`.
    let mut placed = agent_member(&c, "3101", "placed-pw");
    let (app, key) = vonage_application(&c);
    let jwt = vonage_token(&app, &key);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (st, body) = rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/calls", c.http))
            .bearer_auth(&jwt)
            .json(&json!({"to": [{"type": "phone", "number": "3101"}], "from": {"type": "phone", "number": "5550100"},
                          "ncco": [{"action": "conversation", "name": "huddle"}]}))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or(Value::Null))
    });
    assert_eq!(st, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_owned();
    placed.answered();
    placed.say(Some(TONES[1]));
    let listed = members_when(&c, "huddle", |ms| ms.len() == 2);
    assert_eq!(listed.len(), 2, "the placed call joins the room: {listed:?}");
    assert_eq!(listed[1]["uuid"], uuid.as_str(), "{listed:?}");

    // The PBX `conference` app: the agent joins muted (flags{mute}).
    let mut pbx = agent_member(&c, "3102", "pbx-pw");
    let (st, body) = c.pbx_form(
        "POST",
        "/api/channels",
        &[("destNumber", "3102"), ("app", "conference"), ("args", "huddle@default++flags{mute}")],
    );
    assert_eq!(st, 200, "{body}");
    pbx.answered();
    pbx.say(Some(TONES[2]));
    let listed = members_when(&c, "huddle", |ms| ms.len() == 3);
    assert_eq!(listed.len(), 3, "the conference app's call joins the room: {listed:?}");
    assert_eq!(listed[2]["mute"], json!(true), "with the app's flags: {listed:?}");
    assert_eq!(listed[2]["uuid"], body["uuid"], "{listed:?} {body}");

    std::thread::sleep(Duration::from_millis(700));
    hears("the routed caller", &host.listen(Duration::from_secs(2)), &[TONES[1]], &[TONES[0], TONES[2]]);
    hears(
        "the Vonage-placed call",
        &placed.listen(Duration::from_secs(2)),
        &[TONES[0]],
        &[TONES[1], TONES[2]],
    );
    hears(
        "the conference app's call",
        &pbx.listen(Duration::from_secs(2)),
        &[TONES[0], TONES[1]],
        &[TONES[2]],
    );

    // Bad arguments are named; nothing is placed.
    for args in ["", "huddle+12ab", "huddle+flags{loud}"] {
        let (st, body) = c.pbx_form(
            "POST",
            "/api/channels",
            &[("destNumber", "3102"), ("app", "conference"), ("args", args)],
        );
        assert_eq!(st, 400, "{args:?}: {body}");
        assert!(body.to_string().contains("args"), "{args:?}: {body}");
    }
    let (st, body) = c.pbx(
        "POST",
        "/api/channels",
        json!({"destNumber": "3102", "apps": [{"app": "conference", "args": "huddle"}, {"app": "playback", "args": "x.wav"}]}),
    );
    assert_eq!(st, 400, "conference must be the last app: {body}");

    // Kicked, the placed calls are hung up (the program ends with the room).
    for m in listed.iter().rev() {
        let id = m["id"].as_i64().unwrap();
        c.pbx("DELETE", &format!("/api/conferences/huddle/members/{id}"), Value::Null);
    }
    assert!(pbx.ended(Duration::from_secs(20)), "the conference app's call gets a BYE");
    assert!(placed.ended(Duration::from_secs(20)), "the Vonage-placed call gets a BYE");
    let mut host = host;
    assert!(host.ended(Duration::from_secs(20)));
}

#[test]
fn a_call_forwarded_on_no_answer_to_a_conference_destination_joins_the_room() {
    let c = Calliope::start(&["--ring-timeout", "2"]);
    let agent = c.agent("2002", "pw-2002");
    let (st, body) = c.call("PUT", &format!("/v1beta2/agents/{agent}"), json!({"forwardNoAnswer": "7000"}));
    assert_eq!(st, 200, "{body}");
    // Agents dial in context-1: 7... is the room there; in context-2 (the
    // trunks) 2... is the agents, 7... the same room.
    let route = json!({"name": "overflow", "context": "context-1", "max_length": "20", "prefix": "7",
                       "dest_type": "FS_DEST_CONFERENCE_ROOM", "dest_uuid": "overflow"});
    let (st, answer) = c.pbx("POST", "/api/routes", route);
    assert_eq!(st, 200, "{answer}");
    route_to_room(&c, "7", "overflow", "");
    let route = json!({"name": "extensions", "context": "context-2", "max_length": "20", "prefix": "2", "dest_type": "FS_DEST_USER"});
    let (st, answer) = c.pbx("POST", "/api/routes", route);
    assert_eq!(st, 200, "{answer}");
    let ports = trunks(&c, 2);

    let mut host = Member::call(&c, ports[0], "7000", Law::Ulaw, "trunk_conf_call.xml", &[]);
    host.answered();
    host.say(Some(TONES[0]));
    assert_eq!(members_when(&c, "overflow", |ms| ms.len() == 1).len(), 1);

    // 2002 rings and does not answer: after 2 s the call joins the room.
    let uas = Sipp::new("uas_ring.xml", c.sip);
    let contact = uas.port;
    let rtp = free_port().to_string();
    let mut rings = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", "2002"])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", "2002", "-au", "2002", "-ap", "pw-2002"])
        .contact_port(contact)
        .run();
    support::calliope::assert_passed(&reg, "2002 registers");
    let mut caller = Member::call(&c, ports[1], "2002", Law::Alaw, "trunk_conf_call.xml", &[]);
    caller.answered();
    caller.say(Some(TONES[1]));
    let listed = members_when(&c, "overflow", |ms| ms.len() == 2);
    assert_eq!(listed.len(), 2, "the forwarded call joins the room: {listed:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while rings.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(rings.try_wait().unwrap().is_some_and(|s| s.success()), "2002 rang and was cancelled");

    std::thread::sleep(Duration::from_millis(700));
    hears("the room's first member", &host.listen(Duration::from_secs(2)), &[TONES[1]], &[TONES[0]]);
    hears("the forwarded caller (PCMA)", &caller.listen(Duration::from_secs(2)), &[TONES[0]], &[TONES[1]]);

    for m in listed.iter().rev() {
        let id = m["id"].as_i64().unwrap();
        c.pbx("DELETE", &format!("/api/conferences/overflow/members/{id}"), Value::Null);
    }
    assert!(caller.ended(Duration::from_secs(20)), "the forwarded caller gets a BYE once kicked");
    assert!(host.ended(Duration::from_secs(20)));
}
