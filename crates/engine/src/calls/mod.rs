//! Calls: live legs, the B2BUA that bridges them, and their records.

pub mod cdr;
pub mod channels;

pub use cdr::Cdr;
pub use channels::{Channel, Channels, Command};
