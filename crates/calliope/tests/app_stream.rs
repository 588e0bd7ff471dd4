//! Media streams for AI agents, end to end: SIPp plays a carrier trunk
//! calling a DID whose application answers an NCCO `connect` to a
//! `websocket` endpoint; the test's UDP socket is the caller's media (a
//! tone, keys as RFC 4733 events, and what it hears); a WebSocket server
//! run by the test is the agent: it receives the metadata frame, the
//! caller's audio as 16 kHz PCM and the digits as JSON events, and sends
//! audio back that the caller hears, until barge-in, `clear` or its close.
//! Also: sockets that cannot be reached, send garbage, flood or send an
//! oversized message (each an event with its cause; the program goes on),
//! a Fonoster `stream` in the background, and the caller hanging up.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use engine::webhooks::{verify, SecretKeeper, HEADER};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{free_port, Calliope, Sipp};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A webhook server on 127.0.0.1 answering every signed POST with
/// `answer` (401 when the signature does not verify); it counts both.
struct Webhooks {
    addr: SocketAddr,
    signed: Arc<Mutex<(u32, u32)>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhooks {
    fn start(data_dir: PathBuf, answer: Value) -> Webhooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let signed = Arc::new(Mutex::new((0, 0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, counts) = (stop.clone(), signed.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &data_dir, &counts, &answer),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Webhooks { addr, signed, stop, thread: Some(thread) }
    }

    /// (signed, unsigned) requests so far.
    fn counts(&self) -> (u32, u32) {
        *self.signed.lock().unwrap()
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, data_dir: &Path, counts: &Mutex<(u32, u32)>, answer: &Value) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, body) = loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        break (head, buf[end + 4..end + 4 + length].to_vec());
    };
    let signature = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(HEADER).then(|| v.trim().to_owned())
    });
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let app_ref = json["appRef"].as_str().unwrap_or_default();
    let secret = SecretKeeper::open(None, data_dir).unwrap().for_application(app_ref);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = signature.is_some_and(|s| verify(&secret, &s, &body, now, 300).is_ok());
    {
        let mut c = counts.lock().unwrap();
        if signed {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    let (status, reply) =
        if signed { ("200 OK", answer.to_string()) } else { ("401 Unauthorized", String::new()) };
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(text.as_bytes());
}

/// A WebSocket server standing for the AI agent: it takes one connection
/// at a time; what it receives goes to `inbox`, what is put in `outbox`
/// is sent (a `Close` ends that connection).
struct Agent {
    url: String,
    inbox: mpsc::UnboundedReceiver<Message>,
    outbox: mpsc::UnboundedSender<Message>,
}

async fn agent() -> Agent {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/agent", listener.local_addr().unwrap());
    let (in_tx, inbox) = mpsc::unbounded_channel();
    let (outbox, mut out_rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else { return };
        let (mut sink, mut stream) = ws.split();
        loop {
            tokio::select! {
                m = stream.next() => match m {
                    Some(Ok(m)) => { let _ = in_tx.send(m); }
                    _ => break,
                },
                o = out_rx.recv() => match o {
                    Some(m) => {
                        let closing = matches!(m, Message::Close(_));
                        if sink.send(m).await.is_err() || closing {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
    });
    Agent { url, inbox, outbox }
}

/// What the agent received within `window`: the PCM of its binary
/// frames, the sizes of those frames, and its text frames as JSON.
fn received(
    rt: &tokio::runtime::Runtime,
    agent: &mut Agent,
    window: Duration,
) -> (Vec<i16>, Vec<usize>, Vec<Value>) {
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + window;
        let (mut pcm, mut sizes, mut texts) = (Vec::new(), Vec::new(), Vec::new());
        while let Ok(Some(m)) = tokio::time::timeout_at(deadline, agent.inbox.recv()).await {
            match m {
                Message::Binary(b) => {
                    sizes.push(b.len());
                    pcm.extend(b.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])));
                }
                Message::Text(t) => texts.push(serde_json::from_str(&t).unwrap_or(Value::Null)),
                _ => {}
            }
        }
        (pcm, sizes, texts)
    })
}

