//! A call reaches its application, end to end: SIPp plays a carrier trunk
//! calling a DID whose ingress handler is a Fonoster application; the
//! test's own UDP socket is the caller's media (it hears what is played,
//! and presses keys as RFC 4733 telephone-events); a webhook server run
//! by the test checks every request's `X-Calliope-Signature` and answers
//! with commands: `say` then `gather`, then, with the digits, a 1 kHz tone
//! and `hangup`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::webhooks::{verify, SecretKeeper, HEADER};
use serde_json::{json, Value};
use support::baresip::tone_report;
use support::calliope::{free_port, Calliope, Sipp};

/// One request the webhook server took.
#[derive(Debug, Clone)]
struct Hit {
    /// The request's path (query left out).
    path: String,
    body: Value,
    /// Whether its signature verified.
    signed: bool,
}

/// A webhook server on 127.0.0.1: each POST's signature is checked with
/// the application's secret (from Calliope's data dir), the body kept,
/// and `answer(body)` sent back (401 when the signature is wrong).
struct Webhooks {
    addr: SocketAddr,
    /// The application whose secret signs requests that do not say
    /// (NCCO bodies carry no `appRef`).
    app_ref: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhooks {
    fn start(data_dir: PathBuf, answer: impl Fn(&str, &Value) -> Value + Send + 'static) -> Webhooks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let app_ref = Arc::new(Mutex::new(String::new()));
        let (h, s, r) = (hits.clone(), stop.clone(), app_ref.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &data_dir, &r, &h, &answer),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Webhooks { addr, app_ref, hits, stop, thread: Some(thread) }
    }

    fn url(&self) -> String {
        self.at("/voice")
    }

    fn at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
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

/// Reads one HTTP request, answers it and closes the connection.
fn serve(
    mut stream: TcpStream,
    data_dir: &Path,
    app_ref: &Mutex<String>,
    hits: &Mutex<Vec<Hit>>,
    answer: &impl Fn(&str, &Value) -> Value,
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
    let signature = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(HEADER).then(|| v.trim().to_owned())
    });
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = head.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_owned();
    let app_ref = json["appRef"].as_str().map_or_else(|| app_ref.lock().unwrap().clone(), str::to_owned);
    let secret = SecretKeeper::open(None, data_dir).unwrap().for_application(&app_ref);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = signature.is_some_and(|s| verify(&secret, &s, &body, now, 300).is_ok());
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

/// An RFC 4733 telephone-event for `digit` from `socket` to `to`: three
/// updates and three end packets, 60 ms of key press.
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
}

/// The linear audio of the PCMU packets `socket` receives within `window`
/// (and where they came from).
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

fn id_of(answer: &Value) -> i64 {
    match &answer["data"] {
        Value::String(s) => s.parse().unwrap(),
        Value::Object(o) => o["id"].as_i64().unwrap(),
        v => v.as_i64().unwrap_or_else(|| panic!("no id in {answer}")),
    }
}

/// A PBX trunk at `127.0.0.1:port`, routed in `context-2`.
fn trunk(c: &Calliope, port: u16) {
    let body = json!({"name": "carrier", "remote_addr": format!("127.0.0.1:{port}"), "type": "INOUT", "protocol": "UDP", "source": "context-2"});
    let (st, answer) = c.pbx("POST", "/api/trunks", body);
    assert_eq!(st, 200, "{answer}");
    id_of(&answer);
}

