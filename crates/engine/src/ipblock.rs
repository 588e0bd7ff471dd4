//! The IP blacklist: which sources the SIP and RTP listeners drop unread.
//!
//! A rule names a source network (an address or a CIDR block), optionally
//! one local port (iptables' `--dport`: the port of ours that the packet is
//! sent to) and a protocol (`udp`, `tcp` or `all`). A packet is blocked
//! when any rule holds for it. Pure functions, no I/O.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

pub use ipnet::IpNet;

/// The transport protocol a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// UDP only.
    Udp,
    /// TCP only (TLS and WebSocket run over it).
    Tcp,
    /// Both.
    All,
}

impl Protocol {
    /// The protocol's name as iptables and the PBX API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
            Protocol::All => "all",
        }
    }
}

impl FromStr for Protocol {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Protocol, RuleError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Protocol::Udp),
            "tcp" => Ok(Protocol::Tcp),
            "all" | "" => Ok(Protocol::All),
            _ => Err(RuleError::Protocol(s.to_owned())),
        }
    }
}

/// The transport a packet arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A UDP datagram (SIP over UDP, RTP).
    Udp,
    /// A TCP connection (SIP over TCP, TLS or WebSocket).
    Tcp,
}

/// Why a rule could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// Not an IP address or CIDR block.
    Address(String),
    /// Not a port from 1 to 65535.
    Port(String),
    /// Not `udp`, `tcp` or `all`.
    Protocol(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Address(a) => {
                write!(f, "'{a}' is not an IP address or CIDR block (such as 1.2.3.4 or 10.0.0.0/8)")
            }
            RuleError::Port(p) => write!(f, "'{p}' is not a port from 1 to 65535"),
            RuleError::Protocol(p) => write!(f, "'{p}' is not a protocol: use udp, tcp or all"),
        }
    }
}

impl std::error::Error for RuleError {}

/// One blocking rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The source network (its host bits cleared).
    pub net: IpNet,
    /// The local port it applies to; every port when `None`.
    pub port: Option<u16>,
    /// The protocol it applies to.
    pub protocol: Protocol,
}

/// Parses an address (`1.2.3.4`, `::1`: one host) or a CIDR block
/// (`10.0.0.0/8`; host bits are cleared, as iptables does).
pub fn parse_net(text: &str) -> Result<IpNet, RuleError> {
    let t = text.trim();
    let bad = || RuleError::Address(text.to_owned());
    if t.contains('/') {
        return t.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| bad());
    }
    let ip: IpAddr = t.parse().map_err(|_| bad())?;
    Ok(IpNet::from(ip))
}

/// Parses a port from 1 to 65535.
pub fn parse_port(text: &str) -> Result<u16, RuleError> {
    match text.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(RuleError::Port(text.to_owned())),
    }
}

impl Rule {
    /// A rule from its parts as the API gives them.
    pub fn parse(net: &str, port: Option<&str>, protocol: &str) -> Result<Rule, RuleError> {
        Ok(Rule {
            net: parse_net(net)?,
            port: port.filter(|p| !p.trim().is_empty()).map(parse_port).transpose()?,
            protocol: protocol.parse()?,
        })
    }

    /// Whether the rule drops a packet from `source` to our `local_port`
    /// over `transport`.
    pub fn blocks(&self, source: IpAddr, local_port: u16, transport: Transport) -> bool {
        let proto_ok = match (self.protocol, transport) {
            (Protocol::All, _) | (Protocol::Udp, Transport::Udp) | (Protocol::Tcp, Transport::Tcp) => true,
            (Protocol::Udp, Transport::Tcp) | (Protocol::Tcp, Transport::Udp) => false,
        };
        proto_ok && self.port.is_none_or(|p| p == local_port) && self.net.contains(&canonical(source))
    }

    /// The rule as `iptables -S` would print it after `-A` (one line per
    /// protocol: a port with `all` needs a UDP and a TCP line).
    pub fn specs(&self, comment: &str) -> Vec<String> {
        let comment = if comment.is_empty() {
            String::new()
        } else {
            format!(" -m comment --comment {}", quote(comment))
        };
        let protos: &[&str] = match (self.protocol, self.port) {
            (Protocol::All, Some(_)) => &["udp", "tcp"],
            (Protocol::All, None) => &[],
            (p, _) => &[p.as_str()][..],
        };
        let net = self.net;
        if protos.is_empty() {
            return vec![format!("INPUT -s {net}{comment} -j DROP")];
        }
        protos
            .iter()
            .map(|p| match self.port {
                Some(port) => format!("INPUT -s {net} -p {p} -m {p} --dport {port}{comment} -j DROP"),
                None => format!("INPUT -s {net} -p {p}{comment} -j DROP"),
            })
            .collect()
    }
}