/// Waits (at most 10 s) for a text frame of the agent matching `wanted`.
fn text_where(rt: &tokio::runtime::Runtime, agent: &mut Agent, wanted: impl Fn(&Value) -> bool) -> Value {
    rt.block_on(async {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), agent.inbox.recv())
                .await
                .expect("the agent gets the text frame in time")
                .expect("the socket stays open");
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                if wanted(&v) {
                    return v;
                }
            }
        }
    })
}

/// `ms` of a `freq` tone at 16 kHz as little-endian PCM.
fn wide_tone(freq: f32, ms: u32) -> Vec<u8> {
    media::tone::beep(16000, freq, ms, 8000.0).iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// What the caller's media thread sends next.
enum Say {
    Tone(f32, u32),
    Digit(u8),
}

/// The caller's media: 20 ms PCMU packets to Calliope (silence unless a
/// tone is asked), and key presses as RFC 4733 events in the same stream.
struct CallerMedia {
    tx: std_mpsc::Sender<Say>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CallerMedia {
    fn start(socket: UdpSocket, to: SocketAddr) -> CallerMedia {
        let (tx, rx) = std_mpsc::channel::<Say>();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut seq, mut ts) = (1u16, 0u32);
            let mut tone: Vec<i16> = Vec::new();
            let mut event: Option<(u8, u32, usize)> = None;
            let start = Instant::now();
            let mut tick = 0u32;
            while !s.load(Ordering::Relaxed) {
                let mut packet = vec![0x80, 0];
                if let Some((key, at, sent)) = event {
                    // Three updates then three end packets, 60 ms of key.
                    let end = sent >= 3;
                    packet[1] = if sent == 0 { 0x80 | 101 } else { 101 };
                    packet.extend_from_slice(&seq.to_be_bytes());
                    packet.extend_from_slice(&at.to_be_bytes());
                    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                    packet.push(key);
                    packet.push(if end { 0x80 | 10 } else { 10 });
                    packet.extend_from_slice(&(160 * (sent.min(2) as u16 + 1)).to_be_bytes());
                    event = (sent < 5).then_some((key, at, sent + 1));
                } else {
                    if tone.is_empty() {
                        match rx.try_recv() {
                            Ok(Say::Tone(f, ms)) => tone = media::tone::beep(8000, f, ms, 8000.0),
                            Ok(Say::Digit(d)) => {
                                let key = match d {
                                    b'0'..=b'9' => d - b'0',
                                    b'*' => 10,
                                    _ => 11,
                                };
                                event = Some((key, ts, 0));
                            }
                            Err(_) => {}
                        }
                    }
                    let frame: Vec<i16> = if tone.is_empty() {
                        vec![0; 160]
                    } else {
                        tone.drain(..160.min(tone.len())).collect()
                    };
                    packet.extend_from_slice(&seq.to_be_bytes());
                    packet.extend_from_slice(&ts.to_be_bytes());
                    packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                    packet.extend(frame.iter().map(|&x| media::g711::Law::Ulaw.encode(x)));
                }
                let _ = socket.send_to(&packet, to);
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
                tick += 1;
                let next = start + Duration::from_millis(20 * u64::from(tick));
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        });
        CallerMedia { tx, stop, thread: Some(thread) }
    }

    fn say(&self, what: Say) {
        self.tx.send(what).unwrap();
    }
}

impl Drop for CallerMedia {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The linear audio of the PCMU packets `socket` receives within
/// `window`, and where they came from.
fn hear(socket: &UdpSocket, window: Duration) -> (Vec<i16>, Option<SocketAddr>) {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let mut samples = Vec::new();
    let mut from = None;
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if let Ok((n, peer)) = socket.recv_from(&mut buf) {
            if n > 12 && buf[1] & 0x7f == 0 {
                from = Some(peer);
                samples.extend(buf[12..n].iter().map(|&c| media::g711::Law::Ulaw.decode(c)));
            }
        }
    }
    (samples, from)
}

