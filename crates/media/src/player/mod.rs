//! Player sources: anything that yields 20 ms frames of 8 kHz linear PCM
//! until it ends. A WAV file ([`PcmSource::from_wav`]), a `tone_stream://`
//! spec ([`ToneSource`]), silence ([`Silence`]); TTS output or a URL player
//! are further [`Source`]s.

mod tone_stream;

pub use tone_stream::{parse_tone_stream, ToneSegment, ToneSource, ToneSpec};

use std::sync::Arc;

use crate::frame::{Frame, FRAME_RATE, FRAME_SAMPLES, SILENT_FRAME};
use crate::Error;

/// Something that gives audio frame by frame: `None` when it has ended.
pub trait Source {
    /// The next 20 ms, or `None` at the end.
    fn next_frame(&mut self) -> Option<Frame>;
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn next_frame(&mut self) -> Option<Frame> {
        (**self).next_frame()
    }
}

/// Samples already at 8 kHz, played once; the last frame is padded with
/// silence. The samples are shared: clones (one per call playing the same
/// prompt) cost no copy.
#[derive(Debug, Clone)]
pub struct PcmSource {
    samples: Arc<[i16]>,
    position: usize,
}

impl PcmSource {
    /// Plays `samples` (8 kHz).
    pub fn new(samples: impl Into<Arc<[i16]>>) -> Self {
        Self { samples: samples.into(), position: 0 }
    }

    /// The same samples from the start.
    pub fn rewound(&self) -> Self {
        Self { samples: self.samples.clone(), position: 0 }
    }

    /// Reads a WAV file of any supported format and rate (see
    /// [`crate::wav::read`]), mixed to mono and resampled to 8 kHz.
    pub fn from_wav(bytes: &[u8]) -> Result<Self, Error> {
        let wav = crate::wav::read(bytes)?;
        let samples = crate::resample(&wav.samples, wav.sample_rate, FRAME_RATE)?;
        Ok(Self::new(samples))
    }

    /// The samples it plays.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }
}

impl Source for PcmSource {
    fn next_frame(&mut self) -> Option<Frame> {
        let rest = self.samples.get(self.position..).filter(|r| !r.is_empty())?;
        let n = rest.len().min(FRAME_SAMPLES);
        let mut f = SILENT_FRAME;
        f.get_mut(..n)?.copy_from_slice(rest.get(..n)?);
        self.position += n;
        Some(f)
    }
}

/// Silence of a given length (rounded up to whole frames).
#[derive(Debug, Clone)]
pub struct Silence {
    frames_left: u64,
}

impl Silence {
    /// `ms` milliseconds of silence.
    pub fn new(ms: u64) -> Self {
        Self { frames_left: ms.div_ceil(u64::from(crate::frame::FRAME_MS)) }
    }
}

impl Source for Silence {
    fn next_frame(&mut self) -> Option<Frame> {
        self.frames_left = self.frames_left.checked_sub(1)?;
        Some(SILENT_FRAME)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pcm_source_pads_the_last_frame_and_ends() {
        let mut s = PcmSource::new((1..=170).collect::<Vec<i16>>());
        let a = s.next_frame().unwrap();
        assert_eq!((a[0], a[159]), (1, 160));
        let b = s.next_frame().unwrap();
        assert_eq!((b[9], b[10]), (170, 0));
        assert!(s.next_frame().is_none());
    }

    #[test]
    fn silence_lasts_its_duration() {
        assert_eq!(std::iter::from_fn(|| Silence::new(50).next_frame()).take(10).count(), 10);
        let mut s = Silence::new(50);
        assert_eq!(std::iter::from_fn(|| s.next_frame()).count(), 3);
    }
}
