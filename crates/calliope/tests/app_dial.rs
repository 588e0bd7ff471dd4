//! Programs that dial, end to end: SIPp plays a carrier trunk calling a
//! DID (or a route to an IVR menu), the test's own UDP sockets are the
//! caller's and the agent's media, SIPp UASes registered as agents answer,
//! are busy or ring, and a webhook server run by the test checks every
//! request's signature and answers with NCCO or TwiML.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::webhooks::{verify, SecretKeeper, HEADER};
use serde_json::{json, Map, Value};
use support::baresip::tone_report;
use support::calliope::{assert_passed, free_port, Calliope, Sipp};

/// One request the webhook server took: its path, its body (JSON, or a
/// form read into an object), and whether its signature verified.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    body: Value,
    signed: bool,
}

/// What the server answers: a content type and a body.
type Answer = (&'static str, String);

/// A webhook server on 127.0.0.1 checking each request's signature with
/// the application's secret and answering `answer(path, body)`.
struct Webhooks {
    addr: SocketAddr,
    app_ref: Arc<Mutex<String>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Webhooks {
    fn start(data_dir: PathBuf, answer: impl Fn(&str, &Value) -> Answer + Send + 'static) -> Webhooks {
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

    fn at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// The hits, once `check` holds for them (or the last seen, after 20 s).
    fn hits_when(&self, check: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let hits = self.hits();
            if check(&hits) || Instant::now() > deadline {
                return hits;
            }
            std::thread::sleep(Duration::from_millis(100));
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

/// `%XX` and `+` decoded.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A form body as a JSON object of strings.
fn form(body: &[u8]) -> Value {
    let mut fields = Map::new();
    for pair in String::from_utf8_lossy(body).split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(unescape(k), Value::String(unescape(v)));
    }
    Value::Object(fields)
}

fn serve(
    mut stream: TcpStream,
    data_dir: &Path,
    app_ref: &Mutex<String>,
    hits: &Mutex<Vec<Hit>>,
    answer: &impl Fn(&str, &Value) -> Answer,
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
    let is_form =
        header(&head, "content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let parsed = if is_form { form(&body) } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    let path = head.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_owned();
    let app = parsed["appRef"].as_str().map_or_else(|| app_ref.lock().unwrap().clone(), str::to_owned);
    let secret = SecretKeeper::open(None, data_dir).unwrap().for_application(&app);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = header(&head, HEADER).is_some_and(|s| verify(&secret, &s, &body, now, 300).is_ok());
    hits.lock().unwrap().push(Hit { path: path.clone(), body: parsed.clone(), signed });
    let (status, content_type, reply) = if signed {
        let (t, r) = answer(&path, &parsed);
        ("200 OK", t, r)
    } else {
        ("401 Unauthorized", "text/plain", String::new())
    };
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(text.as_bytes());
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn json_answer(v: Value) -> Answer {
    ("application/json", v.to_string())
}

fn xml_answer(text: &str) -> Answer {
    ("application/xml", text.to_owned())
}

/// An RFC 4733 telephone-event for `digit`, 60 ms of key press.
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

/// The linear audio of the PCMU packets `socket` receives within
/// `window`, and where the last came from.
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

/// Sends `ms` of a PCMU sine at `frequency` in 20 ms packets, in real time.
fn speak(socket: &UdpSocket, to: SocketAddr, frequency: f32, ms: u32, ssrc: u32) {
    let (mut seq, mut ts) = (100u16, 16_000u32);
    for n in 0..ms / 20 {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        for i in 0..160u32 {
            let t = (n * 160 + i) as f32 / 8000.0;
            let s = (f32::sin(2.0 * std::f32::consts::PI * frequency * t) * 12000.0) as i16;
            p.push(media::g711::Law::Ulaw.encode(s));
        }
        socket.send_to(&p, to).unwrap();
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
        std::thread::sleep(Duration::from_millis(20));
    }
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
}

/// An application whose endpoint is `url`, answering calls to `number`.
fn application(c: &Calliope, url: &str, number: &str) -> String {
    let (st, app) = c.call(
        "POST",
        "/v1beta2/applications",
        json!({"name": "dialler", "type": "EXTERNAL", "endpoint": url}),
    );
    assert!(st == 200 || st == 201, "{app}");
    let app_ref = app["ref"].as_str().unwrap().to_owned();
    let (st, n) = c.call(
        "POST",
        "/v1beta2/numbers",
        json!({"name": "line", "telUrl": format!("tel:{number}"), "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
    );
    assert!(st == 200 || st == 201, "{n}");
    app_ref
}

/// Agent `ext` (made here) registered at a SIPp UAS running `scenario`,
/// its media at `rtp_port`.
fn agent_at(c: &Calliope, ext: &str, scenario: &str, rtp_port: u16) -> Child {
    let password = format!("{ext}-pw");
    c.agent(ext, &password);
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = rtp_port.to_string();
    let child = uas
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", ext])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", ext, "-au", ext, "-ap", &password])
        .contact_port(port)
        .run();
    assert_passed(&reg, "the agent registers");
    child
}

/// The call records, once there are `n` (or what there is after 10 s).
fn records(c: &Calliope, n: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let (_, body) = c.call("GET", "/v1beta2/calls?pageSize=1000", Value::Null);
        items = crate::support::calls::legs_of(&body);
        if items.len() >= n {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    items
}

/// The record whose `to` is `to`.
fn record_to<'r>(records: &'r [Value], to: &str) -> &'r Value {
    records.iter().find(|r| r["to"] == json!(to)).unwrap_or_else(|| panic!("a record to {to}: {records:?}"))
}

/// Waits for a SIPp in the background to end, and checks it passed.
fn passed(mut child: Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert_passed(&out, what);
}

/// The caller (a SIPp trunk) calling `number`, its media at `rtp`.
fn trunk_call(c: &Calliope, carrier_port: u16, number: &str, rtp: &UdpSocket) -> Child {
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    Sipp::on_port("trunk_app_call.xml", c.sip, carrier_port)
        .args(&["-s", number, "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn()
}

/// While the caller says 440 Hz into the call, the agent hears it; then
/// the agent says 1 kHz and the caller hears that. Returns what each
/// heard of the other's tone (longest run, ms).
fn talk_both_ways(caller: &UdpSocket, calliope_a: SocketAddr, agent: &UdpSocket) -> (u32, u32) {
    let speaker = caller.try_clone().unwrap();
    let talking = std::thread::spawn(move || speak(&speaker, calliope_a, 440.0, 2500, 0x1111_1111));
    let (at_agent, calliope_b) = hear(agent, Duration::from_millis(2600));
    talking.join().unwrap();
    let to_agent = tone_report(&at_agent, 8000, 440.0).longest_run_ms;
    let Some(calliope_b) = calliope_b else { return (to_agent, 0) };
    // Drain what the caller heard so far (ringback), then the agent talks.
    let _ = hear(caller, Duration::from_millis(200));
    let speaker = agent.try_clone().unwrap();
    let talking = std::thread::spawn(move || speak(&speaker, calliope_b, 1000.0, 1500, 0x2222_2222));
    let (at_caller, _) = hear(caller, Duration::from_millis(1600));
    talking.join().unwrap();
    (to_agent, tone_report(&at_caller, 8000, 1000.0).longest_run_ms)
}

#[test]
fn an_ncco_talks_takes_a_digit_and_connects_the_caller_to_an_agent() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |path, body| match path {
        "/voice" => json_answer(json!([
            {"action": "talk", "text": "Press one for sales"},
            {"action": "input", "type": ["dtmf"], "dtmf": {"maxDigits": 1, "timeOut": 8}, "eventUrl": ["/input"]}
        ])),
        "/input" if body["dtmf"]["digits"] == json!("1") => json_answer(json!([
            {"action": "connect", "timeout": 10, "from": "15550001111", "eventUrl": ["/connected"],
             "endpoint": [{"type": "app", "user": "2002"}]},
            {"action": "stream", "streamUrl": ["tone_stream://%(1500,0,600)"]}
        ])),
        _ => json_answer(json!([])),
    });
    let app_ref = application(&c, &hooks.at("/voice"), "+15550001000");
    *hooks.app_ref.lock().unwrap() = app_ref;
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let agent_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent = agent_at(&c, "2002", "uas_talk_hangup.xml", agent_rtp.local_addr().unwrap().port());

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = trunk_call(&c, carrier_port, "+15550001000", &rtp);
    let (_, calliope_a) = hear(&rtp, Duration::from_secs(3));
    let calliope_a = calliope_a.unwrap_or_else(|| panic!("no talk from the NCCO: {:?}", hooks.hits()));
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_a, b'1', &mut seq, &mut ts);

    let (to_agent, to_caller) = talk_both_ways(&rtp, calliope_a, &agent_rtp);
    assert!(to_agent >= 1500, "the caller's voice reaches the agent ({to_agent} ms): {:?}", hooks.hits());
    assert!(to_caller >= 1000, "the agent's voice reaches the caller ({to_caller} ms)");
    // The agent hangs up: the NCCO goes on with its next action.
    let (after, _) = hear(&rtp, Duration::from_secs(6));
    let report = tone_report(&after, 8000, 600.0);
    assert!(report.longest_run_ms >= 1000, "after the agent hangs up the NCCO plays on: {report:?}");
    passed(agent, "the agent answers, talks and hangs up");
    passed(call, "the caller's SIPp passes (BYE at the end of the NCCO)");

    let hits = hooks.hits_when(|h| h.iter().any(|h| h.path == "/connected"));
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    let input = hits.iter().find(|h| h.path == "/input").unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(input.body["dtmf"]["digits"], json!("1"), "{hits:?}");
    let connected = hits.iter().find(|h| h.path == "/connected").unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(connected.body["status"], json!("completed"), "{connected:?}");
    let secs: u64 = connected.body["duration"].as_str().unwrap().parse().unwrap();
    assert!((4..=12).contains(&secs), "the bridged call lasted the agent's six seconds: {connected:?}");
    let records = records(&c, 2);
    assert_eq!(records.len(), 2, "the caller's record and the agent's: {records:?}");
    let agent = record_to(&records, "2002");
    assert_eq!(
        (&agent["status"], &agent["from"]),
        (&json!("NORMAL_CLEARING"), &json!("15550001111")),
        "{agent}"
    );
    assert_eq!((&agent["leg"], &agent["toDialled"]), (&json!("B"), &json!("2002")), "{agent}");
    let caller = records.iter().find(|r| r["leg"] == "A").unwrap_or_else(|| panic!("{records:?}"));
    assert_eq!(agent["callRef"], caller["ref"], "one call: {records:?}");
    assert!(
        caller["appRef"].is_string() && agent["appRef"] == caller["appRef"],
        "the application: {records:?}"
    );
}

#[test]
fn a_twiml_dial_posts_busy_then_no_answer_to_its_action() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |path, _| match path {
        "/voice" => xml_answer(
            r#"<Response><Dial timeout="5" callerId="15550002222" action="/first"><Number>2003</Number></Dial></Response>"#,
        ),
        "/first" => xml_answer(
            r#"<Response><Dial timeout="3" action="/second"><Number>2004</Number></Dial></Response>"#,
        ),
        _ => xml_answer("<Response><Hangup/></Response>"),
    });
    let app_ref = application(&c, &hooks.at("/voice"), "+15550002000");
    *hooks.app_ref.lock().unwrap() = app_ref;
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let busy = agent_at(&c, "2003", "uas_busy.xml", free_port());
    let ringing = agent_at(&c, "2004", "uas_ring.xml", free_port());

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let call = trunk_call(&c, carrier_port, "+15550002000", &rtp);
    passed(busy, "the first agent is busy (486, ACK)");
    passed(ringing, "the second agent rings until the dial's timeout CANCELs it");
    passed(call, "the caller's SIPp passes (BYE from <Hangup/>)");
    assert!(started.elapsed() >= Duration::from_secs(3), "the second dial rang its 3 s");

    let hits = hooks.hits_when(|h| h.iter().any(|h| h.path == "/second"));
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    let first = hits.iter().find(|h| h.path == "/first").unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(first.body["DialCallStatus"], json!("busy"), "{first:?}");
    assert_eq!(first.body["DialCallDuration"], json!("0"), "{first:?}");
    assert!(first.body["CallSid"].as_str().is_some_and(|s| !s.is_empty()), "{first:?}");
    let second = hits.iter().find(|h| h.path == "/second").unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(second.body["DialCallStatus"], json!("no-answer"), "{second:?}");
    // The caller's record, and one per dialled leg.
    let records = records(&c, 3);
    assert_eq!(records.len(), 3, "{records:?}");
    let busy = record_to(&records, "2003");
    assert_eq!((&busy["status"], &busy["from"]), (&json!("USER_BUSY"), &json!("15550002222")), "{busy}");
    assert_eq!(record_to(&records, "2004")["status"], json!("NO_ANSWER"), "{records:?}");
}

#[test]
fn an_ivr_extension_action_reaches_the_agent() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let (st, menu) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "front desk", "greet_long": "tone_stream://%(3000,0,600)", "timeout": 8000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{menu}");
    let menu = id_of(&menu);
    let (st, a) = c.pbx(
        "POST",
        &format!("/api/ivrs/{menu}/actions"),
        json!({"ivr_menu_id": menu, "digits": "1", "action": "IVR_EXTENSION", "args": "2002"}),
    );
    assert_eq!(st, 200, "{a}");
    let body = json!({"name": "menu", "context": "context-2", "max_length": "20", "prefix": "6", "dest_type": "FS_DEST_IVR", "dest_uuid": menu.to_string()});
    let (st, r) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{r}");
    let agent_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent = agent_at(&c, "2002", "uas_talk_hangup.xml", agent_rtp.local_addr().unwrap().port());

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = trunk_call(&c, carrier_port, "6000", &rtp);
    let (greeting, calliope_a) = hear(&rtp, Duration::from_millis(1000));
    let calliope_a = calliope_a.expect("the menu answers with its greeting");
    assert!(tone_report(&greeting, 8000, 600.0).longest_run_ms >= 500, "the menu's greeting");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_a, b'1', &mut seq, &mut ts);

    let (to_agent, to_caller) = talk_both_ways(&rtp, calliope_a, &agent_rtp);
    assert!(to_agent >= 1500, "the caller's voice reaches extension 2002 ({to_agent} ms)");
    assert!(to_caller >= 1000, "the agent's voice reaches the caller ({to_caller} ms)");
    passed(agent, "the agent answers, talks and hangs up");
    passed(call, "the caller is hung up when the agent hangs up");
}

