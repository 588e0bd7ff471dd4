//! A hand-driven SIP user agent for tests that SIPp cannot express: a
//! chosen source address (127.0.0.x), timing of each answer, digest
//! answers with a chosen password and nonce-count, and streams sent a byte
//! at a time.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use sip::digest::{Algorithm, Answer, Credentials};
use sip::{parse_message, Frame, Message, Method, Response};

/// A REGISTER for `user` to `target` from `local`, over `transport`
/// ("UDP" or "TCP"), with an Authorization value when given.
pub fn register_text(
    target: SocketAddr,
    local: SocketAddr,
    transport: &str,
    user: &str,
    cseq: u32,
    authorization: Option<&str>,
) -> String {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "REGISTER sip:{target} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bK-ua-{cseq}-{nanos}\r\n\
         From: <sip:{user}@{target}>;tag=ua{cseq}\r\n\
         To: <sip:{user}@{target}>\r\n\
         Call-ID: ua-{user}-{local}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}@{local}>\r\n\
         Expires: 600\r\n\
         {auth}Content-Length: 0\r\n\r\n",
        nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos(),
    )
}

/// The Authorization value answering `challenge_of` (MD5) for `user` with
/// `password` and nonce-count `nc`, hashing `sip:<target>`.
pub fn answer(challenge_of: &Response, target: SocketAddr, user: &str, password: &str, nc: u32) -> String {
    let challenge = challenge_of
        .head
        .www_authenticate()
        .into_iter()
        .filter_map(Result::ok)
        .find(|c| c.algorithm == Algorithm::Md5)
        .expect("an MD5 challenge");
    let uri = format!("sip:{target}");
    let a = Answer { username: user, password, method: &Method::Register, uri: &uri, cnonce: "0a4f113b", nc };
    Credentials::answer(&challenge, &a).to_string()
}

fn response(bytes: &[u8]) -> Response {
    match parse_message(bytes).unwrap() {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {}", r.method),
    }
}

/// A UDP user agent on 127.0.0.x.
pub struct UdpUa {
    pub socket: UdpSocket,
    pub target: SocketAddr,
    pub user: String,
}

impl UdpUa {
    /// A user agent for `user` bound to `ip` (any 127.0.0.x works on Linux).
    pub fn new(ip: IpAddr, target: SocketAddr, user: &str) -> UdpUa {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        UdpUa { socket, target, user: user.into() }
    }

    /// Sends a REGISTER and waits up to `wait` for its final response
    /// (provisional ones are skipped); `None` when nothing came.
    pub fn register(&self, cseq: u32, authorization: Option<&str>, wait: Duration) -> Option<Response> {
        let local = self.socket.local_addr().unwrap();
        let text = register_text(self.target, local, "UDP", &self.user, cseq, authorization);
        self.socket.send_to(text.as_bytes(), self.target).unwrap();
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).unwrap();
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else { return None };
            let r = response(&buf[..n]);
            if r.head.cseq.seq == cseq && r.status.code() >= 200 {
                return Some(r);
            }
        }
    }

    /// Registers with the right password: challenge, then credentials.
    pub fn register_fully(&self, password: &str, cseq: u32) -> Response {
        let wait = Duration::from_secs(5);
        let challenge = self.register(cseq, None, wait).expect("a challenge");
        assert_eq!(challenge.status.code(), 401, "{challenge:?}");
        let auth = answer(&challenge, self.target, &self.user, password, 1);
        self.register(cseq + 1, Some(&auth), wait).expect("an answer to the credentials")
    }
}

/// Reads one whole response from a TCP stream (waiting up to its read
/// timeout); `None` when the stream closed or timed out first.
pub fn read_tcp_response(stream: &mut TcpStream) -> Option<Response> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Frame::Message(n)) = sip::frame(&buf, &sip::Limits::default()) {
            return Some(response(&buf[..n]));
        }
        if let Ok(Frame::KeepAlive(n)) = sip::frame(&buf, &sip::Limits::default()) {
            buf.drain(..n);
            continue;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes `bytes` one at a time, each in its own segment, pausing `pause`
/// between them.
pub fn trickle(stream: &mut TcpStream, bytes: &[u8], pause: Duration) {
    stream.set_nodelay(true).unwrap();
    for b in bytes {
        stream.write_all(std::slice::from_ref(b)).unwrap();
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// Whether the peer closed `stream` within `wait` (reads until EOF or an
/// error; data read meanwhile is ignored).
pub fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}
