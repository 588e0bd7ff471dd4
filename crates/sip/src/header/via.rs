//! The Via header: transport, sent-by and the branch/received/rport
//! parameters that transactions and responses are routed by.

use std::fmt;
use std::net::IpAddr;

use crate::error::ParseError;
use crate::params::Params;
use crate::scan::{is_token, is_token_char, number, split_once_byte};
use crate::uri::HostPort;

/// The magic cookie that starts every RFC 3261 branch parameter.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// A Via transport.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
    /// TLS over TCP
    Tls,
    /// SCTP
    Sctp,
    /// WebSocket (RFC 7118)
    Ws,
    /// Secure WebSocket (RFC 7118)
    Wss,
    /// Any other token, upper-cased.
    Other(String),
}

impl Transport {
    /// Parses a transport token, without regard to case.
    pub fn parse(s: &str) -> Result<Transport, ParseError> {
        // The usual ones without an upper-cased copy.
        const KNOWN: [(&str, Transport); 6] = [
            ("UDP", Transport::Udp),
            ("TCP", Transport::Tcp),
            ("TLS", Transport::Tls),
            ("SCTP", Transport::Sctp),
            ("WS", Transport::Ws),
            ("WSS", Transport::Wss),
        ];
        if let Some((_, known)) = KNOWN.iter().find(|(name, _)| s.eq_ignore_ascii_case(name)) {
            return Ok(known.clone());
        }
        let other = s.to_ascii_uppercase();
        if is_token(&other) {
            Ok(Transport::Other(other))
        } else {
            Err(ParseError::Value("transport"))
        }
    }

    /// The token as written in a Via.
    pub fn as_str(&self) -> &str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(s) => s,
        }
    }

    /// True for transports that keep message boundaries themselves (UDP).
    pub fn is_datagram(&self) -> bool {
        *self == Transport::Udp
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `rport` parameter of RFC 3581.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rport {
    /// No `rport` parameter.
    Absent,
    /// `;rport` without a value: the client asks for symmetric response routing.
    Requested,
    /// `;rport=5061`: the source port that the server saw.
    Port(u16),
}

/// One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The transport.
    pub transport: Transport,
    /// Where the sender wants responses: host and optional port.
    pub sent_by: HostPort,
    /// Parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: Params,
}

impl Via {
    /// A Via with a branch parameter and nothing else.
    pub fn new(transport: Transport, sent_by: HostPort, branch: &str) -> Via {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via { transport, sent_by, params }
    }

    /// Parses one Via value.
    pub fn parse(s: &str) -> Result<Via, ParseError> {
        let bad = || ParseError::Value("Via");
        let (protocol, rest) = split_once_byte(s.trim(), b'/').ok_or_else(bad)?;
        let (version, rest) = split_once_byte(rest, b'/').ok_or_else(bad)?;
        if !protocol.trim().eq_ignore_ascii_case("SIP") {
            return Err(bad());
        }
        if version.trim() != "2.0" {
            return Err(ParseError::Version(version.trim().to_owned()));
        }
        let rest = rest.trim_start();
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let transport = Transport::parse(rest.get(..end).unwrap_or(""))?;
        let rest = rest.get(end..).unwrap_or("");
        if !rest.starts_with([' ', '\t']) {
            return Err(bad());
        }
        let rest = rest.trim_start();
        let end = memchr::memchr(b';', rest.as_bytes()).unwrap_or(rest.len());
        let sent_by = rest.get(..end).unwrap_or("");
        // SWS is allowed around the port colon: drop all whitespace (a copy
        // only when there is some).
        let sent_by = if sent_by.contains(char::is_whitespace) {
            HostPort::parse(&sent_by.chars().filter(|c| !c.is_whitespace()).collect::<String>())?
        } else {
            HostPort::parse(sent_by)?
        };
        let params = Params::parse_header(rest.get(end..).unwrap_or(""))?;
        Ok(Via { transport, sent_by, params })
    }

    /// The branch parameter (transaction identifier).
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch")
    }

    /// True when the branch starts with the RFC 3261 magic cookie.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_COOKIE))
    }

    /// The `received` parameter: the source address a server saw.
    pub fn received(&self) -> Option<&str> {
        self.params.get("received")
    }

    /// Sets `received` (RFC 3261 18.2.1).
    pub fn set_received(&mut self, ip: IpAddr) {
        self.params.set("received", Some(&ip.to_string()));
    }

    /// The `rport` parameter (RFC 3581).
    pub fn rport(&self) -> Rport {
        match (self.params.has("rport"), self.params.get("rport")) {
            (false, _) => Rport::Absent,
            (true, None) => Rport::Requested,
            (true, Some(v)) => number(v, 5).map_or(Rport::Requested, Rport::Port),
        }
    }

    /// Fills in `rport=port` (RFC 3581 4), replacing a bare `rport`.
    pub fn set_rport(&mut self, port: u16) {
        self.params.set("rport", Some(&port.to_string()));
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&str> {
        self.params.get("maddr")
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Host;

    #[test]
    fn via_with_branch_received_rport() {
        let v =
            Via::parse("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;rport;received=192.0.2.1")
                .expect("via");
        assert_eq!(v.transport, Transport::Udp);
        assert_eq!(v.sent_by.host, Host::Domain("pc33.atlanta.com".into()));
        assert_eq!(v.sent_by.port, Some(5066));
        assert_eq!(v.branch(), Some("z9hG4bK776asdhds"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.rport(), Rport::Requested);
        assert_eq!(v.received(), Some("192.0.2.1"));
        let mut v = v;
        v.set_rport(5070);
        assert_eq!(v.rport(), Rport::Port(5070));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;rport=5070;received=192.0.2.1"
        );
    }

    #[test]
    fn via_with_odd_whitespace_and_ipv6() {
        let v = Via::parse(
            "SIP  /   2.0 /  tcp   [2001:db8::9:1] : 5060 ; branch = z9hG4bKas3 ; received=2001:db8::9:255",
        )
        .expect("via");
        assert_eq!(v.transport, Transport::Tcp);
        assert_eq!(v.sent_by.to_string(), "[2001:db8::9:1]:5060");
        assert_eq!(v.branch(), Some("z9hG4bKas3"));
        assert_eq!(v.received(), Some("2001:db8::9:255"));
    }

    #[test]
    fn bad_vias() {
        assert_eq!(Via::parse("SIP/7.0/UDP h"), Err(ParseError::Version("7.0".into())));
        for s in [
            "SIP/2.0/UDP",
            "SIP/2.0 UDP h",
            "SIP/2.0/UDPh",
            "HTTP/2.0/UDP h",
            "SIP/2.0/UDP h;=x",
            "SIP/2.0/UDP h:x",
        ] {
            assert!(Via::parse(s).is_err(), "{s}");
        }
    }
}
