//! The agent-to-agent bridge of the first call code, kept as a thin
//! wrapper over [`crate::media::MediaSession`] while calls move onto the
//! session itself. The port pool now lives in [`crate::media`].

pub mod bridge;

pub use crate::media::{PortPool, Ports};
pub use bridge::{Bridge, BridgeEnd, BridgeStats, SideMedia};
