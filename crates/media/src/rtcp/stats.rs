//! What a receiver knows about one incoming source (RFC 3550 appendix A.3
//! and A.8): packets expected and lost, interarrival jitter, the last SR,
//! and when anything was last heard. Time is an argument in milliseconds.

use super::ReportBlock;
use crate::rtp::SeqExtender;

/// The middle 32 bits of a 64-bit NTP timestamp: the form an SR's time
/// takes in a report block's `last_sr`.
pub fn ntp_middle32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Reception statistics for one source, fed with each RTP packet and SR,
/// read out as a [`ReportBlock`].
#[derive(Debug, Clone)]
pub struct ReceptionStats {
    clock_rate: u32,
    seq: SeqExtender,
    base: Option<u64>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Jitter in timestamp units, scaled by 16 (RFC 3550 A.8).
    jitter_q4: u64,
    last_transit: Option<i64>,
    last_sr: Option<(u32, u64)>,
    last_heard_ms: Option<u64>,
}

impl ReceptionStats {
    /// Statistics for a source whose RTP clock runs at `clock_rate` Hz
    /// (8000 for G.711).
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            seq: SeqExtender::new(),
            base: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            last_transit: None,
            last_sr: None,
            last_heard_ms: None,
        }
    }

    /// Records an RTP packet with this sequence number and timestamp that
    /// arrived at `arrival_ms` (any monotonic millisecond clock).
    pub fn handle_rtp(&mut self, sequence: u16, rtp_timestamp: u32, arrival_ms: u64) {
        let ext = self.seq.extend(sequence);
        self.base = Some(self.base.map_or(ext, |b| b.min(ext)));
        self.received += 1;
        self.last_heard_ms = Some(arrival_ms);

        let arrival_units =
            i64::try_from(u128::from(arrival_ms) * u128::from(self.clock_rate) / 1000).unwrap_or(i64::MAX);
        // Transit in timestamp units; only differences matter, so compare
        // within 32 bits to survive timestamp wrap.
        let transit = i64::from((arrival_units as u32).wrapping_sub(rtp_timestamp) as i32);
        if let Some(last) = self.last_transit {
            let d = i64::from((transit as i32).wrapping_sub(last as i32)).unsigned_abs();
            self.jitter_q4 = (self.jitter_q4 + d).saturating_sub((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Records a sender report from this source whose NTP time is
    /// `ntp_timestamp`, arrived at `arrival_ms`.
    pub fn handle_sender_report(&mut self, ntp_timestamp: u64, arrival_ms: u64) {
        self.last_sr = Some((ntp_middle32(ntp_timestamp), arrival_ms));
        self.last_heard_ms = Some(arrival_ms);
    }

    /// Records any other sign of life (an RTCP RR or SDES) at `arrival_ms`.
    pub fn handle_heard(&mut self, arrival_ms: u64) {
        self.last_heard_ms = Some(arrival_ms);
    }

    /// When the source was last heard (RTP or RTCP), if ever.
    pub fn last_heard_ms(&self) -> Option<u64> {
        self.last_heard_ms
    }

    /// Whether nothing has been heard from the source for `timeout_ms`
    /// (true if it was never heard and `now_ms` is past the timeout).
    pub fn is_silent(&self, now_ms: u64, timeout_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_heard_ms.unwrap_or(0)) >= timeout_ms
    }

    /// Packets received so far (duplicates included, as RFC 3550 counts).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected from the sequence numbers seen.
    pub fn expected(&self) -> u64 {
        match (self.base, self.seq.highest()) {
            (Some(base), Some(high)) => high - base + 1,
            _ => 0,
        }
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_q4 >> 4).unwrap_or(u32::MAX)
    }

    /// The report block about source `ssrc` at `now_ms`; starts a new
    /// interval for `fraction_lost`.
    pub fn report_block(&mut self, ssrc: u32, now_ms: u64) -> ReportBlock {
        let expected = self.expected();
        let lost = expected as i64 - self.received as i64;
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval as u64) * 256 / expected_interval).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let dlsr = u128::from(now_ms.saturating_sub(at)) * 65536 / 1000;
                (lsr, u32::try_from(dlsr).unwrap_or(u32::MAX))
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-(1 << 23), (1 << 23) - 1) as i32,
            highest_sequence: self.seq.highest().map_or(0, |h| h as u32),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_loss_and_fraction_per_interval() {
        let mut s = ReceptionStats::new(8000);
        // 10 packets, 20 ms apart, sequence 65530.. wrapping, #3 and #4 lost.
        for i in 0u16..10 {
            if i == 3 || i == 4 {
                continue;
            }
            s.handle_rtp(65530u16.wrapping_add(i), u32::from(i) * 160, 1000 + u64::from(i) * 20);
        }
        assert_eq!(s.expected(), 10);
        assert_eq!(s.received(), 8);
        let b = s.report_block(99, 1200);
        assert_eq!(b.ssrc, 99);
        assert_eq!(b.cumulative_lost, 2);
        assert_eq!(b.fraction_lost, (2 * 256 / 10) as u8);
        // The highest sequence wrapped once past the first cycle.
        assert_eq!(b.highest_sequence & 0xFFFF, 3);
        assert_eq!(b.highest_sequence >> 16, 2);
        assert_eq!(b.jitter, 0, "perfectly paced packets have no jitter");
        // Next interval: nothing lost.
        s.handle_rtp(4, 1600, 1200);
        assert_eq!(s.report_block(99, 1300).fraction_lost, 0);
    }

    #[test]
    fn jitter_grows_with_uneven_arrival() {
        let mut s = ReceptionStats::new(8000);
        for i in 0u16..50 {
            let wobble = if i % 2 == 0 { 0 } else { 10 };
            s.handle_rtp(i, u32::from(i) * 160, u64::from(i) * 20 + wobble);
        }
        // |D| = 10 ms = 80 units every packet: J converges toward 80.
        assert!((60..=80).contains(&s.jitter()), "jitter {}", s.jitter());
    }

    #[test]
    fn last_sr_and_delay_since() {
        let mut s = ReceptionStats::new(8000);
        s.handle_sender_report(0x1234_5678_9ABC_DEF0, 5000);
        let b = s.report_block(1, 5500);
        assert_eq!(b.last_sr, 0x5678_9ABC);
        assert_eq!(b.delay_since_last_sr, 32768);
    }

    #[test]
    fn silence_is_measured_from_the_last_packet() {
        let mut s = ReceptionStats::new(8000);
        assert!(!s.is_silent(1000, 5000));
        assert!(s.is_silent(6000, 5000));
        s.handle_rtp(1, 0, 10_000);
        assert!(!s.is_silent(14_999, 5000));
        assert!(s.is_silent(15_000, 5000));
        s.handle_heard(15_000);
        assert_eq!(s.last_heard_ms(), Some(15_000));
    }
}
