//! `tone_stream://` specs as FreeSWITCH users write them (TGML), parsed
//! into a typed [`ToneSpec`] and played by a [`ToneSource`].
//!
//! A spec is a list of parts separated by `;`:
//! - `%(on,off,f1[,f2...])`: a tone of the frequencies (Hz, summed) for
//!   `on` ms, then `off` ms of silence; a frequency of 0 is skipped;
//! - DTMF keys (`0-9`, `*`, `#`, `A-D`), each optionally with its own
//!   `(on,off)`: `1234`, `7(1000,500)`;
//! - settings, applying to the parts after them: `v=` volume in dB
//!   (-63..=0, default -7), `d=` and `w=` the default on and off times of
//!   keys (100 and 50 ms), `l=` how many times each tone repeats;
//! - `L=` or `loops=`: how many times the whole script plays (`loops=-1`:
//!   forever);
//! - `c=`, `r=`, `>=`, `<=`, `+=` are accepted and checked as numbers but
//!   have no effect (output is always 8 kHz mono at a steady volume).
//!
//! Anything else (an unknown setting, a bad number, a tone without
//! frequencies, no tone at all) is an [`Error::Malformed`].

use super::Source;
use crate::dtmf::Digit;
use crate::frame::{Frame, FRAME_RATE, SILENT_FRAME};
use crate::Error;

const WHAT: &str = "tone_stream";
/// The longest on or off time of one tone, in ms (10 minutes).
const MAX_MS: u32 = 600_000;
/// The most frequencies of one tone.
const MAX_FREQUENCIES: usize = 18;
/// The most tones a script holds after `l=` repeats.
const MAX_TONES: usize = 10_000;
/// The most times `L=`/`loops=` may repeat a script (other than forever).
const MAX_LOOPS: u32 = 100_000;

/// One tone: frequencies at a volume for `on_ms`, then silence.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneSegment {
    /// Milliseconds of sound.
    pub on_ms: u32,
    /// Milliseconds of silence after it.
    pub off_ms: u32,
    /// The frequencies in Hz, summed (none: silence).
    pub frequencies: Vec<f32>,
    /// The level of each frequency, in dB below full scale (0 loudest).
    pub volume_db: f32,
}

/// A parsed `tone_stream://` script.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneSpec {
    /// The tones in order, repeats (`l=`) already expanded.
    pub segments: Vec<ToneSegment>,
    /// How many times the script plays; `None` forever.
    pub loops: Option<u32>,
}

/// Parses a spec, with or without its `tone_stream://` prefix.
pub fn parse_tone_stream(spec: &str) -> Result<ToneSpec, Error> {
    let body = spec.trim();
    let body = body.strip_prefix("tone_stream://").unwrap_or(body);
    let bad = |detail: &'static str| Error::Malformed { what: WHAT, detail };
    let mut volume_db = -7.0f32;
    let mut key_on = 100u32;
    let mut key_off = 50u32;
    let mut repeat = 1u32;
    let mut loops = Some(1u32);
    let mut segments: Vec<ToneSegment> = Vec::new();
    let push = |segments: &mut Vec<ToneSegment>, seg: ToneSegment, repeat: u32| -> Result<(), Error> {
        for _ in 0..repeat {
            if segments.len() >= MAX_TONES {
                return Err(bad("too many tones"));
            }
            segments.push(seg.clone());
        }
        Ok(())
    };
    for part in body.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(inner) = part.strip_prefix("%(").and_then(|p| p.strip_suffix(')')) {
            let numbers = numbers(inner)?;
            let [on, off, freqs @ ..] = numbers.as_slice() else {
                return Err(bad("a tone needs on, off and at least one frequency"));
            };
            let frequencies: Vec<f32> = freqs.iter().filter(|&&f| f != 0.0).map(|&f| f as f32).collect();
            if freqs.is_empty() || freqs.len() > MAX_FREQUENCIES {
                return Err(bad("a tone has 1 to 18 frequencies"));
            }
            if frequencies.iter().any(|&f| !(0.0..=(FRAME_RATE / 2) as f32).contains(&f)) {
                return Err(bad("a frequency is outside 0..4000 Hz"));
            }
            let seg = ToneSegment { on_ms: millis(*on)?, off_ms: millis(*off)?, frequencies, volume_db };
            push(&mut segments, seg, repeat)?;
        } else if let Some((key, value)) = part.split_once('=') {
            let value = value.trim();
            let number: f64 = value.parse().map_err(|_| bad("a setting's value is not a number"))?;
            if !number.is_finite() {
                return Err(bad("a setting's value is not a number"));
            }
            match key.trim() {
                "v" => {
                    if !(-63.0..=0.0).contains(&number) {
                        return Err(bad("v= is a volume from -63 to 0 dB"));
                    }
                    volume_db = number as f32;
                }
                "d" => key_on = millis(number)?,
                "w" => key_off = millis(number)?,
                "l" => repeat = count(number, MAX_TONES as u32)?,
                "L" => loops = Some(count(number, MAX_LOOPS)?),
                "loops" if number == -1.0 => loops = None,
                "loops" => loops = Some(count(number, MAX_LOOPS)?),
                "c" | "r" | ">" | "<" | "+" => {}
                _ => return Err(bad("unknown setting")),
            }
        } else {
            let mut chars = part.chars().peekable();
            while let Some(c) = chars.next() {
                let digit = Digit::from_char(c).ok_or(bad("not a DTMF key, tone or setting"))?;
                let (mut on, mut off) = (key_on, key_off);
                if chars.peek() == Some(&'(') {
                    let inner: String = chars.by_ref().skip(1).take_while(|&c| c != ')').collect();
                    match numbers(&inner)?.as_slice() {
                        [a, b] => (on, off) = (millis(*a)?, millis(*b)?),
                        _ => return Err(bad("a key's (on,off) needs two numbers")),
                    }
                }
                let (low, high) = digit.frequencies();
                let seg = ToneSegment { on_ms: on, off_ms: off, frequencies: vec![low, high], volume_db };
                push(&mut segments, seg, repeat)?;
            }
        }
    }
    if segments.iter().all(|s| s.on_ms == 0 && s.off_ms == 0) {
        return Err(bad("no tone to play"));
    }
    Ok(ToneSpec { segments, loops })
}

