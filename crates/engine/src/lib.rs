//! The switch: SIP and RTP sockets, the registrar, the router, calls as
//! B2BUA legs, applications, conferences, the event bus and the CDR writer.
//!
//! It drives the sans-IO cores of `sip` and `media` and keeps its state in
//! `store`.

pub mod accounts;
pub mod calls;
pub mod clock;
pub mod conference;
pub mod egress;
pub mod events;
pub mod ipblock;
pub mod location;
pub mod media;
pub mod metrics;
pub mod program;
pub mod recurrence;
pub mod relay;
pub mod router;
pub mod secrets;
pub mod signalling;
pub mod speech;
pub mod streams;
pub mod throttle;
pub mod trunks;
pub mod voicemail;
pub mod webhooks;
