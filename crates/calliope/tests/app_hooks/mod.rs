//! What the application tests share: a webhook server that checks every
//! request's `X-Calliope-Signature` and answers whatever the test says
//! (JSON, TwiML, garbage, slowly, with a redirect), the caller's RTP
//! (hearing, speaking, pressing keys), the call events from `/events`,
//! and the call records.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::webhooks::{verify, SecretKeeper, HEADER};
use serde_json::{json, Value};

use crate::support::calliope::Calliope;

/// One request the webhook server took.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    /// The path, query left out.
    pub path: String,
    pub content_type: String,
    /// The Host header: where this server is.
    pub host: String,
    /// The body as JSON (`Null` when it is not).
    pub json: Value,
    /// The body as a form (empty when it is not one).
    pub form: HashMap<String, String>,
    /// Whether its signature verified.
    pub signed: bool,
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Extra header lines.
    pub headers: Vec<String>,
    /// Held this long before anything is written.
    pub delay: Duration,
}

impl Reply {
    pub fn json(v: Value) -> Reply {
        Reply::raw(200, "application/json", v.to_string().into_bytes())
    }

    pub fn xml(text: &str) -> Reply {
        Reply::raw(200, "application/xml", text.as_bytes().to_vec())
    }

    pub fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply { status, content_type: content_type.into(), body, headers: Vec::new(), delay: Duration::ZERO }
    }

    pub fn redirect(status: u16, to: &str) -> Reply {
        let mut r = Reply::raw(status, "text/plain", Vec::new());
        r.headers.push(format!("Location: {to}"));
        r
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Answer = dyn Fn(&Hit) -> Reply + Send + Sync;

/// A webhook server on 127.0.0.1, one thread per connection.
pub struct Webhooks {
    pub addr: SocketAddr,
    /// The application whose secret signs requests that do not name one
    /// (NCCO and TwiML bodies carry no `appRef`).
    pub app_ref: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhooks {
    pub fn start(data_dir: PathBuf, answer: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> Webhooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let app_ref = Arc::new(Mutex::new(String::new()));
        let answer: Arc<Answer> = Arc::new(answer);
        let (h, s, r) = (hits.clone(), stop.clone(), app_ref.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (dir, r, h, a, s) =
                            (data_dir.clone(), r.clone(), h.clone(), answer.clone(), s.clone());
                        std::thread::spawn(move || serve(stream, &dir, &r, &h, &*a, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Webhooks { addr, app_ref, hits, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        self.at("/voice")
    }

    pub fn at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until a request satisfies `check`.
    pub fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&Hit) -> bool) -> Hit {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(h) = self.hits().into_iter().find(|h| check(h)) {
                return h;
            }
            assert!(Instant::now() < deadline, "{what}: {:?}", self.hits());
            std::thread::sleep(Duration::from_millis(50));
        }
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

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `a=b&c=d` with `+` and `%XX` decoded.
pub fn parse_form(text: &str) -> HashMap<String, String> {
    let decode = |s: &str| -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) =
                    u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Reads one HTTP request, checks its signature, answers it, closes.
fn serve(
    mut stream: TcpStream,
    data_dir: &Path,
    app_ref: &Mutex<String>,
    hits: &Mutex<Vec<Hit>>,
    answer: &Answer,
    stop: &AtomicBool,
) {
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
        let length = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        while buf.len() < end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        break (head, buf[end + 4..end + 4 + length].to_vec());
    };
    let method = head.split_whitespace().next().unwrap_or("").to_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_owned();
    let content_type = header(&head, "content-type").unwrap_or("").to_owned();
    let host = header(&head, "host").unwrap_or("").to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let form = if content_type.starts_with("application/x-www-form-urlencoded") {
        parse_form(&String::from_utf8_lossy(&body))
    } else {
        HashMap::new()
    };
    let app = json["appRef"].as_str().map_or_else(|| app_ref.lock().unwrap().clone(), str::to_owned);
    let secret = SecretKeeper::open(None, data_dir).unwrap().for_application(&app);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = header(&head, HEADER).is_some_and(|s| verify(&secret, s, &body, now, 300).is_ok());
    let hit = Hit { method, path, content_type, host, json, form, signed };
    hits.lock().unwrap().push(hit.clone());
    let reply = if signed { answer(&hit) } else { Reply::raw(401, "text/plain", Vec::new()) };
    let until = Instant::now() + reply.delay;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut text = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    for h in &reply.headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.write_all(&reply.body);
}

/// Every event of the owner's workspace from `/events`, as they come.
pub struct Events {
    seen: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Events {
    pub fn watch(c: &Calliope) -> Events {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (s, st) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
                let subscribe = json!({"type": "subscribe", "events": ["*"]});
                ws.send(Message::Text(subscribe.to_string().into())).await.unwrap();
                let mut ready = Some(ready_tx);
                while !st.load(Ordering::Relaxed) {
                    let Ok(next) = tokio::time::timeout(Duration::from_millis(200), ws.next()).await else {
                        continue;
                    };
                    let Some(Ok(Message::Text(t))) = next else {
                        if next.is_none() {
                            break;
                        }
                        continue;
                    };
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if v["type"] == "subscribed" {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                        continue;
                    }
                    s.lock().unwrap().push(v);
                }
            });
        });
        ready_rx.recv_timeout(Duration::from_secs(10)).expect("subscribed to /events");
        Events { seen, stop, thread: Some(thread) }
    }

    pub fn all(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for an event named `name` whose data satisfies `check`.
    pub fn wait_for(&self, name: &str, timeout: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.all().into_iter().find(|e| e["type"] == name && check(&e["data"])) {
                return e;
            }
            assert!(Instant::now() < deadline, "no {name} event: {:?}", self.all());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap(),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// A PBX trunk at `127.0.0.1:port`, routed in `context-2`.
pub fn trunk(c: &Calliope, port: u16) {
    let body = json!({"name": "carrier", "remote_addr": format!("127.0.0.1:{port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", body);
    assert_eq!(st, 200, "{answer}");
    id_of(&answer);
}

/// A Fonoster application (`extra` merged into its body) and a number
/// `tel` whose calls reach it; its ref.
pub fn application(c: &Calliope, name: &str, endpoint: &str, tel: &str, extra: Value) -> String {
    let mut body = json!({"name": name, "type": "EXTERNAL", "endpoint": endpoint});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let (st, app) = c.call("POST", "/v1beta2/applications", body);
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": name, "telUrl": format!("tel:{tel}"), "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    app_ref
}

/// The call records, once there are at least `n`.
pub fn records(c: &Calliope, n: usize) -> Vec<Value> {
    let mut records = Vec::new();
    for _ in 0..150 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
        records = crate::support::calls::legs_of(&body);
        if records.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    records
}

/// The record of the call to `tel` (its JSON as text), waiting for it.
pub fn record_of(c: &Calliope, tel: &str) -> String {
    for _ in 0..150 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
        let found = crate::support::calls::legs_of(&body)
            .into_iter()
            .find(|r| serde_json::to_string(r).unwrap().contains(tel));
        if let Some(r) = found {
            return serde_json::to_string(&r).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no record of the call to {tel}");
}

/// The caller's side of the media: one UDP socket.
pub struct Rtp {
    pub socket: UdpSocket,
    /// Where Calliope's media comes from (learnt from what is heard).
    pub calliope: Option<SocketAddr>,
    seq: u16,
    ts: u32,
}

/// A sample counts as loud above this.
const LOUD: u16 = 1000;

impl Rtp {
    pub fn new() -> Rtp {
        Rtp { socket: UdpSocket::bind("127.0.0.1:0").unwrap(), calliope: None, seq: 1, ts: 8000 }
    }

    pub fn port(&self) -> String {
        self.socket.local_addr().unwrap().port().to_string()
    }

    /// The linear audio of the PCMU packets received within `window`.
    pub fn hear(&mut self, window: Duration) -> Vec<i16> {
        self.hear_until(window, |_, _| false)
    }

    /// Audio until `done(samples so far, ms since the last loud packet)`
    /// or `window` passes.
    pub fn hear_until(&mut self, window: Duration, done: impl Fn(&[i16], u128) -> bool) -> Vec<i16> {
        self.socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let deadline = Instant::now() + window;
        let mut samples = Vec::new();
        let mut last_loud = Instant::now();
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            if let Ok((n, peer)) = self.socket.recv_from(&mut buf) {
                if n > 12 && buf[1] & 0x7f == 0 {
                    self.calliope = Some(peer);
                    let pcm: Vec<i16> =
                        buf[12..n].iter().map(|&c| media::g711::Law::Ulaw.decode(c)).collect();
                    if pcm.iter().any(|s| s.unsigned_abs() > LOUD) {
                        last_loud = Instant::now();
                    }
                    samples.extend(pcm);
                }
            }
            if done(&samples, last_loud.elapsed().as_millis()) {
                break;
            }
        }
        samples
    }

    /// Hears a prompt to its end: some loud audio, then `quiet_ms` without.
    pub fn hear_prompt(&mut self, window: Duration, quiet_ms: u128) -> Vec<i16> {
        self.hear_until(window, |s, quiet| {
            s.iter().filter(|x| x.unsigned_abs() > LOUD).count() > 400 && quiet >= quiet_ms
        })
    }

    fn to(&self) -> SocketAddr {
        self.calliope.expect("Calliope's media address is known (something was heard)")
    }

    /// Sends 8 kHz `samples` as PCMU in 20 ms packets, paced in real time.
    pub fn speak(&mut self, samples: &[i16]) {
        let to = self.to();
        let start = Instant::now();
        for (n, chunk) in samples.chunks(160).enumerate() {
            let mut p = vec![0x80, 0];
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ts.to_be_bytes());
            p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
            p.extend(chunk.iter().map(|&s| media::g711::Law::Ulaw.encode(s)));
            p.extend(std::iter::repeat_n(0xffu8, 160 - chunk.len()));
            // A call that has ended may refuse what is still said.
            let _ = self.socket.send_to(&p, to);
            self.seq = self.seq.wrapping_add(1);
            self.ts = self.ts.wrapping_add(160);
            let due = start + Duration::from_millis(20 * (n as u64 + 1));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }

    /// Sends `samples` like [`Rtp::speak`] from a thread of its own (and
    /// a sequence of its own), while this side goes on hearing.
    pub fn speak_meanwhile(&mut self, samples: Vec<i16>) -> std::thread::JoinHandle<()> {
        let mut other = Rtp {
            socket: self.socket.try_clone().unwrap(),
            calliope: Some(self.to()),
            seq: self.seq.wrapping_add(20_000),
            ts: self.ts.wrapping_add(8000 * 60),
        };
        std::thread::spawn(move || other.speak(&samples))
    }

    /// An RFC 4733 key press of `digit` (60 ms).
    pub fn press(&mut self, digit: u8) {
        let to = self.to();
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
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ts.to_be_bytes());
            p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
            p.push(event);
            p.push(if end { 0x80 | 10 } else { 10 });
            p.extend_from_slice(&duration.to_be_bytes());
            self.socket.send_to(&p, to).unwrap();
            self.seq = self.seq.wrapping_add(1);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.ts = self.ts.wrapping_add(1600);
    }
}

/// `text` spoken by espeak-ng (`-s` words a minute), at 8 kHz.
pub fn espeak(text: &str, speed: u32) -> Vec<i16> {
    let out = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", &speed.to_string(), "--stdout", text])
        .output()
        .expect("espeak-ng runs (scripts/install-test-deps installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wav = media::wav::read(&out.stdout).unwrap();
    media::resample(&wav.samples, wav.sample_rate, 8000).unwrap()
}

/// Waits for a SIPp child to end; its exit and its stderr.
pub fn finish(mut call: std::process::Child, timeout: Duration) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = call.kill();
            let _ = call.wait();
            panic!("the call did not end within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = call.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status, err)
}
