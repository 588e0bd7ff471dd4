//! The error of the syntax layer: URIs, headers and messages.

use thiserror::Error;

/// Why bytes could not become a SIP URI, header value or message.
///
/// Every variant is an answer to bad network input; none of them is a bug.
/// A transport typically drops the datagram (or closes the stream) and, when
/// it can still read enough of a request, answers 400 (or 505 for
/// [`ParseError::Version`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Nothing but (optional) keep-alive line breaks.
    #[error("message is empty")]
    Empty,
    /// The message is larger than the configured limit.
    #[error("message is larger than {0} bytes")]
    TooLarge(usize),
    /// The message has more header values than the configured limit.
    #[error("message has more than {0} header values")]
    TooManyHeaders(usize),
    /// One header line (after unfolding) is longer than the configured limit.
    #[error("a header line is longer than {0} bytes")]
    HeaderTooLong(usize),
    /// No empty line ends the header section.
    #[error("header section is not terminated by an empty line")]
    Unterminated,
    /// The start line and headers are not UTF-8 text.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// The request line or status line does not have the SIP shape.
    #[error("malformed start line")]
    StartLine,
    /// The message speaks another SIP version than 2.0 (answer 505).
    #[error("unsupported SIP version {0:?}")]
    Version(String),
    /// A method is not a token.
    #[error("invalid method")]
    Method,
    /// A status code is not three digits between 100 and 699.
    #[error("invalid status code")]
    Status,
    /// A header line has no colon or its name is not a token.
    #[error("malformed header line")]
    HeaderLine,
    /// The value of the named header does not parse.
    #[error("invalid {name} header: {cause}")]
    Header {
        /// The canonical header name.
        name: String,
        /// What was wrong with its value.
        cause: Box<ParseError>,
    },
    /// A header that every message needs is missing.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// A header that may appear once appears more than once.
    #[error("more than one {0} header")]
    Duplicate(&'static str),
    /// The method in CSeq differs from the request method.
    #[error("CSeq method does not match the request method")]
    CSeqMethod,
    /// Content-Length is not a number, or too large.
    #[error("invalid Content-Length")]
    ContentLength,
    /// A stream message has no Content-Length, so its end cannot be found.
    #[error("stream message without Content-Length")]
    NoContentLength,
    /// The datagram ends before the body that Content-Length announces.
    #[error("body has {got} bytes, Content-Length says {expected}")]
    BodyTooShort {
        /// Bytes announced by Content-Length.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// A URI does not parse; the text says which part.
    #[error("invalid URI: {0}")]
    Uri(&'static str),
    /// A name-addr or addr-spec does not parse.
    #[error("invalid address: {0}")]
    Address(&'static str),
    /// A `;name=value` parameter does not parse.
    #[error("invalid parameter")]
    Param,
    /// A quoted string is not terminated or badly escaped.
    #[error("invalid quoted string")]
    Quoted,
    /// Some other typed value does not parse; the text names it.
    #[error("invalid {0}")]
    Value(&'static str),
}

impl ParseError {
    /// Wraps `self` as the cause of an invalid `name` header.
    pub(crate) fn in_header(self, name: &str) -> ParseError {
        ParseError::Header { name: name.to_owned(), cause: Box::new(self) }
    }
}
