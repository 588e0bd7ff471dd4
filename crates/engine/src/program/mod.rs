//! Programs: one verb set and one interpreter that runs it against a call.
//!
//! Every way of scripting a call compiles to [`Verb`]s or drives the same
//! [`Channel`]: Fonoster commands ([`fonoster`]), Vonage NCCO ([`ncco`]),
//! TwiML ([`twiml`]), IVR menus ([`ivr`]) and stored blocks ([`block`]).
//! [`run`] executes a program: it owns barge-in, digit collection, loops,
//! the caps of [`Limits`] and errors; a verb's result goes to [`Scripts`],
//! whose answer may replace the rest of the script. Nothing here does I/O:
//! the call task implements [`Channel`], the webhook client [`Scripts`].
//! What each dialect supports, and the defaults chosen, are in
//! `docs/applications.md`.

mod answer;
pub mod block;
mod channel;
pub mod conversation;
pub mod encode;
mod error;
pub mod fonoster;
mod interpreter;
pub mod ivr;
mod json;
pub mod ncco;
mod scripts;
mod sound;
pub mod twiml;
mod verb;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use answer::parse_answer;
pub use channel::LeftRoom;
pub use channel::{
    Audio, BargeIn, Channel, ChannelError, DialResult, DialStatus, Input, Listen, Played, RecordEnd,
    RecordSpec, Recording, SpeechSettings,
};
pub use conversation::Conversation;
pub use encode::{encode, Body, CallInfo, Dialect};
pub use error::{ParseError, ProgramError, MAX_SCRIPT_BYTES, MAX_VERBS};
pub use interpreter::{run, run_with, Limits, Outcome, BEEP};
pub use scripts::{Collected, Next, Report, ScriptError, Scripts, VerbResult};
pub use sound::{MediaRef, Sound};
pub use verb::{
    Dial, Direction, Gather, Hook, Inputs, Method, Play, Prompt, Record, RejectReason, Repeat, Say, Stream,
    Target, Verb,
};