#[test]
fn a_fonoster_dial_records_the_bridged_call_and_reports_it() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, body| match body["dialStatus"].as_str() {
        None => json_answer(json!({"commands": [
            {"play": {"url": "tone_stream://%(400,0,800)"}},
            {"dial": {"destination": "2002", "record": true, "timeout": 10000}}
        ]})),
        Some(_) => json_answer(json!({"commands": [{"hangup": {}}]})),
    });
    application(&c, &hooks.at("/voice"), "+15550003000");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let agent_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent = agent_at(&c, "2002", "uas_talk_hangup.xml", agent_rtp.local_addr().unwrap().port());

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = trunk_call(&c, carrier_port, "+15550003000", &rtp);
    // The first sound shows where Calliope listens.
    let (_, calliope_a) = hear(&rtp, Duration::from_millis(600));
    let calliope_a = calliope_a.unwrap_or_else(|| panic!("no audio: {:?}", hooks.hits()));
    let (to_agent, to_caller) = talk_both_ways(&rtp, calliope_a, &agent_rtp);
    assert!(to_agent >= 1500 && to_caller >= 1000, "both ways: {to_agent} ms, {to_caller} ms");
    passed(agent, "the agent answers, talks and hangs up");
    passed(call, "the caller's SIPp passes (the next script hangs up)");

    let hits = hooks.hits_when(|h| h.len() >= 2);
    assert!(hits.iter().all(|h| h.signed), "every request is signed: {hits:?}");
    assert_eq!(hits.len(), 2, "the session, then the dial's result: {hits:?}");
    let result = &hits[1].body;
    assert_eq!(result["dialStatus"], json!("COMPLETED"), "{result}");
    let url = result["recordingUrl"].as_str().unwrap_or_else(|| panic!("a recording URL: {result}"));
    let file = url.rsplit('/').next().unwrap();
    let dir = c.dir.path().join("recordings");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|d| d.unwrap().path().join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{file} is in a workspace folder under {}", dir.display()));
    let wav = media::wav::read_channels(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(wav.channels.len(), 2, "stereo: the caller, the agent");
    let caller = tone_report(&wav.channels[0], wav.sample_rate, 440.0);
    let callee = tone_report(&wav.channels[1], wav.sample_rate, 1000.0);
    assert!(caller.tone_ms >= 2000, "the caller's voice is on the left: {caller:?}");
    assert!(callee.tone_ms >= 1200, "the agent's voice is on the right: {callee:?}");
}

