//! RTP data packets (RFC 3550 section 5) and 16-bit sequence arithmetic.
//!
//! [`parse`] gives a zero-copy [`RtpPacket`] view whose payload borrows the
//! input; [`RtpPacket::write_to`] serialises one.

mod packet;
mod seq;

pub use packet::{parse, Csrcs, Extension, RtpPacket, FIXED_HEADER_LEN, MAX_CSRCS};
pub use seq::{seq_delta, seq_newer, SeqExtender};

/// Whether a datagram on a shared RTP/RTCP port is RTCP (RFC 5761 section
/// 4): its second byte, the RTCP packet type, is in 192..=223 (RTP payload
/// types 64..=95 with the marker bit, which RTP avoids for this reason).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}
