//! Media without I/O: RTP/RTCP packets, G.711, RFC 4733 events, jitter
//! buffer, WAV, tones and DTMF detection.
//!
//! Like `sip`, this crate takes time and packets as arguments and never
//! touches sockets, clocks or randomness: timestamps, SSRCs and sequence
//! starts are the caller's. Every parser turns bad input into an [`Error`]
//! value and never panics; the parse entry points a fuzz target calls are
//! [`rtp::parse`], [`rtcp::parse`], [`dtmf::parse`] and [`wav::read`].

mod bytes;
pub mod detect;
pub mod dtmf;
mod error;
pub mod frame;
pub mod g711;
pub mod jitter;
pub mod mixer;
pub mod player;
pub mod recorder;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod tone;
pub mod vad;
pub mod wav;

pub use error::Error;
pub use resample::resample;
