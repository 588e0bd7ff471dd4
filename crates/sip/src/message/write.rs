//! Writing messages to bytes.

use std::fmt::Write as _;

use super::{Head, Request, Response};
use crate::header::HeaderName;

impl Request {
    /// The request as bytes, Content-Length written from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "{} {} SIP/2.0", self.method, self.uri);
        finish(text, &self.head, &self.body)
    }
}

impl Response {
    /// The response as bytes, Content-Length written from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "SIP/2.0 {} {}", self.status, self.reason);
        finish(text, &self.head, &self.body)
    }
}

fn finish(mut text: String, head: &Head, body: &[u8]) -> Vec<u8> {
    no_breaks_from(&mut text, 0);
    text.push_str("\r\n");
    for via in &head.via {
        line(&mut text, "Via", via);
    }
    line(&mut text, "From", &head.from);
    line(&mut text, "To", &head.to);
    line(&mut text, "Call-ID", &head.call_id);
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
        line(&mut text, h.name.as_str(), &h.value);
    }
    line(&mut text, "Content-Length", &body.len());
    text.push_str("\r\n");
    let mut out = text.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Writes `name: value` and a CRLF; line breaks inside the value (which no
/// parsed value has, but a built one might) become spaces, so that no value
/// can inject a header.
fn line(text: &mut String, name: &str, value: &dyn std::fmt::Display) {
    let start = text.len();
    let _ = write!(text, "{name}: {value}");
    no_breaks_from(text, start);
    text.push_str("\r\n");
}

/// Replaces CR and LF after `start` with spaces.
fn no_breaks_from(text: &mut String, start: usize) {
    if text.get(start..).is_some_and(|l| l.contains(['\r', '\n'])) {
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
