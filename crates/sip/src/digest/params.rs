//! The `auth-param` list of a challenge or credentials: `Digest a=b, c="d"`.

use std::borrow::Cow;

use super::DigestError;
use crate::scan::{is_token, split_once_byte, split_outside, trim, unquote_borrowed};

/// Most parameters accepted in one header value.
pub(crate) const MAX_PARAMS: usize = 32;

/// A parsed `Digest` parameter list: names lower-cased, values unquoted,
/// both borrowed from the header's text unless that changed them.
pub(crate) struct AuthParams<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

/// One `name=value` of a list, the name lower-cased, the value as written.
pub(crate) type Pair<'a> = (Cow<'a, str>, &'a str);

/// The pairs of `Digest name=value, ...` (the scheme must be Digest), in
/// order, each checked (a token name; a token or quoted string value, to
/// unquote with [`unquoted`]). Duplicates and their number are the
/// caller's to refuse.
pub(crate) fn pairs(value: &str) -> Result<impl Iterator<Item = Result<Pair<'_>, DigestError>>, DigestError> {
    let value = trim(value);
    let (scheme, rest) = match memchr::memchr2(b' ', b'\t', value.as_bytes()) {
        // ASCII: both sides are on character boundaries.
        Some(at) => (value.get(..at).unwrap_or(""), value.get(at + 1..).unwrap_or("")),
        None => (value, ""),
    };
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(DigestError::Scheme);
    }
    Ok(split_outside(rest, ',').map(trim).filter(|p| !p.is_empty()).map(pair))
}

/// One `name=value`, checked.
fn pair(part: &str) -> Result<Pair<'_>, DigestError> {
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
    Ok((name, v))
}

/// A value of [`pairs`], unquoted: borrowed unless it had escapes.
pub(crate) fn unquoted(v: &str) -> Result<Cow<'_, str>, DigestError> {
    unquote_borrowed(v).map_err(|_| DigestError::Syntax)
}

impl<'a> AuthParams<'a> {
    /// Parses `Digest name=value, ...`; the scheme must be Digest.
    pub(crate) fn parse(value: &'a str) -> Result<AuthParams<'a>, DigestError> {
        let mut params: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(12);
        for pair in pairs(value)? {
            let (name, v) = pair?;
            if params.iter().any(|(n, _)| *n == name) {
                return Err(DigestError::Duplicate(name.into_owned()));
            }
            if params.len() == MAX_PARAMS {
                return Err(DigestError::Syntax);
            }
            params.push((name, unquoted(v)?));
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
}
