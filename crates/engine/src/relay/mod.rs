//! Media anchored through Calliope: each leg gets an RTP/RTCP port pair,
//! and packets are relayed between the two legs of a call.

pub mod ports;

pub use ports::{PortPool, Ports};