/// The first packet's source: where the caller's media goes.
fn first_packet(socket: &UdpSocket, within: Duration) -> Option<SocketAddr> {
    socket.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 2048];
    socket.recv_from(&mut buf).ok().map(|(_, peer)| peer)
}

fn longest(samples: &[i16], freq: f32) -> u32 {
    tone_report(samples, 8000, freq).longest_run_ms
}

/// A number `tel` whose Fonoster application's webhook answers `ncco`,
/// and a PBX trunk for SIPp on `carrier_port`; the webhook server.
fn application(c: &Calliope, tel: &str, ncco: Value, carrier_port: u16) -> Webhooks {
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), ncco);
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "agent", "type": "EXTERNAL", "endpoint": format!("http://{}/voice", hooks.addr)}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "agent line", "telUrl": format!("tel:{tel}"), "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let body = json!({"name": "carrier", "remote_addr": format!("127.0.0.1:{carrier_port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", body);
    assert_eq!(st, 200, "{answer}");
    hooks
}

/// The `/events` WebSocket subscribed to the stream events.
fn stream_events(rt: &tokio::runtime::Runtime, c: &Calliope) -> mpsc::UnboundedReceiver<Value> {
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let (tx, rx) = mpsc::unbounded_channel();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let sub = json!({"type": "subscribe", "events": ["call.stream.started", "call.stream.connected", "call.stream.failed", "call.stream.ended"]});
        ws.send(Message::Text(sub.to_string().into())).await.unwrap();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if v["type"].as_str().is_some_and(|t| t.starts_with("call.stream.")) {
                        let _ = tx.send(v);
                    }
                }
            }
        });
    });
    rx
}

/// The next event named `name` (at most 10 s away).
fn event(rt: &tokio::runtime::Runtime, events: &mut mpsc::UnboundedReceiver<Value>, name: &str) -> Value {
    rt.block_on(async {
        loop {
            let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {name} event"))
                .unwrap();
            if e["type"] == name {
                return e;
            }
        }
    })
}

/// Waits for SIPp to end (the program hangs up) and checks it passed.
fn hung_up(mut call: std::process::Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    if let Some(mut e) = call.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    assert!(status.success(), "{what}: {out}");
}

