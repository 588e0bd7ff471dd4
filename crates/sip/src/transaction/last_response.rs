//! The final response of a finished non-INVITE server transaction, kept
//! for timer J (32 s over UDP) without what its request's retransmission
//! brings again: the Via, From, To, Call-ID and CSeq lines, which a
//! response echoes from its request (about two thirds of a 200 to a BYE).
//! A retransmission gets them back from itself: the same bytes as the
//! first time when the TU built the response with
//! [`Response::for_request`], as the engine does.

use crate::message::{Request, Response};
use crate::status::StatusCode;

/// A response with its echoed lines cut out (or, when it is not laid
/// out as the writer lays responses out, whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LastResponse {
    /// The status line, the lines after the echoed ones (other headers,
    /// Content-Length, the blank line and the body), then the To tag.
    bytes: Box<[u8]>,
    /// Where the echoed lines were (after the status line); [`WHOLE`]
    /// when `bytes` is the response as it was sent.
    cut: u32,
    /// The To tag's length, at the end of `bytes`.
    tag_len: u16,
    status: StatusCode,
}

impl LastResponse {
    /// Keeps `response`, written as `written`, without its echoed lines.
    pub(super) fn new(response: &Response, written: &[u8]) -> LastResponse {
        LastResponse::without_echo(response, written).unwrap_or_else(|| LastResponse {
            bytes: written.into(),
            cut: WHOLE,
            tag_len: 0,
            status: response.status,
        })
    }

    fn without_echo(response: &Response, written: &[u8]) -> Option<LastResponse> {
        let (start, end) = echoed_span(written, response.head.via.len())?;
        let tag = response.head.to_tag().unwrap_or_default();
        let mut bytes = Vec::with_capacity(written.len() - (end - start) + tag.len());
        bytes.extend_from_slice(written.get(..start)?);
        bytes.extend_from_slice(written.get(end..)?);
        bytes.extend_from_slice(tag.as_bytes());
        Some(LastResponse {
            bytes: bytes.into_boxed_slice(),
            cut: u32::try_from(start).ok().filter(|&c| c != WHOLE)?,
            tag_len: u16::try_from(tag.len()).ok()?,
            status: response.status,
        })
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

    /// Appends it to `out` as [`Kept::decode`] reads it back.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cut.to_le_bytes());
        out.extend_from_slice(&self.tag_len.to_le_bytes());
        out.extend_from_slice(&self.status.code().to_le_bytes());
        out.extend_from_slice(&self.bytes);
    }
}

/// A [`LastResponse`] read in place from the bytes
/// [`LastResponse::encode`] wrote.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept<'a> {
    bytes: &'a [u8],
    cut: u32,
    tag_len: u16,
    status: StatusCode,
}

impl<'a> Kept<'a> {
    /// Reads what [`LastResponse::encode`] wrote (`None` when it is not that).
    pub(super) fn decode(encoded: &'a [u8]) -> Option<Kept<'a>> {
        let cut = u32::from_le_bytes(encoded.get(..4)?.try_into().ok()?);
        let tag_len = u16::from_le_bytes(encoded.get(4..6)?.try_into().ok()?);
        let status = StatusCode::new(u16::from_le_bytes(encoded.get(6..8)?.try_into().ok()?)).ok()?;
        let bytes = encoded.get(8..)?;
        let sound = usize::from(tag_len) <= bytes.len()
            && (cut == WHOLE || cut as usize <= bytes.len() - usize::from(tag_len));
        sound.then_some(Kept { bytes, cut, tag_len, status })
    }

    /// The response again, for `request`, a retransmission of the one it
    /// answered: its echoed lines written from `request`.
    pub(super) fn for_retransmission(&self, request: &Request) -> Vec<u8> {
        if self.cut == WHOLE {
            return self.bytes.to_vec();
        }
        let cut = self.cut as usize;
        let (kept, tag) = self.bytes.split_at(self.bytes.len() - usize::from(self.tag_len));
        let tag = std::str::from_utf8(tag).ok().filter(|t| !t.is_empty());
        let echo = Response::for_request(request, self.status, tag).to_bytes();
        let echoed = echoed_span(&echo, request.head.via.len()).and_then(|(s, e)| echo.get(s..e));
        let mut out = Vec::with_capacity(kept.len() + echoed.map_or(0, <[u8]>::len));
        out.extend_from_slice(&kept[..cut]);
        out.extend_from_slice(echoed.unwrap_or_default());
        out.extend_from_slice(&kept[cut..]);
        out
    }
}

/// [`LastResponse::cut`] of a response kept whole.
const WHOLE: u32 = u32::MAX;

/// Where the echoed lines of a written message are: after the start line,
/// its `vias` Via lines and the From, To, Call-ID and CSeq lines, in the
/// writer's order.
fn echoed_span(written: &[u8], vias: usize) -> Option<(usize, usize)> {
    line_span(written, 1, vias + 4)
}

/// The bytes of lines `first..first + count` of a written message (line 0
/// is its start line), ends of line included; `count` is at least 1.
pub(super) fn line_span(written: &[u8], first: usize, count: usize) -> Option<(usize, usize)> {
    let mut ends = written.windows(2).enumerate().filter(|(_, w)| *w == b"\r\n").map(|(i, _)| i + 2);
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
    fn a_retransmission_gets_the_same_bytes_from_a_third_of_them() {
        let register = request(REGISTER);
        let ok = Response::for_request(&register, StatusCode::OK, Some("t0"))
            .with_header(HeaderName::Contact, "<sip:alice@192.0.2.1:5070>;expires=3600")
            .with_header(HeaderName::Date, "Fri, 04 Dec 2026 19:00:00 GMT");
        let written = ok.to_bytes();
        let last = LastResponse::new(&ok, &written);
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
        let last = LastResponse::new(&ok, &written);
        assert_eq!(last.for_retransmission(&bye), written);
        // Bytes not laid out so (no line breaks) are kept whole.
        let odd = LastResponse::new(&ok, b"SIP/2.0 200 OK");
        assert_eq!(odd.for_retransmission(&bye), b"SIP/2.0 200 OK");
    }
}
