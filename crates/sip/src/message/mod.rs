//! SIP requests and responses: the typed head, parsing from datagrams and
//! streams, writing, and builders.

mod build;
mod framing;
mod head;
mod parse;
mod write;

pub use framing::{frame, Frame, Framer};
pub use head::Head;
pub use parse::{parse_message, parse_message_with};

use crate::method::Method;
use crate::status::StatusCode;
use crate::uri::Uri;

/// Caps that keep a parser's work and memory bounded by configuration, not
/// by what a peer sends. The parser holds a message to them both as read
/// and as it would be written again, so that whatever parses also writes
/// out within them (and parses again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (head and body), in bytes.
    pub max_message_bytes: usize,
    /// Most header values (after splitting lists), typed ones and the
    /// Content-Length that the writer always adds included.
    pub max_headers: usize,
    /// Longest header line after unfolding, in bytes, both as read and as
    /// the writer would write it (full names, one line per list value).
    pub max_header_line: usize,
}

impl Default for Limits {
    /// 64 KiB messages (the largest UDP datagram), 256 header values,
    /// 8 KiB header lines.
    fn default() -> Limits {
        Limits { max_message_bytes: 65_535, max_headers: 256, max_header_line: 8192 }
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// Via, From, To, Call-ID, CSeq and the other headers.
    pub head: Head,
    /// The body; Content-Length is written from its length.
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: String,
    /// Via, From, To, Call-ID, CSeq and the other headers.
    pub head: Head,
    /// The body; Content-Length is written from its length.
    pub body: Vec<u8>,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The head of either kind.
    pub fn head(&self) -> &Head {
        match self {
            Message::Request(r) => &r.head,
            Message::Response(r) => &r.head,
        }
    }

    /// The head of either kind, to change.
    pub fn head_mut(&mut self) -> &mut Head {
        match self {
            Message::Request(r) => &mut r.head,
            Message::Response(r) => &mut r.head,
        }
    }

    /// The body of either kind.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// The message as bytes for the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }

    /// The request, when this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// The response, when this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Request(_) => None,
            Message::Response(r) => Some(r),
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Message {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Message {
        Message::Response(r)
    }
}

#[cfg(test)]
mod tests;
