//! Parsing a message from one datagram (or one framed stream message).

use std::borrow::Cow;

use super::write::{line_len, request_line, status_line};
use super::{Head, Limits, Message, Request, Response};
use crate::address::NameAddr;
use crate::error::ParseError;
use crate::header::{CSeq, HeaderName, Headers, Via};
use crate::method::Method;
use crate::scan::{number, split_once_byte, split_outside};
use crate::status::StatusCode;
use crate::uri::Uri;
use crate::written_len::Counter;

/// Parses one message from a datagram with the default [`Limits`].
///
/// Leading CRLFs are skipped. Without Content-Length the body is the rest
/// of the datagram; with it, a shorter body is an error and extra bytes are
/// dropped (RFC 3261 18.3).
pub fn parse_message(bytes: &[u8]) -> Result<Message, ParseError> {
    parse_message_with(bytes, &Limits::default())
}

/// [`parse_message`] with explicit limits.
pub fn parse_message_with(bytes: &[u8], limits: &Limits) -> Result<Message, ParseError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(ParseError::TooLarge(limits.max_message_bytes));
    }
    let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n')).ok_or(ParseError::Empty)?;
    let bytes = bytes.get(start..).unwrap_or_default();
    let (head_len, body_start) = head_end(bytes).ok_or(ParseError::Unterminated)?;
    let head =
        std::str::from_utf8(bytes.get(..head_len).unwrap_or_default()).map_err(|_| ParseError::NotUtf8)?;
    let mut lines = logical_lines(head, limits);
    let start_line = lines.next().ok_or(ParseError::StartLine)??;
    let start_line = parse_start_line(&start_line)?;

    let mut builder = HeadBuilder::default();
    for line in lines {
        builder.add(&line?, limits)?;
    }
    let rest = bytes.get(body_start..).unwrap_or_default();
    let body = match builder.content_length {
        Some(n) if n > rest.len() => return Err(ParseError::BodyTooShort { expected: n, got: rest.len() }),
        Some(n) => rest.get(..n).unwrap_or_default(),
        None => rest,
    };
    check_written(&start_line, builder.written, body.len(), limits)?;
    let head = builder.finish()?;
    Ok(match start_line {
        StartLine::Request(method, uri) => {
            if method != head.cseq.method {
                return Err(ParseError::CSeqMethod);
            }
            Message::Request(Request { method, uri, head, body: body.to_vec() })
        }
        StartLine::Response(status, reason) => {
            Message::Response(Response { status, reason, head, body: body.to_vec() })
        }
    })
}

/// Finds the empty line that ends the head: returns the head's length (up to
/// and including the last header line's line break) and where the body starts.
pub(crate) fn head_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'\n' {
            continue;
        }
        let line = bytes.get(line_start..i).unwrap_or_default();
        if (line.is_empty() || line == b"\r") && line_start > 0 {
            return Some((line_start, i + 1));
        }
        line_start = i + 1;
    }
    None
}

/// The head's lines with folded continuation lines joined (one space for the
/// line break and leading whitespace), bounded by the limits.
/// [`line_len`] of a text value, without formatting: `name: value`.
fn text_line_len(name: &str, value: &str) -> usize {
    name.len() + 2 + value.len()
}

pub(crate) fn logical_lines<'a>(
    head: &'a str,
    limits: &'a Limits,
) -> impl Iterator<Item = Result<Cow<'a, str>, ParseError>> + 'a {
    let mut physical = PhysicalLines { rest: Some(head) };
    let mut count = 0usize;
    std::iter::from_fn(move || {
        let first = physical.next()?;
        if first.is_empty() && physical.at_end() {
            return None;
        }
        count += 1;
        // The start line plus every header line.
        if count > limits.max_headers.saturating_add(1) {
            return Some(Err(ParseError::TooManyHeaders(limits.max_headers)));
        }
        let mut line = Cow::Borrowed(first);
        while physical.continues() {
            let Some(next) = physical.next() else { break };
            let owned = line.to_mut();
            owned.truncate(owned.trim_end().len());
            owned.push(' ');
            owned.push_str(next.trim_start());
            if owned.len() > limits.max_header_line {
                break;
            }
        }
        if line.len() > limits.max_header_line {
            return Some(Err(ParseError::HeaderTooLong(limits.max_header_line)));
        }
        // A lone CR, a NUL or another control character has no place in a head.
        if crate::scan::has_control(&line) {
            return Some(Err(ParseError::HeaderLine));
        }
        Some(Ok(line))
    })
}

