//! An answer read by its Content-Type into the script text of one dialect,
//! for the parsers of the program front-ends: JSON `{"commands":[...]}` is
//! Fonoster, a JSON array is an NCCO, XML with a `<Response>` root is TwiML.
//! A missing Content-Type is judged by the first character of the body;
//! HTML, plain text and anything else are refused.

use serde_json::Value;

use super::WebhookError;

/// The script an application answered, not yet parsed into verbs.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// Fonoster: the elements of `commands`.
    Fonoster(Vec<Value>),
    /// Vonage: the NCCO's actions.
    Ncco(Vec<Value>),
    /// TwiML: the XML document, as text.
    Twiml(String),
}

enum Kind {
    Json,
    Xml,
}

fn kind(content_type: &str, body: &[u8]) -> Option<Kind> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/json" | "text/json" => Some(Kind::Json),
        m if m.starts_with("application/") && m.ends_with("+json") => Some(Kind::Json),
        "application/xml" | "text/xml" => Some(Kind::Xml),
        "" => match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Some(Kind::Json),
            Some(b'<') => Some(Kind::Xml),
            _ => None,
        },
        _ => None,
    }
}

impl Script {
    /// Reads `body` as the Content-Type `content_type` says; `url` names the
    /// request in errors.
    pub fn read(url: &str, content_type: &str, body: &[u8]) -> Result<Script, WebhookError> {
        let malformed =
            |detail: &str| WebhookError::Malformed { url: url.to_owned(), detail: detail.to_owned() };
        match kind(content_type, body) {
            None => {
                Err(WebhookError::NotAScript { url: url.to_owned(), content_type: content_type.to_owned() })
            }
            Some(Kind::Json) => {
                let v: Value =
                    serde_json::from_slice(body).map_err(|e| malformed(&format!("not JSON: {e}")))?;
                match v {
                    Value::Array(actions) => Ok(Script::Ncco(actions)),
                    Value::Object(mut o) => match o.remove("commands") {
                        Some(Value::Array(commands)) => Ok(Script::Fonoster(commands)),
                        _ => Err(malformed("a JSON answer is {\"commands\":[...]} or an NCCO array")),
                    },
                    _ => Err(malformed("a JSON answer is {\"commands\":[...]} or an NCCO array")),
                }
            }
            Some(Kind::Xml) => {
                let text = std::str::from_utf8(body).map_err(|_| malformed("XML that is not UTF-8"))?;
                if root_element(text) == Some("Response") {
                    Ok(Script::Twiml(text.to_owned()))
                } else {
                    Err(malformed("an XML answer is TwiML with a <Response> root"))
                }
            }
        }
    }
}

/// The name of the first element, after an optional declaration, comments
/// and whitespace.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>")?.1.trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->")?.1.trim_start();
        } else {
            break;
        }
    }
    let r = rest.strip_prefix('<')?;
    let end = r.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    Some(&r[..end])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_is_known_by_type_and_shape() {
        let f = Script::read("u", "application/json", br#"{"commands":[{"say":{"text":"hi"}}]}"#).unwrap();
        assert!(matches!(f, Script::Fonoster(c) if c.len() == 1));
        let n = Script::read("u", "application/json; charset=utf-8", br#"[{"action":"talk"}]"#).unwrap();
        assert!(matches!(n, Script::Ncco(a) if a[0]["action"] == "talk"));
        let t = Script::read("u", "text/xml", b"<?xml version=\"1.0\"?>\n<Response><Say>Hi</Say></Response>")
            .unwrap();
        assert!(matches!(t, Script::Twiml(x) if x.contains("<Say>")));
        assert!(matches!(Script::read("u", "", b"  [ ]").unwrap(), Script::Ncco(a) if a.is_empty()));
        assert!(matches!(Script::read("u", "", b"<Response/>").unwrap(), Script::Twiml(_)));
    }

    #[test]
    fn garbage_html_and_wrong_shapes_are_typed_errors() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("text/html", b"<html><body>oops</body></html>", "WEBHOOK_NOT_A_SCRIPT"),
            ("text/plain", b"hello", "WEBHOOK_NOT_A_SCRIPT"),
            ("", b"garbage", "WEBHOOK_NOT_A_SCRIPT"),
            ("application/json", b"{not json", "WEBHOOK_MALFORMED_ANSWER"),
            ("application/json", b"", "WEBHOOK_MALFORMED_ANSWER"),
            ("application/json", br#"{"commands":"say"}"#, "WEBHOOK_MALFORMED_ANSWER"),
            ("application/json", b"42", "WEBHOOK_MALFORMED_ANSWER"),
            ("application/xml", b"<html><body/></html>", "WEBHOOK_MALFORMED_ANSWER"),
            ("application/xml", b"\xff\xfe<Response/>", "WEBHOOK_MALFORMED_ANSWER"),
            ("application/xml", b"<!-- unterminated", "WEBHOOK_MALFORMED_ANSWER"),
        ];
        for (ct, body, cause) in cases {
            let e = Script::read("u", ct, body).unwrap_err();
            assert_eq!(e.cause(), *cause, "{ct} {body:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small xorshift generator: the same inputs every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let pieces: &[&[u8]] =
            &[b"<", b"?>", b"<!--", b"-->", b"{", b"[", b"\"", b"commands", b":", b"Response", b" "];
        for _ in 0..5000 {
            let mut body = Vec::new();
            for _ in 0..(x % 12) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (x >> 5) & 1 == 0 {
                    body.push((x >> 8) as u8);
                } else {
                    body.extend_from_slice(pieces[(x >> 16) as usize % pieces.len()]);
                }
            }
            for ct in ["", "application/json", "text/xml"] {
                let _ = Script::read("u", ct, &body);
            }
        }
    }
}
