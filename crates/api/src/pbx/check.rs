//! Checks of the text values trunks, numbers and lists hold: SIP
//! addresses, phone numbers, extension lists, parameters. Each answers what
//! is wrong, for a field error.

use store::{Value, Values};

use crate::error::{ApiError, FieldError};

/// A text check: `Err` says what is wrong.
pub type Check = fn(&str) -> Result<(), String>;

/// Runs `checks` on the text values among `values`; empty text passes
/// (fields that must not be empty are `required` in the schema). Every
/// failure is reported at once.
pub fn run(values: &Values, checks: &[(&str, Check)]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (field, check) in checks {
        for (name, value) in values.iter().filter(|(n, _)| n == field) {
            let Value::Text(text) = value else { continue };
            if text.is_empty() {
                continue;
            }
            if let Err(message) = check(text) {
                errors.push(FieldError { field: (*name).to_owned(), message });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// A SIP address as a trunk's `remote_addr` or `local_addr`: `host`,
/// `host:port`, or a `sip:`/`sips:` URI (`sip:user@host:port;params`);
/// read by the one shared parser (`engine::router::address`).
pub fn address(text: &str) -> Result<(), String> {
    engine::router::address::SipAddress::parse(text).map(|_| ()).map_err(|_| {
        format!("'{text}' is not an address: use host, host:port or a sip: URI (sip:host:port;transport=udp)")
    })
}

/// The host and port of an address, without scheme, user or parameters
/// (IPv6 in brackets): what a SIP URI to it needs; empty when it is not
/// an address. Read by the shared parser (`engine::router::address`).
pub fn host_of(address: &str) -> String {
    engine::router::address::SipAddress::parse(address.trim()).map(|a| a.host_port()).unwrap_or_default()
}

/// A phone number: digits, with an optional leading `+` (the shared
/// rule of `engine::router::address`).
pub fn phone_number(text: &str) -> Result<(), String> {
    engine::router::address::phone_number(text)
        .map(|_| ())
        .map_err(|_| format!("'{text}' is not a phone number (digits, with an optional leading +)"))
}

fn token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "+*#._-@".contains(c))
}

/// One or more extensions or numbers, separated by commas (`1001,1002`).
pub fn extensions(text: &str) -> Result<(), String> {
    if text.split(',').all(|t| token(t.trim())) {
        Ok(())
    } else {
        Err(format!("'{text}' is not a comma-separated list of extensions"))
    }
}

/// A number on a black/white list: a number or prefix, or a SIP user
/// name; no spaces.
pub fn list_number(text: &str) -> Result<(), String> {
    if token(text) {
        Ok(())
    } else {
        Err(format!("'{text}' is not a number: digits, letters and + * # . _ - @ only, at most 64"))
    }
}

/// A trunk's direction.
pub fn trunk_type(text: &str) -> Result<(), String> {
    match text {
        "IN" | "OUT" | "INOUT" => Ok(()),
        _ => Err(format!("'{text}' is not a trunk type: use IN, OUT or INOUT")),
    }
}

/// Parameters: a JSON object (`{}`), as the seed's import sends them.
pub fn json_object(text: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err("must be a JSON object, such as {} or {\"k\":\"v\"}".into()),
    }
}

/// Codec names, separated by commas (`PCMU,PCMA`).
pub fn codecs(text: &str) -> Result<(), String> {
    let ok = text.split(',').all(|c| {
        let c = c.trim();
        !c.is_empty()
            && c.len() <= 32
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-/".contains(ch))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("'{text}' is not a list of codec names such as PCMU,PCMA"))
    }
}

/// A name for a call source (a context key such as `context-2`, or a
/// source spec such as the seed's `code:from`): no spaces.
pub fn source(text: &str) -> Result<(), String> {
    if text.len() <= 128 && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(format!("'{text}' is not a source: a context key such as context-2"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "1.2.3.4",
            "1.2.3.4:9999",
            "sip:192.168.1.100:8081",
            "sips:carrier.example.com",
            "sip:user@10.0.0.1:5060;transport=tcp",
            "sip.provider.net",
            "[2001:db8::1]:5060",
            "2001:db8::1",
            "SIP:example.com",
        ] {
            assert_eq!(address(ok), Ok(()), "{ok}");
        }
        for bad in [
            "1.2.3.4:0",
            "1.2.3.4:70000",
            "1.2.3.999",
            "exa mple.com",
            "-bad-.com",
            "sip:",
            "sip:@host",
            "http://x",
            "host:",
            "[::1",
            "a..b",
            "sip:host;;x",
        ] {
            assert!(address(bad).is_err(), "{bad}");
        }
        assert_eq!(host_of("sip:u@1.2.3.4:5060;transport=udp"), "1.2.3.4:5060");
        assert_eq!(host_of("1.2.3.4"), "1.2.3.4");
        assert_eq!(host_of("2001:db8::1"), "[2001:db8::1]");
        assert_eq!(host_of("sips:Carrier.Example.com:5061"), "carrier.example.com:5061");
        assert_eq!(host_of("not an address"), "");
    }

    #[test]
    fn numbers_and_lists() {
        assert!(phone_number("+8613800000000").is_ok());
        assert!(phone_number("12a").is_err());
        assert!(phone_number("+").is_err());
        assert!(extensions("1001,1002").is_ok());
        assert!(extensions("1001,,1002").is_err());
        assert!(list_number("test").is_ok());
        assert!(list_number("1 2").is_err());
        assert!(json_object("{}").is_ok());
        assert!(json_object("[]").is_err());
        assert!(codecs("PCMU,PCMA").is_ok());
        assert!(codecs("PCMU;x").is_err());
        assert!(source("code:from").is_ok());
        assert!(source("context 2").is_err());
    }
}