#[test]
fn a_did_reaches_its_application_which_gathers_digits_and_plays_a_tone() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, body| match body["digits"].as_str() {
        None => json!({"commands": [
            {"say": {"text": "Press four two"}},
            {"gather": {"source": "dtmf", "timeout": 8000, "maxDigits": 2}}
        ]}),
        Some(_) => json!({"commands": [
            {"play": {"url": "tone_stream://%(1500,0,1000)"}},
            {"hangup": {}}
        ]}),
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "menu", "type": "EXTERNAL", "endpoint": hooks.url()}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "IVR line", "telUrl": "tel:+15550002222", "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550002222", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();

    // The greeting (espeak-ng) arrives; its source is where to send keys.
    let (greeting, calliope_rtp) = hear(&rtp, Duration::from_secs(4));
    let calliope_rtp =
        calliope_rtp.unwrap_or_else(|| panic!("no audio from the application: {:?}", hooks.hits()));
    let loud = greeting.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(loud > 800, "the greeting is speech, not silence ({loud} loud samples)");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'4', &mut seq, &mut ts);
    std::thread::sleep(Duration::from_millis(100));
    press(&rtp, calliope_rtp, b'2', &mut seq, &mut ts);

    // The answer to the digits: a 1 kHz tone, then the call is hung up.
    let (heard, _) = hear(&rtp, Duration::from_secs(5));
    let report = tone_report(&heard, 8000, 1000.0);
    assert!(report.longest_run_ms >= 1000, "the 1 kHz tone is heard: {report:?}");

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the application hangs up");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    if let Some(mut e) = call.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    assert!(status.success(), "the caller's SIPp passes (BYE from the application): {out}");

    let hits = hooks.hits();
    assert_eq!(hits.len(), 2, "the session, then the digits: {hits:?}");
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    assert_eq!(hits[0].body["appRef"], json!(app_ref), "{hits:?}");
    assert_eq!(hits[0].body["calleeNumber"], json!("+15550002222"), "{hits:?}");
    assert_eq!(hits[0].body["callerNumber"], json!("15551230000"), "{hits:?}");
    assert_eq!(hits[1].body["digits"], json!("42"), "{hits:?}");
    assert_eq!(hits[0].body["sessionRef"], hits[1].body["sessionRef"]);
}

/// A route in `context-2` for numbers starting with `prefix` to `dest`.
fn route_to(c: &Calliope, prefix: &str, dest_type: &str, dest: i64) {
    let body = json!({"name": format!("to {dest_type}"), "context": "context-2", "max_length": "20", "prefix": prefix, "dest_type": dest_type, "dest_uuid": dest.to_string()});
    let (st, answer) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{answer}");
}

/// Which of `frequencies` sounds longest in `samples`, and for how long.
fn loudest_tone(samples: &[i16], frequencies: &[f32]) -> (f32, u32) {
    frequencies
        .iter()
        .map(|f| (*f, tone_report(samples, 8000, *f).longest_run_ms))
        .max_by_key(|(_, ms)| *ms)
        .unwrap()
}

#[test]
fn an_ivr_menu_refuses_a_bad_key_and_enters_its_sub_menu() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let (st, sub) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "sub", "greet_long": "tone_stream://%(1200,0,1000)", "timeout": 5000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{sub}");
    let sub = id_of(&sub);
    let (st, top) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "top", "greet_long": "tone_stream://%(800,0,440)", "invalid_sound": "tone_stream://%(1000,0,600)",
               "timeout": 5000, "digit_len": 1, "max_failures": 3, "max_timeouts": 3}),
    );
    assert_eq!(st, 200, "{top}");
    let top = id_of(&top);
    for (menu, digits, action, args) in
        [(top, "1", "IVR_SUB", sub.to_string()), (sub, "9", "IVR_EXIT", String::new())]
    {
        let (st, a) = c.pbx(
            "POST",
            &format!("/api/ivrs/{menu}/actions"),
            json!({"ivr_menu_id": menu, "digits": digits, "action": action, "args": args}),
        );
        assert_eq!(st, 200, "{a}");
    }
    route_to(&c, "6", "FS_DEST_IVR", top);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "6000", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    let tones = [440.0, 600.0, 1000.0];
    let (greeting, calliope_rtp) = hear(&rtp, Duration::from_secs(2));
    let calliope_rtp = calliope_rtp.expect("the menu answers with audio");
    assert_eq!(loudest_tone(&greeting, &tones).0, 440.0, "the top menu's greeting");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'7', &mut seq, &mut ts);
    let (invalid, _) = hear(&rtp, Duration::from_millis(1200));
    let (f, ms) = loudest_tone(&invalid, &tones);
    assert!(f == 600.0 && ms >= 600, "a bad key plays the invalid sound: {f} Hz for {ms} ms");
    // The greeting plays again after it; a key interrupts it.
    std::thread::sleep(Duration::from_millis(300));
    press(&rtp, calliope_rtp, b'1', &mut seq, &mut ts);
    let (entered, _) = hear(&rtp, Duration::from_millis(1500));
    let (f, ms) = loudest_tone(&entered, &tones);
    assert!(f == 1000.0 && ms >= 800, "1 enters the sub-menu: {f} Hz for {ms} ms");
    press(&rtp, calliope_rtp, b'9', &mut seq, &mut ts);

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the menu hangs up on 9 (IVR_EXIT)");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the caller's SIPp passes (BYE from the menu)");
}

