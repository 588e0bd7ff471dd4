//! The one normaliser and validator of the numbers and SIP addresses that
//! the configuration holds (a trunk's `remote_addr` and `inbound_uri`, a
//! DID), shared by every API dialect and by the router.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest address or number text accepted.
pub const MAX_ADDRESS_LEN: usize = 2048;

/// The most digits a phone number may have.
pub const MAX_NUMBER_DIGITS: usize = 32;

/// Why a text is not an address or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError(pub &'static str);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AddressError {}

/// The host of an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IP address (IPv6 written with or without brackets).
    Ip(IpAddr),
    /// A DNS name, lowercased.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// A parsed SIP address: `host`, `host:port`, `[v6]:port`, a bare IPv6
/// address, or a `sip:`/`sips:` URI (`sip:user@host:port;params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipAddress {
    /// Whether it was written as a `sips:` URI.
    pub secure: bool,
    /// The user part, if any.
    pub user: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, when one is given.
    pub port: Option<u16>,
    /// The URI parameters (`transport=tcp`), as written, without the `;`.
    pub params: Vec<String>,
}

impl SipAddress {
    /// Parses `text`; whitespace anywhere is refused (callers that accept
    /// surrounding spaces trim first).
    pub fn parse(text: &str) -> Result<SipAddress, AddressError> {
        const BAD: AddressError = AddressError("not a SIP address");
        if text.is_empty()
            || text.len() > MAX_ADDRESS_LEN
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(BAD);
        }
        let has = |s: &str| text.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
        let (secure, uri, rest) = if has("sips:") {
            (true, true, &text[5..])
        } else if has("sip:") {
            (false, true, &text[4..])
        } else {
            (false, false, text)
        };
        let rest = rest.split('?').next().unwrap_or("");
        let mut parts = rest.split(';');
        let head = parts.next().unwrap_or("");
        let params: Vec<String> = parts.map(str::to_owned).collect();
        if params.iter().any(String::is_empty) || (!uri && !params.is_empty()) {
            return Err(BAD);
        }
        let (user, hostport) = match head.rsplit_once('@') {
            Some((user, host)) if sip_user(user) => (Some(user.to_owned()), host),
            Some(_) => return Err(BAD),
            None => (None, head),
        };
        let (host, port) = host_port(hostport).ok_or(BAD)?;
        Ok(SipAddress { secure, user, host, port, params })
    }

    /// The `transport` parameter, lowercased, if any.
    pub fn transport(&self) -> Option<String> {
        self.params.iter().find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.eq_ignore_ascii_case("transport").then(|| v.to_ascii_lowercase())
        })
    }

    /// `host[:port]` as a SIP URI writes it (IPv6 in brackets), without
    /// scheme, user or parameters.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }

    /// The IP address of the host, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.host {
            Host::Ip(ip) => Some(ip),
            Host::Name(_) => None,
        }
    }
}

/// Whether `user` may be the user part of a SIP address.
pub fn sip_user(user: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,?/%".contains(c);
    !user.is_empty() && user.len() <= 128 && user.chars().all(ok)
}

/// A DNS host name: dot-separated labels of letters, digits and inner
/// hyphens, not all numeric (that would be a bad IPv4 address).
pub fn host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    host.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && !labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit()))
}

fn port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p > 0)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn host_port(text: &str) -> Option<(Host, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip = v6.parse::<Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            a => Some(port(a.strip_prefix(':')?)?),
        };
        return Some((Host::Ip(IpAddr::V6(ip)), port));
    }
    if let Ok(v6) = text.parse::<Ipv6Addr>() {
        return Some((Host::Ip(IpAddr::V6(v6)), None));
    }
    let (host, p) = match text.rsplit_once(':') {
        Some((h, p)) => (h, Some(port(p)?)),
        None => (text, None),
    };
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Some((Host::Ip(IpAddr::V4(v4)), p));
    }
    host_name(host).then(|| (Host::Name(host.to_ascii_lowercase()), p))
}

/// A phone number: digits with an optional leading `+`, at most
/// [`MAX_NUMBER_DIGITS`] digits. Answers it as given (no separators are
/// dropped: what is stored is what a call must dial).
pub fn phone_number(text: &str) -> Result<&str, AddressError> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if !digits.is_empty() && digits.len() <= MAX_NUMBER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(AddressError("not a phone number"))
    }
}

/// A number as written by people (`+1 (785) 317-8070`), without its
/// visual separators (`-`, `.`, spaces, parentheses), checked as a phone
/// number.
pub fn normalise_number(text: &str) -> Result<String, AddressError> {
    let number: String = text.trim().chars().filter(|c| !"-. ()".contains(*c)).collect();
    phone_number(&number)?;
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_into_parts() {
        let a = SipAddress::parse("sip:u@10.0.0.1:5060;transport=TCP").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.user.as_deref(), Some("u"));
        assert_eq!(a.host, Host::Ip("10.0.0.1".parse().unwrap_or_else(|_| unreachable!())));
        assert_eq!((a.port, a.transport().as_deref()), (Some(5060), Some("tcp")));
        let b = SipAddress::parse("SIPS:Carrier.Example.com").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((b.secure, b.host.to_string(), b.port), (true, "carrier.example.com".to_owned(), None));
        let c = SipAddress::parse("2001:db8::1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.host.to_string(), "[2001:db8::1]");
        let d = SipAddress::parse("[2001:db8::1]:5061").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.port, Some(5061));
        for bad in [
            "",
            "1.2.3.4:0",
            "1.2.3.4:70000",
            "1.2.3.999",
            "exa mple.com",
            "-bad-.com",
            "sip:",
            "sip:@host",
            "http://x",
            "host:",
            "[::1",
            "a..b",
            "sip:host;;x",
            "1.2.3.4;transport=udp",
            "sip:a b@host",
        ] {
            assert!(SipAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(phone_number("+8613800000000"), Ok("+8613800000000"));
        assert!(phone_number("12a").is_err());
        assert!(phone_number("+").is_err());
        assert!(phone_number(&"1".repeat(33)).is_err());
        assert_eq!(normalise_number(" +1 (785) 317-8070 ").as_deref(), Ok("+17853178070"));
        assert!(normalise_number("+1785abc").is_err());
    }
}
