//! Calls: one task per call ([`call`]) owning its SIP legs ([`leg`]) and
//! its media, the registry of live calls and legs with the call limits
//! ([`registry`]), the SDP a call writes ([`sdp`]), and the call records
//! with their writer ([`cdr`]), what a call's B side rings ([`dial`]), and
//! admission by file descriptors ([`descriptors`]).

pub mod call;
pub mod cdr;
mod channels;
pub mod descriptors;
pub mod dial;
pub mod leg;
pub mod registry;
pub mod sdp;

pub use call::{
    dial_string, originate, AppProgram, CallCommand, CallHandle, CommandError, CommandResult, Destination,
    ListenMode, Originate, OriginateError, Phase, ProgramSource,
};
pub use cdr::{Cdr, Writer};
pub use descriptors::Descriptors;
pub use registry::{Admission, Channel, Refusal, Registry};

/// A new call or leg id: a time-ordered UUID ([`store::new_uuid`]).
pub fn new_call_id() -> String {
    store::new_uuid().to_string()
}
