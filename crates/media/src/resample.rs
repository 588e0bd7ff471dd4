//! A simple linear-interpolation resampler for prompts (16 kHz, 44.1 kHz,
//! 48 kHz to and from 8 kHz). Downsampling first runs a short windowed-sinc
//! low-pass at 90% of the new Nyquist frequency so that what cannot be
//! represented does not alias. Good enough for speech prompts.

use crate::Error;

/// The telephone rate.
pub const TELEPHONE_RATE: u32 = 8000;

/// `input` at `from_rate` Hz, resampled to `to_rate` Hz. Output length is
/// `input.len() * to_rate / from_rate`, rounded.
pub fn resample(input: &[i16], from_rate: u32, to_rate: u32) -> Result<Vec<i16>, Error> {
    for rate in [from_rate, to_rate] {
        if rate == 0 {
            return Err(Error::UnsupportedRate(rate));
        }
    }
    if from_rate == to_rate || input.is_empty() {
        return Ok(input.to_vec());
    }
    let from = u64::from(from_rate);
    let to = u64::from(to_rate);
    let smoothed;
    let source: &[i16] = if from > to {
        smoothed = low_pass(input, 0.45 * to as f64 / from as f64, ((from + to / 2) / to) as usize);
        &smoothed
    } else {
        input
    };
    let out_len = ((input.len() as u64 * to + from / 2) / from) as usize;
    let last = source.len() - 1;
    Ok((0..out_len as u64)
        .map(|i| {
            let pos = i * from;
            let idx = ((pos / to) as usize).min(last);
            let frac = (pos % to) as f64 / to as f64;
            let a = f64::from(source[idx]);
            let b = f64::from(source[(idx + 1).min(last)]);
            (a + (b - a) * frac).round() as i16
        })
        .collect())
}

/// `input` resampled to 8 kHz.
pub fn to_telephone_rate(input: &[i16], from_rate: u32) -> Result<Vec<i16>, Error> {
    resample(input, from_rate, TELEPHONE_RATE)
}

/// A zero-phase FIR low-pass: Hamming-windowed sinc with `cutoff` in
/// cycles per sample, 8 taps per unit of `ratio` on each side (at most 64).
fn low_pass(input: &[i16], cutoff: f64, ratio: usize) -> Vec<i16> {
    use std::f64::consts::PI;
    let half = 8 * ratio.clamp(1, 8);
    let len = 2 * half + 1;
    let mut taps: Vec<f64> = (0..len)
        .map(|k| {
            let n = k as f64 - half as f64;
            let sinc = if n == 0.0 { 2.0 * cutoff } else { (2.0 * PI * cutoff * n).sin() / (PI * n) };
            sinc * (0.54 - 0.46 * (2.0 * PI * k as f64 / (len - 1) as f64).cos())
        })
        .collect();
    let gain: f64 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= gain);
    (0..input.len())
        .map(|i| {
            let acc: f64 = taps
                .iter()
                .enumerate()
                .filter_map(|(k, t)| {
                    (i + k).checked_sub(half).and_then(|j| input.get(j)).map(|&x| t * f64::from(x))
                })
                .sum();
            acc.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::detect::goertzel_power;
    use crate::tone::beep;

    fn rms_diff(a: &[i16], b: &[i16]) -> f64 {
        let n = a.len().min(b.len());
        (a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / n as f64).sqrt()
    }

    fn level(samples: &[i16], freq: f32, rate: u32) -> f32 {
        let f: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
        2.0 * goertzel_power(&f, freq, rate).sqrt() / f.len() as f32
    }

    #[test]
    fn lengths() {
        assert_eq!(resample(&[0; 48000], 48000, 8000).unwrap().len(), 8000);
        assert_eq!(resample(&[0; 44100], 44100, 8000).unwrap().len(), 8000);
        assert_eq!(resample(&[0; 16000], 16000, 8000).unwrap().len(), 8000);
        assert_eq!(resample(&[0; 8000], 8000, 48000).unwrap().len(), 48000);
        assert_eq!(resample(&[], 8000, 16000).unwrap(), Vec::<i16>::new());
        assert_eq!(resample(&[1, 2], 8000, 0), Err(Error::UnsupportedRate(0)));
    }

    #[test]
    fn a_1khz_tone_keeps_its_level_from_every_prompt_rate() {
        let reference = beep(8000, 1000.0, 500, 10000.0);
        for rate in [16000, 44100, 48000] {
            let down = to_telephone_rate(&beep(rate, 1000.0, 500, 10000.0), rate).unwrap();
            let lvl = level(&down[..4000], 1000.0, 8000);
            assert!((9500.0..=10100.0).contains(&lvl), "{rate} Hz: level {lvl}");
        }
        // Upsampling a 1 kHz tone from 8 kHz follows the sine closely.
        let up = resample(&reference, 8000, 48000).unwrap();
        let ideal = beep(48000, 1000.0, 500, 10000.0);
        assert!(rms_diff(&up, &ideal) < 1200.0, "{}", rms_diff(&up, &ideal));
    }

    #[test]
    fn content_above_4khz_is_attenuated_when_going_to_8khz() {
        let high = beep(48000, 6000.0, 500, 10000.0);
        let down = to_telephone_rate(&high, 48000).unwrap();
        // 6 kHz would alias to 2 kHz; the low-pass keeps it 30 dB down.
        assert!(level(&down, 2000.0, 8000) < 316.0, "{}", level(&down, 2000.0, 8000));
    }

    #[test]
    fn round_trip_8k_16k_8k_is_close() {
        let tone = beep(8000, 440.0, 200, 8000.0);
        let back = resample(&resample(&tone, 8000, 16000).unwrap(), 16000, 8000).unwrap();
        assert_eq!(back.len(), tone.len());
        assert!(rms_diff(&back, &tone) < 400.0, "{}", rms_diff(&back, &tone));
    }
}
