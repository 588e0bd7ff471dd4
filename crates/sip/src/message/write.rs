//! Writing messages to bytes.

use std::fmt::Write;

use super::{Head, Request, Response};
use crate::header::HeaderName;
use crate::method::Method;
use crate::status::StatusCode;
use crate::uri::Uri;
use crate::written_len::WrittenLen;

impl Request {
    /// The request as bytes, Content-Length written from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = String::with_capacity(512);
        let _ = request_line(&mut text, &self.method, &self.uri);
        finish(text, &self.head, &self.body)
    }
}

impl Response {
    /// The response as bytes, Content-Length written from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = String::with_capacity(512);
        let _ = status_line(&mut text, self.status, &self.reason);
        finish(text, &self.head, &self.body)
    }
}

/// Writes a request's start line (no line break).
pub(super) fn request_line(w: &mut dyn Write, method: &Method, uri: &Uri) -> std::fmt::Result {
    write!(w, "{method} {uri} SIP/2.0")
}

/// Writes a response's start line (no line break).
pub(super) fn status_line(w: &mut dyn Write, status: StatusCode, reason: &str) -> std::fmt::Result {
    write!(w, "SIP/2.0 {status} {reason}")
}

/// How long the writer's `name: value` line is, line break excluded: what
/// the parser holds a parsed value to, so that whatever it accepts writes
/// out within the same limits. Counted from the value's parts, not
/// formatted.
pub(super) fn line_len(name: &str, value: &(impl WrittenLen + ?Sized)) -> usize {
    name.len() + 2 + value.written_len()
}

fn finish(mut text: String, head: &Head, body: &[u8]) -> Vec<u8> {
    no_breaks_from(&mut text, 0);
    text.push_str("\r\n");
    for via in &head.via {
        line(&mut text, "Via", via);
    }
    line(&mut text, "From", &head.from);
    line(&mut text, "To", &head.to);
    text_line(&mut text, "Call-ID", &head.call_id);
    line(&mut text, "CSeq", &head.cseq);
    // The typed headers come from their fields only, Content-Length from the body.
    let typed = |n: &HeaderName| {
        matches!(
            n,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::ContentLength
        )
    };
    for h in head.headers.iter().filter(|h| !typed(&h.name)) {
        text_line(&mut text, h.name.as_str(), &h.value);
    }
    text.push_str("Content-Length: ");
    let _ = match u32::try_from(body.len()) {
        Ok(n) => crate::decimal::write_u32(&mut text, n),
        Err(_) => write!(text, "{}", body.len()),
    };
    text.push_str("\r\n");
    text.push_str("\r\n");
    let mut out = text.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Writes `name: value` and a CRLF; line breaks inside the value (which no
/// parsed value has, but a built one might) become spaces, so that no value
/// can inject a header.
fn line(text: &mut String, name: &str, value: &(impl WrittenLen + ?Sized)) {
    let start = text.len();
    text.reserve(name.len() + value.written_len() + 4);
    text.push_str(name);
    text.push_str(": ");
    value.write_into(text);
    debug_assert_eq!(text.len() - start - name.len() - 2, value.written_len(), "{name}: length written");
    no_breaks_from(text, start);
    text.push_str("\r\n");
}

/// [`line`] for a text value: pushed, not formatted.
fn text_line(text: &mut String, name: &str, value: &str) {
    let start = text.len();
    text.reserve(name.len() + value.len() + 4);
    text.push_str(name);
    text.push_str(": ");
    text.push_str(value);
    no_breaks_from(text, start);
    text.push_str("\r\n");
}

/// Replaces CR and LF after `start` with spaces. The common case, no break
/// at all, is a scan of bytes (CR and LF are ASCII, so never part of
/// another character's encoding).
fn no_breaks_from(text: &mut String, start: usize) {
    let has_break = text.as_bytes().get(start..).is_some_and(|b| memchr::memchr2(b'\r', b'\n', b).is_some());
    if has_break {
        let cleaned: String = text
            .get(start..)
            .unwrap_or("")
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        text.truncate(start);
        text.push_str(&cleaned);
    }
}