#[test]
fn a_websocket_agent_hears_the_caller_and_is_heard() {
    let c = Calliope::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut agent = rt.block_on(agent());
    let mut events = stream_events(&rt, &c);
    let carrier_port = free_port();
    let ncco = json!([{"action": "connect", "endpoint": [{
        "type": "websocket", "uri": agent.url, "content-type": "audio/l16;rate=16000",
        "headers": {"customer": "42"}
    }]}]);
    let hooks = application(&c, "+15550004444", ncco, carrier_port);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550004444", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();

    // The metadata frame comes first.
    let first = text_where(&rt, &mut agent, |_| true);
    assert_eq!(first["event"], "websocket:connected", "{first}");
    assert_eq!(first["content-type"], "audio/l16;rate=16000", "{first}");
    assert_eq!(first["customer"], "42", "the application's headers: {first}");
    assert_eq!(first["from"], "15551230000", "{first}");
    assert_eq!(first["to"], "+15550004444", "{first}");
    assert_eq!(hooks.counts(), (1, 0), "the webhook request was signed");
    let started = event(&rt, &mut events, "call.stream.connected");
    assert_eq!(started["data"]["url"], json!(agent.url), "{started}");

    // The stream plays (silence) from the start: that is where to send.
    let calliope_rtp =
        first_packet(&rtp, Duration::from_secs(5)).expect("the stream's audio reaches the caller");
    let caller = CallerMedia::start(rtp.try_clone().unwrap(), calliope_rtp);

    // The caller's 1 kHz tone reaches the agent as 16 kHz PCM frames.
    caller.say(Say::Tone(1000.0, 1500));
    let (pcm, sizes, _) = received(&rt, &mut agent, Duration::from_millis(2500));
    assert!(sizes.len() >= 100, "20 ms frames flow: {} frames", sizes.len());
    assert!(sizes.iter().all(|&s| s == 640), "every frame is 20 ms at 16 kHz: {:?}", &sizes[..10]);
    let heard = tone_report(&pcm, 16000, 1000.0);
    // (A late packet of the caller's may break the run once under load.)
    assert!(
        heard.tone_ms >= 1200 && heard.longest_run_ms >= 500,
        "the agent hears the caller's tone: {heard:?}"
    );
    assert!(tone_report(&pcm, 16000, 3000.0).tone_ms == 0, "and nothing else");

    // A key becomes a JSON event.
    caller.say(Say::Digit(b'5'));
    let dtmf = text_where(&rt, &mut agent, |v| v["event"] == "websocket:dtmf");
    assert_eq!(dtmf["digit"], "5", "{dtmf}");

    // The agent answers with 2 s of 440 Hz in pieces of odd sizes, sent
    // faster than real time: the caller hears all of it.
    for piece in wide_tone(440.0, 2000).chunks(1000) {
        agent.outbox.send(Message::binary(piece.to_vec())).unwrap();
    }
    let (heard, _) = hear(&rtp, Duration::from_millis(3000));
    let run = longest(&heard, 440.0);
    assert!(run >= 1700, "the caller hears the agent's 440 Hz: {run} ms");

    // Barge-in: a key stops what the agent queued, and the agent is told.
    for piece in wide_tone(600.0, 10_000).chunks(640) {
        agent.outbox.send(Message::binary(piece.to_vec())).unwrap();
    }
    let (before, _) = hear(&rtp, Duration::from_millis(1000));
    assert!(longest(&before, 600.0) >= 600, "the 600 Hz plays: {} ms", longest(&before, 600.0));
    caller.say(Say::Digit(b'7'));
    let barge = text_where(&rt, &mut agent, |v| v["event"] == "websocket:barge-in");
    assert_eq!(barge["by"], "dtmf", "{barge}");
    let _ = hear(&rtp, Duration::from_millis(300));
    let (after, _) = hear(&rtp, Duration::from_millis(1500));
    assert!(longest(&after, 600.0) < 200, "the key stopped it: {} ms after", longest(&after, 600.0));

    // `clear` from the agent stops what it queued.
    for piece in wide_tone(800.0, 10_000).chunks(640) {
        agent.outbox.send(Message::binary(piece.to_vec())).unwrap();
    }
    let (before, _) = hear(&rtp, Duration::from_millis(1000));
    assert!(longest(&before, 800.0) >= 600, "the 800 Hz plays: {} ms", longest(&before, 800.0));
    agent.outbox.send(Message::text(r#"{"action":"clear"}"#)).unwrap();
    let _ = hear(&rtp, Duration::from_millis(300));
    let (after, _) = hear(&rtp, Duration::from_millis(1500));
    assert!(longest(&after, 800.0) < 200, "clear stopped it: {} ms after", longest(&after, 800.0));

    // The caller starting to speak stops it too.
    for piece in wide_tone(500.0, 10_000).chunks(640) {
        agent.outbox.send(Message::binary(piece.to_vec())).unwrap();
    }
    let (before, _) = hear(&rtp, Duration::from_millis(1000));
    assert!(longest(&before, 500.0) >= 600, "the 500 Hz plays: {} ms", longest(&before, 500.0));
    caller.say(Say::Tone(1000.0, 600));
    let barge = text_where(&rt, &mut agent, |v| v["event"] == "websocket:barge-in");
    assert_eq!(barge["by"], "speech", "{barge}");
    let _ = hear(&rtp, Duration::from_millis(300));
    let (after, _) = hear(&rtp, Duration::from_millis(1500));
    assert!(longest(&after, 500.0) < 200, "speech stopped it: {} ms after", longest(&after, 500.0));

    // The agent closes: the connect action ends, and so does the NCCO.
    agent.outbox.send(Message::Close(None)).unwrap();
    let ended = event(&rt, &mut events, "call.stream.ended");
    assert_eq!(ended["data"]["cause"], "STREAM_CLOSED", "{ended}");
    let stats = &ended["data"]["stats"];
    assert!(stats["framesSent"].as_u64().unwrap() >= 100, "{ended}");
    assert_eq!(stats["framesLost"], 0, "the agent kept up: {ended}");
    assert!(stats["oddMessages"].as_u64().unwrap() >= 1, "{ended}");
    assert_eq!(stats["clears"], 3, "two barge-ins and a clear: {ended}");
    hung_up(call, "the program hangs up once the agent closes");
    drop(caller);
}

#[test]
fn a_stream_that_cannot_connect_or_misbehaves_ends_with_its_cause_and_the_program_goes_on() {
    let c = Calliope::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut agent = rt.block_on(agent());
    let mut events = stream_events(&rt, &c);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let carrier_port = free_port();
    let ncco = json!([
        {"action": "connect", "endpoint": [{"type": "websocket", "uri": format!("ws://{dead}/gone")}]},
        {"action": "connect", "endpoint": [{"type": "websocket", "uri": agent.url, "content-type": "audio/l16;rate=8000"}]},
        {"action": "stream", "streamUrl": ["tone_stream://%(1500,0,1000)"]}
    ]);
    let _hooks = application(&c, "+15550005555", ncco, carrier_port);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550005555", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();

    let failed = event(&rt, &mut events, "call.stream.failed");
    assert_eq!(failed["data"]["cause"], "STREAM_UNREACHABLE", "{failed}");

    // The second socket is reached (8 kHz this time) and misbehaves:
    // garbage text, 40 s of audio at once (more than is kept), then a
    // message larger than allowed.
    let first = text_where(&rt, &mut agent, |_| true);
    assert_eq!(first["content-type"], "audio/l16;rate=8000", "{first}");
    let calliope_rtp = first_packet(&rtp, Duration::from_secs(5)).expect("the stream plays to the caller");
    let caller = CallerMedia::start(rtp.try_clone().unwrap(), calliope_rtp);
    let (_, sizes, _) = received(&rt, &mut agent, Duration::from_millis(500));
    assert!(sizes.iter().all(|&s| s == 320), "8 kHz frames are 320 bytes: {sizes:?}");
    agent.outbox.send(Message::text("\u{1}not json at all")).unwrap();
    agent.outbox.send(Message::binary(vec![7u8; 3])).unwrap();
    let narrow: Vec<u8> =
        media::tone::beep(8000, 600.0, 40_000, 8000.0).iter().flat_map(|s| s.to_le_bytes()).collect();
    for piece in narrow.chunks(320) {
        agent.outbox.send(Message::binary(piece.to_vec())).unwrap();
    }
    let (flooded, _) = hear(&rtp, Duration::from_millis(1000));
    assert!(longest(&flooded, 600.0) >= 600, "the queued audio plays: {} ms", longest(&flooded, 600.0));
    agent.outbox.send(Message::binary(vec![0u8; 100_000])).unwrap();
    let ended = event(&rt, &mut events, "call.stream.ended");
    assert_eq!(ended["data"]["cause"], "STREAM_PROTOCOL_ERROR", "{ended}");
    let stats = &ended["data"]["stats"];
    assert_eq!(stats["badMessages"], 1, "{ended}");
    assert!(stats["framesDropped"].as_u64().unwrap() >= 400, "the flood beyond 30 s is dropped: {ended}");

    // The program goes on: the next action's 1 kHz tone, not the flood.
    let (heard, _) = hear(&rtp, Duration::from_millis(2500));
    let run = longest(&heard, 1000.0);
    assert!(run >= 1000, "the NCCO's next action plays: {run} ms");
    hung_up(call, "the program ends after its last action");
    drop(caller);
}

#[test]
fn a_fonoster_stream_listens_beside_the_script_and_ends_with_the_call() {
    let c = Calliope::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut agent = rt.block_on(agent());
    let mut events = stream_events(&rt, &c);
    let carrier_port = free_port();
    let commands = json!({"commands": [
        {"answer": {}},
        {"stream": {"url": agent.url, "sampleRate": 8000, "metadata": {"bot": "listener"}}},
        {"play": {"url": "tone_stream://%(3000,0,600)"}},
        {"hangup": {}}
    ]});
    let _hooks = application(&c, "+15550006666", commands, carrier_port);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550006666", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();

    let first = text_where(&rt, &mut agent, |_| true);
    assert_eq!(first["content-type"], "audio/l16;rate=8000", "{first}");
    assert_eq!(first["bot"], "listener", "the command's metadata: {first}");
    // The script goes on beside the stream: its 600 Hz plays.
    let calliope_rtp = first_packet(&rtp, Duration::from_secs(5)).expect("the script plays");
    let caller = CallerMedia::start(rtp.try_clone().unwrap(), calliope_rtp);
    caller.say(Say::Tone(1000.0, 1000));
    // What the agent sends is not played: the stream only listens.
    let narrow: Vec<u8> =
        media::tone::beep(8000, 800.0, 1000, 8000.0).iter().flat_map(|s| s.to_le_bytes()).collect();
    agent.outbox.send(Message::binary(narrow)).unwrap();
    let (heard, _) = hear(&rtp, Duration::from_millis(1500));
    assert!(longest(&heard, 600.0) >= 1000, "the script's tone: {} ms", longest(&heard, 600.0));
    assert!(longest(&heard, 800.0) < 100, "not the agent's: {} ms", longest(&heard, 800.0));
    let (pcm, sizes, _) = received(&rt, &mut agent, Duration::from_millis(300));
    assert!(!sizes.is_empty() && sizes.iter().all(|&s| s == 320), "8 kHz frames: {sizes:?}");
    // Everything since the start: the caller's tone, not the script's.
    let caller_tone = tone_report(&pcm, 8000, 1000.0);
    assert!(caller_tone.tone_ms >= 800, "the agent hears the caller: {caller_tone:?}");
    assert_eq!(tone_report(&pcm, 8000, 600.0).tone_ms, 0, "and not what the caller hears");

    // The script hangs up: the stream ends with the call.
    hung_up(call, "the script hangs up after its tone");
    let ended = event(&rt, &mut events, "call.stream.ended");
    assert_eq!(ended["data"]["cause"], "CALL_ENDED", "{ended}");
    assert!(ended["data"]["stats"]["framesDropped"].as_u64().unwrap() >= 40, "{ended}");
    drop(caller);
}

#[test]
fn an_info_digit_reaches_the_agent_and_the_callers_bye_closes_the_socket() {
    let c = Calliope::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut agent = rt.block_on(agent());
    let mut events = stream_events(&rt, &c);
    let carrier_port = free_port();
    let ncco = json!([{"action": "connect", "endpoint": [{"type": "websocket", "uri": agent.url}]}]);
    let _hooks = application(&c, "+15550007777", ncco, carrier_port);
    // SIPp presses 5 in an INFO after 1.5 s, and hangs up 1.5 s later.
    let call = Sipp::on_port("trunk_app_info.xml", c.sip, carrier_port)
        .args(&["-s", "+15550007777", "-key", "caller", "15551230000"])
        .spawn();
    let first = text_where(&rt, &mut agent, |_| true);
    assert_eq!(first["content-type"], "audio/l16;rate=16000", "the NCCO default: {first}");
    let dtmf = text_where(&rt, &mut agent, |v| v["event"] == "websocket:dtmf");
    assert_eq!(dtmf["digit"], "5", "{dtmf}");
    let closed = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, agent.inbox.recv()).await {
                Ok(Some(Message::Close(_)) | None) => return true,
                Ok(Some(_)) => {}
                Err(_) => return false,
            }
        }
    });
    assert!(closed, "the caller's BYE closes the agent's socket");
    let ended = event(&rt, &mut events, "call.stream.ended");
    assert_eq!(ended["data"]["cause"], "CALL_ENDED", "{ended}");
    hung_up(call, "the caller's SIPp passes (its BYE answered)");
}