/// The pieces of a head between LFs, a CR before the LF dropped: what
/// `split('\n')` gives, found with `memchr`.
struct PhysicalLines<'a> {
    /// What follows the last LF taken; `None` once the piece after the last
    /// LF was given.
    rest: Option<&'a str>,
}

impl<'a> PhysicalLines<'a> {
    /// Whether every piece was given.
    fn at_end(&self) -> bool {
        self.rest.is_none()
    }

    /// Whether the next piece starts with a space or a tab (folds onto
    /// the line before).
    fn continues(&self) -> bool {
        self.rest.is_some_and(|r| r.starts_with([' ', '\t']))
    }
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let piece = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                // LF is ASCII: both sides are on character boundaries.
                self.rest = rest.get(i + 1..);
                rest.get(..i).unwrap_or_default()
            }
            None => {
                self.rest = None;
                rest
            }
        };
        Some(piece.strip_suffix('\r').unwrap_or(piece))
    }
}

/// Refuses a message that, written out again, would pass the limits: its
/// start line is too long, or the whole is too large.
fn check_written(start: &StartLine, headers: usize, body: usize, limits: &Limits) -> Result<(), ParseError> {
    let mut count = Counter(0);
    let _ = match start {
        StartLine::Request(method, uri) => request_line(&mut count, method, uri),
        StartLine::Response(status, reason) => status_line(&mut count, *status, reason),
    };
    if count.0 > limits.max_header_line {
        return Err(ParseError::HeaderTooLong(limits.max_header_line));
    }
    let total = [count.0, 2, headers, line_len("Content-Length", &body), 2, 2, body]
        .into_iter()
        .fold(0usize, usize::saturating_add);
    if total > limits.max_message_bytes {
        return Err(ParseError::TooLarge(limits.max_message_bytes));
    }
    Ok(())
}

enum StartLine {
    Request(Method, Uri),
    Response(StatusCode, String),
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if line.starts_with([' ', '\t']) {
        return Err(ParseError::StartLine);
    }
    if line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        let (version, rest) = line.split_once(' ').ok_or(ParseError::StartLine)?;
        check_version(version)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code = number::<u16>(code, 3).filter(|_| code.len() == 3).ok_or(ParseError::Status)?;
        let status = StatusCode::new(code)?;
        if reason.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ParseError::StartLine);
        }
        return Ok(StartLine::Response(status, reason.to_owned()));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::StartLine);
    };
    let method = Method::parse(method)?;
    check_version(version)?;
    let uri = Uri::parse(uri)?;
    Ok(StartLine::Request(method, uri))
}

fn check_version(v: &str) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    match v.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("SIP/") => {
            Err(ParseError::Version(v.get(4..).unwrap_or("").chars().take(16).collect()))
        }
        _ => Err(ParseError::StartLine),
    }
}

#[derive(Default)]
struct HeadBuilder {
    via: Vec<Via>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<String>,
    cseq: Option<CSeq>,
    content_length: Option<usize>,
    headers: Headers,
    /// Values counted against `max_headers`.
    values: usize,
    /// Bytes of the header lines as the writer will write them.
    written: usize,
}

