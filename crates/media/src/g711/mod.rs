//! G.711 companding: u-law (PCMU, payload type 0) and A-law (PCMA, payload
//! type 8) to and from 16-bit linear PCM, and direct PCMU<->PCMA
//! transcoding through 256-entry tables.
//!
//! Linear samples are 16-bit: u-law's 14-bit and A-law's 13-bit scales are
//! shifted left by 2 and 3 bits, so u-law decodes to ±32124 at most and
//! A-law to ±32256.

mod alaw;
mod transcode;
mod ulaw;

pub use alaw::{alaw_decode, alaw_encode};
pub use transcode::{alaw_to_ulaw, ulaw_to_alaw, ALAW_TO_ULAW, ULAW_TO_ALAW};
pub use ulaw::{ulaw_decode, ulaw_encode};

/// One of the two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// u-law, PCMU (North America, Japan).
    Ulaw,
    /// A-law, PCMA (elsewhere).
    Alaw,
}

impl Law {
    /// The static RTP payload type (RFC 3551): 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            Self::Ulaw => 0,
            Self::Alaw => 8,
        }
    }

    /// The law of a static RTP payload type, if it is 0 or 8.
    pub fn from_payload_type(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Self::Ulaw),
            8 => Some(Self::Alaw),
            _ => None,
        }
    }

    /// Encodes one linear sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::Ulaw => ulaw_encode(sample),
            Self::Alaw => alaw_encode(sample),
        }
    }

    /// Decodes one code byte.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Self::Ulaw => ulaw_decode(code),
            Self::Alaw => alaw_decode(code),
        }
    }

    /// Encodes `samples`, appending one byte per sample to `out`.
    pub fn encode_into(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode(s)));
    }

    /// Decodes `codes`, appending one sample per byte to `out`.
    pub fn decode_into(self, codes: &[u8], out: &mut Vec<i16>) {
        out.extend(codes.iter().map(|&c| self.decode(c)));
    }

    /// Encodes `samples` into a new buffer.
    pub fn encode_slice(self, samples: &[i16]) -> Vec<u8> {
        let mut out = Vec::with_capacity(samples.len());
        self.encode_into(samples, &mut out);
        out
    }

    /// Decodes `codes` into a new buffer.
    pub fn decode_slice(self, codes: &[u8]) -> Vec<i16> {
        let mut out = Vec::with_capacity(codes.len());
        self.decode_into(codes, &mut out);
        out
    }

    /// Converts code bytes of this law to the other law in place.
    pub fn transcode_in_place(self, codes: &mut [u8]) {
        let table = match self {
            Self::Ulaw => &ULAW_TO_ALAW,
            Self::Alaw => &ALAW_TO_ULAW,
        };
        for c in codes {
            *c = table[usize::from(*c)];
        }
    }

    /// Converts code bytes from this law to `to` (a copy when the laws match).
    pub fn transcode(self, codes: &[u8], to: Law) -> Vec<u8> {
        let mut out = codes.to_vec();
        if self != to {
            self.transcode_in_place(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G.711's digital milliwatt: a 1 kHz tone at 0 dBm0, sampled at
    /// 22.5 + 45k degrees, has a fixed 8-byte code sequence per law.
    fn milliwatt(amplitude: f64) -> Vec<i16> {
        (0..8)
            .map(|k| {
                let phase = (22.5 + 45.0 * f64::from(k)).to_radians();
                (-amplitude * phase.sin()).round() as i16
            })
            .collect()
    }

    #[test]
    fn digital_milliwatt_sequences() {
        // 0 dBm0 is 3.17 dB (u-law) / 3.14 dB (A-law) below full scale.
        let mu_amp = 32636.0 / 10f64.powf(0.1585);
        let a_amp = 32768.0 / 10f64.powf(0.157);
        assert_eq!(
            Law::Ulaw.encode_slice(&milliwatt(mu_amp)),
            [0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E]
        );
        assert_eq!(
            Law::Alaw.encode_slice(&milliwatt(a_amp)),
            [0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4]
        );
    }

    #[test]
    fn law_helpers() {
        assert_eq!(Law::from_payload_type(0), Some(Law::Ulaw));
        assert_eq!(Law::from_payload_type(8), Some(Law::Alaw));
        assert_eq!(Law::from_payload_type(18), None);
        assert_eq!(Law::Alaw.payload_type(), 8);
        let pcm = [0i16, 1000, -1000, 32767, -32768];
        let u = Law::Ulaw.encode_slice(&pcm);
        let a = Law::Ulaw.transcode(&u, Law::Alaw);
        assert_eq!(a, u.iter().map(|&c| ulaw_to_alaw(c)).collect::<Vec<_>>());
        assert_eq!(Law::Alaw.transcode(&a, Law::Alaw), a);
        assert_eq!(Law::Alaw.decode_slice(&a).len(), 5);
    }
}
