//! The CSeq header: a sequence number and a method.

use std::fmt;

use crate::error::ParseError;
use crate::method::Method;
use crate::scan::number;

/// `CSeq: 314159 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// The sequence number (RFC 3261: below 2**31).
    pub seq: u32,
    /// The method of the request.
    pub method: Method,
}

impl CSeq {
    /// Parses a CSeq value.
    pub fn parse(s: &str) -> Result<CSeq, ParseError> {
        let s = s.trim();
        let (n, m) = s.split_once([' ', '\t']).ok_or(ParseError::Value("CSeq"))?;
        let seq: u32 = number(n, 10).ok_or(ParseError::Value("CSeq number"))?;
        if seq >= 1 << 31 {
            return Err(ParseError::Value("CSeq number"));
        }
        Ok(CSeq { seq, method: Method::parse(m.trim())? })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::written_len::WrittenLen::write_to(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        let c = CSeq::parse("314159   INVITE").expect("cseq");
        assert_eq!((c.seq, &c.method), (314159, &Method::Invite));
        assert_eq!(c.to_string(), "314159 INVITE");
        assert!(CSeq::parse("INVITE").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse("1 IN VITE").is_err());
    }
}
