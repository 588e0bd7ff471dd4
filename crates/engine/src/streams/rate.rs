//! Rate conversion between the call's 8 kHz frames and a 16 kHz stream,
//! frame by frame without seams: each converter keeps the last samples it
//! saw, so a tone cut into 20 ms frames comes out as if converted whole.
//!
//! Both directions run one low-pass FIR (a Hamming-windowed sinc, 31
//! taps, cut at 3.6 kHz of the 16 kHz side): after zero-stuffing when
//! going up (so the images above 4 kHz go), before dropping every other
//! sample when going down (so what 8 kHz cannot carry does not alias).

/// Taps of the low-pass filter.
const TAPS: usize = 31;
/// Its cut-off in cycles per sample at 16 kHz (3.6 kHz).
const CUTOFF: f32 = 0.225;

fn low_pass() -> [f32; TAPS] {
    use std::f32::consts::PI;
    let half = (TAPS / 2) as f32;
    let mut taps = [0.0f32; TAPS];
    for (k, t) in taps.iter_mut().enumerate() {
        let n = k as f32 - half;
        let sinc = if n == 0.0 { 2.0 * CUTOFF } else { (2.0 * PI * CUTOFF * n).sin() / (PI * n) };
        *t = sinc * (0.54 - 0.46 * (2.0 * PI * k as f32 / (TAPS - 1) as f32).cos());
    }
    let gain: f32 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= gain);
    taps
}

fn clamp(x: f32) -> i16 {
    x.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// 8 kHz to 16 kHz, keeping its state between calls.
#[derive(Debug, Clone)]
pub struct Upsampler {
    taps: [f32; TAPS],
    /// The last `TAPS - 1` samples of the zero-stuffed signal.
    history: Vec<f32>,
}

impl Default for Upsampler {
    fn default() -> Self {
        Upsampler { taps: low_pass(), history: vec![0.0; TAPS - 1] }
    }
}

impl Upsampler {
    /// Twice as many samples as `input`.
    pub fn process(&mut self, input: &[i16]) -> Vec<i16> {
        let mut buf = std::mem::take(&mut self.history);
        buf.reserve(input.len() * 2);
        for &s in input {
            buf.push(f32::from(s));
            buf.push(0.0);
        }
        let out = (TAPS - 1..buf.len())
            .map(|i| {
                let acc: f32 = self.taps.iter().enumerate().map(|(k, t)| t * buf[i - k]).sum();
                clamp(2.0 * acc)
            })
            .collect();
        self.history = buf.split_off(buf.len() - (TAPS - 1));
        out
    }
}

/// 16 kHz to 8 kHz, keeping its state between calls. An odd sample left
/// over waits for the next call.
#[derive(Debug, Clone)]
pub struct Downsampler {
    taps: [f32; TAPS],
    /// The last `TAPS - 1` input samples, then any odd one not yet used.
    history: Vec<f32>,
}

impl Default for Downsampler {
    fn default() -> Self {
        Downsampler { taps: low_pass(), history: vec![0.0; TAPS - 1] }
    }
}

impl Downsampler {
    /// Half as many samples as `input` (with any sample left over before).
    pub fn process(&mut self, input: &[i16]) -> Vec<i16> {
        let mut buf = std::mem::take(&mut self.history);
        buf.extend(input.iter().map(|&s| f32::from(s)));
        let pairs = (buf.len() - (TAPS - 1)) / 2;
        let out = (0..pairs)
            .map(|j| {
                let newest = TAPS - 1 + 2 * j + 1;
                let acc: f32 = self.taps.iter().enumerate().map(|(k, t)| t * buf[newest - k]).sum();
                clamp(acc)
            })
            .collect();
        let used = TAPS - 1 + 2 * pairs;
        self.history = buf.split_off(used - (TAPS - 1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, freq: f32, samples: usize, amplitude: f32) -> Vec<i16> {
        (0..samples)
            .map(|i| (amplitude * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()) as i16)
            .collect()
    }

    /// The amplitude of `freq` in `samples` (a single-bin DFT).
    fn level(samples: &[i16], freq: f32, rate: u32) -> f32 {
        let (mut re, mut im) = (0.0f32, 0.0f32);
        for (i, &s) in samples.iter().enumerate() {
            let w = 2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32;
            re += f32::from(s) * w.cos();
            im += f32::from(s) * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / samples.len() as f32
    }

    #[test]
    fn frame_by_frame_equals_all_at_once() {
        let input = tone(8000, 440.0, 1600, 9000.0);
        let whole = Upsampler::default().process(&input);
        let mut up = Upsampler::default();
        let framed: Vec<i16> = input.chunks(160).flat_map(|f| up.process(f)).collect();
        assert_eq!(whole, framed);
        let wide = tone(16000, 440.0, 3200, 9000.0);
        let whole = Downsampler::default().process(&wide);
        let mut down = Downsampler::default();
        // Odd-sized pieces too: a sample left over waits for the next.
        let framed: Vec<i16> = wide.chunks(317).flat_map(|f| down.process(f)).collect();
        assert_eq!(whole, framed);
        assert_eq!(whole.len(), 1600);
    }

    #[test]
    fn a_1khz_tone_keeps_its_level_both_ways() {
        let mut up = Upsampler::default();
        let wide: Vec<i16> =
            tone(8000, 1000.0, 1600, 10000.0).chunks(160).flat_map(|f| up.process(f)).collect();
        assert_eq!(wide.len(), 3200);
        let lvl = level(&wide[400..], 1000.0, 16000);
        assert!((9300.0..=10500.0).contains(&lvl), "up: {lvl}");
        // The image at 7 kHz is filtered away.
        assert!(level(&wide[400..], 7000.0, 16000) < 500.0, "{}", level(&wide[400..], 7000.0, 16000));
        let mut down = Downsampler::default();
        let narrow: Vec<i16> = wide.chunks(320).flat_map(|f| down.process(f)).collect();
        let lvl = level(&narrow[200..], 1000.0, 8000);
        assert!((9000.0..=10500.0).contains(&lvl), "round trip: {lvl}");
    }

    #[test]
    fn content_above_4khz_does_not_alias_going_down() {
        let mut down = Downsampler::default();
        let narrow = down.process(&tone(16000, 6000.0, 3200, 10000.0));
        // 6 kHz would fold to 2 kHz.
        assert!(level(&narrow[100..], 2000.0, 8000) < 600.0, "{}", level(&narrow[100..], 2000.0, 8000));
    }
}
