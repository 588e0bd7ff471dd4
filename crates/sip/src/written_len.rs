//! What a value writes, laid out once: `Display`, its length counted
//! without writing, and its text pushed onto a `String` all come from one
//! `write_to`, generic over the sink so that none goes through the
//! formatting machinery. The parser holds every Via, From, To and CSeq it
//! reads to the writer's limits, the transaction layer weighs each request
//! by its echoed headers, and every response writes them again: this runs
//! for every message.

use std::fmt::{self, Write};
use std::net::Ipv4Addr;

use crate::address::NameAddr;
use crate::decimal::{write_ipv4, write_u32};
use crate::header::{CSeq, Via};
use crate::params::Params;
use crate::scan::write_quoted;
use crate::uri::{Host, HostPort, SipUri, Uri};

/// A value's written form, laid out once in [`WrittenLen::write_to`].
pub(crate) trait WrittenLen {
    /// Writes the value to `out`; its `Display` does just this.
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result;

    /// Bytes that `to_string()` would give, counted without writing them.
    fn written_len(&self) -> usize {
        let mut count = Counter(0);
        let _ = self.write_to(&mut count);
        count.0
    }

    /// Appends what `to_string()` would give.
    fn write_into(&self, out: &mut String) {
        let _ = self.write_to(out);
    }
}

/// Where a value is written: text, and numbers, which a [`Counter`]
/// counts without formatting them.
pub(crate) trait Sink: Write + Sized {
    /// Writes `n` in decimal.
    fn number(&mut self, n: u32) -> fmt::Result {
        write_u32(self, n)
    }

    /// Writes `a` in dotted decimal.
    fn ipv4(&mut self, a: Ipv4Addr) -> fmt::Result {
        write_ipv4(self, a)
    }
}

impl Sink for String {}

impl Sink for fmt::Formatter<'_> {}

/// A writer that only counts.
pub(crate) struct Counter(pub(crate) usize);

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

impl Sink for Counter {
    fn number(&mut self, n: u32) -> fmt::Result {
        self.0 += n.checked_ilog10().map_or(1, |d| d as usize + 1);
        Ok(())
    }

    fn ipv4(&mut self, a: Ipv4Addr) -> fmt::Result {
        for o in a.octets() {
            self.number(u32::from(o))?;
        }
        self.0 += 3;
        Ok(())
    }
}

impl WrittenLen for str {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self)
    }
}

impl WrittenLen for String {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self)
    }
}

impl WrittenLen for usize {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        match u32::try_from(*self) {
            Ok(n) => out.number(n),
            Err(_) => write!(out, "{self}"),
        }
    }
}

impl WrittenLen for Params {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        for p in self.iter() {
            out.write_char(';')?;
            out.write_str(&p.name)?;
            if let Some(v) = &p.value {
                out.write_char('=')?;
                out.write_str(v)?;
            }
        }
        Ok(())
    }
}

impl WrittenLen for Host {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        match self {
            Host::Domain(d) => out.write_str(d),
            Host::V4(a) => out.ipv4(*a),
            Host::V6(a) => write!(out, "[{a}]"),
        }
    }
}

impl WrittenLen for HostPort {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        self.host.write_to(out)?;
        write_port(out, self.port)
    }
}

/// `:port`, when there is one.
fn write_port<W: Sink>(out: &mut W, port: Option<u16>) -> fmt::Result {
    match port {
        Some(p) => {
            out.write_char(':')?;
            out.number(u32::from(p))
        }
        None => Ok(()),
    }
}

impl WrittenLen for SipUri {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self.scheme.as_str())?;
        out.write_char(':')?;
        if let Some(user) = &self.user {
            out.write_str(user)?;
            if let Some(pw) = &self.password {
                out.write_char(':')?;
                out.write_str(pw)?;
            }
            out.write_char('@')?;
        }
        self.host.write_to(out)?;
        write_port(out, self.port)?;
        self.params.write_to(out)?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            out.write_char(if i == 0 { '?' } else { '&' })?;
            out.write_str(name)?;
            out.write_char('=')?;
            out.write_str(value)?;
        }
        Ok(())
    }
}

impl WrittenLen for Uri {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.write_to(out),
            Uri::Tel(t) => write!(out, "{t}"),
            Uri::Other(s) => out.write_str(s),
        }
    }
}

impl WrittenLen for NameAddr {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        if let Some(d) = &self.display {
            write_quoted(out, d)?;
            out.write_char(' ')?;
        }
        out.write_char('<')?;
        self.uri.write_to(out)?;
        out.write_char('>')?;
        self.params.write_to(out)
    }
}

impl WrittenLen for Via {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.write_str("SIP/2.0/")?;
        out.write_str(self.transport.as_str())?;
        out.write_char(' ')?;
        self.sent_by.write_to(out)?;
        self.params.write_to(out)
    }
}

impl WrittenLen for CSeq {
    fn write_to<W: Sink>(&self, out: &mut W) -> fmt::Result {
        out.number(self.seq)?;
        out.write_char(' ')?;
        out.write_str(self.method.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::WrittenLen;
    use crate::address::NameAddr;
    use crate::header::{CSeq, Via};
    use crate::uri::Uri;

    fn same<T: WrittenLen + std::fmt::Display>(value: &T) {
        let text = value.to_string();
        assert_eq!(value.written_len(), text.len(), "{value}");
        let mut out = String::from("x");
        value.write_into(&mut out);
        assert_eq!(out.get(1..), Some(text.as_str()));
    }

    #[test]
    fn lengths_are_those_written() {
        for via in [
            "SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK-1-2-0",
            "SIP/2.0/TCP 10.0.0.255;branch=z9hG4bKx;rport=5060;received=192.168.100.9",
            "SIP/2.0/WSS [2001:db8::1]:443;branch=z9hG4bKy;rport",
            "SIP/2.0/FOO host.example.com ; branch = z9hG4bKz",
            "SIP/2.0/UDP 0.0.0.0:0;branch=z9hG4bK;maddr=224.0.0.1",
        ] {
            same(&Via::parse(via).expect(via));
        }
        for addr in [
            "<sip:20000@127.0.0.1>;tag=4242r1",
            "\"Bob \\\"B\\\" Smith\" <sips:bob:pw@biloxi.com:5061;transport=tcp;lr?subject=x&h=y>;tag=a",
            "Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8",
            "<tel:+1-201-555-0123;phone-context=x>",
            "<urn:service:sos>",
            "sip:alice@[2001:db8::10]:5070",
            "<sip:1.2.3.4>",
        ] {
            same(&NameAddr::parse(addr).expect(addr));
        }
        for uri in ["sip:a@b", "sip:b;lr", "sips:u:p@h:1?a=b"] {
            same(&Uri::parse(uri).expect(uri));
        }
        for cseq in ["0 REGISTER", "2147483647 INVITE", "10 FOO", "9 ACK"] {
            same(&CSeq::parse(cseq).expect(cseq));
        }
        for n in [0usize, 9, 10, 99, 100, 65_535, 4_294_967_295, 4_294_967_296, usize::MAX] {
            same(&n);
        }
    }
}
