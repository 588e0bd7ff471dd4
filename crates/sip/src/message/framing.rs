//! Finding message boundaries in a byte stream (TCP, TLS).
//!
//! [`Framer`] remembers how far it has looked for the end of the head, so a
//! head that arrives a byte at a time is scanned once, not once per read:
//! a slow sender costs work linear in what it sends. [`frame`] is the
//! stateless form for a buffer that is looked at once.

use super::parse::logical_lines;
use super::Limits;
use crate::error::ParseError;
use crate::header::HeaderName;
use crate::scan::number;

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not a whole message yet: read more bytes.
    Incomplete,
    /// The first `n` bytes are line breaks (RFC 5626 keep-alives, or CRLFs
    /// before a start line): drop them; a lone CRLFCRLF ping wants a CRLF pong.
    KeepAlive(usize),
    /// The first `n` bytes are one message: hand them to
    /// [`crate::parse_message`].
    Message(usize),
}

/// Finds the end of the first message in `buf`, using Content-Length
/// (mandatory on streams). An error means the stream cannot be re-synchronised
/// and should be closed.
///
/// This looks at the whole buffer on every call; a reader that calls again
/// as bytes arrive should keep a [`Framer`] instead.
pub fn frame(buf: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
    Framer::new().frame(buf, limits)
}

/// Incremental framing of one stream: what [`frame`] finds, with the
/// progress of the search for the end of the head kept between calls.
///
/// The contract: between calls the caller only appends to the buffer; after
/// [`Frame::KeepAlive`] or [`Frame::Message`] of `n` bytes it removes those
/// `n` bytes from the front before calling again (the framer starts afresh
/// then). After an error the stream is closed.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    /// How many bytes of the buffer have been searched for the empty line.
    scanned: usize,
    /// Where the line being searched started.
    line_start: usize,
    /// The whole message's length, once its head has been read.
    total: Option<usize>,
    /// Bytes examined over the framer's life (a measure of its work).
    examined: u64,
}

impl Framer {
    /// A framer at the start of a stream.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Bytes examined so far, over every call: at most a few times what the
    /// stream carried, however it was cut into reads.
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// Finds the end of the first message in `buf` (see the type's contract).
    pub fn frame(&mut self, buf: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
        let result = self.step(buf, limits);
        if !matches!(result, Ok(Frame::Incomplete)) {
            // The caller drops the frame (or the stream): start afresh.
            *self = Framer { examined: self.examined, ..Framer::default() };
        }
        result
    }

    fn step(&mut self, buf: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
        if let Some(total) = self.total {
            return Ok(if buf.len() < total { Frame::Incomplete } else { Frame::Message(total) });
        }
        if self.scanned == 0 {
            let breaks = buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            self.examined += breaks as u64 + 1;
            if breaks > 0 {
                return Ok(Frame::KeepAlive(breaks));
            }
        }
        let window = buf.get(..limits.max_message_bytes.min(buf.len())).unwrap_or_default();
        let Some((head_len, body_start)) = self.head_end(window) else {
            return if buf.len() >= limits.max_message_bytes {
                Err(ParseError::TooLarge(limits.max_message_bytes))
            } else {
                Ok(Frame::Incomplete)
            };
        };
        let head = window.get(..head_len).unwrap_or_default();
        self.examined += head.len() as u64;
        let head = std::str::from_utf8(head).map_err(|_| ParseError::NotUtf8)?;
        let mut length = None;
        // The first line is the start line; a header named "l" cannot be one.
        for line in logical_lines(head, limits).skip(1) {
            let line = line?;
            let Some((name, value)) = line.split_once(':') else { continue };
            if HeaderName::parse(name.trim_end()) == Ok(HeaderName::ContentLength) {
                let n: usize = number(value.trim(), 10).ok_or(ParseError::ContentLength)?;
                if length.is_some_and(|old| old != n) {
                    return Err(ParseError::ContentLength);
                }
                length = Some(n);
            }
        }
        let total = body_start
            .checked_add(length.ok_or(ParseError::NoContentLength)?)
            .ok_or(ParseError::ContentLength)?;
        if total > limits.max_message_bytes {
            return Err(ParseError::TooLarge(limits.max_message_bytes));
        }
        self.total = Some(total);
        Ok(if buf.len() < total { Frame::Incomplete } else { Frame::Message(total) })
    }

