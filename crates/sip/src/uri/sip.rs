//! SIP and SIPS URIs (RFC 3261 19.1).

use std::fmt;

use super::host::{Host, HostPort};
use super::{escapes_ok, unescape};
use crate::error::ParseError;
use crate::params::Params;

/// `sip:` or `sips:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:` (TLS on every hop).
    Sips,
}

impl Scheme {
    /// The scheme as written in a URI, without the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
        }
    }
}

/// A SIP or SIPS URI: `sip:user:password@host:port;params?headers`.
///
/// User, password, parameter and header texts are kept as written
/// (still `%`-escaped), so that writing gives back the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sip` or `sips`.
    pub scheme: Scheme,
    /// The user part, escaped as written.
    pub user: Option<String>,
    /// The password after `user:`, escaped as written (deprecated but legal).
    pub password: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, when written.
    pub port: Option<u16>,
    /// URI parameters (`transport`, `lr`, `maddr`, `user`, ...).
    pub params: Params,
    /// URI headers after `?`, as `(name, value)` pairs, escaped as written.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// `sip:host` with nothing else.
    pub fn new(host: Host) -> SipUri {
        SipUri {
            scheme: Scheme::Sip,
            user: None,
            password: None,
            host,
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// Parses the text after `sip:` / `sips:`.
    pub(crate) fn parse_rest(scheme: Scheme, rest: &str) -> Result<SipUri, ParseError> {
        let (user, password, hostpart) = match memchr::memchr(b'@', rest.as_bytes()) {
            Some(at) => {
                let userinfo = rest.get(..at).unwrap_or("");
                let (user, password) = match memchr::memchr(b':', userinfo.as_bytes()) {
                    Some(c) => (userinfo.get(..c).unwrap_or(""), Some(userinfo.get(c + 1..).unwrap_or(""))),
                    None => (userinfo, None),
                };
                if user.is_empty() || !escapes_ok(user) || !password.is_none_or(escapes_ok) {
                    return Err(ParseError::Uri("user"));
                }
                (Some(user.to_owned()), password.map(str::to_owned), rest.get(at + 1..).unwrap_or(""))
            }
            None => (None, None, rest),
        };
        let (before_headers, headers) = match memchr::memchr(b'?', hostpart.as_bytes()) {
            Some(q) => (hostpart.get(..q).unwrap_or(""), Some(hostpart.get(q + 1..).unwrap_or(""))),
            None => (hostpart, None),
        };
        let (hostport, params) = match memchr::memchr(b';', before_headers.as_bytes()) {
            Some(s) => (before_headers.get(..s).unwrap_or(""), before_headers.get(s..).unwrap_or("")),
            None => (before_headers, ""),
        };
        let HostPort { host, port } = HostPort::parse(hostport)?;
        let params = Params::parse_uri(params).map_err(|_| ParseError::Uri("parameter"))?;
        let mut hs = Vec::new();
        if let Some(headers) = headers {
            for h in headers.split('&') {
                let (name, value) = h.split_once('=').ok_or(ParseError::Uri("header"))?;
                if name.is_empty() || !escapes_ok(name) || !escapes_ok(value) {
                    return Err(ParseError::Uri("header"));
                }
                hs.push((name.to_owned(), value.to_owned()));
            }
        }
        Ok(SipUri { scheme, user, password, host, port, params, headers: hs })
    }

    /// The `transport` parameter, when present.
    pub fn transport(&self) -> Option<&str> {
        self.params.get("transport")
    }

    /// True when the `lr` (loose routing) parameter is present.
    pub fn lr(&self) -> bool {
        self.params.has("lr")
    }

    /// The `maddr` parameter, when present.
    pub fn maddr(&self) -> Option<&str> {
        self.params.get("maddr")
    }

    /// The user part with `%HH` escapes decoded (lossy for invalid UTF-8).
    pub fn user_unescaped(&self) -> Option<String> {
        self.user.as_deref().map(unescape)
    }

    /// URI equivalence per RFC 3261 19.1.4: scheme, user and password
    /// (unescaped, case-sensitive), host (case-insensitive), port (absent is
    /// not 5060), the `user`, `ttl`, `method`, `maddr` and `transport`
    /// parameters whenever either URI has them, other parameters when both
    /// have them, and all headers.
    pub fn equivalent(&self, other: &SipUri) -> bool {
        let text_eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => unescape(a) == unescape(b),
            (None, None) => true,
            _ => false,
        };
        if self.scheme != other.scheme
            || !text_eq(&self.user, &other.user)
            || !text_eq(&self.password, &other.password)
            || !self.host.same(&other.host)
            || self.port != other.port
        {
            return false;
        }
        let value_eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
            (Some(a), Some(b)) => unescape(a).eq_ignore_ascii_case(&unescape(b)),
            (None, None) => true,
            _ => false,
        };
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            if self.params.has(name) != other.params.has(name)
                || !value_eq(self.params.get(name), other.params.get(name))
            {
                return false;
            }
        }
        for p in self.params.iter() {
            if other.params.has(&p.name) && !value_eq(p.value.as_deref(), other.params.get(&p.name)) {
                return false;
            }
        }
        let header_set = |u: &SipUri| {
            let mut v: Vec<_> =
                u.headers.iter().map(|(n, v)| (unescape(n).to_ascii_lowercase(), unescape(v))).collect();
            v.sort();
            v
        };
        header_set(self) == header_set(other)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}
