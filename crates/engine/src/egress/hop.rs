//! Where an outgoing INVITE goes, read from a configured address (a
//! gateway's realm or proxy, a trunk's `remote_addr` or Fonoster
//! `outboundUri`, an `FS_DEST_IP` URI), and the Request-URI built on it.
//! Pure: no resolution, no store.

use sip::transaction::Protocol;
use sip::Uri;

use super::EgressError;
use crate::router::address::{sip_user, Host, SipAddress};

/// The port when an address names none: 5060, or 5061 over TLS.
pub fn default_port(protocol: Protocol) -> u16 {
    match protocol {
        Protocol::Tls => 5061,
        Protocol::Udp | Protocol::Tcp => 5060,
    }
}

/// A configured address, parsed: host, port and transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The host (an IP address or a name still to resolve).
    pub host: Host,
    /// The port, when the address names one.
    pub port: Option<u16>,
    /// How it is reached.
    pub protocol: Protocol,
    /// The user part the address was written with, if any.
    pub user: Option<String>,
}

impl NextHop {
    /// Parses `text` (`host`, `host:port`, `[v6]:port`, `sip:`/`sips:`
    /// URI). The transport is the URI's `transport` parameter, else
    /// `sips:` (TLS), else `protocol` (a trunk's `protocol` column or a
    /// gateway's `register-transport`: `UDP`, `TCP`, `TLS`, any case),
    /// else UDP. WebSocket transports and TLS (no TLS client yet) cannot
    /// carry a call out.
    pub fn parse(what: &str, text: &str, protocol: Option<&str>) -> Result<NextHop, EgressError> {
        let bad = |reason: String| EgressError::BadAddress { what: what.to_owned(), reason };
        let text = text.trim();
        if text.is_empty() {
            return Err(bad("no address is configured".to_owned()));
        }
        let addr = SipAddress::parse(text).map_err(|e| bad(format!("'{text}' is {e}")))?;
        let chosen = addr
            .transport()
            .or_else(|| addr.secure.then(|| "tls".to_owned()))
            .or_else(|| protocol.map(str::trim).filter(|p| !p.is_empty()).map(str::to_ascii_lowercase));
        let protocol = match chosen.as_deref() {
            None | Some("udp") => Protocol::Udp,
            Some("tcp") => Protocol::Tcp,
            // The switch has no TLS client yet: refusing is clearer than
            // sending clear text to a TLS port.
            Some("tls") => return Err(bad("TLS (sips:) cannot carry calls out yet".to_owned())),
            Some(other) => return Err(bad(format!("transport '{other}' cannot carry calls out"))),
        };
        Ok(NextHop { host: addr.host, port: addr.port, protocol, user: addr.user })
    }

    /// The port to send to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| default_port(self.protocol))
    }

    /// `host` or `host:port` as configured (for From/To and the
    /// Request-URI).
    pub fn hostport(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }

    /// `sip:<user>@<host>[:port]`, with `;transport=tcp` or `tls` when
    /// not UDP.
    pub fn request_uri(&self, user: &str) -> Result<Uri, EgressError> {
        check_user(user)?;
        let transport = match self.protocol {
            Protocol::Udp => "",
            Protocol::Tcp => ";transport=tcp",
            Protocol::Tls => ";transport=tls",
        };
        let text = format!("sip:{user}@{}{transport}", self.hostport());
        Uri::parse(&text).map_err(|e| EgressError::BadCallee(format!("{user} ({e})")))
    }
}

/// Refuses a called number that cannot be the user part of a SIP URI.
pub fn check_user(user: &str) -> Result<(), EgressError> {
    if sip_user(user) {
        Ok(())
    } else {
        Err(EgressError::BadCallee(user.to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn realms_and_uris_become_request_uris() {
        let hop = NextHop::parse("gateway 1", "127.0.0.1:5090", None).unwrap();
        assert_eq!(hop.protocol, Protocol::Udp);
        assert_eq!(hop.port(), 5090);
        assert_eq!(hop.request_uri("5551234").unwrap().to_string(), "sip:5551234@127.0.0.1:5090");

        let hop = NextHop::parse("trunk 2", "sip:carrier.example.com;transport=TCP", Some("UDP")).unwrap();
        assert_eq!(hop.protocol, Protocol::Tcp, "the URI's transport wins over the column");
        assert_eq!(hop.port(), 5060);
        assert_eq!(hop.hostport(), "carrier.example.com");
        assert_eq!(
            hop.request_uri("+15551234").unwrap().to_string(),
            "sip:+15551234@carrier.example.com;transport=tcp"
        );

        let hop = NextHop::parse("trunk 3", "[2001:db8::1]", None).unwrap();
        assert_eq!((hop.protocol, hop.port()), (Protocol::Udp, 5060));
        assert_eq!(hop.request_uri("100").unwrap().to_string(), "sip:100@[2001:db8::1]");
        let tls = NextHop { protocol: Protocol::Tls, ..hop };
        assert_eq!((tls.port(), tls.hostport()), (5061, "[2001:db8::1]".to_owned()));

        let hop = NextHop::parse("trunk 4", "10.0.0.1", Some("tcp")).unwrap();
        assert_eq!(hop.protocol, Protocol::Tcp, "the column when the address says nothing");
        let hop = NextHop::parse("ip", "sip:2000@10.0.0.2:5070", None).unwrap();
        assert_eq!(hop.user.as_deref(), Some("2000"));
    }

    #[test]
    fn bad_addresses_and_numbers_are_refused_clearly() {
        let cases = [
            ("", None),
            ("not an address", None),
            ("10.0.0.1", Some("WSS")),
            ("sips:carrier.example", None),
            ("10.0.0.1", Some("TLS")),
        ];
        for (text, protocol) in cases {
            let e = NextHop::parse("trunk 9", text, protocol).unwrap_err();
            assert!(matches!(e, EgressError::BadAddress { .. }), "{text}: {e}");
            assert!(e.to_string().starts_with("trunk 9"), "{e}");
        }
        let hop = NextHop::parse("gateway 1", "127.0.0.1", None).unwrap();
        for callee in ["", "55 12", "a@b", "x<y>"] {
            assert!(matches!(hop.request_uri(callee), Err(EgressError::BadCallee(_))), "{callee:?}");
        }
    }
}
