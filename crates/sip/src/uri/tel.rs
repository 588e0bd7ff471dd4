//! `tel:` URIs (RFC 3966).

use std::fmt;

use crate::error::ParseError;
use crate::params::Params;

/// A telephone number URI: `tel:+1-201-555-0123;ext=1234`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The number as written, visual separators included.
    pub number: String,
    /// Parameters such as `ext`, `isub` and `phone-context`.
    pub params: Params,
}

impl TelUri {
    /// Parses the text after `tel:`.
    pub(crate) fn parse_rest(rest: &str) -> Result<TelUri, ParseError> {
        let (number, params) = match rest.find(';') {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        let digits = number.strip_prefix('+').unwrap_or(number);
        let ok = digits.bytes().any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#')
            && digits
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'-' | b'.' | b'(' | b')'));
        if !ok {
            return Err(ParseError::Uri("telephone number"));
        }
        let params = Params::parse_uri(params).map_err(|_| ParseError::Uri("parameter"))?;
        Ok(TelUri { number: number.to_owned(), params })
    }

    /// True for a global number (one that starts with `+`).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The number without visual separators (`-`, `.`, `(`, `)`).
    pub fn digits(&self) -> String {
        self.number.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect()
    }
}

impl fmt::Display for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}{}", self.number, self.params)
    }
}
