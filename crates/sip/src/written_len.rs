//! How many bytes a value's `Display` writes, computed from its parts
//! instead of formatted into a counter: the parser holds every Via, From,
//! To and CSeq it reads to the writer's limits, and the transaction layer
//! weighs each request by its echoed headers, so these lengths are taken
//! for every message. Rare shapes (IPv6 hosts, display names, tel URIs)
//! are still counted by formatting.

use std::fmt::{self, Write};

use crate::address::NameAddr;
use crate::header::{CSeq, Via};
use crate::params::Params;
use crate::uri::{Host, HostPort, SipUri, Uri};

/// The length of what `Display` writes, exactly.
pub(crate) trait WrittenLen {
    /// Bytes that `to_string()` would give.
    fn written_len(&self) -> usize;
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
}

impl WrittenLen for String {
    fn written_len(&self) -> usize {
        self.len()
    }
}

impl WrittenLen for usize {
    fn written_len(&self) -> usize {
        match u32::try_from(*self) {
            Ok(n) => digits(n),
            Err(_) => counted(self),
        }
    }
}

impl WrittenLen for Params {
    fn written_len(&self) -> usize {
        self.iter().map(|p| 1 + p.name.len() + p.value.as_ref().map_or(0, |v| 1 + v.len())).sum()
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
}

impl WrittenLen for HostPort {
    fn written_len(&self) -> usize {
        self.host.written_len() + self.port.map_or(0, |p| 1 + digits(u32::from(p)))
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
}

impl WrittenLen for Uri {
    fn written_len(&self) -> usize {
        match self {
            Uri::Sip(u) => u.written_len(),
            Uri::Tel(t) => counted(t),
            Uri::Other(s) => s.len(),
        }
    }
}

impl WrittenLen for NameAddr {
    fn written_len(&self) -> usize {
        let display = self.display.as_ref().map_or(0, |d| crate::scan::quote(d).len() + 1);
        display + 1 + self.uri.written_len() + 1 + self.params.written_len()
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
}

impl WrittenLen for CSeq {
    fn written_len(&self) -> usize {
        digits(self.seq) + 1 + self.method.as_str().len()
    }
}

#[cfg(test)]
mod tests {
    use super::WrittenLen;
    use crate::address::NameAddr;
    use crate::header::{CSeq, Via};
    use crate::uri::Uri;

    fn same<T: WrittenLen + std::fmt::Display>(value: &T) {
        assert_eq!(value.written_len(), value.to_string().len(), "{value}");
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
