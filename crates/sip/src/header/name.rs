//! Header names: canonical spellings, compact forms, case-insensitive
//! matching, and which headers hold comma-separated lists.

use std::fmt;

use crate::error::ParseError;
use crate::scan::is_token;

/// A header name. Known names are variants; others are kept as written in
/// [`HeaderName::Other`] and compared without regard to case.
#[derive(Debug, Clone, Eq)]
pub enum HeaderName {
    /// `Accept`
    Accept,
    /// `Accept-Contact` (compact `a`)
    AcceptContact,
    /// `Accept-Encoding`
    AcceptEncoding,
    /// `Accept-Language`
    AcceptLanguage,
    /// `Alert-Info`
    AlertInfo,
    /// `Allow`
    Allow,
    /// `Allow-Events` (compact `u`)
    AllowEvents,
    /// `Authentication-Info`
    AuthenticationInfo,
    /// `Authorization`
    Authorization,
    /// `Call-ID` (compact `i`)
    CallId,
    /// `Call-Info`
    CallInfo,
    /// `Contact` (compact `m`)
    Contact,
    /// `Content-Disposition`
    ContentDisposition,
    /// `Content-Encoding` (compact `e`)
    ContentEncoding,
    /// `Content-Language`
    ContentLanguage,
    /// `Content-Length` (compact `l`)
    ContentLength,
    /// `Content-Type` (compact `c`)
    ContentType,
    /// `CSeq`
    CSeq,
    /// `Date`
    Date,
    /// `Error-Info`
    ErrorInfo,
    /// `Event` (compact `o`)
    Event,
    /// `Expires`
    Expires,
    /// `From` (compact `f`)
    From,
    /// `In-Reply-To`
    InReplyTo,
    /// `Max-Forwards`
    MaxForwards,
    /// `MIME-Version`
    MimeVersion,
    /// `Min-Expires`
    MinExpires,
    /// `Min-SE`
    MinSe,
    /// `Organization`
    Organization,
    /// `Path`
    Path,
    /// `Priority`
    Priority,
    /// `Proxy-Authenticate`
    ProxyAuthenticate,
    /// `Proxy-Authorization`
    ProxyAuthorization,
    /// `Proxy-Require`
    ProxyRequire,
    /// `RAck`
    RAck,
    /// `Reason`
    Reason,
    /// `Record-Route`
    RecordRoute,
    /// `Refer-To` (compact `r`)
    ReferTo,
    /// `Referred-By` (compact `b`)
    ReferredBy,
    /// `Reject-Contact` (compact `j`)
    RejectContact,
    /// `Reply-To`
    ReplyTo,
    /// `Require`
    Require,
    /// `Retry-After`
    RetryAfter,
    /// `Route`
    Route,
    /// `RSeq`
    RSeq,
    /// `Server`
    Server,
    /// `Service-Route`
    ServiceRoute,
    /// `Session-Expires` (compact `x`)
    SessionExpires,
    /// `Subject` (compact `s`)
    Subject,
    /// `Subscription-State`
    SubscriptionState,
    /// `Supported` (compact `k`)
    Supported,
    /// `Timestamp`
    Timestamp,
    /// `To` (compact `t`)
    To,
    /// `Unsupported`
    Unsupported,
    /// `User-Agent`
    UserAgent,
    /// `Via` (compact `v`)
    Via,
    /// `Warning`
    Warning,
    /// `WWW-Authenticate`
    WwwAuthenticate,
    /// Any other header, as written.
    Other(String),
}

