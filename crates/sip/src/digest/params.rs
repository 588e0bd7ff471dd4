//! The `auth-param` list of a challenge or credentials: `Digest a=b, c="d"`.

use std::borrow::Cow;

use super::DigestError;
use crate::scan::{is_token, split_once_byte, split_outside, trim, unquote_borrowed};

/// Most parameters accepted in one header value.
const MAX_PARAMS: usize = 32;

/// A parsed `Digest` parameter list: names lower-cased, values unquoted,
/// both borrowed from the header's text unless that changed them.
pub(crate) struct AuthParams<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> AuthParams<'a> {
    /// Parses `Digest name=value, ...`; the scheme must be Digest.
    pub(crate) fn parse(value: &'a str) -> Result<AuthParams<'a>, DigestError> {
        let value = trim(value);
        let (scheme, rest) = match memchr::memchr2(b' ', b'\t', value.as_bytes()) {
            // ASCII: both sides are on character boundaries.
            Some(at) => (value.get(..at).unwrap_or(""), value.get(at + 1..).unwrap_or("")),
            None => (value, ""),
        };
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::Scheme);
        }
        let mut params: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(12);
        for part in split_outside(rest, ',').map(trim).filter(|p| !p.is_empty()) {
            let (name, v) = split_once_byte(part, b'=').ok_or(DigestError::Syntax)?;
            let name = trim(name);
            // Names come lower-case as a rule: copied only when not.
            let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(name)
            };
            let v = trim(v);
            let bare_ok = v.starts_with('"') || v.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
            if !is_token(&name) || v.is_empty() || !bare_ok {
                return Err(DigestError::Syntax);
            }
            if params.iter().any(|(n, _)| *n == name) {
                return Err(DigestError::Duplicate(name.into_owned()));
            }
            if params.len() == MAX_PARAMS {
                return Err(DigestError::Syntax);
            }
            params.push((name, unquote_borrowed(v).map_err(|_| DigestError::Syntax)?));
        }
        Ok(AuthParams(params))
    }

    /// The unquoted value of `name` (lowercase).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| &**v)
    }

    /// The value of `name`, or an error naming it.
    pub(crate) fn require(&self, name: &'static str) -> Result<String, DigestError> {
        self.get(name).map(str::to_owned).ok_or(DigestError::Missing(name))
    }

    /// The value of `name`, borrowed from the header's text when it could
    /// be, moved out (a later `get` of `name` finds it empty).
    pub(crate) fn take(&mut self, name: &'static str) -> Result<Cow<'a, str>, DigestError> {
        self.0
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, v)| std::mem::take(v))
            .ok_or(DigestError::Missing(name))
    }
}
