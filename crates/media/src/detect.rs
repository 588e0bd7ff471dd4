//! In-band DTMF detection over linear PCM: Goertzel filters at the eight
//! DTMF frequencies, one decision per block of 25.6 ms (205 samples at
//! 8 kHz), and a press reported once when it has lasted `min_blocks`
//! blocks.
//!
//! A block holds a digit when the strongest row and column tones are each
//! loud enough, within the twist limits of each other, clearly above the
//! other tones of their group, and together carry most of the block's
//! energy (which rules out speech, music and noise).
//!
//! Audio that never arrived (a lost packet, a stream running late) is not
//! silence: [`DtmfDetector::process_missing`] holds a press over such a gap
//! instead of hearing a release, so a press cut by a short gap is reported
//! once. A gap longer than `max_gap_ms` releases it, so a press followed by
//! a lost stream does not stay down forever; the price is that two presses
//! of the same key whose pause was entirely lost count as one.

use crate::dtmf::digit::{COLS, ROWS};
use crate::dtmf::Digit;
use std::f32::consts::TAU;

/// The power of `frequency` in `samples` (the squared magnitude of one DFT
/// bin, computed by the Goertzel recurrence). A sine of peak amplitude A
/// over N samples gives about (A * N / 2)^2.
pub fn goertzel_power(samples: &[f32], frequency: f32, sample_rate: u32) -> f32 {
    let coeff = 2.0 * (TAU * frequency / sample_rate.max(1) as f32).cos();
    goertzel(samples, coeff)
}