/// Known names: (name, canonical spelling, compact form, holds a list).
const KNOWN: &[(HeaderName, &str, Option<u8>, bool)] = &[
    (HeaderName::Accept, "Accept", None, true),
    (HeaderName::AcceptContact, "Accept-Contact", Some(b'a'), true),
    (HeaderName::AcceptEncoding, "Accept-Encoding", None, true),
    (HeaderName::AcceptLanguage, "Accept-Language", None, true),
    (HeaderName::AlertInfo, "Alert-Info", None, true),
    (HeaderName::Allow, "Allow", None, true),
    (HeaderName::AllowEvents, "Allow-Events", Some(b'u'), true),
    (HeaderName::AuthenticationInfo, "Authentication-Info", None, false),
    (HeaderName::Authorization, "Authorization", None, false),
    (HeaderName::CallId, "Call-ID", Some(b'i'), false),
    (HeaderName::CallInfo, "Call-Info", None, true),
    (HeaderName::Contact, "Contact", Some(b'm'), true),
    (HeaderName::ContentDisposition, "Content-Disposition", None, false),
    (HeaderName::ContentEncoding, "Content-Encoding", Some(b'e'), true),
    (HeaderName::ContentLanguage, "Content-Language", None, true),
    (HeaderName::ContentLength, "Content-Length", Some(b'l'), false),
    (HeaderName::ContentType, "Content-Type", Some(b'c'), false),
    (HeaderName::CSeq, "CSeq", None, false),
    (HeaderName::Date, "Date", None, false),
    (HeaderName::ErrorInfo, "Error-Info", None, true),
    (HeaderName::Event, "Event", Some(b'o'), false),
    (HeaderName::Expires, "Expires", None, false),
    (HeaderName::From, "From", Some(b'f'), false),
    (HeaderName::InReplyTo, "In-Reply-To", None, true),
    (HeaderName::MaxForwards, "Max-Forwards", None, false),
    (HeaderName::MimeVersion, "MIME-Version", None, false),
    (HeaderName::MinExpires, "Min-Expires", None, false),
    (HeaderName::MinSe, "Min-SE", None, false),
    (HeaderName::Organization, "Organization", None, false),
    (HeaderName::Path, "Path", None, true),
    (HeaderName::Priority, "Priority", None, false),
    (HeaderName::ProxyAuthenticate, "Proxy-Authenticate", None, false),
    (HeaderName::ProxyAuthorization, "Proxy-Authorization", None, false),
    (HeaderName::ProxyRequire, "Proxy-Require", None, true),
    (HeaderName::RAck, "RAck", None, false),
    (HeaderName::Reason, "Reason", None, true),
    (HeaderName::RecordRoute, "Record-Route", None, true),
    (HeaderName::ReferTo, "Refer-To", Some(b'r'), false),
    (HeaderName::ReferredBy, "Referred-By", Some(b'b'), false),
    (HeaderName::RejectContact, "Reject-Contact", Some(b'j'), true),
    (HeaderName::ReplyTo, "Reply-To", None, false),
    (HeaderName::Require, "Require", None, true),
    (HeaderName::RetryAfter, "Retry-After", None, false),
    (HeaderName::Route, "Route", None, true),
    (HeaderName::RSeq, "RSeq", None, false),
    (HeaderName::Server, "Server", None, false),
    (HeaderName::ServiceRoute, "Service-Route", None, true),
    (HeaderName::SessionExpires, "Session-Expires", Some(b'x'), false),
    (HeaderName::Subject, "Subject", Some(b's'), false),
    (HeaderName::SubscriptionState, "Subscription-State", None, false),
    (HeaderName::Supported, "Supported", Some(b'k'), true),
    (HeaderName::Timestamp, "Timestamp", None, false),
    (HeaderName::To, "To", Some(b't'), false),
    (HeaderName::Unsupported, "Unsupported", None, true),
    (HeaderName::UserAgent, "User-Agent", None, false),
    (HeaderName::Via, "Via", Some(b'v'), true),
    (HeaderName::Warning, "Warning", None, true),
    (HeaderName::WwwAuthenticate, "WWW-Authenticate", None, false),
];

/// Slots of [`known_index`]'s open-addressed table (a power of two, over
/// four times [`KNOWN`]'s length, so probes are short).
const SLOTS: usize = 256;

/// Where a name would sit in the table: from its length and its first and
/// last bytes, any case.
fn slot_of(name: &[u8]) -> usize {
    let (first, last) = match name {
        [first, .., last] => (first.to_ascii_lowercase(), last.to_ascii_lowercase()),
        [only] => (only.to_ascii_lowercase(), 0),
        [] => (0, 0),
    };
    (name.len().wrapping_mul(31) ^ usize::from(first).wrapping_mul(7) ^ usize::from(last).wrapping_mul(131))
        % SLOTS
}