#[test]
fn a_vonage_application_whose_answer_url_is_down_runs_the_fallback_ncco() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |path, body| match path {
        "/fallback" => json!([
            {"action": "talk", "text": "Enter one digit"},
            {"action": "input", "type": ["dtmf"], "dtmf": {"maxDigits": 1, "timeOut": 8}}
        ]),
        _ if body["dtmf"]["digits"] == json!("7") => {
            json!([{"action": "stream", "streamUrl": ["tone_stream://%(1500,0,1000)"]}])
        }
        _ => json!([]),
    });
    // The answer URL: a port nothing listens on.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "vonage", "type": "EXTERNAL", "endpoint": format!("http://{dead}/answer")}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    *hooks.app_ref.lock().unwrap() = app_ref.clone();
    // Its Vonage webhooks, written straight to the store.
    let capabilities = json!({"voice": {"webhooks": {
        "fallback_answer_url": {"address": hooks.at("/fallback"), "http_method": "POST"},
        "event_url": {"address": hooks.at("/event"), "http_method": "POST"}
    }}});
    let sql = format!(
        "PRAGMA busy_timeout = 5000; UPDATE applications SET capabilities = '{capabilities}' WHERE ref = '{app_ref}';"
    );
    let out = std::process::Command::new("sqlite3")
        .arg(c.dir.path().join("calliope.db"))
        .arg(sql)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Vonage line", "telUrl": "tel:+15550003333", "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550003333", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    let (_, calliope_rtp) = hear(&rtp, Duration::from_secs(4));
    let calliope_rtp =
        calliope_rtp.unwrap_or_else(|| panic!("no audio from the application: {:?}", hooks.hits()));
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'7', &mut seq, &mut ts);
    let (heard, _) = hear(&rtp, Duration::from_secs(5));
    let report = tone_report(&heard, 8000, 1000.0);
    assert!(report.longest_run_ms >= 1000, "the event_url's NCCO plays the tone: {report:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the NCCO ends and the call is hung up");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the caller's SIPp passes (BYE at the end of the NCCO)");
    let hits = hooks.hits();
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    let answers: Vec<&Hit> = hits.iter().filter(|h| h.path != "/event").collect();
    assert_eq!(answers.len(), 1, "only the fallback answer URL is asked: {hits:?}");
    assert_eq!(answers[0].path, "/fallback", "{hits:?}");
    assert_eq!(answers[0].body["to"], json!("+15550003333"), "{hits:?}");
    assert_eq!(answers[0].body["from"], json!("15551230000"), "{hits:?}");
    let input = hits.iter().find(|h| h.path == "/event" && h.body.get("dtmf").is_some());
    let input = input.unwrap_or_else(|| panic!("the input result goes to the event_url: {hits:?}"));
    assert_eq!(input.body["dtmf"]["digits"], json!("7"), "{hits:?}");
    assert_eq!(input.body["uuid"], answers[0].body["uuid"], "{hits:?}");
    // Status events to the event_url, in order; `completed` after the BYE.
    let statuses = |hits: &[Hit]| -> Vec<String> {
        hits.iter()
            .filter(|h| h.path == "/event")
            .filter_map(|h| h.body["status"].as_str().map(str::to_owned))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !statuses(&hooks.hits()).contains(&"completed".to_owned()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let hits = hooks.hits();
    assert_eq!(statuses(&hits), ["started", "ringing", "answered", "completed"], "{hits:?}");
    let completed = hits.iter().find(|h| h.body["status"] == json!("completed")).unwrap();
    assert_eq!(completed.body["direction"], json!("inbound"), "{completed:?}");
    assert!(completed.body["duration"].as_str().unwrap().parse::<u32>().unwrap() >= 2, "{completed:?}");
}

#[test]
fn an_application_that_cannot_be_reached_refuses_the_call_with_its_cause() {
    let c = Calliope::start(&[]);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "down", "type": "EXTERNAL", "endpoint": format!("http://{dead}/voice")}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Down line", "telUrl": "tel:+15550004444", "ingressHandler": {"type": "APPLICATION", "ref": app["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let media = free_port().to_string();
    let out = Sipp::on_port("trunk_app_503.xml", c.sip, carrier_port)
        .args(&["-s", "+15550004444", "-key", "caller", "15551230000", "-mp", &media])
        .run();
    support::calliope::assert_passed(&out, "the caller gets 503");
    let mut records = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
        records = crate::support::calls::legs_of(&body);
        if !records.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("webhook_failed"), "the call's record keeps the webhook's failure: {text}");
}

