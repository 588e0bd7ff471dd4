//! A caller and a callee agent with SIPp at both ends, for call tests.

use std::net::UdpSocket;
use std::process::Child;
use std::time::{Duration, Instant};

use super::calliope::{assert_passed, free_port, Calliope, Sipp};

/// The caller's extension.
pub const CALLER: &str = "2001";
/// The callee's extension.
pub const CALLEE: &str = "2002";

/// Registers the callee at a SIPp UAS running `scenario` on a free port,
/// answering with its media at `rtp_port`.
pub fn callee(c: &Calliope, scenario: &str, rtp_port: u16) -> Child {
    callee_with(c, scenario, rtp_port, &[])
}

/// [`callee`] with more SIPp arguments (`-key pcap ...`, `-m 20`).
pub fn callee_with(c: &Calliope, scenario: &str, rtp_port: u16, extra: &[&str]) -> Child {
    let uas = Sipp::new(scenario, c.sip);
    let port = uas.port;
    let rtp = rtp_port.to_string();
    // SIPp keeps the first value of a key: `extra` goes first to win.
    let child = uas
        .args(extra)
        .args(&["-key", "rtp_port", &rtp, "-key", "codec", "0", "-key", "codec_name", "PCMU", "-s", CALLEE])
        .spawn();
    let reg = Sipp::new("register.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLEE, "-ap", "callee-pw"])
        .contact_port(port)
        .run();
    assert_passed(&reg, "callee registers");
    child
}

/// Runs the caller's `scenario` to the end.
pub fn caller(c: &Calliope, scenario: &str, keys: &[&str]) -> std::process::Output {
    let media = free_port().to_string();
    let mut args =
        vec!["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media];
    args.extend_from_slice(keys);
    Sipp::new(scenario, c.sip).args(&args).run()
}

/// Calliope (with `extra` flags) and the two agents.
pub fn calliope(extra: &[&str]) -> Calliope {
    let c = Calliope::start(extra);
    c.agent(CALLER, "caller-pw");
    c.agent(CALLEE, "callee-pw");
    c
}

/// Waits for a SIPp started with `spawn` and checks it passed.
pub fn wait(mut child: Child, what: &str) {
    let out = {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                break child.wait_with_output().unwrap();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break child.wait_with_output().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_passed(&out, what);
}

/// Every leg of a `/v1beta2/calls` list: each finished call's `legs`
/// (its caller's first), a live call as it is.
pub fn legs_of(list: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for item in list["items"].as_array().into_iter().flatten() {
        match item["legs"].as_array() {
            Some(legs) => out.extend(legs.iter().cloned()),
            None => out.push(item.clone()),
        }
    }
    out
}

/// The call records (one per leg), once both legs' are written.
pub fn records(c: &Calliope) -> Vec<serde_json::Value> {
    for _ in 0..50 {
        let (_, body) = c.call("GET", "/v1beta2/calls", serde_json::Value::Null);
        let items = legs_of(&body);
        if items.len() >= 2 {
            return items;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Vec::new()
}

/// SIPp's A-law RTP capture, for scenarios that play audio.
pub const PCAP_A: &str = "/usr/share/sip-tester/g711a.pcap";

/// RTP packets that reach `socket` within `window`.
pub fn rtp_packets(socket: &UdpSocket, window: Duration) -> usize {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < deadline {
        if let Ok(len) = socket.recv(&mut buf) {
            if len > 12 && buf[0] >> 6 == 2 {
                n += 1;
            }
        }
    }
    n
}

/// The live legs of `GET /api/channels`, once `check` holds for them (or
/// the last seen, after 10 s).
pub fn legs_when(c: &Calliope, check: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let mut legs = Vec::new();
    for _ in 0..200 {
        legs = c.pbx_get("/api/channels").1.as_array().cloned().unwrap_or_default();
        if check(&legs) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    legs
}
