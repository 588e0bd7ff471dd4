//! Request methods.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::scan::is_token;

/// A SIP method. Methods are case-sensitive; unknown ones are kept as
/// [`Method::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE (RFC 3261)
    Invite,
    /// ACK (RFC 3261)
    Ack,
    /// BYE (RFC 3261)
    Bye,
    /// CANCEL (RFC 3261)
    Cancel,
    /// REGISTER (RFC 3261)
    Register,
    /// OPTIONS (RFC 3261)
    Options,
    /// INFO (RFC 6086)
    Info,
    /// UPDATE (RFC 3311)
    Update,
    /// PRACK (RFC 3262)
    Prack,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// NOTIFY (RFC 6665)
    Notify,
    /// REFER (RFC 3515)
    Refer,
    /// MESSAGE (RFC 3428)
    Message,
    /// PUBLISH (RFC 3903)
    Publish,
    /// Any other token.
    Other(String),
}

const KNOWN: [(Method, &str); 14] = [
    (Method::Invite, "INVITE"),
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Register, "REGISTER"),
    (Method::Options, "OPTIONS"),
    (Method::Info, "INFO"),
    (Method::Update, "UPDATE"),
    (Method::Prack, "PRACK"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Notify, "NOTIFY"),
    (Method::Refer, "REFER"),
    (Method::Message, "MESSAGE"),
    (Method::Publish, "PUBLISH"),
];

impl Method {
    /// Parses a method token.
    pub fn parse(s: &str) -> Result<Method, ParseError> {
        if let Some((m, _)) = KNOWN.iter().find(|(_, name)| *name == s) {
            return Ok(m.clone());
        }
        if is_token(s) && s.len() <= 64 {
            Ok(Method::Other(s.to_owned()))
        } else {
            Err(ParseError::Method)
        }
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        if let Method::Other(s) = self {
            return s;
        }
        KNOWN.iter().find(|(m, _)| m == self).map_or("", |(_, name)| name)
    }
}

impl FromStr for Method {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Method, ParseError> {
        Method::parse(s)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(Method::parse("INVITE"), Ok(Method::Invite));
        assert_eq!(Method::parse("invite"), Ok(Method::Other("invite".into())));
        assert_eq!(Method::parse("NEWMETHOD").map(|m| m.to_string()).as_deref(), Ok("NEWMETHOD"));
        assert_eq!(Method::Publish.as_str(), "PUBLISH");
        assert!(Method::parse("IN VITE").is_err());
        assert!(Method::parse("").is_err());
    }
}
