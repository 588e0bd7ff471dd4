//! Addresses of From, To, Contact, Route and Record-Route: `name-addr`
//! (`"Bob" <sip:bob@biloxi.com>;tag=a6c85cf`) and `addr-spec`
//! (`sip:bob@biloxi.com;tag=a6c85cf`) with header parameters.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::params::Params;
use crate::scan::take_quoted;
use crate::uri::Uri;

/// A URI with an optional display name and header parameters.
///
/// In the addr-spec form (no angle brackets) the parameters after the URI are
/// header parameters (RFC 3261 20.10); writing always uses angle brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted and unescaped.
    pub display: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, ...).
    pub params: Params,
}

impl NameAddr {
    /// An address with no display name and no parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr { display: None, uri, params: Params::new() }
    }

    /// Parses a name-addr or addr-spec with its parameters.
    pub fn parse(s: &str) -> Result<NameAddr, ParseError> {
        let s = s.trim();
        let (display, after_display) = if s.starts_with('"') {
            let (d, rest) = take_quoted(s)?;
            let rest = rest.trim_start();
            if !rest.starts_with('<') {
                return Err(ParseError::Address("display name without <URI>"));
            }
            (Some(d), rest)
        } else {
            match s.find('<') {
                Some(i) => {
                    let d = s.get(..i).unwrap_or("").trim();
                    if d.contains('"') || d.chars().any(char::is_control) {
                        return Err(ParseError::Address("display name"));
                    }
                    (if d.is_empty() { None } else { Some(d.to_owned()) }, s.get(i..).unwrap_or(""))
                }
                None => {
                    // addr-spec: the URI ends at the first semicolon.
                    let end = s.find(';').unwrap_or(s.len());
                    let uri = Uri::parse(s.get(..end).unwrap_or("").trim_end())?;
                    let params = Params::parse_header(s.get(end..).unwrap_or(""))?;
                    return Ok(NameAddr { display: None, uri, params });
                }
            }
        };
        let inner = after_display.strip_prefix('<').ok_or(ParseError::Address("missing <"))?;
        let close = inner.find('>').ok_or(ParseError::Address("missing >"))?;
        let uri = Uri::parse(inner.get(..close).unwrap_or(""))?;
        let params = Params::parse_header(inner.get(close + 1..).unwrap_or(""))?;
        Ok(NameAddr { display, uri, params })
    }

    /// The `tag` parameter (From and To).
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag")
    }

    /// Sets the `tag` parameter.
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }

    /// The `expires` parameter (Contact), when it is a number.
    pub fn expires(&self) -> Option<u32> {
        self.params.get("expires").and_then(|v| crate::scan::number(v, 10))
    }

    /// The `q` parameter (Contact) in thousandths: `q=0.5` is 500.
    pub fn q(&self) -> Option<u16> {
        parse_q(self.params.get("q")?)
    }
}

/// Parses a qvalue (`0`, `0.5`, `1.000`) into thousandths.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

impl FromStr for NameAddr {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<NameAddr, ParseError> {
        NameAddr::parse(s)
    }
}

impl From<Uri> for NameAddr {
    fn from(uri: Uri) -> NameAddr {
        NameAddr::new(uri)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

/// One Contact header value: an address or the `*` of "remove all bindings".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// `Contact: *` (only valid in REGISTER with `Expires: 0`).
    Wildcard,
    /// A contact address with its parameters.
    Addr(NameAddr),
}

impl Contact {
    /// Parses one Contact value.
    pub fn parse(s: &str) -> Result<Contact, ParseError> {
        if s.trim() == "*" {
            Ok(Contact::Wildcard)
        } else {
            NameAddr::parse(s).map(Contact::Addr)
        }
    }

    /// The address, unless this is the wildcard.
    pub fn addr(&self) -> Option<&NameAddr> {
        match self {
            Contact::Wildcard => None,
            Contact::Addr(a) => Some(a),
        }
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Wildcard => f.write_str("*"),
            Contact::Addr(a) => a.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> NameAddr {
        NameAddr::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn name_addr_forms() {
        let a = addr(r#""Bob \"B\" Smith" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf"#);
        assert_eq!(a.display.as_deref(), Some(r#"Bob "B" Smith"#));
        assert_eq!(a.uri.to_string(), "sip:bob@biloxi.com;transport=tcp");
        assert_eq!(a.tag(), Some("a6c85cf"));
        assert_eq!(a.to_string(), r#""Bob \"B\" Smith" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf"#);

        let tokens = addr("Anonymous   Caller <sip:c8oqz84zk7z@privacy.org>;tag=hyh8");
        assert_eq!(tokens.display.as_deref(), Some("Anonymous   Caller"));

        let bare = addr("<sip:alice@atlanta.com>");
        assert_eq!(bare.display, None);
        assert!(bare.params.is_empty());
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let a = addr("sip:alice@atlanta.com;tag=88sja8x");
        assert_eq!(a.uri.to_string(), "sip:alice@atlanta.com");
        assert_eq!(a.tag(), Some("88sja8x"));
        assert_eq!(a.to_string(), "<sip:alice@atlanta.com>;tag=88sja8x");
        assert_eq!(addr(&a.to_string()), a);
    }

    #[test]
    fn contact_parameters() {
        let c = Contact::parse("<sip:bob@192.0.2.4>;expires=3600;q=0.7").expect("contact");
        let a = c.addr().expect("addr");
        assert_eq!(a.expires(), Some(3600));
        assert_eq!(a.q(), Some(700));
        assert_eq!(Contact::parse(" * ").expect("star"), Contact::Wildcard);
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("x"), None);
    }

    #[test]
    fn bad_addresses() {
        for s in [
            "",
            "\"unterminated <sip:a@b>",
            "\"Bob\" sip:bob@b",
            "<sip:bob@b",
            "Bob <sip:bob@b>junk",
            "<>",
            "sip:bob@b;=x",
        ] {
            assert!(NameAddr::parse(s).is_err(), "{s:?} should not parse");
        }
    }
}
