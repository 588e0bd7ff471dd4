//! Voice activity: frame energy against a threshold, with a hangover, so
//! that `record` can stop after some silence and `gather` can tell when a
//! caller starts and stops speaking.
//!
//! A frame is loud when its RMS level exceeds the threshold. Speech starts
//! after `start_frames` loud frames in a row; it ends after
//! `hangover_frames` quiet frames in a row (the pauses between words do
//! not end it). The threshold follows the noise floor: it is at least
//! `floor_margin` times the running RMS of the quiet frames, so steady
//! line noise is not taken for a voice.
//!
//! A frame that never arrived (a lost packet, a stream running late) is
//! not a quiet one: [`VoiceDetector::process_missing`] holds the state over
//! up to `max_gap_frames` of them in a row, and counts the rest as quiet,
//! so speech still ends after its hangover when the stream stops.

use crate::frame::{Frame, FRAME_MS};

/// Tunables of a [`VoiceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// The lowest RMS level (16-bit units) counted as voice; 300 is about
    /// -40 dBFS.
    pub threshold: f64,
    /// Loud frames in a row before speech starts.
    pub start_frames: u32,
    /// Quiet frames in a row before speech ends (25: 500 ms).
    pub hangover_frames: u32,
    /// How far above the noise floor a frame must be to count as loud.
    pub floor_margin: f64,
    /// Missing frames in a row held over (5: 100 ms); later ones count as
    /// quiet.
    pub max_gap_frames: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self { threshold: 300.0, start_frames: 3, hangover_frames: 25, floor_margin: 3.0, max_gap_frames: 5 }
    }
}

/// A change of [`VoiceDetector`]'s state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began (after `start_frames`).
    SpeechStarted,
    /// Speech ended (after the hangover).
    SpeechEnded,
}

/// Energy-based voice activity detection over 20 ms frames.
#[derive(Debug, Clone)]
pub struct VoiceDetector {
    config: VadConfig,
    speaking: bool,
    loud_run: u32,
    quiet_run: u32,
    /// Running mean square of quiet frames.
    noise: f64,
    /// Frames since the last loud one.
    since_voice: u64,
    /// Missing frames in a row.
    gap_frames: u32,
}

impl VoiceDetector {
    /// A detector with `config`.
    pub fn new(config: VadConfig) -> Self {
        Self { config, speaking: false, loud_run: 0, quiet_run: 0, noise: 0.0, since_voice: 0, gap_frames: 0 }
    }

    /// Whether speech is going on.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Milliseconds since the last loud frame.
    pub fn silence_ms(&self) -> u64 {
        self.since_voice * u64::from(FRAME_MS)
    }

    /// Takes the next frame; reports a change of state.
    pub fn process(&mut self, frame: &Frame) -> Option<VadEvent> {
        self.gap_frames = 0;
        let ms = crate::frame::energy(frame);
        let floor = self.noise.sqrt() * self.config.floor_margin;
        let loud = ms.sqrt() > self.config.threshold.max(floor);
        if !loud {
            // Follow the floor slowly (about a second).
            self.noise = if self.noise == 0.0 { ms } else { self.noise * 0.95 + ms * 0.05 };
        }
        self.step(loud)
    }

    /// Takes the place of a frame that never arrived (whatever stood in for
    /// it: concealment, silence): holds the state for up to
    /// `max_gap_frames` in a row, then counts as a quiet frame (leaving the
    /// noise floor alone).
    pub fn process_missing(&mut self) -> Option<VadEvent> {
        if self.gap_frames < self.config.max_gap_frames {
            self.gap_frames += 1;
            return None;
        }
        self.step(false)
    }

    fn step(&mut self, loud: bool) -> Option<VadEvent> {
        if loud {
            self.loud_run = self.loud_run.saturating_add(1);
            self.quiet_run = 0;
            self.since_voice = 0;
        } else {
            self.loud_run = 0;
            self.quiet_run = self.quiet_run.saturating_add(1);
            self.since_voice = self.since_voice.saturating_add(1);
        }
        if !self.speaking && self.loud_run >= self.config.start_frames.max(1) {
            self.speaking = true;
            return Some(VadEvent::SpeechStarted);
        }
        if self.speaking && self.quiet_run >= self.config.hangover_frames.max(1) {
            self.speaking = false;
            return Some(VadEvent::SpeechEnded);
        }
        None
    }
}

