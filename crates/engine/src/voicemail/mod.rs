//! Voicemail: callers who get no answer (or busy) from an agent with
//! voicemail on leave a message in its mailbox; the agent listens from its
//! phone with a feature code and a PIN; its phone's message-waiting light
//! follows the mailbox (RFC 3842 NOTIFY).
//!
//! - [`mailbox`]: the rules without I/O (settings, the cap, prompts, the
//!   listening menu's keys, the PIN).
//! - [`messages`]: the messages in the store and their WAV files.
//! - [`mwi`]: subscriptions of phones and the NOTIFYs sent to them.
//!
//! The calls themselves (leaving and listening) run in
//! `calls/call/voicemail.rs` over the program channel.

pub mod mailbox;
pub mod messages;
pub mod mwi;

pub use mailbox::{Limits, Settings};
pub use mwi::Mwi;