fn numbers(list: &str) -> Result<Vec<f64>, Error> {
    list.split(',')
        .map(|n| n.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<_>>>()
        .ok_or(Error::Malformed { what: WHAT, detail: "a tone's field is not a number" })
}

fn millis(v: f64) -> Result<u32, Error> {
    if (0.0..=f64::from(MAX_MS)).contains(&v) {
        Ok(v as u32)
    } else {
        Err(Error::Malformed { what: WHAT, detail: "a duration is outside 0..600000 ms" })
    }
}

fn count(v: f64, max: u32) -> Result<u32, Error> {
    if (1.0..=f64::from(max)).contains(&v) && v.fract() == 0.0 {
        Ok(v as u32)
    } else {
        Err(Error::Malformed { what: WHAT, detail: "a repeat count is out of range" })
    }
}

/// Plays a [`ToneSpec`] frame by frame.
#[derive(Debug, Clone)]
pub struct ToneSource {
    spec: ToneSpec,
    /// The segment playing and the sample within it.
    segment: usize,
    sample: u64,
    /// Completed passes through the script.
    passes: u32,
    /// Amplitudes of the current segment's frequencies, and phase steps.
    components: Vec<(f64, f64)>,
}

impl ToneSource {
    /// A player of `spec`.
    pub fn new(spec: ToneSpec) -> Self {
        let mut s = Self { spec, segment: 0, sample: 0, passes: 0, components: Vec::new() };
        s.load();
        s
    }

    /// Parses and plays `spec`.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        parse_tone_stream(spec).map(Self::new)
    }

    fn load(&mut self) {
        self.components = self.spec.segments.get(self.segment).map_or_else(Vec::new, |s| {
            let amplitude = 32767.0 * 10f64.powf(f64::from(s.volume_db) / 20.0);
            s.frequencies
                .iter()
                .map(|&f| (amplitude, std::f64::consts::TAU * f64::from(f) / f64::from(FRAME_RATE)))
                .collect()
        });
    }

    fn finished(&self) -> bool {
        self.spec.loops.is_some_and(|l| self.passes >= l)
    }

    /// The next sample, or `None` at the end of the last pass.
    fn next_sample(&mut self) -> Option<i16> {
        loop {
            if self.finished() {
                return None;
            }
            let seg = self.spec.segments.get(self.segment)?;
            let on = u64::from(seg.on_ms) * u64::from(FRAME_RATE) / 1000;
            let total = on + u64::from(seg.off_ms) * u64::from(FRAME_RATE) / 1000;
            if self.sample < total {
                let n = self.sample as f64;
                self.sample += 1;
                if self.sample > on {
                    return Some(0);
                }
                let v: f64 = self.components.iter().map(|&(a, w)| a * (w * n).sin()).sum();
                return Some(v.round().clamp(-32768.0, 32767.0) as i16);
            }
            self.sample = 0;
            self.segment += 1;
            if self.segment >= self.spec.segments.len() {
                self.segment = 0;
                self.passes = self.passes.saturating_add(1);
            }
            self.load();
        }
    }
}

