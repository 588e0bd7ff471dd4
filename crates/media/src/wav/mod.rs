//! WAV files: read 8 and 16-bit PCM, 8-bit A-law (format tag 6) and 8-bit
//! u-law (tag 7), plain or WAVE_FORMAT_EXTENSIBLE, 1 to 8 channels at any
//! rate; write mono 16-bit PCM, A-law and u-law, or 16-bit stereo through
//! [`header_channels`]. Everything else is refused with
//! [`crate::Error::UnsupportedWav`].
//!
//! Prompts at other rates are brought to 8 kHz with [`crate::resample`].

mod read;
mod write;

pub use read::{read, read_channels, WavChannels};
pub use write::{header, header_channels, write};

/// WAVE_FORMAT_PCM.
pub const TAG_PCM: u16 = 1;
/// WAVE_FORMAT_ALAW.
pub const TAG_ALAW: u16 = 6;
/// WAVE_FORMAT_MULAW.
pub const TAG_ULAW: u16 = 7;
/// WAVE_FORMAT_EXTENSIBLE: the real tag is in the sub-format GUID.
pub const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// How the samples of a WAV file are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// 16-bit signed little-endian linear PCM.
    Pcm16,
    /// 8-bit unsigned linear PCM (128 is zero); read only.
    Pcm8,
    /// 8-bit G.711 A-law.
    Alaw,
    /// 8-bit G.711 u-law.
    Ulaw,
}

impl Encoding {
    /// The format tag written in the `fmt ` chunk.
    pub fn tag(self) -> u16 {
        match self {
            Self::Pcm16 | Self::Pcm8 => TAG_PCM,
            Self::Alaw => TAG_ALAW,
            Self::Ulaw => TAG_ULAW,
        }
    }

    /// Bytes per (mono) sample.
    pub fn bytes_per_sample(self) -> u16 {
        match self {
            Self::Pcm16 => 2,
            Self::Pcm8 | Self::Alaw | Self::Ulaw => 1,
        }
    }
}

/// A decoded WAV file, its channels averaged into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub sample_rate: u32,
    /// How the file stored them.
    pub encoding: Encoding,
    /// The samples as 16-bit linear PCM.
    pub samples: Vec<i16>,
}