#[test]
fn a_caller_who_gives_up_while_the_webhook_is_slow_is_let_go_at_once() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, _| {
        // Slower than the caller's patience, within the client's timeout.
        std::thread::sleep(Duration::from_secs(4));
        json!({"commands": [{"say": {"text": "Too late"}}]})
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "slow", "type": "EXTERNAL", "endpoint": hooks.url()}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Slow line", "telUrl": "tel:+15550005555", "ingressHandler": {"type": "APPLICATION", "ref": app["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let media = free_port().to_string();
    let started = Instant::now();
    let out = Sipp::on_port("trunk_app_cancel.xml", c.sip, carrier_port)
        .args(&["-s", "+15550005555", "-key", "caller", "15551230000", "-mp", &media])
        .run();
    support::calliope::assert_passed(&out, "CANCEL is answered, and the INVITE gets 487 at once");
    assert!(started.elapsed() < Duration::from_secs(3), "not held until the webhook answers");
    let mut records = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
        records = crate::support::calls::legs_of(&body);
        if !records.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("ORIGINATOR_CANCEL"), "the record says the caller gave up: {text}");
}

#[test]
fn an_info_digit_reaches_the_application_and_a_bye_stops_its_program() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, body| match body["digits"].as_str() {
        None => json!({"commands": [{"gather": {"source": "dtmf", "maxDigits": 1, "timeout": 6000}}]}),
        Some(_) => json!({"commands": [
            {"play": {"url": "tone_stream://%(20000,0,1000)"}},
            {"gather": {"source": "dtmf", "maxDigits": 1, "timeout": 6000}}
        ]}),
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "info", "type": "EXTERNAL", "endpoint": hooks.url()}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Info line", "telUrl": "tel:+15550006666", "ingressHandler": {"type": "APPLICATION", "ref": app["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let media = free_port().to_string();
    let out = Sipp::on_port("trunk_app_info.xml", c.sip, carrier_port)
        .args(&["-s", "+15550006666", "-key", "caller", "15551230000", "-mp", &media])
        .run();
    support::calliope::assert_passed(&out, "the INFO and the BYE (during the 20 s tone) are answered");
    let legs = support::calls::legs_when(&c, |l| l.is_empty());
    assert!(legs.is_empty(), "the call is gone: {legs:?}");
    let hits = hooks.hits();
    assert_eq!(hits.len(), 2, "the session, then the INFO digit, and nothing after the BYE: {hits:?}");
    assert_eq!(hits[1].body["digits"], json!("5"), "{hits:?}");
    let mut records = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
        records = crate::support::calls::legs_of(&body);
        if !records.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("NORMAL_CLEARING"), "the caller's BYE ends it normally: {text}");
    std::thread::sleep(Duration::from_millis(300));
    let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
    let all = crate::support::calls::legs_of(&body);
    assert_eq!(all.len(), 1, "one record: the program is no callee leg: {all:?}");
}

