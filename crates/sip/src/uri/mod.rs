//! URIs: SIP and SIPS (RFC 3261 19.1), `tel:` (RFC 3966) and any other
//! absolute URI kept as text.

mod host;
mod sip;
mod tel;

use std::fmt;
use std::str::FromStr;

pub use host::{Host, HostPort};
pub use sip::{Scheme, SipUri};
pub use tel::TelUri;

use crate::error::ParseError;

/// Longest URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// A URI as found in a Request-URI or an address header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:`.
    Tel(TelUri),
    /// Any other absolute URI (`urn:`, `mailto:`, `http:` ...), as written.
    Other(String),
}

impl Uri {
    /// Parses a URI.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        if s.len() > MAX_URI_LEN {
            return Err(ParseError::Uri("too long"));
        }
        if has_forbidden(s) {
            return Err(ParseError::Uri("forbidden character"));
        }
        let (scheme, rest) = crate::scan::split_once_byte(s, b':').ok_or(ParseError::Uri("scheme"))?;
        let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok || rest.is_empty() {
            return Err(ParseError::Uri("scheme"));
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(Scheme::Sip, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(Scheme::Sips, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(rest).map(Uri::Tel)
        } else {
            Ok(Uri::Other(s.to_owned()))
        }
    }

    /// The SIP URI, when this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The user part of a SIP URI or the number of a tel URI.
    pub fn user(&self) -> Option<&str> {
        match self {
            Uri::Sip(u) => u.user.as_deref(),
            Uri::Tel(t) => Some(&t.number),
            Uri::Other(_) => None,
        }
    }

    /// Equivalence: RFC 3261 19.1.4 for SIP URIs, text equality otherwise.
    pub fn equivalent(&self, other: &Uri) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => a.digits() == b.digits() && a.params == b.params,
            (Uri::Other(a), Uri::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl FromStr for Uri {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Uri, ParseError> {
        Uri::parse(s)
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Uri {
        Uri::Sip(u)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

/// Whether `s` holds whitespace, a control character, `<`, `>` or `"`:
/// by bytes when it is ASCII (the usual), by characters otherwise.
fn has_forbidden(s: &str) -> bool {
    let forbidden = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"');
    if s.is_ascii() {
        // ASCII whitespace and controls are all at or below the space, or DEL.
        s.bytes().any(|b| b <= b' ' || matches!(b, 0x7f | b'<' | b'>' | b'"'))
    } else {
        s.chars().any(forbidden)
    }
}

/// True when every `%` in `s` starts a `%HH` escape.
pub(crate) fn escapes_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(|h| h.is_ascii_hexdigit());
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Decodes `%HH` escapes; malformed escapes stay as they are.
pub(crate) fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        match (c, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
