//! Finding message boundaries in a byte stream (TCP, TLS).

use super::parse::{head_end, logical_lines};
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
pub fn frame(buf: &[u8], limits: &Limits) -> Result<Frame, ParseError> {
    let breaks = buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    if breaks > 0 {
        return Ok(Frame::KeepAlive(breaks));
    }
    let window = buf.get(..limits.max_message_bytes.min(buf.len())).unwrap_or_default();
    let Some((head_len, body_start)) = head_end(window) else {
        return if buf.len() >= limits.max_message_bytes {
            Err(ParseError::TooLarge(limits.max_message_bytes))
        } else {
            Ok(Frame::Incomplete)
        };
    };
    let head =
        std::str::from_utf8(window.get(..head_len).unwrap_or_default()).map_err(|_| ParseError::NotUtf8)?;
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
    Ok(if buf.len() < total { Frame::Incomplete } else { Frame::Message(total) })
}
