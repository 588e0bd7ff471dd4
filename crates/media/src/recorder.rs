//! A WAV recorder fed one frame per direction per 20 ms: mono (both
//! directions mixed) or stereo (one channel per direction), 16-bit PCM at
//! 8 kHz. It produces bytes, never touches a file: write
//! [`WavRecorder::header`] first, then each chunk [`WavRecorder::push`]
//! gives, then the header again at offset 0 when done, which then holds
//! the final length.

use crate::frame::{Frame, FRAME_MS, FRAME_RATE};
use crate::wav::{header_channels, Encoding};
use crate::Error;

/// How a recording lays out the two directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One channel, the two directions summed (saturating).
    Mono,
    /// Left the first direction, right the second.
    Stereo,
}

impl Layout {
    fn channels(self) -> u16 {
        match self {
            Self::Mono => 1,
            Self::Stereo => 2,
        }
    }
}

/// The bytes of a WAV recording, frame by frame.
#[derive(Debug, Clone)]
pub struct WavRecorder {
    layout: Layout,
    frames: u64,
}

impl WavRecorder {
    /// A recorder with no audio yet.
    pub fn new(layout: Layout) -> Self {
        Self { layout, frames: 0 }
    }

    /// Bytes of audio data so far.
    pub fn data_len(&self) -> u64 {
        self.frames * crate::frame::FRAME_SAMPLES as u64 * 2 * u64::from(self.layout.channels())
    }

    /// Milliseconds of audio so far.
    pub fn duration_ms(&self) -> u64 {
        self.frames * u64::from(FRAME_MS)
    }

    /// Whether another frame still fits in a WAV file (4 GiB).
    pub fn is_full(&self) -> bool {
        self.data_len() + 1280 > u64::from(u32::MAX) - 64
    }

    /// The header for the audio so far.
    pub fn header(&self) -> Result<Vec<u8>, Error> {
        let len = u32::try_from(self.data_len()).map_err(|_| Error::OutOfRange {
            what: "WAV data size",
            value: self.data_len(),
            max: u32::MAX.into(),
        })?;
        header_channels(Encoding::Pcm16, FRAME_RATE, self.layout.channels(), len)
    }

    /// Appends 20 ms: `first` and `second` are the two directions (say,
    /// what a leg said and what it heard). Does nothing once full.
    pub fn push(&mut self, first: &Frame, second: &Frame, out: &mut Vec<u8>) {
        if self.is_full() {
            return;
        }
        self.frames += 1;
        match self.layout {
            Layout::Mono => {
                for (a, b) in first.iter().zip(second) {
                    out.extend_from_slice(&a.saturating_add(*b).to_le_bytes());
                }
            }
            Layout::Stereo => {
                for (a, b) in first.iter().zip(second) {
                    out.extend_from_slice(&a.to_le_bytes());
                    out.extend_from_slice(&b.to_le_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::frame::frames_of;
    use crate::tone::beep;

    fn record(layout: Layout) -> Vec<u8> {
        let a = beep(8000, 500.0, 200, 8000.0);
        let b = beep(8000, 1500.0, 200, 8000.0);
        let mut r = WavRecorder::new(layout);
        let mut data = Vec::new();
        for (fa, fb) in frames_of(&a).zip(frames_of(&b)) {
            r.push(&fa, &fb, &mut data);
        }
        assert_eq!(r.duration_ms(), 200);
        let mut file = r.header().unwrap();
        file.extend(data);
        file
    }

    #[test]
    fn stereo_keeps_each_direction_in_its_channel() {
        let file = record(Layout::Stereo);
        let ch = crate::wav::read_channels(&file).unwrap();
        assert_eq!(ch.channels.len(), 2);
        assert_eq!(ch.channels[0], beep(8000, 500.0, 200, 8000.0));
        assert_eq!(ch.channels[1], beep(8000, 1500.0, 200, 8000.0));
    }

    #[test]
    fn mono_mixes_both() {
        let file = record(Layout::Mono);
        let w = crate::wav::read(&file).unwrap();
        let a = beep(8000, 500.0, 200, 8000.0);
        let b = beep(8000, 1500.0, 200, 8000.0);
        let mixed: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x.saturating_add(*y)).collect();
        assert_eq!((w.sample_rate, w.samples), (8000, mixed));
        // An empty recording is a valid empty file.
        let empty = WavRecorder::new(Layout::Mono).header().unwrap();
        assert!(crate::wav::read(&empty).unwrap().samples.is_empty());
    }
}
