//! The unit of processed audio: 20 ms of 8 kHz 16-bit linear PCM.

/// Samples per second of processed audio.
pub const FRAME_RATE: u32 = 8000;
/// Milliseconds per frame.
pub const FRAME_MS: u32 = 20;
/// Samples per frame (20 ms at 8 kHz).
pub const FRAME_SAMPLES: usize = 160;

/// 20 ms of 8 kHz mono linear PCM.
pub type Frame = [i16; FRAME_SAMPLES];

/// A frame of silence.
pub const SILENT_FRAME: Frame = [0; FRAME_SAMPLES];

/// The frames of `samples`, the last one padded with silence.
pub fn frames_of(samples: &[i16]) -> impl Iterator<Item = Frame> + '_ {
    samples.chunks(FRAME_SAMPLES).map(|chunk| {
        let mut f = SILENT_FRAME;
        f.get_mut(..chunk.len()).unwrap_or_default().copy_from_slice(chunk);
        f
    })
}

/// The mean energy of a frame (mean of squared samples).
pub fn energy(frame: &[i16]) -> f64 {
    if frame.is_empty() {
        return 0.0;
    }
    frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / frame.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_padded() {
        let s: Vec<i16> = (0..200).map(|i| i as i16).collect();
        let f: Vec<Frame> = frames_of(&s).collect();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1][39], 199);
        assert_eq!(f[1][40], 0);
        assert!((energy(&[3, -3]) - 9.0).abs() < 1e-9);
    }
}
