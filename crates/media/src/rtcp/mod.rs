//! RTCP (RFC 3550 section 6): sender and receiver reports, source
//! descriptions, BYE, and compound packets; [`ReceptionStats`] fills in the
//! report block we send back, and tells when a peer last spoke.
//!
//! ```text
//! |V=2|P|  count  |      PT       |     length (words - 1)        |
//! ```

mod bye;
mod packet;
mod report;
mod sdes;
mod stats;

pub use bye::Bye;
pub use packet::{parse, write_compound, RtcpPacket, MAX_COUNT};
pub use report::{ReceiverReport, ReportBlock, SenderReport};
pub use sdes::{Sdes, SdesChunk, SdesItem, SDES_CNAME};
pub use stats::{ntp_middle32, ReceptionStats};

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of a source description.
pub const PT_SDES: u8 = 202;
/// Packet type of a goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of an application-defined packet.
pub const PT_APP: u8 = 204;
