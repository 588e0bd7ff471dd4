//! The final response of a finished non-INVITE server transaction, kept
//! for timer J (32 s over UDP) without what its request's retransmission
//! lets the layer write again: the Via, From, To, Call-ID and CSeq lines,
//! which a response echoes from its request, the status line when its
//! reason phrase is the usual one, and Content-Length, written from the
//! body. What is left is its other header lines, its body and its To tag
//! unless the request had one (the response echoes it): for a 200 to a BYE,
//! two bytes of status code and flags. A retransmission gets the same
//! bytes as the first time when the TU built the response with
//! [`Response::for_request`], as the engine does.

use std::io::Write;

use super::varint;
use crate::message::{Request, Response};
use crate::status::StatusCode;

/// A response with what its request brings again cut out (or, when it is
/// not laid out as the writer lays responses out, whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LastResponse {
    /// [`Layout::Whole`]: the response as sent. [`Layout::Cut`]: the
    /// status line unless it is the usual one, the other header lines, the
    /// body, then the To tag.
    bytes: Box<[u8]>,
    layout: Layout,
    status: StatusCode,
}

/// How the bytes of a kept response are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// As sent.
    Whole,
    /// Cut: the lengths of the status line kept (0 when it is the usual
    /// one), of the body and of the To tag.
    Cut { status_line: usize, body: usize, tag: usize },
}

impl LastResponse {
    /// Keeps `response`, written as `written`, without what its request
    /// brings again (its To tag too when `tagged`, the request's To had one).
    pub(super) fn new(response: &Response, written: &[u8], tagged: bool) -> LastResponse {
        LastResponse::cut(response, written, tagged).unwrap_or_else(|| LastResponse {
            bytes: written.into(),
            layout: Layout::Whole,
            status: response.status,
        })
    }

    fn cut(response: &Response, written: &[u8], tagged: bool) -> Option<LastResponse> {
        let (start, end) = echoed_span(written, response.head.via.len())?;
        let status_line = if is_usual_status_line(&written[..start], response.status) { 0 } else { start };
        let rest = &written[end..];
        let body = &response.body[..];
        let (tail, tail_len) = content_length(body.len())?;
        let others = rest.len().checked_sub(tail_len + body.len())?;
        let sound = rest[others..others + tail_len] == tail[..tail_len] && &rest[others + tail_len..] == body;
        if !sound {
            return None;
        }
        // A tag the request had is echoed from it (`Response::for_request`).
        let tag = if tagged { &[] } else { response.head.to_tag().unwrap_or_default().as_bytes() };
        let mut bytes = Vec::with_capacity(status_line + others + body.len() + tag.len());
        bytes.extend_from_slice(&written[..status_line]);
        bytes.extend_from_slice(&rest[..others]);
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(tag);
        let layout = Layout::Cut { status_line, body: body.len(), tag: tag.len() };
        Some(LastResponse { bytes: bytes.into_boxed_slice(), layout, status: response.status })
    }

    /// Bytes held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The response again, for `request`, as a [`Kept`] read back from
    /// [`LastResponse::encode`] gives it.
    #[cfg(test)]
    fn for_retransmission(&self, request: &Request) -> Vec<u8> {
        let mut encoded = Vec::new();
        self.encode(&mut encoded);
        Kept::decode(&encoded).expect("decodes").for_retransmission(request)
    }

    /// Appends it to `out` as [`Kept::decode`] reads it back: the status
    /// code and the layout's flags in two bytes, the lengths of a cut one
    /// (but those that are 0, as flags say), the bytes.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        let mut head = self.status.code();
        if let Layout::Cut { status_line, body, tag } = self.layout {
            head |= CUT;
            if status_line == 0 && body == 0 {
                head |= PLAIN;
            }
            if tag == 0 {
                head |= UNTAGGED;
            }
        }
        out.extend_from_slice(&head.to_le_bytes());
        if let Layout::Cut { status_line, body, tag } = self.layout {
            if head & PLAIN == 0 {
                varint::put(status_line, out);
                varint::put(body, out);
            }
            if tag != 0 {
                varint::put(tag, out);
            }
        }
        out.extend_from_slice(&self.bytes);
    }
}

