//! DTMF in SIP INFO bodies: `application/dtmf-relay` (`Signal=5`,
//! `Duration=160`, as Cisco and most phones send) and `application/dtmf`
//! (the digit alone).

use sip::MediaType;

/// Why an INFO body holds no digit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    /// Not a DTMF body type.
    #[error("not a DTMF body")]
    NotDtmf,
    /// A DTMF body without a valid digit.
    #[error("no valid digit in the DTMF body")]
    Malformed,
}

/// One digit from an INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: char,
    /// How long it was pressed, in ms, when said.
    pub duration_ms: Option<u32>,
}

/// The digit an INFO carries.
pub fn parse(content_type: Option<&MediaType>, body: &[u8]) -> Result<InfoDigit, DtmfError> {
    let kind = content_type.ok_or(DtmfError::NotDtmf)?;
    let text = std::str::from_utf8(body).map_err(|_| DtmfError::Malformed)?;
    if kind.is("application", "dtmf-relay") {
        let (mut digit, mut duration_ms) = (None, None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else { continue };
            match key.trim().to_ascii_lowercase().as_str() {
                "signal" => digit = Some(digit_of(value.trim())?),
                "duration" => duration_ms = value.trim().parse().ok(),
                _ => {}
            }
        }
        Ok(InfoDigit { digit: digit.ok_or(DtmfError::Malformed)?, duration_ms })
    } else if kind.is("application", "dtmf") {
        Ok(InfoDigit { digit: digit_of(text.trim())?, duration_ms: None })
    } else {
        Err(DtmfError::NotDtmf)
    }
}

/// A digit written as itself or as its RFC 4733 event number (10 `*`,
/// 11 `#`, 12-15 `A`-`D`).
fn digit_of(text: &str) -> Result<char, DtmfError> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') {
            return Ok(c);
        }
    }
    match text.parse::<u8>() {
        Ok(10) => Ok('*'),
        Ok(11) => Ok('#'),
        Ok(n @ 12..=15) => Ok(char::from(b'A' + (n - 12))),
        _ => Err(DtmfError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mt(s: &str) -> MediaType {
        MediaType::parse(s).expect("media type")
    }

    #[test]
    fn dtmf_relay_bodies() {
        let d = parse(Some(&mt("application/dtmf-relay")), b"Signal=5\r\nDuration=160\r\n").expect("digit");
        assert_eq!(d, InfoDigit { digit: '5', duration_ms: Some(160) });
        let d = parse(Some(&mt("Application/DTMF-Relay")), b"signal= #\nDuration=100").expect("digit");
        assert_eq!(d.digit, '#');
        assert_eq!(parse(Some(&mt("application/dtmf-relay")), b"Signal=10").map(|d| d.digit), Ok('*'));
        assert_eq!(parse(Some(&mt("application/dtmf-relay")), b"Signal=13").map(|d| d.digit), Ok('B'));
    }

    #[test]
    fn plain_dtmf_bodies() {
        assert_eq!(parse(Some(&mt("application/dtmf")), b"7\r\n").map(|d| d.digit), Ok('7'));
        assert_eq!(parse(Some(&mt("application/dtmf")), b"11").map(|d| d.digit), Ok('#'));
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert_eq!(parse(None, b"Signal=1"), Err(DtmfError::NotDtmf));
        assert_eq!(parse(Some(&mt("application/sdp")), b"v=0"), Err(DtmfError::NotDtmf));
        assert_eq!(parse(Some(&mt("application/dtmf-relay")), b"Duration=160"), Err(DtmfError::Malformed));
        assert_eq!(parse(Some(&mt("application/dtmf-relay")), b"Signal=X"), Err(DtmfError::Malformed));
        assert_eq!(parse(Some(&mt("application/dtmf-relay")), b"Signal=99"), Err(DtmfError::Malformed));
        assert_eq!(parse(Some(&mt("application/dtmf")), &[0xff, 0xfe]), Err(DtmfError::Malformed));
    }
}
