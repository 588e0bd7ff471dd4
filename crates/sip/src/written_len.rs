//! What a value's `Display` writes, without the formatting machinery: its
//! length computed from its parts, and its text pushed onto a `String`.
//! The parser holds every Via, From, To and CSeq it reads to the writer's
//! limits, the transaction layer weighs each request by its echoed
//! headers, and every response writes them again: this runs for every
//! message. Rare shapes (IPv6 hosts, display names, tel URIs) still go
//! through `Display`.

use std::fmt::{self, Write};

use crate::address::NameAddr;
use crate::header::{CSeq, Via};
use crate::params::Params;
use crate::uri::{Host, HostPort, SipUri, Uri};

/// What `Display` writes, exactly, without formatting.
pub(crate) trait WrittenLen {
    /// Bytes that `to_string()` would give.
    fn written_len(&self) -> usize;

    /// Appends what `to_string()` would give.
    fn write_into(&self, out: &mut String);
}

/// Appends `value` through its `Display`.
fn formatted(out: &mut String, value: &dyn fmt::Display) {
    let _ = write!(out, "{value}");
}

/// The length of `s` written as a quoted string (`scan::quote`).
fn quoted_len(s: &str) -> usize {
    2 + s.len() + s.bytes().filter(|b| matches!(b, b'"' | b'\\')).count()
}

/// Appends `n` in decimal.
fn push_u32(out: &mut String, n: u32) {
    let _ = crate::decimal::write_u32(out, n);
}

/// A writer that only counts.
struct Counter(usize);

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The length of `value` written, by formatting it into a counter.
fn counted(value: &dyn fmt::Display) -> usize {
    let mut count = Counter(0);
    let _ = write!(count, "{value}");
    count.0
}

/// Decimal digits of `n`.
fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

impl WrittenLen for str {
    fn written_len(&self) -> usize {
        self.len()
    }

    fn write_into(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl WrittenLen for String {
    fn written_len(&self) -> usize {
        self.len()
    }

    fn write_into(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl WrittenLen for usize {
    fn written_len(&self) -> usize {
        match u32::try_from(*self) {
            Ok(n) => digits(n),
            Err(_) => counted(self),
        }
    }

    fn write_into(&self, out: &mut String) {
        match u32::try_from(*self) {
            Ok(n) => push_u32(out, n),
            Err(_) => formatted(out, self),
        }
    }
}

impl WrittenLen for Params {
    fn written_len(&self) -> usize {
        self.iter().map(|p| 1 + p.name.len() + p.value.as_ref().map_or(0, |v| 1 + v.len())).sum()
    }

    fn write_into(&self, out: &mut String) {
        for p in self.iter() {
            out.push(';');
            out.push_str(&p.name);
            if let Some(v) = &p.value {
                out.push('=');
                out.push_str(v);
            }
        }
    }
}

impl WrittenLen for Host {
    fn written_len(&self) -> usize {
        match self {
            Host::Domain(d) => d.len(),
            Host::V4(a) => 3 + a.octets().iter().map(|o| digits(u32::from(*o))).sum::<usize>(),
            Host::V6(_) => counted(self),
        }
    }

    fn write_into(&self, out: &mut String) {
        match self {
            Host::Domain(d) => out.push_str(d),
            Host::V4(a) => {
                let _ = crate::decimal::write_ipv4(out, *a);
            }
            Host::V6(_) => formatted(out, self),
        }
    }
}

impl WrittenLen for HostPort {
    fn written_len(&self) -> usize {
        self.host.written_len() + self.port.map_or(0, |p| 1 + digits(u32::from(p)))
    }

    fn write_into(&self, out: &mut String) {
        self.host.write_into(out);
        if let Some(p) = self.port {
            out.push(':');
            push_u32(out, u32::from(p));
        }
    }
}

impl WrittenLen for SipUri {
    fn written_len(&self) -> usize {
        let user =
            self.user.as_ref().map_or(0, |u| u.len() + 1 + self.password.as_ref().map_or(0, |p| 1 + p.len()));
        let headers: usize = self.headers.iter().map(|(name, value)| 2 + name.len() + value.len()).sum();
        self.scheme.as_str().len()
            + 1
            + user
            + self.host.written_len()
            + self.port.map_or(0, |p| 1 + digits(u32::from(p)))
            + self.params.written_len()
            + headers
    }

    fn write_into(&self, out: &mut String) {
        out.push_str(self.scheme.as_str());
        out.push(':');
        if let Some(user) = &self.user {
            out.push_str(user);
            if let Some(pw) = &self.password {
                out.push(':');
                out.push_str(pw);
            }
            out.push('@');
        }
        self.host.write_into(out);
        if let Some(p) = self.port {
            out.push(':');
            push_u32(out, u32::from(p));
        }
        self.params.write_into(out);
        for (i, (name, value)) in self.headers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }
}

impl WrittenLen for Uri {
    fn written_len(&self) -> usize {
        match self {
            Uri::Sip(u) => u.written_len(),
            Uri::Tel(t) => counted(t),
            Uri::Other(s) => s.len(),
        }
    }

    fn write_into(&self, out: &mut String) {
        match self {
            Uri::Sip(u) => u.write_into(out),
            Uri::Tel(t) => formatted(out, t),
            Uri::Other(s) => out.push_str(s),
        }
    }
}

impl WrittenLen for NameAddr {
    fn written_len(&self) -> usize {
        let display = self.display.as_ref().map_or(0, |d| quoted_len(d) + 1);
        display + 1 + self.uri.written_len() + 1 + self.params.written_len()
    }

    fn write_into(&self, out: &mut String) {
        if let Some(d) = &self.display {
            let _ = crate::scan::write_quoted(out, d);
            out.push(' ');
        }
        out.push('<');
        self.uri.write_into(out);
        out.push('>');
        self.params.write_into(out);
    }
}

impl WrittenLen for Via {
    fn written_len(&self) -> usize {
        "SIP/2.0/".len()
            + self.transport.as_str().len()
            + 1
            + self.sent_by.written_len()
            + self.params.written_len()
    }

    fn write_into(&self, out: &mut String) {
        out.push_str("SIP/2.0/");
        out.push_str(self.transport.as_str());
        out.push(' ');
        self.sent_by.write_into(out);
        self.params.write_into(out);
    }
}

impl WrittenLen for CSeq {
    fn written_len(&self) -> usize {
        digits(self.seq) + 1 + self.method.as_str().len()
    }

    fn write_into(&self, out: &mut String) {
        push_u32(out, self.seq);
        out.push(' ');
        out.push_str(self.method.as_str());
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