#[test]
fn a_caller_who_hangs_up_while_the_agent_rings_cancels_it() {
    let c = Calliope::start(&[]);
    let hooks = Webhooks::start(c.dir.path().to_path_buf(), |_, _| {
        json_answer(json!({"commands": [{"dial": {"destination": "2005", "timeout": 20000}}]}))
    });
    application(&c, &hooks.at("/voice"), "+15550004000");
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    let ringing = agent_at(&c, "2005", "uas_ring.xml", free_port());
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let call = Sipp::on_port("trunk_app_bye.xml", c.sip, carrier_port)
        .args(&["-s", "+15550004000", "-key", "caller", "15551230000", "-key", "rtp_port", &rtp_port])
        .spawn();
    let (ringback, _) = hear(&rtp, Duration::from_millis(1500));
    // Ringback (440 + 480 Hz, 2 s on): sound, not silence.
    let loud = ringback.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(loud > 4000, "the caller hears ringback while the agent rings ({loud} loud samples)");
    passed(call, "the caller hangs up (BYE answered)");
    passed(ringing, "the ringing agent is CANCELled");
    let legs = support::calls::legs_when(&c, |l| l.is_empty());
    assert!(legs.is_empty(), "the call and its dialled leg are gone: {legs:?}");
    std::thread::sleep(Duration::from_millis(500));
    let hits = hooks.hits();
    assert_eq!(hits.len(), 1, "the program stopped: no dial result is sent: {hits:?}");
}

