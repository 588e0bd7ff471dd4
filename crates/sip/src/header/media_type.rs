//! Content-Type values: `type/subtype;params`.

use std::fmt;

use crate::error::ParseError;
use crate::params::Params;
use crate::scan::is_token;

/// A media type such as `application/sdp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// The type (`application`), as written.
    pub kind: String,
    /// The subtype (`sdp`), as written.
    pub subtype: String,
    /// Parameters (`charset`, `boundary`, ...).
    pub params: Params,
}

impl MediaType {
    /// `application/sdp`.
    pub fn sdp() -> MediaType {
        MediaType { kind: "application".into(), subtype: "sdp".into(), params: Params::new() }
    }

    /// Parses a media type.
    pub fn parse(s: &str) -> Result<MediaType, ParseError> {
        let s = s.trim();
        let end = s.find(';').unwrap_or(s.len());
        let (kind, subtype) =
            s.get(..end).unwrap_or("").split_once('/').ok_or(ParseError::Value("media type"))?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if !is_token(kind) || !is_token(subtype) {
            return Err(ParseError::Value("media type"));
        }
        let params = Params::parse_header(s.get(end..).unwrap_or(""))?;
        Ok(MediaType { kind: kind.to_owned(), subtype: subtype.to_owned(), params })
    }

    /// True when this is `kind/subtype`, without regard to case.
    pub fn is(&self, kind: &str, subtype: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.kind, self.subtype, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let m = MediaType::parse("Application/SDP ; charset=utf-8").expect("type");
        assert!(m.is("application", "sdp"));
        assert_eq!(m.params.get("charset"), Some("utf-8"));
        assert_eq!(m.to_string(), "Application/SDP;charset=utf-8");
        assert!(MediaType::parse("sdp").is_err());
        assert!(MediaType::parse("a/").is_err());
    }
}
