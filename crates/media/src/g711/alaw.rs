//! A-law (G.711 table 1): 13-bit magnitude, segments 0 and 1 linear,
//! even bits inverted on the wire (XOR 0x55), sign bit 1 for positive.

/// Encodes a 16-bit linear sample as an A-law byte.
pub const fn alaw_encode(sample: i16) -> u8 {
    // 13-bit scale; negative values mirror around -1/2 step: -1 is like 0.
    let s = (sample as i32) >> 3;
    let (mask, magnitude) = if s >= 0 { (0xD5, s) } else { (0x55, -s - 1) };
    let code = if magnitude < 64 {
        // Segments 0 and 1: step 2, so the code is just magnitude / 2.
        magnitude >> 1
    } else {
        // `magnitude` is 64..=4095: top bit 6..=11 means segment 2..=7.
        let segment = 27 - (magnitude as u32).leading_zeros() as i32;
        (segment << 4) | ((magnitude >> segment) & 0x0F)
    };
    (code ^ mask) as u8
}

/// Decodes an A-law byte to a 16-bit linear sample (the middle of its
/// quantisation interval).
pub const fn alaw_decode(code: u8) -> i16 {
    let c = code ^ 0x55;
    let segment = (c >> 4) & 0x07;
    let mantissa = (c & 0x0F) as i32;
    let magnitude =
        if segment == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (segment - 1) };
    (if c & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    /// Segment edges of G.711 table 1 on the 13-bit scale: segment k covers
    /// [EDGE[k], EDGE[k+1]) in 16 equal steps; the decoder outputs each
    /// step's middle.
    const EDGE: [i32; 9] = [0, 32, 64, 128, 256, 512, 1024, 2048, 4096];

    fn step(k: usize) -> i32 {
        (EDGE[k + 1] - EDGE[k]) / 16
    }

    fn wire(k: usize, m: i32, positive: bool) -> u8 {
        ((k as u8) << 4 | m as u8 | if positive { 0x80 } else { 0 }) ^ 0x55
    }

    #[test]
    fn known_code_points() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_decode(0xD4), 24);
        assert_eq!(alaw_decode(0xC5), 33 * 8);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(32767), 0xAA);
        assert_eq!(alaw_encode(-32768), 0x2A);
    }

    #[test]
    fn decoder_matches_the_segment_table() {
        for k in 0..8 {
            for m in 0..16 {
                let middle = EDGE[k] + step(k) * m + step(k) / 2;
                assert_eq!(i32::from(alaw_decode(wire(k, m, true))), middle * 8);
                assert_eq!(i32::from(alaw_decode(wire(k, m, false))), -middle * 8);
            }
        }
    }

    #[test]
    fn encoder_matches_the_decision_intervals() {
        for x in 0..=32767i32 {
            let k = EDGE.iter().rposition(|&e| 8 * e <= x).unwrap_or(0).min(7);
            let m = ((x - 8 * EDGE[k]) / (8 * step(k))).min(15);
            assert_eq!(alaw_encode(x as i16), wire(k, m, true), "x = {x}");
            // Negative inputs mirror around -1/2: -x-1 encodes like x.
            assert_eq!(alaw_encode((-x - 1) as i16), wire(k, m, false), "x = {}", -x - 1);
        }
    }

    #[test]
    fn round_trip_is_identity() {
        for code in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(code)), code);
        }
    }
}
