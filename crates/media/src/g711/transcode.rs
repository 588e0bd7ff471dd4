//! PCMU <-> PCMA by table lookup, one byte at a time, no linear step at
//! run time.
//!
//! The tables are computed at compile time by decoding with one law and
//! re-quantising with the other's decision intervals. They are not copied
//! from G.711's tables 3 and 4, which were tuned by hand and may differ by
//! one step at a few segment edges; every entry here is within the target
//! law's quantisation step of the source value.

use super::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

const fn build(from_ulaw: bool) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] =
            if from_ulaw { alaw_encode(ulaw_decode(i as u8)) } else { ulaw_encode(alaw_decode(i as u8)) };
        i += 1;
    }
    table
}

/// u-law code -> A-law code.
pub static ULAW_TO_ALAW: [u8; 256] = build(true);

/// A-law code -> u-law code.
pub static ALAW_TO_ULAW: [u8; 256] = build(false);

/// Converts one u-law byte to A-law.
pub fn ulaw_to_alaw(code: u8) -> u8 {
    ULAW_TO_ALAW[usize::from(code)]
}

/// Converts one A-law byte to u-law.
pub fn alaw_to_ulaw(code: u8) -> u8 {
    ALAW_TO_ULAW[usize::from(code)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_entries() {
        // Silence maps to silence, full scale to full scale.
        assert_eq!(ulaw_to_alaw(0xFF), 0xD5);
        assert_eq!(ulaw_to_alaw(0x7F), 0xD5);
        assert_eq!(alaw_to_ulaw(0xD5), 0xFE); // +8 is u-law's step-1 code (8)
        assert_eq!(alaw_to_ulaw(0x55), 0x7E);
        assert_eq!(ulaw_to_alaw(0x80), 0xAA);
        assert_eq!(ulaw_to_alaw(0x00), 0x2A);
        assert_eq!(alaw_to_ulaw(0xAA), 0x80);
        assert_eq!(alaw_to_ulaw(0x2A), 0x00);
    }

    #[test]
    fn sign_is_kept_and_order_preserved() {
        let mut codes: Vec<u8> = (0..=255).collect();
        codes.sort_by_key(|&c| ulaw_decode(c));
        let mapped: Vec<i16> = codes.iter().map(|&c| alaw_decode(ulaw_to_alaw(c))).collect();
        assert!(mapped.windows(2).all(|w| w[0] <= w[1]), "u->A is monotonic");
        let mut codes: Vec<u8> = (0..=255).collect();
        codes.sort_by_key(|&c| alaw_decode(c));
        let mapped: Vec<i16> = codes.iter().map(|&c| ulaw_decode(alaw_to_ulaw(c))).collect();
        assert!(mapped.windows(2).all(|w| w[0] <= w[1]), "A->u is monotonic");
        for c in 0..=255u8 {
            let u = ulaw_decode(c);
            let a = alaw_decode(ulaw_to_alaw(c));
            assert!(u == 0 || (u > 0) == (a > 0), "sign of u-law {c:#04x}");
        }
    }

    #[test]
    fn error_is_within_one_target_step() {
        // The A-law step at a level is 2*|value - neighbour|; being inside
        // the decision interval means |error| <= half of it, i.e. the
        // encoder of the target law would choose the same code.
        for c in 0..=255u8 {
            let v = ulaw_decode(c);
            assert_eq!(ulaw_to_alaw(c), alaw_encode(v));
            let v = alaw_decode(c);
            assert_eq!(alaw_to_ulaw(c), ulaw_encode(v));
        }
        // And the error is small relative to the level: 1/16 of the segment.
        for c in 0..=255u8 {
            let v = i32::from(ulaw_decode(c));
            let w = i32::from(alaw_decode(ulaw_to_alaw(c)));
            assert!((v - w).abs() <= 8.max(v.abs() / 16), "u {c:#04x}: {v} vs {w}");
        }
    }

    #[test]
    fn tandem_conversion_settles_after_one_round_trip() {
        for c in 0..=255u8 {
            let once = alaw_to_ulaw(ulaw_to_alaw(c));
            assert_eq!(alaw_to_ulaw(ulaw_to_alaw(once)), once, "u-law {c:#04x}");
            let once = ulaw_to_alaw(alaw_to_ulaw(c));
            assert_eq!(ulaw_to_alaw(alaw_to_ulaw(once)), once, "A-law {c:#04x}");
        }
    }
}
