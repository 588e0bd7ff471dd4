//! Calls: live legs, the B2BUA that bridges them, and their records.

pub mod b2bua;
pub mod cdr;
pub mod channels;
pub mod sdp;

pub use cdr::Cdr;
pub use channels::{Channel, Channels, Command};
