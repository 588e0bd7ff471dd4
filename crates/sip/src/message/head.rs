//! The head of a message: the typed headers that identify transactions and
//! dialogs, the other headers, and typed accessors for those the core reads.

use super::write::line_len;
use crate::address::{Contact, NameAddr};
use crate::digest::{Challenge, Credentials, DigestError};
use crate::error::ParseError;
use crate::header::{CSeq, HeaderName, Headers, MediaType, Via};
use crate::method::Method;
use crate::scan::number;

/// Via, From, To, Call-ID and CSeq as typed fields (every message has
/// them, so they are parsed once and are cheap to read), and every other
/// header in [`Head::headers`]. Do not put those five in `headers`: the
/// writer takes them from the fields only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Via values, topmost first.
    pub via: Vec<Via>,
    /// From, with the caller's tag.
    pub from: NameAddr,
    /// To, with the callee's tag once a UAS has chosen one.
    pub to: NameAddr,
    /// Call-ID.
    pub call_id: String,
    /// CSeq.
    pub cseq: CSeq,
    /// All other headers, in order, Content-Length excepted.
    pub headers: Headers,
}

impl Head {
    /// The topmost Via.
    pub fn top_via(&self) -> Option<&Via> {
        self.via.first()
    }

    /// The branch of the topmost Via (the transaction key with the method).
    pub fn branch(&self) -> Option<&str> {
        self.top_via().and_then(Via::branch)
    }

    /// The From tag.
    pub fn from_tag(&self) -> Option<&str> {
        self.from.tag()
    }

    /// The To tag.
    pub fn to_tag(&self) -> Option<&str> {
        self.to.tag()
    }

    /// How many bytes the headers that every response echoes (Via, From,
    /// To, Call-ID, CSeq) take when written: what answering this request
    /// costs at least, counted without writing it.
    pub fn echoed_len(&self) -> usize {
        let vias: usize = self.via.iter().map(|v| line_len("Via", v) + 2).sum();
        vias + line_len("From", &self.from)
            + line_len("To", &self.to)
            + line_len("Call-ID", &self.call_id)
            + line_len("CSeq", &self.cseq)
            + 8
    }

    /// Contact values (`*` included), in order.
    pub fn contacts(&self) -> Result<Vec<Contact>, ParseError> {
        self.headers
            .list(&HeaderName::Contact)
            .map(|v| Contact::parse(v).map_err(|e| e.in_header("Contact")))
            .collect()
    }

    /// Route values, in order.
    pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.addresses(HeaderName::Route)
    }

    /// Record-Route values, in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.addresses(HeaderName::RecordRoute)
    }

    fn addresses(&self, name: HeaderName) -> Result<Vec<NameAddr>, ParseError> {
        self.headers.list(&name).map(|v| NameAddr::parse(v).map_err(|e| e.in_header(name.as_str()))).collect()
    }

    /// Expires in seconds; values past 2**32-1 are capped there.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.headers
            .get(&HeaderName::Expires)
            .map(|v| delta_seconds(v).map_err(|e| e.in_header("Expires")))
            .transpose()
    }

    /// Min-Expires in seconds.
    pub fn min_expires(&self) -> Result<Option<u32>, ParseError> {
        self.headers
            .get(&HeaderName::MinExpires)
            .map(|v| delta_seconds(v).map_err(|e| e.in_header("Min-Expires")))
            .transpose()
    }

    /// Max-Forwards.
    pub fn max_forwards(&self) -> Result<Option<u32>, ParseError> {
        self.headers
            .get(&HeaderName::MaxForwards)
            .map(|v| number(v.trim(), 10).ok_or(ParseError::Value("number").in_header("Max-Forwards")))
            .transpose()
    }

    /// Content-Type.
    pub fn content_type(&self) -> Result<Option<MediaType>, ParseError> {
        self.headers
            .get(&HeaderName::ContentType)
            .map(|v| MediaType::parse(v).map_err(|e| e.in_header("Content-Type")))
            .transpose()
    }

    /// Methods in Allow.
    pub fn allow(&self) -> Result<Vec<Method>, ParseError> {
        self.headers
            .list(&HeaderName::Allow)
            .map(|v| Method::parse(v).map_err(|e| e.in_header("Allow")))
            .collect()
    }

    /// Option tags in Supported.
    pub fn supported(&self) -> Vec<&str> {
        self.headers.list(&HeaderName::Supported).collect()
    }

    /// Option tags in Require.
    pub fn require(&self) -> Vec<&str> {
        self.headers.list(&HeaderName::Require).collect()
    }

    /// User-Agent.
    pub fn user_agent(&self) -> Option<&str> {
        self.headers.get(&HeaderName::UserAgent)
    }

    /// The first Authorization whose realm is `realm` (any realm when `None`).
    pub fn authorization(&self, realm: Option<&str>) -> Option<Result<Credentials<'_>, DigestError>> {
        credentials(&self.headers, &HeaderName::Authorization, realm)
    }

    /// The first Proxy-Authorization whose realm is `realm` (any when `None`).
    pub fn proxy_authorization(&self, realm: Option<&str>) -> Option<Result<Credentials<'_>, DigestError>> {
        credentials(&self.headers, &HeaderName::ProxyAuthorization, realm)
    }

    /// Every WWW-Authenticate challenge.
    pub fn www_authenticate(&self) -> Vec<Result<Challenge, DigestError>> {
        self.headers.get_all(&HeaderName::WwwAuthenticate).map(Challenge::parse).collect()
    }

    /// Every Proxy-Authenticate challenge.
    pub fn proxy_authenticate(&self) -> Vec<Result<Challenge, DigestError>> {
        self.headers.get_all(&HeaderName::ProxyAuthenticate).map(Challenge::parse).collect()
    }
}

fn credentials<'h>(
    headers: &'h Headers,
    name: &'h HeaderName,
    realm: Option<&str>,
) -> Option<Result<Credentials<'h>, DigestError>> {
    let mut first_error = None;
    for value in headers.get_all(name) {
        match Credentials::parse(value) {
            Ok(c) if realm.is_none_or(|r| c.realm == r) => return Some(Ok(c)),
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map(Err)
}

/// Parses delta-seconds, capping large values at 2**32-1 (RFC 3261 20.19).
fn delta_seconds(v: &str) -> Result<u32, ParseError> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Value("delta-seconds"));
    }
    // All digits: the only way to fail is overflow.
    Ok(v.parse().unwrap_or(u32::MAX))
}
