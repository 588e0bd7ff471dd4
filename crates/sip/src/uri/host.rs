//! Hosts: domain names, IPv4 addresses and bracketed IPv6 references.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ParseError;
use crate::scan::number;

/// The host part of a SIP URI or Via sent-by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name as written (compare with [`Host::same`], not `==`).
    Domain(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address, written as `[...]`.
    V6(Ipv6Addr),
}

impl Host {
    /// Parses a host: `example.com`, `192.0.2.1` or `[2001:db8::1]`.
    pub fn parse(s: &str) -> Result<Host, ParseError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(ParseError::Uri("IPv6 reference"))?;
            return inner.parse().map(Host::V6).map_err(|_| ParseError::Uri("IPv6 reference"));
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return s.parse().map(Host::V4).map_err(|_| ParseError::Uri("IPv4 address"));
        }
        // A fully qualified name may end in one dot.
        let name = s.strip_suffix('.').unwrap_or(s);
        let label_ok = |label: &str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if name.is_empty() || s.len() > 255 || !name.split('.').all(label_ok) {
            return Err(ParseError::Uri("host"));
        }
        Ok(Host::Domain(s.to_owned()))
    }

    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::V4(a) => Some(IpAddr::V4(*a)),
            Host::V6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Host equality per RFC 3261 19.1.4: domain names without regard to case.
    pub fn same(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        match ip {
            IpAddr::V4(a) => Host::V4(a),
            IpAddr::V6(a) => Host::V6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

/// A host with an optional port, as in `hostport` and Via `sent-by`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The port, when written.
    pub port: Option<u16>,
}

impl HostPort {
    /// Parses `host[:port]`.
    pub fn parse(s: &str) -> Result<HostPort, ParseError> {
        // The port colon is the last one after any IPv6 reference.
        let tail_start = s.rfind(']').map_or(0, |i| i + 1);
        let tail = s.get(tail_start..).unwrap_or("");
        match tail.rfind(':') {
            Some(i) => {
                let split = tail_start + i;
                let host = Host::parse(s.get(..split).unwrap_or(""))?;
                let port =
                    number::<u16>(s.get(split + 1..).unwrap_or(""), 5).ok_or(ParseError::Uri("port"))?;
                Ok(HostPort { host, port: Some(port) })
            }
            None => Ok(HostPort { host: Host::parse(s)?, port: None }),
        }
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(Host::parse("[2001:db8::10]").expect("v6").to_string(), "[2001:db8::10]");
        assert_eq!(Host::parse("192.0.2.4").expect("v4"), Host::V4(Ipv4Addr::new(192, 0, 2, 4)));
        assert!(Host::parse("atlanta.example.com.").is_ok());
        assert!(Host::parse("256.0.0.1").is_err());
        assert!(Host::parse("2001:db8::10").is_err());
        assert!(Host::parse("bad host").is_err());
        assert!(Host::parse("a..b").is_err());
        assert!(Host::parse("-a.com").is_err());
        assert!(Host::parse("").is_err());
        assert!(Host::parse("[::1").is_err());
        assert!(Host::Domain("A.COM".into()).same(&Host::Domain("a.com".into())));
    }

    #[test]
    fn host_ports() {
        let hp = HostPort::parse("[2001:db8::9:1]:5070").expect("hostport");
        assert_eq!(hp.port, Some(5070));
        assert_eq!(hp.to_string(), "[2001:db8::9:1]:5070");
        assert_eq!(HostPort::parse("h.com").expect("hp").port, None);
        assert!(HostPort::parse("h.com:65536").is_err());
        assert!(HostPort::parse("h.com:").is_err());
        assert!(HostPort::parse("h.com:5060x").is_err());
    }
}