impl Source for ToneSource {
    fn next_frame(&mut self) -> Option<Frame> {
        let mut f = SILENT_FRAME;
        for (i, slot) in f.iter_mut().enumerate() {
            match self.next_sample() {
                Some(s) => *slot = s,
                None if i == 0 => return None,
                None => break,
            }
        }
        Some(f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::detect::goertzel_power;

    fn play(spec: &str, max_frames: usize) -> Vec<i16> {
        let mut s = ToneSource::parse(spec).unwrap();
        std::iter::from_fn(|| s.next_frame()).take(max_frames).flatten().collect()
    }

    fn level(samples: &[i16], f: f32) -> f32 {
        let x: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
        goertzel_power(&x, f, 8000).sqrt() * 2.0 / x.len() as f32
    }

    #[test]
    fn us_ringback_is_two_seconds_of_440_and_480_then_four_of_silence() {
        let spec = parse_tone_stream("tone_stream://%(2000,4000,440,480)").unwrap();
        assert_eq!(spec.loops, Some(1));
        assert_eq!(spec.segments[0].frequencies, vec![440.0, 480.0]);
        let s = play("tone_stream://%(2000,4000,440,480)", 1000);
        assert_eq!(s.len(), 6 * 8000);
        let on = &s[..16000];
        let expected = 32767.0 * 10f32.powf(-7.0 / 20.0);
        assert!((level(on, 440.0) - expected).abs() < expected * 0.05, "{}", level(on, 440.0));
        assert!((level(on, 480.0) - expected).abs() < expected * 0.05);
        assert!(level(on, 1000.0) < expected * 0.02);
        assert!(s[16001..].iter().all(|&x| x == 0));
    }

    #[test]
    fn script_repeats_and_loops() {
        let spec = parse_tone_stream("L=3;%(100,100,350,440)").unwrap();
        assert_eq!((spec.loops, spec.segments.len()), (Some(3), 1));
        assert_eq!(play("L=3;%(100,100,350,440)", 1000).len(), 3 * 1600);
        let spec = parse_tone_stream("l=2;%(100,0,800);%(50,50,400)").unwrap();
        assert_eq!(spec.segments.len(), 4);
        let spec = parse_tone_stream("%(100,15000,800);loops=-1").unwrap();
        assert_eq!(spec.loops, None);
        assert_eq!(play("%(100,100,800);loops=-1", 100).len(), 100 * 160);
        let spec = parse_tone_stream("v=-20;%(5000,0,450);1234;%(1000,4000,450)").unwrap();
        assert_eq!(spec.segments.len(), 6);
        assert_eq!(spec.segments[1].frequencies, vec![697.0, 1209.0]);
        assert_eq!(spec.segments[0].volume_db, -20.0);
        let spec = parse_tone_stream("d=200;w=10;7(1000,500)#").unwrap();
        assert_eq!((spec.segments[0].on_ms, spec.segments[0].off_ms), (1000, 500));
        assert_eq!((spec.segments[1].on_ms, spec.segments[1].off_ms), (200, 10));
    }

    #[test]
    fn dtmf_keys_are_detectable() {
        let s = play("tone_stream://v=-10;159#", 1000);
        let mut d = crate::detect::DtmfDetector::default();
        let keys: String = s.chunks(160).flat_map(|f| d.process(f)).map(|d| d.as_char()).collect();
        assert_eq!(keys, "159#");
    }

    #[test]
    fn bad_specs_are_errors() {
        for bad in [
            "",
            "tone_stream://",
            "%(100,100)",
            "%(100,100,abc)",
            "%(100,100,440",
            "%(-5,100,440)",
            "%(100,100,9000)",
            "%(100,100,NaN)",
            "v=5;%(100,100,440)",
            "x=1;%(100,100,440)",
            "L=0;%(100,100,440)",
            "L=-1;%(100,100,440)",
            "loops=1.5;%(100,100,440)",
            "12x4",
            "7(100);",
            "%(0,0,440)",
            "l=10000;%(1,1,440);%(1,1,440)",
        ] {
            assert!(parse_tone_stream(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
