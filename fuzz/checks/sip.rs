//! The properties the `sip` fuzz targets check, shared with the regression
//! tests in `crates/sip/tests/fuzz_regressions.rs` (included there with
//! `#[path]`), so a kept crash replays exactly what the fuzzer ran.
//!
//! Each function takes arbitrary bytes; it returns quietly when they do not
//! parse and panics when a property fails.

use sip::digest::{Challenge, Credentials};
use sip::{frame, parse_message, sdp, Frame, Framer, Limits};

/// `sip::parse_message` on a datagram: whatever parses writes out, parses
/// back (under the same default limits) to an equal message, writes out the
/// same bytes again, and is one whole stream frame; the lazily parsed
/// headers never panic. The parser holds a message to its limits as it
/// would be written, so a message near a limit cannot write out past it
/// (fuzz/regressions/sip_message/written-past-*).
pub fn message(data: &[u8]) {
    let Ok(message) = parse_message(data) else { return };
    let head = message.head();
    let _ = (head.top_via(), head.branch(), head.from_tag(), head.to_tag());
    let _ = (head.contacts(), head.routes(), head.record_routes());
    let _ = (head.expires(), head.min_expires(), head.max_forwards());
    let _ = (head.content_type(), head.allow(), head.supported(), head.require(), head.user_agent());
    let _ = (head.authorization(None), head.proxy_authorization(Some("example.com")));
    let _ = (head.www_authenticate(), head.proxy_authenticate());
    if let Some(Ok(c)) = head.authorization(None) {
        credentials_round_trip(&c);
    }
    for c in head.www_authenticate().into_iter().chain(head.proxy_authenticate()).flatten() {
        challenge_round_trip(&c);
    }
    let _ = sdp::parse_bytes(message.body());

    let written = message.to_bytes();
    let again = match parse_message(&written) {
        Ok(again) => again,
        Err(e) => panic!("written message does not parse ({e}):\n{}", String::from_utf8_lossy(&written)),
    };
    assert_eq!(again, message, "round trip changed the message:\n{}", String::from_utf8_lossy(&written));
    assert_eq!(again.to_bytes(), written, "writing is not stable");
    assert_eq!(
        frame(&written, &Limits::default()),
        Ok(Frame::Message(written.len())),
        "a written message is not one stream frame:\n{}",
        String::from_utf8_lossy(&written)
    );
}

/// What framing a stream yields: the frames found, and whether it stopped
/// on an error (rather than waiting for more bytes).
#[derive(Debug, PartialEq, Eq)]
struct Framed {
    frames: Vec<Frame>,
    error: bool,
}

impl Framed {
    fn push(&mut self, f: Frame) {
        // Keep-alive runs split across reads are one run.
        if let (Frame::KeepAlive(n), Some(Frame::KeepAlive(m))) = (f, self.frames.last_mut()) {
            *m += n;
        } else {
            self.frames.push(f);
        }
    }
}

/// Frames as much of `buf` as possible, draining what was framed; true when
/// framing failed (the stream would be closed).
fn drain(buf: &mut Vec<u8>, framer: &mut Framer, limits: &Limits, out: &mut Framed) -> bool {
    loop {
        match framer.frame(buf, limits) {
            Ok(Frame::Incomplete) => return false,
            Ok(f @ (Frame::KeepAlive(n) | Frame::Message(n))) => {
                assert!(n > 0 && n <= buf.len(), "{f:?} of a {}-byte buffer", buf.len());
                out.push(f);
                buf.drain(..n);
            }
            Err(_) => {
                out.error = true;
                return true;
            }
        }
    }
}

/// `sip::frame` on a TCP stream: the first byte seeds the read sizes, the
/// rest is the stream. Frames stay inside the buffer and always make progress,
/// every framed message passes [`message`], and reading the stream in small
/// pieces with a [`Framer`] finds the same frames as [`frame`] on the whole,
/// for a bounded amount of work.
pub fn stream(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else { return };
    let limits = Limits { max_message_bytes: 2048, max_headers: 32, max_header_line: 512 };

    let mut whole = Framed { frames: Vec::new(), error: false };
    let mut rest = stream;
    loop {
        match frame(rest, &limits) {
            Ok(Frame::Incomplete) => break,
            Ok(f @ (Frame::KeepAlive(n) | Frame::Message(n))) => {
                assert!(n > 0 && n <= rest.len(), "{f:?} of a {}-byte buffer", rest.len());
                if let Frame::Message(_) = f {
                    message(&rest[..n]);
                }
                whole.push(f);
                rest = &rest[n..];
            }
            Err(_) => {
                whole.error = true;
                break;
            }
        }
    }

    let mut pieces = Framed { frames: Vec::new(), error: false };
    let mut framer = Framer::new();
    let mut buf = Vec::new();
    let mut rest = stream;
    // Reads of 1 to 64 bytes, from a small LCG seeded by the first byte.
    let mut state = u32::from(chunk);
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let (read, tail) = rest.split_at(((state >> 16) as usize % 64 + 1).min(rest.len()));
        rest = tail;
        buf.extend_from_slice(read);
        if drain(&mut buf, &mut framer, &limits, &mut pieces) {
            break;
        }
    }
    assert_eq!(pieces, whole, "framing depends on how the stream was read");
    // Each byte is looked at a bounded number of times, however it was read.
    let reads = stream.len() as u64;
    assert!(framer.examined() <= 4 * reads + 64, "{} bytes examined for {reads}", framer.examined());
}

/// `sip::sdp::parse_bytes` and `parse`: the two agree, and whatever parses
/// writes out and parses back to an equal description, whose text is stable.
pub fn sdp(data: &[u8]) {
    let parsed = sdp::parse_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(sdp::parse(text), parsed, "parse and parse_bytes disagree");
    }
    let Ok(s) = parsed else { return };
    for m in &s.media {
        let _ = (s.connection_for(m), s.direction_of(m), m.rtpmaps().count(), m.ptime(), m.direction());
        let _ = (m.rtcp(), m.payload_types().count());
        for pt in m.payload_types() {
            let _ = (m.rtpmap(pt), m.fmtp(pt));
        }
    }
    let _ = s.audio();
    let text = s.to_string();
    match sdp::parse(&text) {
        Ok(again) => {
            assert_eq!(again, s, "round trip changed the description:\n{text}");
            assert_eq!(again.to_string(), text, "writing is not stable");
        }
        Err(e) => panic!("written description does not parse ({e}):\n{text}"),
    }
}

/// The digest header parsers (`Credentials::parse`, `Challenge::parse`) on
/// one header value: whatever parses writes out and parses back equal.
pub fn digest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = Credentials::parse(text) {
        credentials_round_trip(&c);
    }
    if let Ok(c) = Challenge::parse(text) {
        let _ = c.offers_auth();
        challenge_round_trip(&c);
    }
}

fn credentials_round_trip(c: &Credentials) {
    let text = c.to_string();
    assert_eq!(Credentials::parse(&text).as_ref(), Ok(c), "credentials round trip: {text}");
}

fn challenge_round_trip(c: &Challenge) {
    let text = c.to_string();
    assert_eq!(Challenge::parse(&text).as_ref(), Ok(c), "challenge round trip: {text}");
}
