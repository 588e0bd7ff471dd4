//! Sequence numbers are 16 bits and wrap: comparisons go through these.

/// How far `a` is ahead of `b` (negative when behind), taking the shorter
/// way round the 16-bit circle: `seq_delta(2, 65534) == 4`.
pub fn seq_delta(a: u16, b: u16) -> i32 {
    i32::from(a.wrapping_sub(b) as i16)
}

/// Whether `a` comes after `b` in a wrapping 16-bit sequence.
pub fn seq_newer(a: u16, b: u16) -> bool {
    seq_delta(a, b) > 0
}

/// Extends 16-bit sequence numbers to 64 bits by counting wraps relative to
/// the highest number seen, so that later packets always compare greater.
///
/// A packet more than 32767 behind the highest seen is read as being ahead
/// (the shorter way round), as RFC 3550 appendix A.1 does.
#[derive(Debug, Clone, Default)]
pub struct SeqExtender {
    highest: Option<u64>,
}

impl SeqExtender {
    /// An extender that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended number of `seq`; updates the highest seen.
    ///
    /// The first number seen is placed one full cycle up (at 65536 + seq), so
    /// that packets slightly before it still have a non-negative extension.
    pub fn extend(&mut self, seq: u16) -> u64 {
        let ext = self.peek(seq);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        ext
    }

    /// The extended number `seq` would get, without recording it.
    pub fn peek(&self, seq: u16) -> u64 {
        match self.highest {
            None => (1 << 16) + u64::from(seq),
            Some(h) => {
                let delta = seq_delta(seq, h as u16);
                h.saturating_add_signed(i64::from(delta))
            }
        }
    }

    /// The highest extended number seen so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_takes_the_short_way_round() {
        assert_eq!(seq_delta(2, 65534), 4);
        assert_eq!(seq_delta(65534, 2), -4);
        assert_eq!(seq_delta(100, 100), 0);
        assert_eq!(seq_delta(0x8000, 0), -32768);
        assert!(seq_newer(0, 65535));
        assert!(!seq_newer(65535, 0));
    }

    #[test]
    fn extender_counts_wraps_and_handles_reordering() {
        let mut x = SeqExtender::new();
        let a = x.extend(65534);
        let b = x.extend(65535);
        let c = x.extend(1); // 0 missing
        let d = x.extend(0); // late
        assert_eq!(b, a + 1);
        assert_eq!(c, a + 3);
        assert_eq!(d, a + 2);
        assert_eq!(x.highest(), Some(c));
        // Wrap many times forward.
        let mut s = 1u16;
        let mut last = c;
        for _ in 0..200_000 {
            s = s.wrapping_add(1);
            let e = x.extend(s);
            assert_eq!(e, last + 1);
            last = e;
        }
    }
}
