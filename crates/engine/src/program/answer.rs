//! Reading a webhook's answer: which dialect it is, then its verbs.

use super::encode::Dialect;
use super::error::{check_size, ParseError};
use super::verb::Verb;
use super::{fonoster, ncco, twiml};

/// Parses an answer body by its `Content-Type`: XML is TwiML; JSON is
/// Fonoster commands when it is an object with `commands`, an NCCO when
/// it is an array. Returns the dialect it was read as (results of its
/// verbs are encoded that way).
pub fn parse_answer(content_type: &str, body: &[u8]) -> Result<(Dialect, Vec<Verb>), ParseError> {
    check_size(body)?;
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/xml" || mime == "text/xml" {
        return Ok((Dialect::Twiml, twiml::parse(body)?));
    }
    if mime.starts_with("text/html") {
        return Err(ParseError::Syntax("the webhook answered HTML".into()));
    }
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ParseError::Syntax(format!("not JSON ({mime:?}): {e}")))?;
    match &json {
        serde_json::Value::Array(_) => Ok((Dialect::Ncco, ncco::parse_value(&json)?)),
        serde_json::Value::Object(_) => Ok((Dialect::Fonoster, fonoster::parse_value(&json)?)),
        _ => Err(ParseError::Syntax("expected {\"commands\": [...]} or an NCCO array".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_by_content_type_and_shape() {
        let (d, v) = parse_answer("application/json", br#"{"commands":[{"hangup":{}}]}"#).unwrap();
        assert_eq!((d, v), (Dialect::Fonoster, vec![Verb::Hangup]));
        let (d, v) =
            parse_answer("application/json; charset=utf-8", br#"[{"action":"talk","text":"hi"}]"#).unwrap();
        assert_eq!((d, v.len()), (Dialect::Ncco, 1));
        let (d, v) = parse_answer("text/xml", b"<Response><Hangup/></Response>").unwrap();
        assert_eq!((d, v), (Dialect::Twiml, vec![Verb::Hangup]));
        assert!(parse_answer("text/html", b"<html></html>").is_err());
        assert!(parse_answer("application/json", b"42").is_err());
    }
}
