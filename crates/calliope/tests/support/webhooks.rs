//! A real HTTP server on 127.0.0.1 playing an application: every request's
//! `X-Calliope-Signature` is checked with the application's secret (read
//! from Calliope's data dir) over its body (its query string when it has
//! none), its body kept, and `answer(path, body)` sent
//! back as JSON (401 when the signature is wrong). `GET /<hz>.wav` serves
//! one second of a tone at `<hz>` Hz (audio played by URL), unsigned
//! requests allowed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::webhooks::{verify, SecretKeeper, HEADER};
use serde_json::Value;

/// One request the server took.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The request's path (query left out).
    pub path: String,
    /// Its JSON body (null when none).
    pub body: Value,
    /// Whether its signature verified.
    pub signed: bool,
}

type Answer = dyn Fn(&str, &Value) -> Value + Send + Sync;

/// The server; stopped when dropped.
pub struct Webhooks {
    pub addr: SocketAddr,
    /// The application whose secret signs requests that do not say
    /// (Vonage bodies carry no `appRef`).
    pub app_ref: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhooks {
    pub fn start(
        data_dir: PathBuf,
        answer: impl Fn(&str, &Value) -> Value + Send + Sync + 'static,
    ) -> Webhooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let app_ref = Arc::new(Mutex::new(String::new()));
        let (h, s, r) = (hits.clone(), stop.clone(), app_ref.clone());
        let answer: Arc<Answer> = Arc::new(answer);
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (dir, r, h, a) = (data_dir.clone(), r.clone(), h.clone(), answer.clone());
                        std::thread::spawn(move || serve(stream, &dir, &r, &h, &*a));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Webhooks { addr, app_ref, hits, stop, thread: Some(thread) }
    }

    pub fn at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// The `status` of each request to `path`, in order.
    pub fn statuses(&self, path: &str) -> Vec<String> {
        self.hits()
            .iter()
            .filter(|h| h.path == path)
            .filter_map(|h| h.body["status"].as_str().map(str::to_owned))
            .collect()
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

/// One second of a tone at `hz`, as a 16-bit mono 8 kHz WAV file.
pub fn tone_wav(hz: f32) -> Vec<u8> {
    let samples: Vec<i16> = (0..8000)
        .map(|i| ((i as f32 * hz * std::f32::consts::TAU / 8000.0).sin() * 12000.0) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

/// Reads one HTTP request, answers it and closes the connection.
fn serve(
    mut stream: TcpStream,
    data_dir: &Path,
    app_ref: &Mutex<String>,
    hits: &Mutex<Vec<Hit>>,
    answer: &Answer,
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
    let path = head.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_owned();
    if let Some(hz) = path.strip_prefix('/').and_then(|p| p.strip_suffix(".wav")) {
        let wav = tone_wav(hz.parse().unwrap_or(700.0));
        hits.lock().unwrap().push(Hit { path: path.clone(), body: Value::Null, signed: true });
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            wav.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&wav);
        return;
    }
    let signature = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(HEADER).then(|| v.trim().to_owned())
    });
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let app_ref = json["appRef"].as_str().map_or_else(|| app_ref.lock().unwrap().clone(), str::to_owned);
    let secret = SecretKeeper::open(None, data_dir).unwrap().for_application(&app_ref);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // A request without a body (GET) signs its query string.
    let target = head.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q).as_bytes().to_vec();
    let payload = if body.is_empty() { &query } else { &body };
    let signed = signature.is_some_and(|s| verify(&secret, &s, payload, now, 300).is_ok());
    hits.lock().unwrap().push(Hit { path: path.clone(), body: json.clone(), signed });
    let (status, reply) = if signed {
        ("200 OK", answer(&path, &json).to_string())
    } else {
        ("401 Unauthorized", String::new())
    };
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(text.as_bytes());
}

/// The linear audio of the PCMU packets `socket` receives within `window`.
pub fn hear(socket: &std::net::UdpSocket, window: Duration) -> Vec<i16> {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = std::time::Instant::now() + window;
    let mut samples = Vec::new();
    let mut buf = [0u8; 2048];
    while std::time::Instant::now() < deadline {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            if n > 12 && buf[1] & 0x7f == 0 {
                samples.extend(buf[12..n].iter().map(|&c| media::g711::Law::Ulaw.decode(c)));
            }
        }
    }
    samples
}

/// Samples louder than speech's quiet parts.
pub fn loud(samples: &[i16]) -> usize {
    samples.iter().filter(|s| s.unsigned_abs() > 1000).count()
}

/// Where a steady tone at `hz` starts in `samples` (the first of 10 frames
/// of 20 ms in a row dominated by it), as a sample index.
pub fn tone_start(samples: &[i16], hz: f32) -> Option<usize> {
    let mut run = 0;
    for (i, frame) in samples.chunks_exact(160).enumerate() {
        if super::baresip::tone_report(frame, 8000, hz).longest_run_ms > 0 {
            run += 1;
            if run == 10 {
                return Some((i + 1 - run) * 160);
            }
        } else {
            run = 0;
        }
    }
    None
}
