//! SDP (RFC 4566): the subset that RTP/AVP calls need, parsed into typed
//! values and written back, with offer/answer helpers (RFC 3264) for
//! PCMU, PCMA and telephone-event.
//!
//! Lines this module does not model (`u=`, `e=`, `p=`, `z=`, `k=`, `r=`)
//! are kept as they came and written back.

mod answer;
mod attribute;
mod parse;
mod write;

use std::net::IpAddr;

pub use answer::{answer, offer, Codec, LocalMedia, Negotiated};
pub use attribute::{Attribute, Direction, RtpMap};
pub use parse::{parse, parse_bytes, MAX_LINES, MAX_SDP_BYTES};

use thiserror::Error;

/// Why text is not a usable session description.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// Larger than [`MAX_SDP_BYTES`] or more than [`MAX_LINES`] lines.
    #[error("session description too large")]
    TooLarge,
    /// Not UTF-8 text.
    #[error("session description is not UTF-8")]
    NotUtf8,
    /// A line is not `x=value`; carries the 1-based line number.
    #[error("malformed line {0}")]
    Line(usize),
    /// The first line is not `v=0`.
    #[error("missing or unsupported v= line")]
    Version,
    /// A required line is missing.
    #[error("missing {0}= line")]
    Missing(char),
    /// A line of the named kind does not parse; carries the 1-based line number.
    #[error("invalid {kind}= line {line}")]
    Invalid {
        /// The line type (`o`, `c`, `m`, `t`, `a`).
        kind: char,
        /// The 1-based line number.
        line: usize,
    },
    /// The offer has no audio stream that can be answered.
    #[error("no usable audio stream in the offer")]
    NoAudio,
    /// No offered codec is one we accept.
    #[error("no codec in common")]
    NoCommonCodec,
}

/// `o=`: who made the session and which version of it this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when none).
    pub username: String,
    /// Session id (numeric by convention, kept as written).
    pub session_id: String,
    /// Session version: increases with every change.
    pub session_version: u64,
    /// Network and address of the originator.
    pub address: Connection,
}

/// `c=` (and the address part of `o=`): `IN IP4 192.0.2.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// The address as written (may be a name, or multicast with `/ttl`).
    pub address: String,
}

impl Connection {
    /// `IN IP4 a.b.c.d` or `IN IP6 ...` for an address.
    pub fn from_ip(ip: IpAddr) -> Connection {
        let addr_type = if ip.is_ipv4() { "IP4" } else { "IP6" };
        Connection { net_type: "IN".into(), addr_type: addr_type.into(), address: ip.to_string() }
    }

    /// The address, when it is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }
}

/// `t=`: start and stop times (`0 0` for a permanent session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`
    pub origin: Origin,
    /// `s=` (`-` when there is nothing to say).
    pub session_name: String,
    /// `i=`
    pub info: Option<String>,
    /// Session-level `c=`, used by media without their own.
    pub connection: Option<Connection>,
    /// `b=` lines as written (`AS:64`).
    pub bandwidths: Vec<String>,
    /// `t=` lines.
    pub timing: Vec<Timing>,
    /// Session-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// `m=` sections, in order.
    pub media: Vec<MediaDescription>,
    /// Other session-level lines (`u`, `e`, `p`, `z`, `k`, `r`), as written.
    pub other: Vec<(char, String)>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, ...
    pub media: String,
    /// Transport port (0: stream rejected or disabled).
    pub port: u16,
    /// Number of ports, from `port/count`.
    pub port_count: Option<u16>,
    /// Transport protocol: `RTP/AVP`, ...
    pub proto: String,
    /// Formats: RTP payload types for RTP/AVP.
    pub formats: Vec<String>,
    /// `i=`
    pub info: Option<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// `b=` lines as written.
    pub bandwidths: Vec<String>,
    /// Media-level `a=` lines.
    pub attributes: Vec<Attribute>,
    /// Other media-level lines (`k`), as written.
    pub other: Vec<(char, String)>,
}

impl SessionDescription {
    /// The `c=` that applies to `media`: its own, else the session's.
    pub fn connection_for<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// The direction of `media`: its own attribute, else the session's,
    /// else sendrecv.
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media.direction().or_else(|| attribute::direction_in(&self.attributes)).unwrap_or(Direction::SendRecv)
    }

    /// The first audio section with a non-zero port.
    pub fn audio(&self) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.media == "audio" && m.port != 0)
    }
}

impl MediaDescription {
    /// All `a=rtpmap` values.
    pub fn rtpmaps(&self) -> impl Iterator<Item = &RtpMap> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::RtpMap(m) => Some(m),
            _ => None,
        })
    }

    /// The rtpmap of payload type `pt`, or the static one RFC 3551 assigns
    /// (0 PCMU, 8 PCMA, ...) when none is written.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.rtpmaps().find(|m| m.payload_type == pt).cloned().or_else(|| RtpMap::static_type(pt))
    }

    /// The `a=fmtp` parameters of payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp { payload_type, params } if *payload_type == pt => Some(params.as_str()),
            _ => None,
        })
    }

    /// `a=ptime` in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(p) => Some(*p),
            _ => None,
        })
    }

    /// The media-level direction attribute, when present.
    pub fn direction(&self) -> Option<Direction> {
        attribute::direction_in(&self.attributes)
    }

    /// `a=rtcp`: the RTCP port (and address, when given).
    pub fn rtcp(&self) -> Option<(u16, Option<&Connection>)> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp { port, connection } => Some((*port, connection.as_ref())),
            _ => None,
        })
    }

    /// Replaces the direction attribute (or adds one).
    pub fn set_direction(&mut self, direction: Direction) {
        self.attributes.retain(|a| !matches!(a, Attribute::Direction(_)));
        self.attributes.push(Attribute::Direction(direction));
    }

    /// The payload types listed in `m=` that are numbers.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| crate::scan::number::<u8>(f, 3)).filter(|pt| *pt <= 127)
    }
}

#[cfg(test)]
mod tests;
