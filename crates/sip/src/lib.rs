//! SIP without I/O (RFC 3261): URIs, messages, SDP, server-side digest
//! authentication, the transaction layer and dialogs.
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
//!   datagram, [`frame`] and [`Framer`] (incremental, linear in a slow sender's
//!   bytes) to cut a stream into messages, `to_bytes()` to
//!   write, [`Request::new`], [`Response::for_request`],
//!   [`Request::cancel`], [`Request::ack_for`] to build. [`Limits`] caps
//!   size and header counts.
//! - [`sdp`]: [`sdp::SessionDescription`], [`sdp::parse`], `Display` writes,
//!   [`sdp::answer`] and [`sdp::offer`] for PCMU/PCMA/telephone-event.
//! - [`digest`]: [`digest::Authenticator`] (challenges and verification into
//!   a [`digest::Outcome`]), [`digest::NonceStore`], [`digest::Credentials`],
//!   [`digest::Challenge`].
//! - [`transaction`]: [`transaction::Transactions`], the four transaction
//!   state machines of RFC 3261 17 (with RFC 6026's Accepted states) behind
//!   one sans-IO driver: `handle_message`/`handle_timeout` and the TU's
//!   `send_request`/`respond`/`cancel`/`ack_2xx` in, `poll_transmit`
//!   ([`transaction::Transmit`] for a [`transaction::Peer`]), `poll_event`
//!   ([`transaction::Event`]) and `poll_timeout` out; timers from
//!   [`transaction::Config`].
//! - [`dialog`]: [`dialog::Dialog`] (`from_uac`, `from_uas`, `request`,
//!   `ack_for_2xx`, `handle_request`, `handle_response`), [`dialog::DialogId`]
//!   to find a message's dialog, [`dialog::copy_record_route`].
//!
//! Errors: [`ParseError`] for URIs, headers and messages,
//! [`sdp::SdpError`] for SDP, [`digest::DigestError`] for digest headers,
//! [`transaction::TransactionError`] and [`dialog::DialogError`] for the
//! TU's calls into those layers.
//!
//! # Choices worth knowing
//!
//! - Lines may end in CRLF or a bare LF; folded lines are unfolded; leading
//!   CRLFs are skipped. The head must be UTF-8 and free of control
//!   characters (tab aside).
//! - Only Via, From, To, Call-ID and CSeq are parsed eagerly (a message
//!   without them is an error); every other header is parsed when its
//!   accessor is called, so one odd optional header does not lose a request.
//! - List headers are split into one value per element on parsing; the
//!   writer writes one line per value and Content-Length from the body.
//! - Digest verification requires `qop=auth` (always offered); `auth-int`
//!   and `userhash` are not supported. A missing `opaque` is tolerated, a
//!   wrong one is not.
//! - Transactions: 100 Trying after 200 ms unless the TU answered; CANCEL
//!   answered by the layer (200, or 481 when it matches nothing) with an
//!   event naming the cancelled INVITE; non-2xx finals ACKed by the layer;
//!   2xx retransmitted by the layer until its ACK (configurable); responses
//!   sent back to the request's source; see [`transaction`] for the rest.
//!
//! # Example
//!
//! ```
//! use sip::{parse_message, Message, Response, StatusCode};
//!
//! let bytes = b"OPTIONS sip:calliope.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport\r\n\
//! From: <sip:alice@example.com>;tag=9fxced76sl\r\n\
//! To: <sip:calliope.example.com>\r\n\
//! Call-ID: 3848276298220188511@192.0.2.1\r\n\
//! CSeq: 1 OPTIONS\r\n\
//! Max-Forwards: 70\r\n\
//! Content-Length: 0\r\n\r\n";
//! let Ok(Message::Request(request)) = parse_message(bytes) else { panic!("not a request") };
//! assert_eq!(request.head.branch(), Some("z9hG4bK74bf9"));
//! let ok = Response::for_request(&request, StatusCode::OK, Some("as83kd9b"));
//! let wire = ok.to_bytes();
//! assert!(wire.starts_with(b"SIP/2.0 200 OK\r\n"));
//! ```

mod address;
mod decimal;
pub mod dialog;
pub mod digest;
mod error;
pub mod header;
pub mod message;
mod method;
pub mod mwi;
mod params;
mod scan;
pub mod sdp;
mod shrink;
mod status;
pub mod transaction;
pub mod uri;
mod written_len;

pub use address::{Contact, NameAddr};
pub use error::ParseError;
pub use header::{CSeq, HeaderName, Headers, MediaType, Via};
pub use message::{
    frame, parse_message, parse_message_with, Frame, Framer, Head, Limits, Message, Request, Response,
};
pub use method::Method;
pub use params::{Param, Params};
pub use shrink::Shrink;
pub use status::StatusCode;
pub use uri::{Host, HostPort, SipUri, TelUri, Uri};
