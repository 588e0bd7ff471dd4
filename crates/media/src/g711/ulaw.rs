//! u-law (G.711 table 2): 14-bit magnitude, bias 33 (132 on the 16-bit
//! scale), eight segments of sixteen steps, all bits inverted on the wire.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// Encodes a 16-bit linear sample as a u-law byte.
pub const fn ulaw_encode(sample: i16) -> u8 {
    let s = sample as i32;
    let (sign, magnitude) = if s < 0 { (0x80, -s) } else { (0, s) };
    let biased = (if magnitude > CLIP { CLIP } else { magnitude }) + BIAS;
    // `biased` is in 132..=32767: its top bit is bit 7..=14, the segment 0..=7.
    let segment = 24 - (biased as u32).leading_zeros() as i32;
    let mantissa = (biased >> (segment + 3)) & 0x0F;
    !(sign | (segment << 4) | mantissa) as u8
}

/// Decodes a u-law byte to a 16-bit linear sample (the middle of its
/// quantisation interval).
pub const fn ulaw_decode(code: u8) -> i16 {
    let c = !code;
    let segment = (c >> 4) & 0x07;
    let mantissa = (c & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + BIAS) << segment) - BIAS;
    (if c & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    /// Segment edges of G.711 table 2 on the 14-bit scale: segment k covers
    /// [EDGE[k], EDGE[k+1]) in 16 equal steps; the decoder outputs each
    /// step's middle.
    const EDGE: [i32; 9] = [-1, 31, 95, 223, 479, 991, 2015, 4063, 8159];

    fn step(k: usize) -> i32 {
        (EDGE[k + 1] - EDGE[k]) / 16
    }

    #[test]
    fn known_code_points() {
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_decode(0xEF), 33 * 4);
        assert_eq!(ulaw_decode(0x0F), -(4191 * 4));
        assert_eq!(ulaw_decode(0x70), -120);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(32767), 0x80);
        assert_eq!(ulaw_encode(-32768), 0x00);
    }

    #[test]
    fn decoder_matches_the_segment_table() {
        for k in 0..8 {
            for m in 0..16 {
                let middle = EDGE[k] + step(k) * m + step(k) / 2;
                let code = !((k as u8) << 4 | m as u8);
                assert_eq!(i32::from(ulaw_decode(code)), middle * 4, "code {code:#04x}");
                assert_eq!(i32::from(ulaw_decode(code & 0x7F)), -middle * 4, "code {:#04x}", code & 0x7F);
            }
        }
    }

    #[test]
    fn encoder_matches_the_decision_intervals() {
        for x in 0..=32767i32 {
            // The interval containing x/4 on the 14-bit scale.
            let expected = match EDGE.iter().rposition(|&e| 4 * e <= x) {
                Some(k) if k < 8 => {
                    let m = ((x - 4 * EDGE[k]) / (4 * step(k))).min(15);
                    !((k as u8) << 4 | m as u8)
                }
                _ => 0x80,
            };
            assert_eq!(ulaw_encode(x as i16), expected, "x = {x}");
            if x > 0 {
                assert_eq!(ulaw_encode(-x as i16), expected & 0x7F, "x = -{x}");
            }
        }
    }

    #[test]
    fn round_trip_is_stable() {
        for code in 0..=255u8 {
            let again = ulaw_encode(ulaw_decode(code));
            // Negative zero (0x7F) re-encodes as positive zero.
            assert_eq!(again, if code == 0x7F { 0xFF } else { code });
        }
    }

    #[test]
    fn encoder_is_monotonic() {
        let mut last = ulaw_decode(ulaw_encode(i16::MIN));
        for x in i16::MIN..=i16::MAX {
            let y = ulaw_decode(ulaw_encode(x));
            assert!(y >= last, "not monotonic at {x}");
            last = y;
        }
    }
}
