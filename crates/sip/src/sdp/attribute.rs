//! Typed `a=` attributes: rtpmap, fmtp, ptime, direction, rtcp.

use super::Connection;
use crate::scan::number;

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap:0 PCMU/8000`
    RtpMap(RtpMap),
    /// `a=fmtp:101 0-16`
    Fmtp {
        /// The payload type.
        payload_type: u8,
        /// The format parameters as written.
        params: String,
    },
    /// `a=ptime:20`
    Ptime(u32),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`
    Direction(Direction),
    /// `a=rtcp:53020` or `a=rtcp:53020 IN IP4 192.0.2.1` (RFC 3605)
    Rtcp {
        /// The RTCP port.
        port: u16,
        /// The RTCP address, when given.
        connection: Option<Connection>,
    },
    /// Any other attribute: `a=name` or `a=name:value`.
    Other {
        /// The name.
        name: String,
        /// The value after the colon.
        value: Option<String>,
    },
}

/// `a=rtpmap` values: payload type, encoding, clock rate, channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type, 0..=127.
    pub payload_type: u8,
    /// The encoding name (`PCMU`, `telephone-event`), as written.
    pub encoding: String,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count, when written.
    pub channels: Option<u16>,
}

impl RtpMap {
    /// The static payload types of RFC 3551 that audio calls meet.
    pub fn static_type(pt: u8) -> Option<RtpMap> {
        let (encoding, clock_rate) = match pt {
            0 => ("PCMU", 8000),
            3 => ("GSM", 8000),
            4 => ("G723", 8000),
            8 => ("PCMA", 8000),
            9 => ("G722", 8000),
            13 => ("CN", 8000),
            18 => ("G729", 8000),
            _ => return None,
        };
        Some(RtpMap { payload_type: pt, encoding: encoding.into(), clock_rate, channels: None })
    }

    /// True when this is `encoding` at `clock_rate`, without regard to case.
    pub fn is(&self, encoding: &str, clock_rate: u32) -> bool {
        self.encoding.eq_ignore_ascii_case(encoding) && self.clock_rate == clock_rate
    }

    /// Parses the value after `rtpmap:`.
    fn parse(v: &str) -> Option<RtpMap> {
        let (pt, rest) = v.split_once(' ')?;
        let payload_type = number::<u8>(pt, 3).filter(|pt| *pt <= 127)?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty() && !e.contains(char::is_whitespace))?;
        let clock_rate = number(parts.next()?, 10)?;
        let channels = match parts.next() {
            Some(c) => Some(number(c, 5)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(RtpMap { payload_type, encoding: encoding.to_owned(), clock_rate, channels })
    }
}

/// The media direction of RFC 3264 6.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Only send.
    SendOnly,
    /// Only receive.
    RecvOnly,
    /// Neither (hold).
    Inactive,
}

impl Direction {
    /// Builds a direction from whether one sends and receives.
    pub fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// True when the side that wrote this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// True when the side that wrote this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// The direction attribute in `attributes`, when present.
pub(super) fn direction_in(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

impl Attribute {
    /// Parses the text after `a=`; `None` when a known attribute is malformed.
    pub(super) fn parse(v: &str) -> Option<Attribute> {
        let (name, value) = match v.split_once(':') {
            Some((n, val)) => (n, Some(val)),
            None => (v, None),
        };
        if name.is_empty() || !name.chars().all(crate::scan::is_token_char) {
            return None;
        }
        Some(match (name, value) {
            ("rtpmap", Some(val)) => Attribute::RtpMap(RtpMap::parse(val)?),
            ("fmtp", Some(val)) => {
                let (pt, params) = val.split_once(' ').unwrap_or((val, ""));
                let payload_type = number::<u8>(pt, 3).filter(|pt| *pt <= 127)?;
                Attribute::Fmtp { payload_type, params: params.trim().to_owned() }
            }
            ("ptime", Some(val)) => Attribute::Ptime(number(val.trim(), 6)?),
            ("rtcp", Some(val)) => {
                let (port, addr) = val.split_once(' ').unwrap_or((val, ""));
                let port = number(port, 5)?;
                let connection =
                    if addr.trim().is_empty() { None } else { Some(super::parse::connection(addr)?) };
                Attribute::Rtcp { port, connection }
            }
            ("sendrecv", None) => Attribute::Direction(Direction::SendRecv),
            ("sendonly", None) => Attribute::Direction(Direction::SendOnly),
            ("recvonly", None) => Attribute::Direction(Direction::RecvOnly),
            ("inactive", None) => Attribute::Direction(Direction::Inactive),
            (name, value) => Attribute::Other { name: name.to_owned(), value: value.map(str::to_owned) },
        })
    }
}
