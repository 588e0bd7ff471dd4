//! SIP without I/O (RFC 3261): URIs, messages, SDP, transactions, dialogs
//! and server-side digest authentication.
//!
//! Input is bytes and the current time; output is bytes to send, events and
//! the next timeout. Nothing here knows about sockets, clocks or tokio.
//! The protocol core arrives with the SIP issue; the crate exists now so that
//! its boundary is part of the workspace from the start.