/// [`LastResponse::encode`]'s first two bytes: the status code (below
/// 1000), then flags: cut; no status line and no body kept; no tag kept.
const CODE: u16 = (1 << 10) - 1;
const CUT: u16 = 1 << 15;
const PLAIN: u16 = 1 << 14;
const UNTAGGED: u16 = 1 << 13;

/// A [`LastResponse`] read in place from the bytes
/// [`LastResponse::encode`] wrote.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept<'a> {
    bytes: &'a [u8],
    layout: Layout,
    status: StatusCode,
}

impl<'a> Kept<'a> {
    /// Reads what [`LastResponse::encode`] wrote (`None` when it is not that).
    pub(super) fn decode(encoded: &'a [u8]) -> Option<Kept<'a>> {
        let head = u16::from_le_bytes(encoded.get(..2)?.try_into().ok()?);
        let status = StatusCode::new(head & CODE).ok()?;
        let rest = encoded.get(2..)?;
        if head & CUT == 0 {
            return Some(Kept { bytes: rest, layout: Layout::Whole, status });
        }
        let (status_line, body, rest) = if head & PLAIN != 0 {
            (0, 0, rest)
        } else {
            let (status_line, rest) = varint::get(rest)?;
            let (body, rest) = varint::get(rest)?;
            (status_line, body, rest)
        };
        let (tag, bytes) = if head & UNTAGGED != 0 { (0, rest) } else { varint::get(rest)? };
        let sound = status_line.checked_add(body)?.checked_add(tag)? <= bytes.len();
        sound.then_some(Kept { bytes, layout: Layout::Cut { status_line, body, tag }, status })
    }

    /// The response again, for `request`, a retransmission of the one it
    /// answered: what was cut out written again from `request`.
    pub(super) fn for_retransmission(&self, request: &Request) -> Vec<u8> {
        let Layout::Cut { status_line, body, tag } = self.layout else {
            return self.bytes.to_vec();
        };
        let (own_status_line, rest) = self.bytes.split_at(status_line);
        let (rest, tag) = rest.split_at(rest.len() - tag);
        let (others, body) = rest.split_at(rest.len() - body);
        let tag = std::str::from_utf8(tag).ok().filter(|t| !t.is_empty());
        let echo = Response::for_request(request, self.status, tag).to_bytes();
        let (start, end) = echoed_span(&echo, request.head.via.len()).unwrap_or((0, 0));
        let status_line = if own_status_line.is_empty() { &echo[..start] } else { own_status_line };
        let (tail, tail_len) = content_length(body.len()).unwrap_or(([0; TAIL], 0));
        let mut out =
            Vec::with_capacity(status_line.len() + end - start + others.len() + tail_len + body.len());
        out.extend_from_slice(status_line);
        out.extend_from_slice(&echo[start..end]);
        out.extend_from_slice(others);
        out.extend_from_slice(&tail[..tail_len]);
        out.extend_from_slice(body);
        out
    }
}

/// Room for [`content_length`]'s lines.
const TAIL: usize = 48;

/// The Content-Length line the writer writes for a body of `len` bytes,
/// and the blank line after it, in a buffer, and their length.
fn content_length(len: usize) -> Option<([u8; TAIL], usize)> {
    let mut buf = [0; TAIL];
    let Ok(small) = u32::try_from(len) else {
        let mut w = &mut buf[..];
        write!(w, "Content-Length: {len}\r\n\r\n").ok()?;
        let used = TAIL - w.len();
        return Some((buf, used));
    };
    let mut number = [0u8; 10];
    let start = crate::decimal::digits(small, &mut number);
    let digits = number.get(start..)?;
    let mut used = 0;
    for part in [&b"Content-Length: "[..], digits, b"\r\n\r\n"] {
        buf.get_mut(used..used + part.len())?.copy_from_slice(part);
        used += part.len();
    }
    Some((buf, used))
}

/// Whether `line` is the status line [`Response::new`] gives `status`,
/// its end of line included: `SIP/2.0 {code} {reason}` and CRLF.
fn is_usual_status_line(line: &[u8], status: StatusCode) -> bool {
    let mut digits = [0u8; 10];
    let start = crate::decimal::digits(u32::from(status.code()), &mut digits);
    let code = digits.get(start..).unwrap_or_default();
    let reason = status.reason().as_bytes();
    line.strip_prefix(b"SIP/2.0 ")
        .and_then(|rest| rest.strip_prefix(code))
        .and_then(|rest| rest.strip_prefix(b" "))
        .and_then(|rest| rest.strip_prefix(reason))
        .is_some_and(|rest| rest == b"\r\n")
}

/// Where the echoed lines of a written message are: after the start line,
/// its `vias` Via lines and the From, To, Call-ID and CSeq lines, in the
/// writer's order.
fn echoed_span(written: &[u8], vias: usize) -> Option<(usize, usize)> {
    line_span(written, 1, vias + 4)
}

/// The bytes of lines `first..first + count` of a written message (line 0
/// is its start line), ends of line included; `count` is at least 1.
pub(super) fn line_span(written: &[u8], first: usize, count: usize) -> Option<(usize, usize)> {
    let mut ends = memchr::memmem::find_iter(written, b"\r\n").map(|i| i + 2);
    let start = match first {
        0 => 0,
        n => ends.nth(n - 1)?,
    };
    let end = ends.nth(count.checked_sub(1)?)?;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::HeaderName;
    use crate::message::parse_message;
    use crate::Message;

    fn request(text: &str) -> Request {
        match parse_message(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    const REGISTER: &str = "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKr1;rport=5070;received=192.0.2.1\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKr0\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: reg-1\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:alice@192.0.2.1:5070>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn lines_and_tails_are_found_as_formatting_finds_them() {
        for len in [0usize, 7, 10, 65_535, 4_294_967_295, 4_294_967_296] {
            let (buf, used) = content_length(len).expect("fits");
            assert_eq!(&buf[..used], format!("Content-Length: {len}\r\n\r\n").as_bytes());
        }
        for code in [100u16, 200, 401, 486, 603, 699] {
            let status = StatusCode::new(code).expect("valid");
            let usual = format!("SIP/2.0 {} {}\r\n", code, status.reason());
            assert!(is_usual_status_line(usual.as_bytes(), status));
            assert!(!is_usual_status_line(&usual.as_bytes()[..usual.len() - 1], status));
            assert!(!is_usual_status_line(format!("{usual}x").as_bytes(), status));
            assert!(!is_usual_status_line(usual.replace(' ', "  ").as_bytes(), status));
        }
        let written = b"a\r\nb\nc\r\r\n\r\nd\n\r\n";
        let by_windows: Vec<usize> =
            written.windows(2).enumerate().filter(|(_, w)| *w == b"\r\n").map(|(i, _)| i + 2).collect();
        assert_eq!(line_span(written, 1, 2), Some((by_windows[0], by_windows[2])));
        assert_eq!(line_span(written, 0, 1), Some((0, by_windows[0])));
        assert_eq!(line_span(written, 3, 2), None);
        assert_eq!(line_span(b"\n\r\n", 0, 1), Some((0, 3)));
    }

    #[test]
    fn a_retransmission_gets_the_same_bytes_from_a_third_of_them() {
        let register = request(REGISTER);
        let ok = Response::for_request(&register, StatusCode::OK, Some("t0"))
            .with_header(HeaderName::Contact, "<sip:alice@192.0.2.1:5070>;expires=3600")
            .with_header(HeaderName::Date, "Fri, 04 Dec 2026 19:00:00 GMT");
        let written = ok.to_bytes();
        let last = LastResponse::new(&ok, &written, false);
        assert_eq!(last.for_retransmission(&register), written);
        assert!(last.len() < written.len() / 2, "{} of {}", last.len(), written.len());
        // With a body, and to a request with a To tag (in a dialog).
        let bye = request(
            &REGISTER
                .replace("REGISTER", "BYE")
                .replace("alice@example.com>\r\nCall", "alice@example.com>;tag=t9\r\nCall"),
        );
        let mut ok = Response::for_request(&bye, StatusCode::OK, Some("ignored"));
        ok.body = b"v=0\r\n".to_vec();
        let written = ok.to_bytes();
        for tagged in [false, true] {
            let last = LastResponse::new(&ok, &written, tagged);
            assert_eq!(last.for_retransmission(&bye), written);
        }
        // Bytes not laid out so (no line breaks) are kept whole.
        let odd = LastResponse::new(&ok, b"SIP/2.0 200 OK", true);
        assert_eq!(odd.for_retransmission(&bye), b"SIP/2.0 200 OK");
    }

    /// The Bye of a call: its 200 is its status code and nothing else.
    #[test]
    fn a_200_to_a_bye_keeps_nothing_but_its_status() {
        let bye = request(
            &REGISTER
                .replace("REGISTER", "BYE")
                .replace("alice@example.com>\r\nCall", "alice@example.com>;tag=5d2e8a9c01f4\r\nCall"),
        );
        let ok = Response::for_request(&bye, StatusCode::OK, Some("5d2e8a9c01f4"));
        let written = ok.to_bytes();
        let last = LastResponse::new(&ok, &written, true);
        assert_eq!(last.len(), 0);
        assert_eq!(last.for_retransmission(&bye), written);
        let mut encoded = Vec::new();
        last.encode(&mut encoded);
        assert_eq!(encoded.len(), 2);
    }

    /// OPTIONS, REGISTER challenged, an unusual reason phrase, bodies of
    /// every size: the same bytes again each time.
    #[test]
    fn other_headers_reasons_and_bodies_come_back_as_they_were() {
        let options = request(&REGISTER.replace("REGISTER", "OPTIONS"));
        let ok = Response::for_request(&options, StatusCode::OK, Some("a1"))
            .with_header(HeaderName::Allow, "INVITE, ACK, CANCEL, BYE, OPTIONS")
            .with_header(HeaderName::Accept, "application/sdp");
        let register = request(REGISTER);
        let mut challenge = Response::for_request(&register, StatusCode::new(401).expect("401"), Some("a2"))
            .with_header(
                HeaderName::WwwAuthenticate,
                "Digest realm=\"calliope\", nonce=\"abc\", qop=\"auth\"",
            );
        challenge.reason = "Who are you".into();
        let mut busy = Response::for_request(&options, StatusCode::new(486).expect("486"), None);
        busy.body = vec![b'x'; 300];
        let mut empty_reason =
            Response::for_request(&register, StatusCode::new(603).expect("603"), Some("a3"));
        empty_reason.reason = String::new();
        for (response, request) in
            [(ok, &options), (challenge, &register), (busy, &options), (empty_reason, &register)]
        {
            let written = response.to_bytes();
            let last = LastResponse::new(&response, &written, false);
            assert!(matches!(last.layout, Layout::Cut { .. }), "{}", response.status);
            assert_eq!(last.for_retransmission(request), written, "{}", response.status);
            assert!(last.len() < written.len() / 2 + 300, "{}", response.status);
        }
        // An encoding cut short, or lengths past its end, read as nothing.
        let mut encoded = Vec::new();
        LastResponse::new(&Response::for_request(&options, StatusCode::OK, Some("a1")), b"x\r\n", false)
            .encode(&mut encoded);
        assert!(Kept::decode(&encoded).is_some());
        assert!(Kept::decode(&[200, 0x80, 0, 5, 0]).is_none(), "a body past the end");
        assert!(Kept::decode(&[200, 0x80 | 0x20, 0]).is_none(), "lengths missing");
        assert!(Kept::decode(&[0, 0x80]).is_none(), "no status code");
        assert!(Kept::decode(&[200]).is_none());
    }
}
