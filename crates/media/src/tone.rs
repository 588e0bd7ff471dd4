//! Tone generation: DTMF pairs, beeps, and any sum of sines, as 16-bit
//! linear PCM at any sample rate. Stateful, so a tone can be produced in
//! frames without phase jumps.

use std::f64::consts::TAU;

use crate::dtmf::Digit;

/// A sum of sine waves, generated frame by frame.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    sample_rate: u32,
    components: Vec<(f64, f64)>,
    position: u64,
}

impl ToneGenerator {
    /// A tone of `components` as (frequency in Hz, peak amplitude in 16-bit
    /// units) at `sample_rate` Hz.
    pub fn new(sample_rate: u32, components: &[(f32, f32)]) -> Self {
        Self {
            sample_rate: sample_rate.max(1),
            components: components.iter().map(|&(f, a)| (f64::from(f), f64::from(a))).collect(),
            position: 0,
        }
    }

    /// A single sine (a beep) of `frequency` Hz at peak `amplitude`.
    pub fn single(sample_rate: u32, frequency: f32, amplitude: f32) -> Self {
        Self::new(sample_rate, &[(frequency, amplitude)])
    }

    /// The DTMF pair of `digit`, each tone at peak `amplitude`.
    pub fn dtmf(sample_rate: u32, digit: Digit, amplitude: f32) -> Self {
        let (low, high) = digit.frequencies();
        Self::new(sample_rate, &[(low, amplitude), (high, amplitude)])
    }

    /// Fills `out` with the next samples, clipped to the 16-bit range.
    pub fn fill(&mut self, out: &mut [i16]) {
        let rate = f64::from(self.sample_rate);
        for sample in out {
            let t = self.position as f64 / rate;
            let v: f64 = self.components.iter().map(|&(f, a)| a * (TAU * f * t).sin()).sum();
            *sample = v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
            self.position += 1;
        }
    }

    /// The next `count` samples.
    pub fn generate(&mut self, count: usize) -> Vec<i16> {
        let mut out = vec![0; count];
        self.fill(&mut out);
        out
    }

    /// The next `ms` milliseconds of samples.
    pub fn generate_ms(&mut self, ms: u32) -> Vec<i16> {
        self.generate(samples_for_ms(self.sample_rate, ms))
    }
}

/// The number of samples in `ms` milliseconds at `sample_rate` Hz.
pub fn samples_for_ms(sample_rate: u32, ms: u32) -> usize {
    (u64::from(sample_rate) * u64::from(ms) / 1000) as usize
}

/// `ms` milliseconds of `digit`'s DTMF pair, each tone at peak `amplitude`.
pub fn dtmf_tone(sample_rate: u32, digit: Digit, ms: u32, amplitude: f32) -> Vec<i16> {
    ToneGenerator::dtmf(sample_rate, digit, amplitude).generate_ms(ms)
}

/// `ms` milliseconds of a `frequency` Hz sine at peak `amplitude` (a beep,
/// e.g. 1000 Hz before a recording).
pub fn beep(sample_rate: u32, frequency: f32, ms: u32, amplitude: f32) -> Vec<i16> {
    ToneGenerator::single(sample_rate, frequency, amplitude).generate_ms(ms)
}

/// `ms` milliseconds of silence.
pub fn silence(sample_rate: u32, ms: u32) -> Vec<i16> {
    vec![0; samples_for_ms(sample_rate, ms)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1khz_beep_at_8khz_repeats_every_8_samples() {
        let b = beep(8000, 1000.0, 10, 10000.0);
        assert_eq!(b.len(), 80);
        assert_eq!(&b[..8], &[0, 7071, 10000, 7071, 0, -7071, -10000, -7071]);
        assert_eq!(&b[8..16], &b[..8]);
    }

    #[test]
    fn frames_continue_without_phase_jumps() {
        let mut whole = ToneGenerator::single(8000, 440.0, 5000.0);
        let all = whole.generate(480);
        let mut parts = ToneGenerator::single(8000, 440.0, 5000.0);
        let mut joined = parts.generate(160);
        joined.extend(parts.generate(160));
        joined.extend(parts.generate(160));
        assert_eq!(all, joined);
    }

    #[test]
    fn dual_tone_clips_instead_of_wrapping() {
        let d = Digit::from_char('5').map(|d| dtmf_tone(8000, d, 50, 30000.0)).unwrap_or_default();
        assert_eq!(d.len(), 400);
        assert!(d.contains(&i16::MAX) || d.contains(&i16::MIN));
        assert_eq!(silence(16000, 20).len(), 320);
    }
}
