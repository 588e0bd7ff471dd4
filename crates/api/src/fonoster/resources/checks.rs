//! Checks of the strings configuration resources hold: URLs, host names,
//! SIP user names and URIs, phone numbers, addresses and networks. Each
//! answers the normalised value or a message for the field's error.

use std::net::IpAddr;

/// Longest string any of these checks accepts.
const MAX_LEN: usize = 2048;

/// An absolute `http` or `https` URL with a host.
pub fn http_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let bad = || "must be an http or https URL".to_owned();
    if text.len() > MAX_LEN {
        return Err(bad());
    }
    let url = url::Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// A DNS host name (`sip.example.com`), lowercased: labels of letters,
/// digits and inner hyphens, at most 63 characters each, 253 in all.
pub fn host_name(text: &str) -> Result<String, String> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if !engine::router::address::host_name(&name) {
        return Err("must be a valid host name, such as sip.example.com".into());
    }
    Ok(name)
}

/// The user part of a SIP address (an agent's or credentials' username):
/// unreserved characters and the few punctuation marks SIP allows.
pub fn sip_user(text: &str) -> Result<String, String> {
    if !engine::router::address::sip_user(text) {
        return Err("must be a SIP user name: letters, digits and - _ . ! ~ * ' ( ) & = + $ , ? / %".into());
    }
    Ok(text.to_owned())
}

/// A SIP URI or address: `[sip:|sips:][user@]host[:port][;params]`, as a
/// trunk's inbound and outbound URIs (and the PBX's `remote_addr`) are;
/// read by the one shared parser (`engine::router::address`).
pub fn sip_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    match engine::router::address::SipAddress::parse(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(_) => {
            Err("must be a SIP URI or address, such as sip:provider.com or 203.0.113.5:5060".to_owned())
        }
    }
}

/// A `tel:` URL of a phone number; answers the number (`+17853178070`).
/// Visual separators (`-`, `.`, spaces, parentheses) are dropped.
pub fn tel_url(text: &str) -> Result<String, String> {
    let bad = || "must be a tel: URL of a phone number, such as tel:+17853178070".to_owned();
    let number = text.trim().strip_prefix("tel:").ok_or_else(bad)?;
    engine::router::address::normalise_number(number).map_err(|_| bad())
}

/// A forwarding number (an agent's `forwardAlways` and the like): a phone
/// number or an extension in digits, visual separators dropped; empty
/// clears it.
pub fn forward_number(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    engine::router::address::normalise_number(text).map_err(|_| {
        "must be a phone number or extension (digits, an optional leading +), or empty".to_owned()
    })
}

/// An ISO 3166-1 alpha-2 country code, uppercased.
pub fn country_code(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("must be a two-letter country code (ISO 3166-1), such as US".into());
    }
    Ok(code)
}

/// A network in CIDR notation (`10.0.0.0/8`) or a single address.
pub fn network(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.parse::<ipnet::IpNet>().is_ok() || text.parse::<IpAddr>().is_ok() {
        Ok(text.to_owned())
    } else {
        Err(format!("'{text}' is not an IP address or a network in CIDR notation"))
    }
}

/// A regular expression (as a domain's egress rule), compiled to check it.
pub fn pattern(text: &str) -> Result<String, String> {
    regex::RegexBuilder::new(text).size_limit(1 << 20).build().map(|_| text.to_owned()).map_err(|e| {
        format!("is not a valid regular expression: {}", e.to_string().lines().last().unwrap_or(""))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(http_url("https://myapp.example.com/webhook").is_ok());
        assert!(http_url("ftp://x.example.com").is_err());
        assert!(http_url("not a url").is_err());
        assert!(http_url("http://").is_err());
        assert_eq!(host_name("SIP.Example.com").unwrap(), "sip.example.com");
        assert!(host_name("-bad.example.com").is_err());
        assert!(host_name("with space.com").is_err());
        assert!(host_name("10.0.0.1").is_err());
        assert!(sip_address("sip:trunk@provider.com").is_ok());
        assert!(sip_address("sip:provider.com").is_ok());
        assert!(sip_address("203.0.113.5:5060").is_ok());
        assert!(sip_address("sip:[2001:db8::1]:5061;transport=tls").is_ok());
        assert!(sip_address("sip:provider.com:99999").is_err());
        assert!(sip_address("sip:bad host").is_err());
        assert_eq!(tel_url("tel:+1 (785) 317-8070").unwrap(), "+17853178070");
        assert!(tel_url("+17853178070").is_err());
        assert!(tel_url("tel:+1785abc").is_err());
        assert_eq!(country_code("us").unwrap(), "US");
        assert!(country_code("USA").is_err());
        assert!(network("192.168.1.0/24").is_ok());
        assert!(network("192.168.1.100").is_ok());
        assert!(network("2001:db8::/32").is_ok());
        assert!(network("192.168.1.0/33").is_err());
        assert!(network("office").is_err());
        assert!(pattern(".*").is_ok());
        assert!(pattern("(").is_err());
        assert!(sip_user("john.doe").is_ok());
        assert!(sip_user("john doe").is_err());
        assert!(sip_user("a@b").is_err());
    }
}
