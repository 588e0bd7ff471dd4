//! Ordered `;name=value` parameters of URIs and header values.

use std::fmt;

use crate::error::ParseError;
use crate::scan::{find_outside, is_token, split_outside};

/// One parameter: a name and, unless it is a flag such as `lr`, a value.
///
/// Values are kept as written (a quoted value keeps its quotes, an escaped
/// URI parameter keeps its `%HH`), so that writing gives back the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name as written; compared without regard to case.
    pub name: String,
    /// The value as written, or `None` for a flag.
    pub value: Option<String>,
}

/// Parameters in their original order, looked up by case-insensitive name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<Param>);

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params(Vec::new())
    }

    /// True when `name` is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The value of `name` as written; `None` when absent or a flag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).and_then(|p| p.value.as_deref())
    }

    /// The value of `name` without surrounding quotes.
    pub fn get_unquoted(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| crate::scan::unquote(v).unwrap_or_else(|_| v.to_owned()))
    }

    /// Sets `name` (replacing an earlier value in place, or appending).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_owned);
        match self.0.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name)) {
            Some(p) => p.value = value,
            None => self.0.push(Param { name: name.to_owned(), value }),
        }
    }

    /// Removes `name`; true when it was present.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
        before != self.0.len()
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.0.iter()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Parses header parameters: `s` is empty or starts with `;` (after
    /// optional whitespace). Values are tokens, hosts or quoted strings.
    pub(crate) fn parse_header(s: &str) -> Result<Params, ParseError> {
        Params::parse(s, true)
    }

    /// Parses URI parameters: `s` is empty or starts with `;`; no quotes.
    pub(crate) fn parse_uri(s: &str) -> Result<Params, ParseError> {
        Params::parse(s, false)
    }

    fn parse(s: &str, header: bool) -> Result<Params, ParseError> {
        let s = if header { s.trim() } else { s };
        if s.is_empty() {
            return Ok(Params::new());
        }
        let rest = s.strip_prefix(';').ok_or(ParseError::Param)?;
        let mut params = Vec::new();
        for part in split_outside(rest, ';') {
            params.push(parse_one(part, header)?);
        }
        Ok(Params(params))
    }
}

fn parse_one(part: &str, header: bool) -> Result<Param, ParseError> {
    let part = if header { part.trim() } else { part };
    let (name, value) = match find_outside(part, '=') {
        Some(i) => {
            let (n, v) = (part.get(..i).unwrap_or(""), part.get(i + 1..).unwrap_or(""));
            if header {
                (n.trim_end(), Some(v.trim_start()))
            } else {
                (n, Some(v))
            }
        }
        None => (part, None),
    };
    let name_ok = if header { is_token(name) } else { is_uri_param_text(name) };
    if !name_ok {
        return Err(ParseError::Param);
    }
    if let Some(v) = value {
        let ok = if header { is_header_value(v) } else { is_uri_param_text(v) };
        if !ok {
            return Err(ParseError::Param);
        }
    }
    Ok(Param { name: name.to_owned(), value: value.map(str::to_owned) })
}

/// A header parameter value: a quoted string, or text without separators.
fn is_header_value(v: &str) -> bool {
    if v.starts_with('"') {
        return crate::scan::take_quoted(v).map(|(_, rest)| rest.is_empty()).unwrap_or(false);
    }
    !v.is_empty() && v.chars().all(is_token_char_or_host)
}

fn is_token_char_or_host(c: char) -> bool {
    crate::scan::is_token_char(c) || matches!(c, ':' | '[' | ']' | '/' | '@' | '?')
}

/// RFC 3261 `paramchar`s (unreserved, escaped, `[]/:&+$`), non-empty.
fn is_uri_param_text(v: &str) -> bool {
    !v.is_empty() && crate::uri::escapes_ok(v) && v.chars().all(is_paramchar)
}

fn is_paramchar(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '_'
                | '.'
                | '!'
                | '~'
                | '*'
                | '\''
                | '('
                | ')'
                | '%'
                | '['
                | ']'
                | '/'
                | ':'
                | '&'
                | '+'
                | '$'
        )
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_with_quotes_and_flags() {
        let p = Params::parse_header(r#" ; tag = 1928301774 ;lr; +sip.instance="<urn:uuid:1;2>""#)
            .expect("params");
        assert_eq!(p.get("TAG"), Some("1928301774"));
        assert!(p.has("lr"));
        assert_eq!(p.get("lr"), None);
        assert_eq!(p.get_unquoted("+sip.instance").as_deref(), Some("<urn:uuid:1;2>"));
        assert_eq!(p.to_string(), r#";tag=1928301774;lr;+sip.instance="<urn:uuid:1;2>""#);
    }

    #[test]
    fn uri_params_reject_spaces_and_quotes() {
        assert!(Params::parse_uri(";transport=tcp;lr;maddr=[::1]").is_ok());
        assert!(Params::parse_uri("; transport=tcp").is_err());
        assert!(Params::parse_uri(";a=\"b\"").is_err());
        assert!(Params::parse_uri(";=b").is_err());
        assert!(Params::parse_uri(";a=%G1").is_err());
    }

    #[test]
    fn set_replaces_in_place() {
        let mut p = Params::parse_header(";a=1;b;c=3").expect("params");
        p.set("B", Some("2"));
        p.set("d", None);
        assert!(p.remove("a"));
        assert_eq!(p.to_string(), ";b=2;c=3;d");
    }
}