#[test]
fn a_block_plays_its_flow_then_runs_its_ivr_menu() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let (st, menu) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "after the block", "greet_long": "tone_stream://%(1500,0,600)", "timeout": 5000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{menu}");
    let menu = id_of(&menu);
    let (st, a) = c.pbx(
        "POST",
        &format!("/api/ivrs/{menu}/actions"),
        json!({"ivr_menu_id": menu, "digits": "0", "action": "IVR_EXIT", "args": ""}),
    );
    assert_eq!(st, 200, "{a}");
    let xml = format!(
        r#"<xml><block type="play"><field name="SOUND">tone_stream://%(1200,0,1000)</field><next><block type="ivr"><field name="ID">{menu}</field></block></next></block></xml>"#
    );
    let (st, block) = c.pbx("POST", "/api/blocks", json!({"name": "flow", "xml": xml}));
    assert_eq!(st, 200, "{block}");
    route_to(&c, "7", "FS_DEST_IVRBLOCK", id_of(&block));

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "7000", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    let (heard, calliope_rtp) = hear(&rtp, Duration::from_millis(3500));
    let calliope_rtp = calliope_rtp.expect("the block answers with audio");
    let (play, greeting) = (tone_report(&heard, 8000, 1000.0), tone_report(&heard, 8000, 600.0));
    assert!(play.longest_run_ms >= 800, "the block's play: {play:?}");
    assert!(greeting.longest_run_ms >= 800, "then the menu's greeting: {greeting:?}");
    let first = |f: f32| heard.chunks(160).position(|b| tone_report(b, 8000, f).tone_ms > 0).unwrap();
    assert!(first(1000.0) < first(600.0), "the block's play comes before the menu");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_rtp, b'0', &mut seq, &mut ts);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the menu hangs up on 0 (IVR_EXIT)");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the caller's SIPp passes (BYE from the menu)");
}

#[test]
fn a_late_offer_call_gets_our_offer_and_hears_the_application() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(
        c.dir.path().to_path_buf(),
        |_, _| json!({"commands": [{"play": {"url": "tone_stream://%(1500,0,1000)"}}, {"hangup": {}}]}),
    );
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "late", "type": "EXTERNAL", "endpoint": hooks.url()}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Late line", "telUrl": "tel:+15550007777", "ingressHandler": {"type": "APPLICATION", "ref": app["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_late.xml", c.sip, carrier_port)
        .args(&["-s", "+15550007777", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    let (heard, _) = hear(&rtp, Duration::from_secs(3));
    let report = tone_report(&heard, 8000, 1000.0);
    assert!(report.longest_run_ms >= 1000, "the tone reaches the address the ACK's answer gave: {report:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the application hangs up");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the caller's SIPp passes (BYE from the application)");
}

/// Sends `ms` of a PCMU sine at `frequency` from `socket` to `to`, in 20 ms
/// packets, paced in real time.
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

#[test]
fn a_recording_is_kept_in_the_workspaces_folder_and_its_url_sent() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, body| match body["recordingUrl"].as_str() {
        None => json!({"commands": [
            {"play": {"url": "tone_stream://%(200,0,1000)"}},
            {"record": {"maxDuration": 2000, "beep": false}}
        ]}),
        Some(_) => json!({"commands": [{"hangup": {}}]}),
    });
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "recorder", "type": "EXTERNAL", "endpoint": hooks.url()}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let (st, number) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "Voicemail", "telUrl": "tel:+15550008888", "ingressHandler": {"type": "APPLICATION", "ref": app["ref"]}}),
    );
    assert!(st == 200 || st == 201, "{number}");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let mut call = Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", "+15550008888", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    // The prompt's audio shows where Calliope listens; then the caller
    // speaks (a 440 Hz tone) for longer than the recording's 2 s.
    let (_, calliope_rtp) = hear(&rtp, Duration::from_millis(600));
    let calliope_rtp =
        calliope_rtp.unwrap_or_else(|| panic!("no prompt from the application: {:?}", hooks.hits()));
    let (mut seq, mut ts) = (1u16, 8000u32);
    speak(&rtp, calliope_rtp, 440.0, 3000, &mut seq, &mut ts);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = call.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the application hangs up after the recording");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the caller's SIPp passes (BYE from the application)");
    let hits = hooks.hits();
    assert_eq!(hits.len(), 2, "the session, then the recording: {hits:?}");
    let url = hits[1].body["recordingUrl"].as_str().unwrap();
    let file = url.rsplit('/').next().unwrap();
    let session = hits[0].body["sessionRef"].as_str().unwrap();
    assert!(file.starts_with(session) && file.ends_with(".wav"), "{url}");
    let dir = c.dir.path().join("recordings");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|d| d.unwrap().path().join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{file} is in a workspace folder under {}", dir.display()));
    let wav = media::wav::read(&std::fs::read(&path).unwrap()).unwrap();
    let report = tone_report(&wav.samples, wav.sample_rate, 440.0);
    assert!(report.duration_ms >= 1800 && report.duration_ms <= 2600, "about 2 s: {report:?}");
    assert!(report.tone_ms >= 1200, "the caller's voice is in it: {report:?}");
}
