//! Digest challenges (WWW-Authenticate, Proxy-Authenticate) and
//! credentials (Authorization, Proxy-Authorization).

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use super::params::{pairs, unquoted, AuthParams, MAX_PARAMS};
use super::{Algorithm, DigestError};
use crate::scan::{write_escaped, write_quoted};

/// A `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The protection realm.
    pub realm: String,
    /// The server nonce.
    pub nonce: String,
    /// Opaque data the client must return unchanged.
    pub opaque: Option<String>,
    /// True when the previous request had a right digest but an old nonce.
    pub stale: bool,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The qop options offered (`auth`, `auth-int`); empty for none.
    pub qop: Vec<String>,
}

impl Challenge {
    /// Parses a WWW-Authenticate or Proxy-Authenticate value.
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let p = AuthParams::parse(value)?;
        Ok(Challenge {
            realm: p.require("realm")?,
            nonce: p.require("nonce")?,
            opaque: p.get("opaque").map(str::to_owned),
            stale: p.get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
            algorithm: p.get("algorithm").map_or(Ok(Algorithm::Md5), Algorithm::parse)?,
            qop: p
                .get("qop")
                .map(|q| q.split(',').map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }

    /// The header value, as written by `Display`, in a `String` sized for
    /// it at once rather than grown as it is written.
    pub fn header_value(&self) -> String {
        // The names, separators and quotes, the longest algorithm, `stale`.
        const FIXED: usize = 96;
        let qop: usize = self.qop.iter().map(|q| q.len() + 1).sum();
        let opaque = self.opaque.as_ref().map_or(0, String::len);
        let mut value = String::with_capacity(FIXED + self.realm.len() + self.nonce.len() + opaque + qop);
        // Writing to a `String` cannot fail.
        let _ = write!(value, "{self}");
        value
    }

    /// True when `auth` is among the qop options.
    pub fn offers_auth(&self) -> bool {
        self.qop.iter().any(|q| q.eq_ignore_ascii_case("auth"))
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Quoted as written: no `String` per value (one 401 per REGISTER).
        f.write_str("Digest realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        write_quoted(f, &self.nonce)?;
        if let Some(o) = &self.opaque {
            f.write_str(", opaque=")?;
            write_quoted(f, o)?;
        }
        if self.stale {
            f.write_str(", stale=TRUE")?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if let Some((first, more)) = self.qop.split_first() {
            // The options joined by commas, quoted.
            f.write_str(", qop=\"")?;
            write_escaped(f, first)?;
            for q in more {
                f.write_char(',')?;
                write_escaped(f, q)?;
            }
            f.write_char('"')?;
        }
        Ok(())
    }
}

/// The parameters of credentials, in the order of [`Credentials::parse`]'s fields.
const FIELDS: [&str; 10] =
    ["username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop", "nc"];

/// Digest credentials from an Authorization or Proxy-Authorization header:
/// their values borrowed from the header's text (copied only when
/// unescaped), or owned ([`Credentials::into_owned`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The user name.
    pub username: Cow<'a, str>,
    /// The realm the credentials are for.
    pub realm: Cow<'a, str>,
    /// The server nonce being answered.
    pub nonce: Cow<'a, str>,
    /// The `uri` parameter: the Request-URI as the client wrote it.
    pub uri: Cow<'a, str>,
    /// The response hash, hex.
    pub response: Cow<'a, str>,
    /// The algorithm (MD5 when absent).
    pub algorithm: Algorithm,
    /// The client nonce.
    pub cnonce: Option<Cow<'a, str>>,
    /// The opaque value of the challenge, returned.
    pub opaque: Option<Cow<'a, str>>,
    /// The quality of protection chosen (`auth`).
    pub qop: Option<Cow<'a, str>>,
    /// The nonce count.
    pub nc: Option<u32>,
}

impl<'a> Credentials<'a> {
    /// Parses an Authorization or Proxy-Authorization value. With a qop,
    /// `cnonce` and `nc` are required (RFC 7616 3.4).
    pub fn parse(value: &'a str) -> Result<Credentials<'a>, DigestError> {
        // Each value put in its field as it is read: no list of them.
        let mut known: [Option<Cow<'a, str>>; FIELDS.len()] = Default::default();
        let mut others: Vec<Cow<'a, str>> = Vec::new();
        for (count, pair) in pairs(value)?.enumerate() {
            let (name, v) = pair?;
            let field = FIELDS.iter().position(|f| *f == name);
            let seen = match field {
                Some(i) => known.get(i).is_some_and(Option::is_some),
                None => others.contains(&name),
            };
            if seen {
                return Err(DigestError::Duplicate(name.into_owned()));
            }
            if count == MAX_PARAMS {
                return Err(DigestError::Syntax);
            }
            let v = unquoted(v)?;
            match field.and_then(|i| known.get_mut(i)) {
                Some(slot) => *slot = Some(v),
                None => others.push(name),
            }
        }
        let [username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc] = known;
        let nc = match nc.as_deref() {
            Some(nc) if nc.len() == 8 && nc.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(u32::from_str_radix(nc, 16).map_err(|_| DigestError::NonceCount)?)
            }
            Some(_) => return Err(DigestError::NonceCount),
            None => None,
        };
        let response = response.ok_or(DigestError::Missing("response"))?;
        if response.is_empty() || !response.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DigestError::Syntax);
        }
        let creds = Credentials {
            username: username.ok_or(DigestError::Missing("username"))?,
            realm: realm.ok_or(DigestError::Missing("realm"))?,
            nonce: nonce.ok_or(DigestError::Missing("nonce"))?,
            uri: uri.ok_or(DigestError::Missing("uri"))?,
            response,
            algorithm: algorithm.as_deref().map_or(Ok(Algorithm::Md5), Algorithm::parse)?,
            cnonce,
            opaque,
            qop,
            nc,
        };
        if creds.qop.is_some() && (creds.cnonce.is_none() || creds.nc.is_none()) {
            return Err(DigestError::Missing("cnonce and nc"));
        }
        Ok(creds)
    }

    /// The same credentials owning their values, to outlive the header.
    pub fn into_owned(self) -> Credentials<'static> {
        let own = |v: Cow<'a, str>| Cow::Owned(v.into_owned());
        Credentials {
            username: own(self.username),
            realm: own(self.realm),
            nonce: own(self.nonce),
            uri: own(self.uri),
            response: own(self.response),
            algorithm: self.algorithm,
            cnonce: self.cnonce.map(own),
            opaque: self.opaque.map(own),
            qop: self.qop.map(own),
            nc: self.nc,
        }
    }
}

impl fmt::Display for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Quoted as written: no `String` per value.
        let quoted = [
            ("Digest username=", &self.username),
            (", realm=", &self.realm),
            (", nonce=", &self.nonce),
            (", uri=", &self.uri),
            (", response=", &self.response),
        ];
        for (name, value) in quoted {
            f.write_str(name)?;
            write_quoted(f, value)?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if let Some(c) = &self.cnonce {
            f.write_str(", cnonce=")?;
            write_quoted(f, c)?;
        }
        if let Some(o) = &self.opaque {
            f.write_str(", opaque=")?;
            write_quoted(f, o)?;
        }
        if let Some(q) = &self.qop {
            f.write_str(", qop=")?;
            if crate::scan::is_token(q) {
                f.write_str(q)?;
            } else {
                write_quoted(f, q)?;
            }
        }
        if let Some(nc) = self.nc {
            write!(f, ", nc={nc:08x}")?;
        }
        Ok(())
    }
}
