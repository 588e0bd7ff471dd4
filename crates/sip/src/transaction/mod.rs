//! The transaction layer (RFC 3261 section 17, with the Accepted states of
//! RFC 6026): matching, retransmissions and timeouts, without I/O.
//!
//! One [`Transactions`] holds every client and server transaction of an
//! endpoint. Its caller (the engine's switch loop) owns the sockets and the
//! clock and drives it in the quinn-proto vocabulary:
//!
//! - inputs: [`Transactions::handle_message`] (a parsed message and the
//!   [`Peer`] it came from), [`Transactions::handle_timeout`],
//!   [`Transactions::handle_transport_error`], and from the transaction
//!   user (TU): [`Transactions::send_request`], [`Transactions::respond`],
//!   [`Transactions::cancel`], [`Transactions::ack_2xx`],
//!   [`Transactions::send_stateless`];
//! - outputs: [`Transactions::poll_transmit`] (a [`Transmit`]: bytes for a
//!   peer), [`Transactions::poll_event`] (an [`Event`] for the TU) and
//!   [`Transactions::poll_timeout`] (when to call `handle_timeout` next).
//!
//! After each input, drain transmits and events; then wait for the next
//! message or the next timeout.
//!
//! # Choices
//!
//! - **Matching**: server transactions by top-Via branch, sent-by and
//!   method (ACK matching its INVITE), client transactions by branch and
//!   CSeq method (RFC 3261 17.1.3, 17.2.3). Requests without an RFC 3261
//!   branch match on the fields RFC 2543 compares (Request-URI, From tag,
//!   Call-ID, CSeq number, top Via).
//! - **100 Trying**: an INVITE server transaction sends 100 Trying when the
//!   TU has not responded within [`Config::trying_delay`] (200 ms; zero
//!   means at once), and at once when the INVITE is retransmitted. A TU
//!   that answers quickly (407, 486) saves the packet.
//! - **CANCEL**: a received CANCEL is its own server transaction that the
//!   layer answers itself: 200 when it matches an INVITE server
//!   transaction, 481 when it matches none (RFC 3261 9.2). When that INVITE
//!   has no final response yet, the TU gets [`Event::Cancel`] and answers
//!   the INVITE (normally 487). The 200 carries the To tag of the INVITE's
//!   latest response, or a tag derived from the branch when the TU has not
//!   sent one. To cancel, [`Transactions::cancel`] builds the CANCEL and
//!   holds it until the INVITE's first provisional response (RFC 3261 9.1).
//! - **2xx to INVITE, server side**: the transaction enters Accepted (RFC
//!   6026) for 64*T1, absorbing INVITE retransmissions. With
//!   [`Config::retransmit_2xx`] (the default) the layer also retransmits
//!   the 2xx until the ACK with the same Call-ID, tags and CSeq number
//!   arrives, and reports [`Event::Timeout`] when none did (the TU then
//!   sends BYE, RFC 3261 13.3.1.4). The ACK itself always reaches the TU
//!   as [`Event::Ack`].
//! - **2xx to INVITE, client side**: every 2xx (retransmissions and other
//!   forks included) reaches the TU, which ACKs it through
//!   [`Transactions::ack_2xx`]; retransmissions of an ACKed 2xx are then
//!   answered with the same ACK by the layer (once the TU ACKed, the
//!   transaction is a record of its ACKs in a log, as finished server
//!   transactions below, and still counts as live). Non-2xx finals are ACKed by
//!   the layer (same branch, RFC 3261 17.1.1.3). A 2xx that comes after
//!   timer M is an [`Event::StrayResponse`]. In Proceeding, an INVITE
//!   client transaction has no timeout: the TU cancels unanswered calls.
//! - **Where responses go**: back to the peer the request came from
//!   (symmetric response routing, RFC 3581), which is what phones behind
//!   NAT need. The top Via of a received request gets `received` and
//!   `rport` before the TU sees it, so that responses built from it carry
//!   them.
//! - **Reliable transports** (TCP, TLS): no retransmissions; timers D, I,
//!   J and K are zero, so those transactions end with their last message.
//! - **Finished server transactions**: once a server transaction has
//!   nothing left to do but absorb retransmissions (a non-INVITE's final
//!   sent over UDP, until timer J; an INVITE's 2xx ACKed, until timer L,
//!   when the layer retransmits 2xx; an INVITE's non-2xx ACKed, until
//!   timer I), it is replaced by one record in a log of 16 KiB chunks
//!   (`finished.rs`): its key (a keyed 64-bit hash: every table indexes
//!   transactions so), id, end and peer, the last response of a
//!   non-INVITE (without the lines that echo the request: a retransmission
//!   brings them again) and the To tag of an INVITE. It ends and is
//!   reported ended ([`Event::Terminated`]) when it did before;
//!   [`Transactions::respond`] on it is [`TransactionError::AlreadyFinal`].
//!   Finished transactions do not count against the live limits below but
//!   against [`Config::max_retained_bytes`], past which those nearest
//!   their end are forgotten.
//! - **Limits**: at most [`Config::max_transactions`] live, and server
//!   transactions holding at most [`Config::max_server_bytes`] (estimated
//!   from the headers their responses echo); beyond either, requests
//!   (CANCEL excepted) are answered 503 statelessly. The TU must answer every request it is
//!   given: a server transaction waits for the TU as long as it takes.
//!
//! # Example
//!
//! ```
//! use std::time::Instant;
//! use sip::transaction::{Config, Event, Peer, Transactions};
//! use sip::{parse_message, Response, StatusCode};
//!
//! let mut layer = Transactions::new(Config::default());
//! let now = Instant::now();
//! let peer = Peer::udp("192.0.2.1:5060".parse().unwrap());
//! let datagram = b"OPTIONS sip:calliope.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport\r\n\
//! From: <sip:alice@example.com>;tag=9fxced76sl\r\n\
//! To: <sip:calliope.example.com>\r\n\
//! Call-ID: 3848276298220188511@192.0.2.1\r\n\
//! CSeq: 1 OPTIONS\r\n\r\n";
//! layer.handle_message(now, parse_message(datagram).unwrap(), peer);
//! while let Some(event) = layer.poll_event() {
//!     if let Event::Request { id, request, .. } = event {
//!         let ok = Response::for_request(&request, StatusCode::OK, Some("a1b2c3"));
//!         layer.respond(now, id, ok).unwrap();
//!     }
//! }
//! let transmit = layer.poll_transmit().unwrap();
//! assert_eq!(transmit.peer, peer);
//! assert!(transmit.bytes.starts_with(b"SIP/2.0 200 OK\r\n"));
//! // The transaction lives on for timer J (64*T1) to answer retransmissions.
//! assert_eq!(layer.poll_timeout(), Some(now + 64 * layer.config().t1));
//! ```

mod ack_2xx;
mod client_invite;
mod client_non_invite;
mod config;
mod driver;
mod error;
mod event;
mod finished;
mod hashed;
mod ids;
mod incoming;
mod key;
mod last_response;
mod outbox;
mod outgoing;
mod peer;
mod server_invite;
mod server_non_invite;
mod timers;
mod varint;

pub use config::Config;
pub use driver::Transactions;
pub use error::TransactionError;
pub use event::{ClientTxId, Event, ServerTxId, TxId};
pub use ids::TxIds;
pub use peer::{Peer, Protocol, Transmit};

/// What a state machine tells the driver after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The transaction lives on.
    Continue,
    /// The transaction has ended: remove it.
    Terminated,
}