fn goertzel(samples: &[f32], coeff: f32) -> f32 {
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Thresholds of the [`DtmfDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// The input's sample rate in Hz.
    pub sample_rate: u32,
    /// The weakest tone accepted, as peak amplitude in 16-bit units
    /// (500 is about -33 dBm0).
    pub min_amplitude: f32,
    /// How much louder the column tone may be than the row tone, in dB.
    pub max_normal_twist_db: f32,
    /// How much louder the row tone may be than the column tone, in dB.
    pub max_reverse_twist_db: f32,
    /// How far each tone must exceed the others of its group, in dB.
    pub min_peak_ratio_db: f32,
    /// The share of the block's energy the two tones must carry, 0..1.
    pub min_tone_share: f32,
    /// Consecutive blocks holding the same digit before it is reported.
    pub min_blocks: u32,
    /// Consecutive blocks without it before the same key can be reported again.
    pub release_blocks: u32,
    /// The longest gap of missing audio a press (or a press about to be
    /// reported) is held over, in ms; a longer gap releases it.
    pub max_gap_ms: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            sample_rate: 8000,
            min_amplitude: 500.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 4.0,
            min_peak_ratio_db: 6.0,
            min_tone_share: 0.6,
            min_blocks: 2,
            release_blocks: 1,
            max_gap_ms: 100,
        }
    }
}

/// Finds DTMF key presses in a stream of linear PCM.
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DetectorConfig,
    block_len: usize,
    row_coeffs: [f32; 4],
    col_coeffs: [f32; 4],
    block: Vec<f32>,
    candidate: Option<Digit>,
    candidate_blocks: u32,
    active: Option<Digit>,
    missing_blocks: u32,
    /// Samples missing since the last real ones.
    gap: u64,
    /// The gap that releases a press, in samples.
    max_gap: u64,
}

impl DtmfDetector {
    /// A detector with `config`.
    pub fn new(config: DetectorConfig) -> Self {
        let rate = config.sample_rate.max(1);
        let coeff = |f: f32| 2.0 * (TAU * f / rate as f32).cos();
        let block_len = ((u64::from(rate) * 205 / 8000) as usize).max(1);
        Self {
            config,
            block_len,
            row_coeffs: ROWS.map(coeff),
            col_coeffs: COLS.map(coeff),
            block: Vec::with_capacity(block_len),
            candidate: None,
            candidate_blocks: 0,
            active: None,
            missing_blocks: 0,
            gap: 0,
            max_gap: u64::from(rate) * u64::from(config.max_gap_ms) / 1000,
        }
    }

    /// Feeds samples; returns the presses that became certain in them.
    pub fn process(&mut self, samples: &[i16]) -> Vec<Digit> {
        let mut found = Vec::new();
        if !samples.is_empty() {
            self.gap = 0;
        }
        for &s in samples {
            self.block.push(f32::from(s));
            if self.block.len() == self.block_len {
                let seen = self.classify_block();
                self.block.clear();
                if let Some(d) = self.step(seen) {
                    found.push(d);
                }
            }
        }
        found
    }

    /// Takes the place of `samples` samples that never arrived (whatever
    /// stood in for them: concealment, silence). The block in progress is
    /// dropped, since a hole in it would blur its tones; the press state is
    /// held, unless the gap has now lasted more than `max_gap_ms`: then a
    /// press, and a digit seen but not yet reported, are released.
    pub fn process_missing(&mut self, samples: usize) {
        self.block.clear();
        self.gap = self.gap.saturating_add(samples as u64);
        if self.gap > self.max_gap {
            self.active = None;
            self.candidate = None;
            self.candidate_blocks = 0;
            self.missing_blocks = 0;
        }
    }

    /// The digit the current block holds, if any.
    fn classify_block(&self) -> Option<Digit> {
        let c = &self.config;
        let n = self.block.len() as f32;
        let energy: f32 = self.block.iter().map(|x| x * x).sum();
        let rows = self.row_coeffs.map(|k| goertzel(&self.block, k));
        let cols = self.col_coeffs.map(|k| goertzel(&self.block, k));
        let (r, row_power) = strongest(&rows)?;
        let (k, col_power) = strongest(&cols)?;

        // Loud enough: power ~ (A N / 2)^2.
        let min_power = (c.min_amplitude * n / 2.0).powi(2);
        if row_power < min_power || col_power < min_power {
            return None;
        }
        // Twist.
        let db = |ratio: f32| 10.0 * ratio.log10();
        if db(col_power / row_power) > c.max_normal_twist_db
            || db(row_power / col_power) > c.max_reverse_twist_db
        {
            return None;
        }
        // Clear peaks within each group.
        let clear = |powers: &[f32; 4], best: usize, peak: f32| {
            powers
                .iter()
                .enumerate()
                .all(|(i, &p)| i == best || db(peak / p.max(f32::MIN_POSITIVE)) >= c.min_peak_ratio_db)
        };
        if !clear(&rows, r, row_power) || !clear(&cols, k, col_power) {
            return None;
        }
        // The pair carries most of the energy: a tone of power P holds
        // 2P/N of the block's sum of squares.
        if 2.0 * (row_power + col_power) / n < c.min_tone_share * energy {
            return None;
        }
        Digit::at(r, k)
    }

    /// Advances the press state machine by one block's verdict.
    fn step(&mut self, seen: Option<Digit>) -> Option<Digit> {
        if let Some(active) = self.active {
            if seen == Some(active) {
                self.missing_blocks = 0;
                return None;
            }
            self.missing_blocks += 1;
            if self.missing_blocks < self.config.release_blocks {
                return None;
            }
            self.active = None;
            self.candidate = None;
        }
        if seen.is_some() && seen == self.candidate {
            self.candidate_blocks += 1;
        } else {
            self.candidate = seen;
            self.candidate_blocks = 1;
        }
        match self.candidate {
            Some(d) if self.candidate_blocks >= self.config.min_blocks.max(1) => {
                self.active = Some(d);
                self.missing_blocks = 0;
                self.candidate = None;
                Some(d)
            }
            _ => None,
        }
    }
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DetectorConfig::default())
    }
}

fn strongest(powers: &[f32; 4]) -> Option<(usize, f32)> {
    powers.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tone::{beep, dtmf_tone, silence, ToneGenerator};

    /// A tiny deterministic noise source (xorshift32).
    struct Noise(u32);

    impl Noise {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
        }
    }

    fn detect(samples: &[i16]) -> String {
        let mut d = DtmfDetector::default();
        // Feed in RTP-sized frames to exercise block carry-over.
        samples.chunks(160).flat_map(|f| d.process(f)).map(|d| d.as_char()).collect()
    }

    fn keys(keys: &str, on_ms: u32, off_ms: u32, amplitude: f32) -> Vec<i16> {
        let mut s = silence(8000, 30);
        for c in keys.chars() {
            s.extend(dtmf_tone(8000, Digit::from_char(c).unwrap(), on_ms, amplitude));
            s.extend(silence(8000, off_ms));
        }
        s
    }

    /// Like `detect`, but the 20 ms frames in `missing` never arrived: the
    /// detector is told so (`heard_as_silence` false) or, as before it knew,
    /// is fed silence in their place.
    fn detect_with_gap(samples: &[i16], missing: std::ops::Range<usize>, heard_as_silence: bool) -> String {
        let mut d = DtmfDetector::default();
        let mut found = Vec::new();
        for (i, f) in samples.chunks(160).enumerate() {
            if !missing.contains(&i) {
                found.extend(d.process(f));
            } else if heard_as_silence {
                found.extend(d.process(&[0; 160]));
            } else {
                d.process_missing(f.len());
            }
        }
        found.iter().map(|d| d.as_char()).collect()
    }

    #[test]
    fn a_press_cut_by_missing_frames_is_reported_once() {
        // "1" from 30 to 230 ms, "9" after; frames 5 and 6 (100..140 ms)
        // of the "1" are lost.
        let s = keys("19", 200, 100, 7000.0);
        assert_eq!(detect_with_gap(&s, 5..7, false), "19");
        assert_eq!(detect_with_gap(&s, 5..6, false), "19");
        // Heard as silence, the gap was a release and a new press: the flake.
        assert_eq!(detect_with_gap(&s, 5..7, true), "119");
        // A digit seen once before the gap and once after is still a press.
        assert_eq!(detect_with_gap(&keys("5", 100, 100, 7000.0), 3..5, false), "5");
    }

    #[test]
    fn a_gap_longer_than_the_limit_releases_the_press() {
        // "4" from 30 to 430 ms; frames 5.. lost for 100 ms (held) or
        // 120 ms (released: the rest of the tone is a new press).
        let s = keys("4", 400, 100, 7000.0);
        assert_eq!(detect_with_gap(&s, 5..10, false), "4");
        assert_eq!(detect_with_gap(&s, 5..11, false), "44");
        // A press followed by a lost stream does not stay down: the same
        // key after a long silence of the line is a new press.
        let mut d = DtmfDetector::default();
        let tone = keys("4", 100, 0, 7000.0);
        let mut got: Vec<Digit> = tone.chunks(160).flat_map(|f| d.process(f)).collect();
        for _ in 0..50 {
            d.process_missing(160);
        }
        got.extend(tone.chunks(160).flat_map(|f| d.process(f)));
        assert_eq!(got.iter().map(|d| d.as_char()).collect::<String>(), "44");
        // Any count is taken.
        d.process_missing(usize::MAX);
        d.process_missing(usize::MAX);
        assert!(d.process(&[]).is_empty());
    }

    #[test]
    fn goertzel_measures_a_bin() {
        let tone: Vec<f32> = beep(8000, 1000.0, 25, 1000.0).iter().map(|&s| f32::from(s)).collect();
        let n = tone.len() as f32;
        let p = goertzel_power(&tone, 1000.0, 8000);
        assert!((p.sqrt() * 2.0 / n - 1000.0).abs() < 10.0);
        assert!(goertzel_power(&tone, 1633.0, 8000) < p / 1000.0);
    }

    #[test]
    fn every_key_is_detected_once() {
        let all = "0123456789*#ABCD";
        assert_eq!(detect(&keys(all, 100, 100, 8000.0)), all);
    }

    #[test]
    fn repeated_keys_with_short_gaps_are_separate_presses() {
        assert_eq!(detect(&keys("5555", 80, 50, 6000.0)), "5555");
    }

    #[test]
    fn quiet_and_twisted_keys() {
        assert_eq!(detect(&keys("19", 100, 60, 800.0)), "19");
        // Column 6 dB louder than row: within normal twist.
        let mut twisted = silence(8000, 20);
        twisted.extend(ToneGenerator::new(8000, &[(852.0, 2000.0), (1477.0, 4000.0)]).generate_ms(100));
        assert_eq!(detect(&twisted), "9");
        // Row 8 dB louder than column: beyond reverse twist.
        let mut reverse = silence(8000, 20);
        reverse.extend(ToneGenerator::new(8000, &[(852.0, 5000.0), (1477.0, 2000.0)]).generate_ms(100));
        assert_eq!(detect(&reverse), "");
        // Too quiet.
        assert_eq!(detect(&keys("1", 100, 60, 200.0)), "");
    }

    #[test]
    fn too_short_tones_are_ignored() {
        assert_eq!(detect(&keys("7", 20, 100, 8000.0)), "");
    }

    #[test]
    fn keys_survive_moderate_noise() {
        let mut s = keys("147", 100, 80, 6000.0);
        let mut n = Noise(0x1234_5678);
        for x in &mut s {
            *x = x.saturating_add((n.next() * 600.0) as i16);
        }
        assert_eq!(detect(&s), "147");
    }

    #[test]
    fn silence_beeps_and_noise_are_not_digits() {
        assert_eq!(detect(&silence(8000, 2000)), "");
        assert_eq!(detect(&beep(8000, 1000.0, 1000, 10000.0)), "");
        assert_eq!(detect(&beep(8000, 697.0, 1000, 10000.0)), "");
        let mut n = Noise(42);
        let white: Vec<i16> = (0..16000).map(|_| (n.next() * 8000.0) as i16).collect();
        assert_eq!(detect(&white), "");
    }

    #[test]
    fn speech_like_signals_are_not_digits() {
        // Voiced speech: a wandering pitch with many harmonics shaped by
        // formant-like weights, plus breath noise.
        let mut n = Noise(7);
        let mut phase = 0.0f32;
        let speech: Vec<i16> = (0..24000)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let f0 = 110.0 + 40.0 * (TAU * 3.0 * t).sin() + 20.0 * (TAU * 0.7 * t).sin();
                phase += TAU * f0 / 8000.0;
                let mut v = 0.0;
                for h in 1..30 {
                    let f = f0 * h as f32;
                    let formant = (-((f - 700.0) / 250.0).powi(2)).exp()
                        + 0.7 * (-((f - 1300.0) / 300.0).powi(2)).exp();
                    v += (0.1 + formant) / h as f32 * (phase * h as f32).sin();
                }
                (v * 6000.0 + n.next() * 300.0) as i16
            })
            .collect();
        assert_eq!(detect(&speech), "");
    }
}
