//! Media anchored through Calliope: each leg gets an RTP/RTCP port pair,
//! and a bridge relays packets between the two legs of a call.

pub mod bridge;
pub mod ports;

pub use bridge::{Bridge, BridgeEnd, BridgeStats, SideMedia};
pub use ports::{PortPool, Ports};