/// An IPv4 address seen on a dual-stack socket (`::ffff:1.2.3.4`) as IPv4,
/// so that IPv4 rules hold for it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn quote(text: &str) -> String {
    if text.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\') {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text.to_owned()
    }
}

/// Whether any of `rules` drops a packet from `source` to our `local_port`
/// over `transport`.
pub fn is_blocked<'a>(
    rules: impl IntoIterator<Item = &'a Rule>,
    source: IpAddr,
    local_port: u16,
    transport: Transport,
) -> bool {
    rules.into_iter().any(|r| r.blocks(source, local_port, transport))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_host_rule_blocks_only_that_host_port_and_protocol() {
        let r = Rule::parse("1.1.21.12", Some("21345"), "udp").unwrap();
        assert!(r.blocks(ip("1.1.21.12"), 21345, Transport::Udp));
        assert!(!r.blocks(ip("1.1.21.13"), 21345, Transport::Udp));
        assert!(!r.blocks(ip("1.1.21.12"), 5060, Transport::Udp));
        assert!(!r.blocks(ip("1.1.21.12"), 21345, Transport::Tcp));
    }

    #[test]
    fn cidr_blocks_all_ports_and_protocols_when_not_limited() {
        let r = Rule::parse("10.1.2.3/16", None, "all").unwrap();
        assert_eq!(r.net.to_string(), "10.1.0.0/16");
        assert!(r.blocks(ip("10.1.200.7"), 5060, Transport::Udp));
        assert!(r.blocks(ip("10.1.0.1"), 1, Transport::Tcp));
        assert!(!r.blocks(ip("10.2.0.1"), 5060, Transport::Udp));
        let tcp = Rule::parse("192.168.0.0/24", Some("5061"), "TCP").unwrap();
        assert!(tcp.blocks(ip("192.168.0.9"), 5061, Transport::Tcp));
        assert!(!tcp.blocks(ip("192.168.0.9"), 5061, Transport::Udp));
    }

    #[test]
    fn ipv6_and_mapped_ipv4_sources() {
        let v4 = Rule::parse("1.2.3.4", None, "all").unwrap();
        assert!(v4.blocks(ip("::ffff:1.2.3.4"), 5060, Transport::Udp));
        let v6 = Rule::parse("2001:db8::/32", Some("5060"), "udp").unwrap();
        assert!(v6.blocks(ip("2001:db8:1::5"), 5060, Transport::Udp));
        assert!(!v6.blocks(ip("2001:db9::5"), 5060, Transport::Udp));
        assert!(!v6.blocks(ip("1.2.3.4"), 5060, Transport::Udp));
    }

    #[test]
    fn any_rule_blocks() {
        let rules = [
            Rule::parse("1.1.1.1", Some("5060"), "udp").unwrap(),
            Rule::parse("2.2.2.0/24", None, "tcp").unwrap(),
        ];
        assert!(is_blocked(&rules, ip("1.1.1.1"), 5060, Transport::Udp));
        assert!(is_blocked(&rules, ip("2.2.2.200"), 443, Transport::Tcp));
        assert!(!is_blocked(&rules, ip("2.2.2.200"), 443, Transport::Udp));
        assert!(!is_blocked(&[], ip("1.1.1.1"), 5060, Transport::Udp));
    }

    #[test]
    fn bad_parts_are_refused() {
        for (net, port, proto) in [
            ("1.1.1.256", None, "udp"),
            ("1.1.1.1/33", None, "udp"),
            ("example.com", None, "udp"),
            ("", None, "udp"),
            ("1.1.1.1", Some("0"), "udp"),
            ("1.1.1.1", Some("65536"), "udp"),
            ("1.1.1.1", Some("-1"), "udp"),
            ("1.1.1.1", Some("x"), "udp"),
            ("1.1.1.1", None, "icmp"),
        ] {
            assert!(Rule::parse(net, port, proto).is_err(), "{net} {port:?} {proto}");
        }
    }

    #[test]
    fn specs_read_like_iptables() {
        let r = Rule::parse("1.1.21.12", Some("21345"), "udp").unwrap();
        assert_eq!(
            r.specs("test"),
            ["INPUT -s 1.1.21.12/32 -p udp -m udp --dport 21345 -m comment --comment test -j DROP"]
        );
        let all = Rule::parse("10.0.0.0/8", Some("5060"), "all").unwrap();
        assert_eq!(all.specs("").len(), 2);
        assert_eq!(
            Rule::parse("10.0.0.0/8", None, "all").unwrap().specs("my net"),
            ["INPUT -s 10.0.0.0/8 -m comment --comment \"my net\" -j DROP"]
        );
    }
}
