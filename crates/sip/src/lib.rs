//! SIP without I/O (RFC 3261): URIs, messages, SDP and server-side digest
//! authentication; the transaction and dialog layers build on these types.
//!
//! Input is bytes (and, where time matters, a caller-given clock value and
//! random bytes); output is typed values and bytes. Nothing here knows about
//! sockets, clocks, randomness sources or tokio. Bad network input is an
//! error value, never a panic, and every parser is bounded by explicit
//! limits.
//!
//! # Public API
//!
//! - [`uri`]: [`Uri`] (`sip:`/`sips:` as [`SipUri`], `tel:` as [`TelUri`],
//!   other schemes as text), [`Host`], [`HostPort`]; `Uri::parse`,
//!   `Display` writes; [`SipUri::equivalent`] compares per RFC 3261 19.1.4.
//! - [`NameAddr`] (display name, URI, header params such as `tag`) and
//!   [`Contact`] (an address or `*`), with `expires()` and `q()`.
//! - [`Params`]: ordered, case-insensitive `;name=value` parameters.
//! - [`Method`], [`StatusCode`].
//! - [`header`]: [`HeaderName`] (compact forms, list headers),
//!   [`Headers`], and typed values [`Via`] (branch, received, rport),
//!   [`CSeq`], [`MediaType`].
//! - [`message`]: [`Message`] = [`Request`] | [`Response`], each with a
//!   [`Head`] whose typed fields are `via`, `from`, `to`, `call_id`, `cseq`
//!   and whose `headers` hold the rest; typed accessors
//!   ([`Head::branch`], [`Head::contacts`], [`Head::expires`],
//!   [`Head::routes`], [`Head::authorization`] ...). [`parse_message`] for a
//!   datagram, [`frame`] to cut a stream into messages, `to_bytes()` to
//!   write, [`Request::new`], [`Response::for_request`],
//!   [`Request::cancel`], [`Request::ack_for`] to build. [`Limits`] caps
//!   size and header counts.
//! - [`sdp`]: [`sdp::SessionDescription`], [`sdp::parse`], `Display` writes,
//!   [`sdp::answer`] for PCMU/PCMA/telephone-event offers.
//! - [`digest`]: [`digest::Authenticator`] (challenges and verification into
//!   a [`digest::Outcome`]), [`digest::NonceStore`], [`digest::Credentials`],
//!   [`digest::Challenge`].
//!
//! Errors: [`ParseError`] for URIs, headers and messages,
//! [`sdp::SdpError`] for SDP, [`digest::DigestError`] for digest headers.

mod address;
pub mod digest;
mod error;
pub mod header;
pub mod message;
mod method;
mod params;
mod scan;
pub mod sdp;
mod status;
pub mod uri;

pub use address::{Contact, NameAddr};
pub use error::ParseError;
pub use header::{CSeq, HeaderName, Headers, MediaType, Via};
pub use message::{
    frame, parse_message, parse_message_with, Frame, Head, Limits, Message, Request, Response,
};
pub use method::Method;
pub use params::{Param, Params};
pub use status::StatusCode;
pub use uri::{Host, HostPort, SipUri, TelUri, Uri};
