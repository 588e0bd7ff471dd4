//! Media streams for AI agents: a call's audio both ways over a WebSocket
//! (NCCO `connect` to a `websocket` endpoint, Fonoster `stream`, TwiML
//! `<Connect><Stream>` and `<Start><Stream>`).
//!
//! The pieces:
//! - [`protocol`]: the wire format without I/O (the first JSON frame, 20 ms
//!   frames of 16-bit little-endian PCM at 8 or 16 kHz, DTMF and barge-in
//!   events, `clear`), and the stream's counters;
//! - [`rate`]: seamless 8 <-> 16 kHz conversion, frame by frame;
//! - [`connect`]: opening the socket within a timeout, to an address
//!   checked against where streams may go;
//! - [`worker`]: one stream as a task: the leg's tap to the socket, the
//!   socket's audio through a bounded queue to the leg, barge-in, and the
//!   `call.stream.*` events.

pub mod connect;
pub mod protocol;
pub mod rate;
pub mod worker;

pub use connect::Limits;
pub use protocol::{Protocol, Rate, Stats};
pub use worker::{Control, Plan, Publish, Report};

/// Why a stream could not start or went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The URL is not a `ws://` or `wss://` URL with a host.
    #[error("bad stream URL {0}")]
    BadUrl(String),
    /// The host does not resolve, nothing listens, or it took too long.
    #[error("the stream's server cannot be reached: {0}")]
    Unreachable(String),
    /// The host is outside the networks streams may connect to.
    #[error("the stream's destination is refused: {0}")]
    Refused(String),
    /// TLS or the WebSocket handshake failed (not a WebSocket server, a
    /// refusal, a bad certificate).
    #[error("the stream's handshake failed: {0}")]
    Handshake(String),
}

impl StreamError {
    /// A stable cause for events and CDRs.
    pub fn cause(&self) -> &'static str {
        match self {
            StreamError::BadUrl(_) => "STREAM_BAD_URL",
            StreamError::Unreachable(_) => "STREAM_UNREACHABLE",
            StreamError::Refused(_) => "STREAM_DESTINATION_REFUSED",
            StreamError::Handshake(_) => "STREAM_HANDSHAKE_FAILED",
        }
    }
}
