//! Response status codes.

use std::fmt;

use crate::error::ParseError;

/// A status code, 100 to 699.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

impl StatusCode {
    /// 100 Trying
    pub const TRYING: StatusCode = StatusCode(100);
    /// 180 Ringing
    pub const RINGING: StatusCode = StatusCode(180);
    /// 183 Session Progress
    pub const SESSION_PROGRESS: StatusCode = StatusCode(183);
    /// 200 OK
    pub const OK: StatusCode = StatusCode(200);
    /// 400 Bad Request
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 401 Unauthorized
    pub const UNAUTHORIZED: StatusCode = StatusCode(401);
    /// 403 Forbidden
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    /// 404 Not Found
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// 405 Method Not Allowed
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    /// 407 Proxy Authentication Required
    pub const PROXY_AUTHENTICATION_REQUIRED: StatusCode = StatusCode(407);
    /// 408 Request Timeout
    pub const REQUEST_TIMEOUT: StatusCode = StatusCode(408);
    /// 423 Interval Too Brief
    pub const INTERVAL_TOO_BRIEF: StatusCode = StatusCode(423);
    /// 480 Temporarily Unavailable
    pub const TEMPORARILY_UNAVAILABLE: StatusCode = StatusCode(480);
    /// 481 Call/Transaction Does Not Exist
    pub const CALL_DOES_NOT_EXIST: StatusCode = StatusCode(481);
    /// 483 Too Many Hops
    pub const TOO_MANY_HOPS: StatusCode = StatusCode(483);
    /// 486 Busy Here
    pub const BUSY_HERE: StatusCode = StatusCode(486);
    /// 487 Request Terminated
    pub const REQUEST_TERMINATED: StatusCode = StatusCode(487);
    /// 488 Not Acceptable Here
    pub const NOT_ACCEPTABLE_HERE: StatusCode = StatusCode(488);
    /// 500 Server Internal Error
    pub const SERVER_INTERNAL_ERROR: StatusCode = StatusCode(500);
    /// 503 Service Unavailable
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 505 Version Not Supported
    pub const VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);
    /// 603 Decline
    pub const DECLINE: StatusCode = StatusCode(603);

    /// A status code from a number in 100..=699.
    pub fn new(code: u16) -> Result<StatusCode, ParseError> {
        if (100..=699).contains(&code) {
            Ok(StatusCode(code))
        } else {
            Err(ParseError::Status)
        }
    }

    /// The number.
    pub fn code(self) -> u16 {
        self.0
    }

    /// 1xx.
    pub fn is_provisional(self) -> bool {
        self.0 < 200
    }

    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }

    /// 200 to 699: ends a client transaction.
    pub fn is_final(self) -> bool {
        self.0 >= 200
    }

    /// The standard reason phrase, or a generic one for the class.
    pub fn reason(self) -> &'static str {
        match self.0 {
            100 => "Trying",
            180 => "Ringing",
            181 => "Call Is Being Forwarded",
            182 => "Queued",
            183 => "Session Progress",
            200 => "OK",
            202 => "Accepted",
            300 => "Multiple Choices",
            301 => "Moved Permanently",
            302 => "Moved Temporarily",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            410 => "Gone",
            413 => "Request Entity Too Large",
            415 => "Unsupported Media Type",
            416 => "Unsupported URI Scheme",
            420 => "Bad Extension",
            421 => "Extension Required",
            423 => "Interval Too Brief",
            480 => "Temporarily Unavailable",
            481 => "Call/Transaction Does Not Exist",
            482 => "Loop Detected",
            483 => "Too Many Hops",
            484 => "Address Incomplete",
            485 => "Ambiguous",
            486 => "Busy Here",
            487 => "Request Terminated",
            488 => "Not Acceptable Here",
            491 => "Request Pending",
            493 => "Undecipherable",
            500 => "Server Internal Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Server Time-out",
            505 => "Version Not Supported",
            513 => "Message Too Large",
            600 => "Busy Everywhere",
            603 => "Decline",
            604 => "Does Not Exist Anywhere",
            606 => "Not Acceptable",
            c if c < 200 => "Session Progress",
            c if c < 300 => "OK",
            c if c < 400 => "Redirect",
            c if c < 500 => "Client Error",
            c if c < 600 => "Server Error",
            _ => "Global Failure",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_reasons() {
        assert!(StatusCode::TRYING.is_provisional());
        assert!(StatusCode::OK.is_success() && StatusCode::OK.is_final());
        assert_eq!(StatusCode::BUSY_HERE.reason(), "Busy Here");
        assert_eq!(StatusCode::new(599).map(StatusCode::reason), Ok("Server Error"));
        assert!(StatusCode::new(99).is_err());
        assert!(StatusCode::new(700).is_err());
    }
}