impl HeadBuilder {
    fn add(&mut self, line: &str, limits: &Limits) -> Result<(), ParseError> {
        let (name, value) = split_once_byte(line, b':').ok_or(ParseError::HeaderLine)?;
        let name = HeaderName::parse(name.trim_end())?;
        let value = crate::scan::trim(value);
        match name {
            HeaderName::Via => {
                for v in split_outside(value, ',').map(crate::scan::trim).filter(|v| !v.is_empty()) {
                    let via = Via::parse(v).map_err(|e| e.in_header("Via"))?;
                    self.account(line_len("Via", &via), limits)?;
                    self.via.push(via);
                }
            }
            HeaderName::From => {
                let from = NameAddr::parse(value).map_err(|e| e.in_header("From"))?;
                self.account(line_len("From", &from), limits)?;
                set_once(&mut self.from, "From", from)?;
            }
            HeaderName::To => {
                let to = NameAddr::parse(value).map_err(|e| e.in_header("To"))?;
                self.account(line_len("To", &to), limits)?;
                set_once(&mut self.to, "To", to)?;
            }
            HeaderName::CallId => {
                if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(ParseError::Value("Call-ID").in_header("Call-ID"));
                }
                self.account(text_line_len("Call-ID", value), limits)?;
                set_once(&mut self.call_id, "Call-ID", value.to_owned())?;
            }
            HeaderName::CSeq => {
                let cseq = CSeq::parse(value).map_err(|e| e.in_header("CSeq"))?;
                self.account(line_len("CSeq", &cseq), limits)?;
                set_once(&mut self.cseq, "CSeq", cseq)?;
            }
            HeaderName::ContentLength => {
                let n = number::<usize>(value, 10)
                    .filter(|n| *n <= limits.max_message_bytes)
                    .ok_or(ParseError::ContentLength)?;
                if self.content_length.is_some_and(|old| old != n) {
                    return Err(ParseError::ContentLength);
                }
                self.content_length = Some(n);
            }
            name if name.is_list() => {
                for v in split_outside(value, ',').map(crate::scan::trim).filter(|v| !v.is_empty()) {
                    self.account(text_line_len(name.as_str(), v), limits)?;
                    self.headers.push(name.clone(), v);
                }
            }
            name => {
                self.account(text_line_len(name.as_str(), value), limits)?;
                self.headers.push(name, value);
            }
        }
        Ok(())
    }

    /// Counts one value whose written line is `len` bytes long: the writer
    /// puts every value on a line of its own, under its full name, so the
    /// limits hold for what will be written, not only for what was read.
    fn account(&mut self, len: usize, limits: &Limits) -> Result<(), ParseError> {
        if len > limits.max_header_line {
            return Err(ParseError::HeaderTooLong(limits.max_header_line));
        }
        self.values += 1;
        // Content-Length, always written, takes one more.
        if self.values >= limits.max_headers {
            return Err(ParseError::TooManyHeaders(limits.max_headers));
        }
        self.written = self.written.saturating_add(len + 2);
        Ok(())
    }

    fn finish(self) -> Result<Head, ParseError> {
        if self.via.is_empty() {
            return Err(ParseError::Missing("Via"));
        }
        Ok(Head {
            via: self.via,
            from: self.from.ok_or(ParseError::Missing("From"))?,
            to: self.to.ok_or(ParseError::Missing("To"))?,
            call_id: self.call_id.ok_or(ParseError::Missing("Call-ID"))?,
            cseq: self.cseq.ok_or(ParseError::Missing("CSeq"))?,
            headers: self.headers,
        })
    }
}

fn set_once<T>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(ParseError::Duplicate(name));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::scan::has_control;

    #[test]
    fn control_characters_are_found_in_ascii_and_beyond() {
        assert!(!has_control("Subject: a\tb é"));
        assert!(has_control("Subject: a\rb"));
        assert!(has_control("Subject: a\u{7f}"));
        assert!(has_control("Subject: é\u{85}"));
        assert!(has_control("Subject: a\0"));
    }
}