/// The position in [`KNOWN`] of the full name `s`, any case: a table
/// built once, then a hash of three bytes and one comparison as a rule
/// (a linear search compared the name with most of the 58).
fn known_index(s: &str) -> Option<usize> {
    static TABLE: std::sync::OnceLock<[u8; SLOTS]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        // Each slot holds a position in KNOWN plus one; 0 is empty.
        let mut table = [0u8; SLOTS];
        for (i, k) in KNOWN.iter().enumerate() {
            let mut at = slot_of(k.1.as_bytes());
            while table[at] != 0 {
                at = (at + 1) % SLOTS;
            }
            table[at] = u8::try_from(i + 1).unwrap_or(0);
        }
        table
    });
    let mut at = slot_of(s.as_bytes());
    loop {
        let i = usize::from(*table.get(at)?).checked_sub(1)?;
        if KNOWN.get(i).is_some_and(|k| k.1.eq_ignore_ascii_case(s)) {
            return Some(i);
        }
        at = (at + 1) % SLOTS;
    }
}

impl HeaderName {
    /// Longest header name accepted, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Parses a name: full or compact form, any case.
    pub fn parse(s: &str) -> Result<HeaderName, ParseError> {
        if let [c] = s.as_bytes() {
            let c = c.to_ascii_lowercase();
            if let Some((name, ..)) = KNOWN.iter().find(|k| k.2 == Some(c)) {
                return Ok(name.clone());
            }
        }
        if let Some((name, ..)) = known_index(s).and_then(|i| KNOWN.get(i)) {
            return Ok(name.clone());
        }
        if is_token(s) && s.len() <= HeaderName::MAX_LEN {
            Ok(HeaderName::Other(s.to_owned()))
        } else {
            Err(ParseError::HeaderLine)
        }
    }

