//! Sender and receiver reports and their report blocks (RFC 3550 6.4).

use super::packet::check_count;
use crate::bytes::Reader;
use crate::Error;

/// Reception statistics about one source (24 bytes on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source these statistics are about.
    pub ssrc: u32,
    /// Packets lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Packets lost since the start, a signed 24-bit value (duplicates can
    /// make it negative), clamped to -8388608..=8388607 when written.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (wraps in the top 16 bits).
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP time of the last SR received, or 0.
    pub last_sr: u32,
    /// Delay since that SR, in units of 1/65536 s, or 0.
    pub delay_since_last_sr: u32,
}

/// A sender report: who sends, its clocks and counters, and what it receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SenderReport {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Wall-clock time (NTP format, 32.32 fixed point) of this report.
    pub ntp_timestamp: u64,
    /// The RTP timestamp matching `ntp_timestamp`.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
    /// Reception reports, at most 31.
    pub reports: Vec<ReportBlock>,
}

/// A receiver report: reception statistics from a source that does not send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverReport {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// Reception reports, at most 31.
    pub reports: Vec<ReportBlock>,
}

const MIN_24: i32 = -(1 << 23);
const MAX_24: i32 = (1 << 23) - 1;

impl ReportBlock {
    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let ssrc = r.u32_be()?;
        let lost = r.u32_be()?;
        // Sign-extend the low 24 bits.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Ok(Self {
            ssrc,
            fraction_lost: (lost >> 24) as u8,
            cumulative_lost,
            highest_sequence: r.u32_be()?,
            jitter: r.u32_be()?,
            last_sr: r.u32_be()?,
            delay_since_last_sr: r.u32_be()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        let lost = (self.cumulative_lost.clamp(MIN_24, MAX_24) as u32) & 0x00FF_FFFF;
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&(u32::from(self.fraction_lost) << 24 | lost).to_be_bytes());
        for v in [self.highest_sequence, self.jitter, self.last_sr, self.delay_since_last_sr] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

fn parse_blocks(count: u8, r: &mut Reader<'_>) -> Result<Vec<ReportBlock>, Error> {
    (0..count).map(|_| ReportBlock::parse(r)).collect()
}

fn write_blocks(blocks: &[ReportBlock], out: &mut Vec<u8>) {
    for b in blocks {
        b.write(out);
    }
}

impl SenderReport {
    /// Parses the body after the common header; profile extensions after
    /// the report blocks are ignored.
    pub(super) fn parse(count: u8, body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "RTCP SR");
        let ssrc = r.u32_be()?;
        let ntp_hi = r.u32_be()?;
        let ntp_lo = r.u32_be()?;
        Ok(Self {
            ssrc,
            ntp_timestamp: u64::from(ntp_hi) << 32 | u64::from(ntp_lo),
            rtp_timestamp: r.u32_be()?,
            packet_count: r.u32_be()?,
            octet_count: r.u32_be()?,
            reports: parse_blocks(count, &mut r)?,
        })
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) -> Result<u8, Error> {
        let count = check_count("RTCP SR report count", self.reports.len())?;
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.ntp_timestamp.to_be_bytes());
        for v in [self.rtp_timestamp, self.packet_count, self.octet_count] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        write_blocks(&self.reports, out);
        Ok(count)
    }
}

impl ReceiverReport {
    /// Parses the body after the common header.
    pub(super) fn parse(count: u8, body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "RTCP RR");
        Ok(Self { ssrc: r.u32_be()?, reports: parse_blocks(count, &mut r)? })
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) -> Result<u8, Error> {
        let count = check_count("RTCP RR report count", self.reports.len())?;
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        write_blocks(&self.reports, out);
        Ok(count)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_lost_is_signed_24_bits() {
        for (value, wire) in [(0, 0u32), (1, 1), (-1, 0xFF_FFFF), (MAX_24, 0x7F_FFFF), (MIN_24, 0x80_0000)] {
            let block = ReportBlock { cumulative_lost: value, fraction_lost: 0x80, ..Default::default() };
            let mut out = Vec::new();
            block.write(&mut out);
            assert_eq!(u32::from_be_bytes(out[4..8].try_into().unwrap()), 0x8000_0000 | wire);
            let back = ReportBlock::parse(&mut Reader::new(&out, "t")).unwrap();
            assert_eq!(back, block);
        }
        // Out-of-range values are clamped, not wrapped.
        let mut out = Vec::new();
        ReportBlock { cumulative_lost: 1 << 24, ..Default::default() }.write(&mut out);
        assert_eq!(&out[5..8], &[0x7F, 0xFF, 0xFF]);
    }
}
