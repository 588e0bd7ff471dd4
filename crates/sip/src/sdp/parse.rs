//! Parsing SDP text.

use super::{Attribute, Connection, MediaDescription, Origin, SdpError, SessionDescription, Timing};
use crate::scan::number;

/// Largest session description accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// Most lines accepted.
pub const MAX_LINES: usize = 1024;

/// Parses a session description from bytes (a message body).
pub fn parse_bytes(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
    parse(std::str::from_utf8(bytes).map_err(|_| SdpError::NotUtf8)?)
}

/// Parses a session description. Lines end in CRLF or LF; the order of
/// session-level lines is not enforced, but every line after the first
/// `m=` belongs to a media section.
pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    if text.len() > MAX_SDP_BYTES {
        return Err(SdpError::TooLarge);
    }
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().peekable();
    match lines.next() {
        Some((_, "v=0")) => {}
        _ => return Err(SdpError::Version),
    }
    let mut origin = None;
    let mut session = SessionDescription {
        origin: Origin {
            username: String::new(),
            session_id: String::new(),
            session_version: 0,
            address: Connection { net_type: String::new(), addr_type: String::new(), address: String::new() },
        },
        session_name: String::new(),
        info: None,
        connection: None,
        bandwidths: Vec::new(),
        timing: Vec::new(),
        attributes: Vec::new(),
        media: Vec::new(),
        other: Vec::new(),
    };
    let mut session_name = None;
    for (index, line) in lines {
        let n = index + 1;
        if n > MAX_LINES {
            return Err(SdpError::TooLarge);
        }
        if line.is_empty() {
            // Only trailing empty lines are tolerated.
            continue;
        }
        let mut chars = line.chars();
        let (Some(kind), Some('=')) = (chars.next(), chars.next()) else {
            return Err(SdpError::Line(n));
        };
        let value = line.get(2..).unwrap_or("");
        if !kind.is_ascii_lowercase() || value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(SdpError::Line(n));
        }
        let invalid = SdpError::Invalid { kind, line: n };
        if kind == 'm' {
            session.media.push(media(value).ok_or(invalid)?);
            continue;
        }
        if let Some(m) = session.media.last_mut() {
            match kind {
                'i' => m.info = Some(value.to_owned()),
                'c' => m.connection = Some(connection(value).ok_or(invalid)?),
                'b' => m.bandwidths.push(value.to_owned()),
                'a' => m.attributes.push(Attribute::parse(value).ok_or(invalid)?),
                'k' => m.other.push((kind, value.to_owned())),
                _ => return Err(SdpError::Line(n)),
            }
            continue;
        }
        match kind {
            'o' if origin.is_none() => origin = Some(parse_origin(value).ok_or(invalid)?),
            's' if session_name.is_none() => session_name = Some(value.to_owned()),
            'i' => session.info = Some(value.to_owned()),
            'c' => session.connection = Some(connection(value).ok_or(invalid)?),
            'b' => session.bandwidths.push(value.to_owned()),
            't' => session.timing.push(timing(value).ok_or(invalid)?),
            'a' => session.attributes.push(Attribute::parse(value).ok_or(invalid)?),
            'u' | 'e' | 'p' | 'z' | 'k' | 'r' => session.other.push((kind, value.to_owned())),
            _ => return Err(SdpError::Line(n)),
        }
    }
    // The writer puts u=/e=/p= before c=, then r=, then z=/k= (RFC 4566
    // order); a stable sort into that order lets what parses write back equal.
    session.other.sort_by_key(|(k, _)| match k {
        'u' | 'e' | 'p' => 0,
        'r' => 1,
        _ => 2,
    });
    session.origin = origin.ok_or(SdpError::Missing('o'))?;
    session.session_name = session_name.ok_or(SdpError::Missing('s'))?;
    if session.timing.is_empty() {
        session.timing.push(Timing::default());
    }
    Ok(session)
}

fn parse_origin(v: &str) -> Option<Origin> {
    let mut parts = v.split_whitespace();
    let username = parts.next().filter(|s| !s.is_empty())?;
    let session_id = parts.next().filter(|s| !s.is_empty())?;
    let session_version = number(parts.next()?, 20)?;
    let rest: Vec<&str> = parts.collect();
    let address = connection(&rest.join(" "))?;
    Some(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version,
        address,
    })
}

/// Parses `IN IP4 192.0.2.1`.
pub(super) fn connection(v: &str) -> Option<Connection> {
    let mut parts = v.split_whitespace();
    let (net_type, addr_type, address) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Connection {
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

fn timing(v: &str) -> Option<Timing> {
    let (start, stop) = v.split_once(' ')?;
    Some(Timing { start: number(start, 20)?, stop: number(stop.trim(), 20)? })
}

fn media(v: &str) -> Option<MediaDescription> {
    let mut parts = v.split(' ').filter(|p| !p.is_empty());
    let kind = parts.next()?;
    let port_field = parts.next()?;
    let (port, count) = match port_field.split_once('/') {
        Some((p, c)) => (number(p, 5)?, Some(number(c, 5)?)),
        None => (number(port_field, 5)?, None),
    };
    let proto = parts.next()?;
    let formats: Vec<String> = parts.map(str::to_owned).collect();
    if formats.is_empty() || !kind.chars().all(crate::scan::is_token_char) {
        return None;
    }
    Some(MediaDescription {
        media: kind.to_owned(),
        port,
        port_count: count,
        proto: proto.to_owned(),
        formats,
        info: None,
        connection: None,
        bandwidths: Vec::new(),
        attributes: Vec::new(),
        other: Vec::new(),
    })
}