    /// Resumes the search for the empty line that ends the head: the head's
    /// length (through the last header line's break) and where the body
    /// starts. Every byte is looked at once.
    fn head_end(&mut self, bytes: &[u8]) -> Option<(usize, usize)> {
        let new = bytes.get(self.scanned..).unwrap_or_default();
        for (offset, b) in new.iter().enumerate() {
            if *b != b'\n' {
                continue;
            }
            let i = self.scanned + offset;
            let line = bytes.get(self.line_start..i).unwrap_or_default();
            if (line.is_empty() || line == b"\r") && self.line_start > 0 {
                self.examined += offset as u64 + 1;
                self.scanned = i + 1;
                return Some((self.line_start, i + 1));
            }
            self.line_start = i + 1;
        }
        self.examined += new.len() as u64;
        self.scanned = bytes.len();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &[u8] = b"REGISTER sip:calliope SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK1\r\n\
From: <sip:2002@calliope>;tag=1\r\nTo: <sip:2002@calliope>\r\nCall-ID: trickle\r\n\
CSeq: 1 REGISTER\r\nContent-Length: 4\r\n\r\nv=0\n";

    /// A large head sent a byte at a time: the framer's work stays linear.
    #[test]
    fn a_byte_at_a_time_costs_linear_work() {
        let mut head = String::from("REGISTER sip:calliope SIP/2.0\r\n");
        while head.len() < 60_000 {
            head.push_str("X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let limits = Limits { max_headers: 2000, ..Limits::default() };
        let after_start_line = REGISTER.iter().position(|b| *b == b'\n').unwrap_or(0) + 1;
        let stream: Vec<u8> = [head.as_bytes(), &REGISTER[after_start_line..]].concat();
        let mut framer = Framer::new();
        let mut buf = Vec::new();
        let mut found = None;
        for b in &stream {
            buf.push(*b);
            match framer.frame(&buf, &limits) {
                Ok(Frame::Incomplete) => {}
                other => {
                    found = Some(other);
                    break;
                }
            }
        }
        assert_eq!(found, Some(Ok(Frame::Message(stream.len()))));
        let work = framer.examined();
        // One look at every byte, plus the one pass over the complete head,
        // plus one per call; a rescan per read would be ~n^2/2 = 1.8e9.
        assert!(work <= 3 * stream.len() as u64, "examined {work} bytes for a {}-byte stream", stream.len());
    }

    #[test]
    fn pieces_find_what_the_whole_finds() {
        let limits = Limits::default();
        let stream: Vec<u8> = [b"\r\n\r\n".as_slice(), REGISTER, REGISTER].concat();
        let mut whole = Vec::new();
        let mut rest = stream.as_slice();
        while let Ok(f @ (Frame::KeepAlive(n) | Frame::Message(n))) = frame(rest, &limits) {
            whole.push(f);
            rest = &rest[n..];
        }
        for size in [1, 2, 3, 7, 64] {
            let mut framer = Framer::new();
            let (mut buf, mut got) = (Vec::new(), Vec::new());
            for chunk in stream.chunks(size) {
                buf.extend_from_slice(chunk);
                while let Ok(f @ (Frame::KeepAlive(n) | Frame::Message(n))) = framer.frame(&buf, &limits) {
                    if let (Frame::KeepAlive(m), Some(Frame::KeepAlive(last))) = (f, got.last_mut()) {
                        *last += m;
                    } else {
                        got.push(f);
                    }
                    buf.drain(..n);
                }
            }
            assert_eq!(got, whole, "reads of {size} bytes");
        }
    }

    #[test]
    fn a_head_past_the_limit_is_an_error_even_a_byte_at_a_time() {
        let limits = Limits { max_message_bytes: 200, ..Limits::default() };
        let mut framer = Framer::new();
        let mut buf = b"OPTIONS sip:x SIP/2.0\r\n".to_vec();
        let mut result = framer.frame(&buf, &limits);
        while result == Ok(Frame::Incomplete) {
            buf.push(b'a');
            result = framer.frame(&buf, &limits);
        }
        assert_eq!(result, Err(ParseError::TooLarge(200)));
        assert_eq!(buf.len(), 200);
    }
}