impl Default for VoiceDetector {
    fn default() -> Self {
        Self::new(VadConfig::default())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::frame::frames_of;
    use crate::tone::{beep, silence};

    /// Deterministic noise (xorshift32) at peak `amplitude`.
    fn noise(ms: u32, amplitude: f32, seed: u32) -> Vec<i16> {
        let mut x = seed.max(1);
        (0..ms * 8)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                ((x as f32 / u32::MAX as f32 * 2.0 - 1.0) * amplitude) as i16
            })
            .collect()
    }

    /// Speech-like bursts: syllables of a wandering pitch with short pauses.
    fn speech(ms: u32) -> Vec<i16> {
        let mut out = Vec::new();
        let mut t = 0;
        while t < ms {
            out.extend(beep(8000, 150.0 + (t % 7) as f32 * 20.0, 180, 6000.0));
            out.extend(noise(60, 100.0, t + 1));
            t += 240;
        }
        out
    }

    fn run(samples: &[i16]) -> Vec<(usize, VadEvent)> {
        let mut v = VoiceDetector::default();
        frames_of(samples).enumerate().filter_map(|(i, f)| v.process(&f).map(|e| (i, e))).collect()
    }

    #[test]
    fn speech_between_silences_starts_and_ends_once() {
        let mut s = silence(8000, 1000);
        s.extend(speech(2000));
        s.extend(silence(8000, 1500));
        let events = run(&s);
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].1, VadEvent::SpeechStarted);
        assert!((50..=55).contains(&events[0].0), "{events:?}");
        assert_eq!(events[1].1, VadEvent::SpeechEnded);
        // Ends 500 ms after the last syllable (which ends near frame 150).
        assert!((170..=185).contains(&events[1].0), "{events:?}");
    }

    #[test]
    fn silence_and_line_noise_are_not_speech() {
        assert!(run(&silence(8000, 3000)).is_empty());
        assert!(run(&noise(3000, 200.0, 9)).is_empty());
        // Quiet noise sets the floor, so noise a little louder than the
        // threshold is still not speech.
        let mut s = noise(1000, 300.0, 5);
        s.extend(noise(3000, 700.0, 3));
        assert!(run(&s).is_empty(), "{:?}", run(&s));
        let mut v = VoiceDetector::default();
        for f in frames_of(&silence(8000, 400)) {
            v.process(&f);
        }
        assert_eq!(v.silence_ms(), 400);
        assert!(!v.is_speaking());
    }

    /// The events of `frames`, `None` standing for a frame that never came.
    fn run_with_gaps(frames: &[Option<Frame>]) -> Vec<(usize, VadEvent)> {
        let mut v = VoiceDetector::default();
        let mut events = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let e = match f {
                Some(f) => v.process(f),
                None => v.process_missing(),
            };
            events.extend(e.map(|e| (i, e)));
        }
        events
    }

    #[test]
    fn missing_frames_are_held_over_not_heard_as_silence() {
        let loud: Frame = frames_of(&beep(8000, 200.0, 20, 6000.0)).next().unwrap();
        let quiet = crate::frame::SILENT_FRAME;
        // Two loud frames, two missing, one loud: three loud in a row.
        let mut f = vec![None; 10];
        f.extend([Some(loud), Some(loud), None, None, Some(loud)]);
        assert_eq!(run_with_gaps(&f), [(14, VadEvent::SpeechStarted)]);
        // Speaking; 24 quiet frames, a gap of 5, one quiet: 25 quiet.
        f.extend(vec![Some(quiet); 24]);
        f.extend([None; 5]);
        f.push(Some(quiet));
        assert_eq!(run_with_gaps(&f)[1..], [(f.len() - 1, VadEvent::SpeechEnded)]);
        // Speaking, then the stream stops: 5 missing frames are held, the
        // next 25 end the speech.
        let mut f = vec![Some(loud); 3];
        f.extend([None; 40]);
        assert_eq!(run_with_gaps(&f), [(2, VadEvent::SpeechStarted), (32, VadEvent::SpeechEnded)]);
        // Heard as silence, a gap of 2 broke the start.
        let mut v = VoiceDetector::default();
        let events: Vec<_> = [loud, loud, quiet, quiet, loud].iter().filter_map(|f| v.process(f)).collect();
        assert!(events.is_empty());
    }
}