#[test]
fn an_ivr_route_action_leaves_through_the_routes_trunk() {
    let c = Calliope::start(&[]);
    let carrier_port = free_port();
    trunk(&c, carrier_port);
    // The way out: a second trunk (a SIPp UAS that answers, talks and hangs
    // up), taken by a `context-1` route for numbers starting with 9.
    let out_port = free_port();
    let (st, out_trunk) = c.pbx(
        "POST",
        "/api/trunks",
        json!({"name": "out", "remote_addr": format!("127.0.0.1:{out_port}"), "protocol": "UDP", "enabled": true}),
    );
    assert_eq!(st, 200, "{out_trunk}");
    // The route sends the number on without its 9.
    let body = json!({"name": "out 9", "context": "context-1", "max_length": "20", "prefix": "9", "dnc": "1:",
                      "dest_type": "FS_DEST_CLUSTER_TRUNK", "dest_uuid": id_of(&out_trunk).to_string()});
    let (st, r) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{r}");
    let (st, menu) = c.pbx(
        "POST",
        "/api/ivrs",
        json!({"name": "outside", "greet_long": "tone_stream://%(3000,0,600)", "timeout": 8000, "digit_len": 1}),
    );
    assert_eq!(st, 200, "{menu}");
    let menu = id_of(&menu);
    let (st, a) = c.pbx(
        "POST",
        &format!("/api/ivrs/{menu}/actions"),
        json!({"ivr_menu_id": menu, "digits": "2", "action": "IVR_ROUTE", "args": "95551234"}),
    );
    assert_eq!(st, 200, "{a}");
    let body = json!({"name": "menu", "context": "context-2", "max_length": "20", "prefix": "6", "dest_type": "FS_DEST_IVR", "dest_uuid": menu.to_string()});
    let (st, r) = c.pbx("POST", "/api/routes", body);
    assert_eq!(st, 200, "{r}");
    let far_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let far_port = far_rtp.local_addr().unwrap().port().to_string();
    let far = Sipp::on_port("uas_talk_hangup.xml", c.sip, out_port)
        .args(&["-key", "rtp_port", &far_port, "-key", "codec", "0", "-key", "codec_name", "PCMU"])
        .spawn();

    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call = trunk_call(&c, carrier_port, "6000", &rtp);
    let (_, calliope_a) = hear(&rtp, Duration::from_millis(800));
    let calliope_a = calliope_a.expect("the menu answers with its greeting");
    let (mut seq, mut ts) = (1u16, 8000u32);
    press(&rtp, calliope_a, b'2', &mut seq, &mut ts);
    let (to_far, to_caller) = talk_both_ways(&rtp, calliope_a, &far_rtp);
    assert!(to_far >= 1500, "the caller's voice leaves through the trunk ({to_far} ms)");
    assert!(to_caller >= 1000, "the far end's voice comes back ({to_caller} ms)");
    passed(far, "the far end answers the routed number, talks and hangs up");
    passed(call, "the caller is hung up when the far end hangs up");
    let records = records(&c, 2);
    let leg = record_to(&records, "5551234");
    assert_eq!((&leg["direction"], &leg["status"]), (&json!("TO_PSTN"), &json!("NORMAL_CLEARING")), "{leg}");
    assert_eq!(
        (&leg["leg"], &leg["toDialled"]),
        (&json!("B"), &json!("95551234")),
        "as the menu dialled it: {leg}"
    );
    let caller = records.iter().find(|r| r["leg"] == "A").unwrap_or_else(|| panic!("{records:?}"));
    assert_eq!(leg["callRef"], caller["ref"], "one call: {records:?}");
}