    /// The canonical spelling (`Call-ID`, `WWW-Authenticate`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Other(s) => s,
            known => known.entry().map_or("", |k| k.1),
        }
    }

    /// The compact form (`v` for Via), when there is one.
    pub fn compact(&self) -> Option<char> {
        self.entry().and_then(|k| k.2).map(char::from)
    }

    /// True for headers whose value is a comma-separated list that may be
    /// split into one value per element (Via, Contact, Route, Allow, ...).
    /// Authorization, WWW-Authenticate, Date and other headers that contain
    /// commas of their own are not lists.
    pub fn is_list(&self) -> bool {
        self.entry().is_some_and(|k| k.3)
    }

    /// The entry of a known name in [`KNOWN`], by its position (the
    /// variants' order), without a search: every written and parsed header
    /// asks for its spelling or whether it is a list.
    fn entry(&self) -> Option<&'static (HeaderName, &'static str, Option<u8>, bool)> {
        let index = match self {
            HeaderName::Accept => 0,
            HeaderName::AcceptContact => 1,
            HeaderName::AcceptEncoding => 2,
            HeaderName::AcceptLanguage => 3,
            HeaderName::AlertInfo => 4,
            HeaderName::Allow => 5,
            HeaderName::AllowEvents => 6,
            HeaderName::AuthenticationInfo => 7,
            HeaderName::Authorization => 8,
            HeaderName::CallId => 9,
            HeaderName::CallInfo => 10,
            HeaderName::Contact => 11,
            HeaderName::ContentDisposition => 12,
            HeaderName::ContentEncoding => 13,
            HeaderName::ContentLanguage => 14,
            HeaderName::ContentLength => 15,
            HeaderName::ContentType => 16,
            HeaderName::CSeq => 17,
            HeaderName::Date => 18,
            HeaderName::ErrorInfo => 19,
            HeaderName::Event => 20,
            HeaderName::Expires => 21,
            HeaderName::From => 22,
            HeaderName::InReplyTo => 23,
            HeaderName::MaxForwards => 24,
            HeaderName::MimeVersion => 25,
            HeaderName::MinExpires => 26,
            HeaderName::MinSe => 27,
            HeaderName::Organization => 28,
            HeaderName::Path => 29,
            HeaderName::Priority => 30,
            HeaderName::ProxyAuthenticate => 31,
            HeaderName::ProxyAuthorization => 32,
            HeaderName::ProxyRequire => 33,
            HeaderName::RAck => 34,
            HeaderName::Reason => 35,
            HeaderName::RecordRoute => 36,
            HeaderName::ReferTo => 37,
            HeaderName::ReferredBy => 38,
            HeaderName::RejectContact => 39,
            HeaderName::ReplyTo => 40,
            HeaderName::Require => 41,
            HeaderName::RetryAfter => 42,
            HeaderName::Route => 43,
            HeaderName::RSeq => 44,
            HeaderName::Server => 45,
            HeaderName::ServiceRoute => 46,
            HeaderName::SessionExpires => 47,
            HeaderName::Subject => 48,
            HeaderName::SubscriptionState => 49,
            HeaderName::Supported => 50,
            HeaderName::Timestamp => 51,
            HeaderName::To => 52,
            HeaderName::Unsupported => 53,
            HeaderName::UserAgent => 54,
            HeaderName::Via => 55,
            HeaderName::Warning => 56,
            HeaderName::WwwAuthenticate => 57,
            HeaderName::Other(_) => return None,
        };
        KNOWN.get(index)
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_finds_its_own_entry() {
        for k in KNOWN {
            let entry = k.0.entry().expect("known");
            assert_eq!(std::mem::discriminant(&entry.0), std::mem::discriminant(&k.0), "{}", k.1);
            assert_eq!(HeaderName::parse(k.1).expect("parses").as_str(), k.1);
        }
        assert!(HeaderName::Other("X-A".into()).entry().is_none());
    }

    #[test]
    fn known_names_are_found_in_any_case_and_others_are_not() {
        assert!(KNOWN.len() * 4 <= SLOTS);
        for k in KNOWN {
            let upper = HeaderName::parse(&k.1.to_ascii_uppercase()).expect("parses");
            let lower = HeaderName::parse(&k.1.to_ascii_lowercase()).expect("parses");
            assert_eq!(upper.as_str(), k.1);
            assert_eq!(lower.as_str(), k.1);
        }
        for other in ["X-Calliope", "Contacts", "Via-", "Fro", "Expire", "Call-IE", "WWW-Authenticatf"] {
            assert!(matches!(HeaderName::parse(other), Ok(HeaderName::Other(_))), "{other}");
        }
    }

    #[test]
    fn compact_and_case_insensitive() {
        for (s, name) in [
            ("v", HeaderName::Via),
            ("V", HeaderName::Via),
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("f", HeaderName::From),
            ("t", HeaderName::To),
            ("l", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("k", HeaderName::Supported),
            ("s", HeaderName::Subject),
            ("e", HeaderName::ContentEncoding),
            ("o", HeaderName::Event),
            ("cAlL-iD", HeaderName::CallId),
            ("www-authenticate", HeaderName::WwwAuthenticate),
        ] {
            assert_eq!(HeaderName::parse(s), Ok(name), "{s}");
        }
        assert_eq!(HeaderName::parse("X-Custom"), Ok(HeaderName::Other("x-custom".into())));
        assert_eq!(HeaderName::parse("X-Custom").map(|n| n.to_string()).as_deref(), Ok("X-Custom"));
        assert!(HeaderName::parse("Bad Name").is_err());
        assert!(HeaderName::parse("").is_err());
        assert_eq!(HeaderName::Via.compact(), Some('v'));
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert!(HeaderName::Route.is_list());
        assert!(!HeaderName::Authorization.is_list());
    }

    #[test]
    fn every_known_name_parses_back() {
        for (name, text, ..) in KNOWN {
            assert_eq!(&HeaderName::parse(text).expect("known"), name);
            assert!(!matches!(HeaderName::parse(text), Ok(HeaderName::Other(_))), "{text}");
        }
    }
}
