//! Speech input on a live call: the caller's voice to the speech recogniser.
//!
//! A tap hands the caller's decoded frames to this step; an energy voice
//! detector of its own (the same `media::vad` the session uses, run on
//! the tapped frames so that the audio and the decision stay in step)
//! finds the utterance: it starts with the first voice, keeps a little
//! audio from just before it, and ends after `end_on_silence` of quiet or
//! at `max_duration`. No voice within the timeout is
//! [`Heard::Timeout`]; a digit, when digits are taken too, wins at once.
//! The utterance goes to the application's STT engine (pocketsphinx by
//! default, the hints as its grammar) on a task of its own, while the call
//! keeps answering the caller; a caller gone stops it.

use std::collections::VecDeque;
use std::time::Duration;

use media::frame::{Frame, FRAME_MS, FRAME_RATE, FRAME_SAMPLES};
use media::vad::{VadEvent, VoiceDetector};
use serde_json::json;
use tokio::sync::mpsc;

use super::{millis, AppChannel, Got, LEG_A};
use crate::media::Decoded;
use crate::program::{ChannelError, Input as Heard, Listen};
use crate::speech::SpeechError;

/// Frames the tap may hold between two looks at it (5 s).
const TAP_FRAMES: usize = 250;
/// How often the tap is read, and the recogniser checked on.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// Audio kept from before the detector decides speech started: its start
/// frames and the onset of the first word (300 ms).
const PREROLL_FRAMES: usize = 15;
/// Quiet that ends an utterance when the verb does not say.
const DEFAULT_END_SILENCE: Duration = Duration::from_millis(1000);
/// The shortest quiet that ends an utterance (shorter would end it
/// between two words).
const MIN_END_SILENCE: Duration = Duration::from_millis(300);
/// The longest utterance when the verb does not say, and at most.
const DEFAULT_MAX_SPEECH: Duration = Duration::from_secs(30);
const MAX_SPEECH: Duration = Duration::from_secs(60);

/// How often a prompt that speech may interrupt looks at the caller's
/// voice (and how much of it is kept from before the interruption).
pub(super) const EAR_LOOK: store::Millis = 500;
const EAR_FRAMES: usize = 25;

/// The caller's voice while a prompt plays that speech may interrupt:
/// the last [`EAR_FRAMES`] frames, and the tap itself, so that the speech
/// input after the interruption has the utterance from its start.
#[derive(Debug)]
pub(super) struct Ear {
    frames: mpsc::Receiver<Decoded>,
    recent: VecDeque<Decoded>,
}

impl Ear {
    /// Takes what the tap holds, keeping the latest frames.
    pub(super) fn keep_recent(&mut self) {
        while let Ok(f) = self.frames.try_recv() {
            self.recent.push_back(f);
            if self.recent.len() > EAR_FRAMES {
                self.recent.pop_front();
            }
        }
    }
}

/// Where an utterance is after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Progress {
    /// No voice yet.
    Waiting,
    /// The caller speaks (or pauses within the utterance).
    Speaking,
    /// The utterance is over: enough quiet, or the longest allowed.
    Done,
}

/// One utterance collected from 20 ms frames (sans-IO: frames in,
/// progress out).
#[derive(Debug)]
pub(super) struct Utterance {
    vad: VoiceDetector,
    preroll: VecDeque<Frame>,
    samples: Vec<i16>,
    started: bool,
    end_silence_ms: u64,
    max_samples: usize,
}

impl Utterance {
    /// An utterance ended by `end_on_silence` of quiet (1 s when `None`,
    /// 300 ms at least) or at `max_duration` (30 s when `None`, 60 s at
    /// most).
    pub(super) fn new(end_on_silence: Option<Duration>, max_duration: Option<Duration>) -> Self {
        let end = end_on_silence.unwrap_or(DEFAULT_END_SILENCE).max(MIN_END_SILENCE);
        let max = max_duration.unwrap_or(DEFAULT_MAX_SPEECH).clamp(Duration::from_millis(200), MAX_SPEECH);
        let max_samples = (max.as_millis() as usize / FRAME_MS as usize).max(1) * FRAME_SAMPLES;
        Utterance {
            vad: VoiceDetector::default(),
            preroll: VecDeque::with_capacity(PREROLL_FRAMES + 1),
            samples: Vec::new(),
            started: false,
            end_silence_ms: end.as_millis() as u64,
            max_samples,
        }
    }

    /// Whether the caller has started speaking.
    pub(super) fn started(&self) -> bool {
        self.started
    }

    /// Takes the next frame of the caller's voice. A frame that stands in
    /// for missing audio is kept but not heard: the voice detector holds
    /// over it (up to 100 ms), so a packet or two lost in a pause does not
    /// end the utterance early.
    pub(super) fn push(&mut self, heard: &Decoded) -> Progress {
        let frame = &heard.frame;
        let event = if heard.concealed { self.vad.process_missing() } else { self.vad.process(frame) };
        if !self.started {
            self.preroll.push_back(*frame);
            if self.preroll.len() > PREROLL_FRAMES {
                self.preroll.pop_front();
            }
            if event != Some(VadEvent::SpeechStarted) {
                return Progress::Waiting;
            }
            self.started = true;
            self.samples.extend(self.preroll.drain(..).flatten());
        } else {
            self.samples.extend_from_slice(frame);
        }
        if self.samples.len() >= self.max_samples || self.vad.silence_ms() >= self.end_silence_ms {
            Progress::Done
        } else {
            Progress::Speaking
        }
    }

    /// The utterance's samples at 8 kHz.
    pub(super) fn into_samples(self) -> Vec<i16> {
        self.samples
    }
}

impl AppChannel<'_> {
    /// Speech input on a live call: the caller's voice to the speech recogniser.
    pub(super) async fn listen_speech(&mut self, listen: &Listen) -> Result<Heard, ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let settings = listen.speech.clone().unwrap_or_default();
        if listen.dtmf {
            if let Some(d) = self.digits.pop_front() {
                return Ok(Heard::Digit(d));
            }
        }
        let stt = match self.apps.engines.stt(self.stt.as_ref()) {
            Ok(stt) => stt,
            Err(e) => return Err(self.speech_failed(&e)),
        };
        let mut utterance = Utterance::new(settings.end_on_silence, settings.max_duration);
        // After a prompt the caller interrupted: its voice from before.
        let mut frames = match self.ear.take() {
            Some(mut ear) => {
                ear.keep_recent();
                for f in &ear.recent {
                    utterance.push(f);
                }
                ear.frames
            }
            None => {
                let (tx, frames) = mpsc::channel(TAP_FRAMES);
                self.media.handle.tap(LEG_A, tx).await.map_err(|e| ChannelError::Media(e.to_string()))?;
                frames
            }
        };
        let deadline = self.now() + millis(listen.timeout);
        'listening: loop {
            let look = self.now() + millis(LOOK_EVERY);
            let look = if utterance.started() { look } else { look.min(deadline) };
            match self.wait(Some(look)).await? {
                Got::Digit(d) if listen.dtmf => return Ok(Heard::Digit(d)),
                Got::Digit(d) => self.keep(d),
                Got::Timer | Got::Media(_) => {}
            }
            while let Ok(frame) = frames.try_recv() {
                if utterance.push(&frame) == Progress::Done {
                    break 'listening;
                }
            }
            if !utterance.started() && self.now() >= deadline {
                return Ok(Heard::Timeout);
            }
        }
        // Closing the tap: the session stops sending to it.
        drop(frames);
        let samples = utterance.into_samples();
        let engine = stt.name();
        let hints = settings.hints;
        let mut job = tokio::spawn(async move { stt.recognize(&samples, FRAME_RATE, &hints).await });
        while !job.is_finished() {
            let look = self.now() + millis(LOOK_EVERY);
            match self.wait(Some(look)).await {
                Ok(Got::Digit(d)) => self.keep(d),
                Ok(_) => {}
                Err(e) => {
                    job.abort();
                    return Err(e);
                }
            }
        }
        let transcript = match (&mut job).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => return Err(self.speech_failed(&e)),
            Err(e) => {
                return Err(self.speech_failed(&SpeechError::Io(format!("the recogniser stopped: {e}"))))
            }
        };
        tracing::info!(call = %self.p.uuid_a, engine, text = %transcript.text, confidence = transcript.confidence, "speech recognised");
        self.call.publish(
            "call.speech",
            json!({"engine": engine, "text": transcript.text, "confidence": transcript.confidence}),
        );
        Ok(Heard::Speech { text: transcript.text, confidence: transcript.confidence })
    }

    /// A tap on the caller's voice for a prompt speech may interrupt
    /// (none when the leg has its most taps).
    pub(super) async fn open_ear(&self) -> Option<Ear> {
        let (tx, frames) = mpsc::channel(TAP_FRAMES);
        match self.media.handle.tap(LEG_A, tx).await {
            Ok(()) => Some(Ear { frames, recent: VecDeque::with_capacity(EAR_FRAMES + 1) }),
            Err(e) => {
                tracing::debug!(error = %e, "no tap for barge-in");
                None
            }
        }
    }

    /// An engine that is not there or failed: the event, then the
    /// channel's error (cause `stt_unavailable`).
    fn speech_failed(&mut self, e: &SpeechError) -> ChannelError {
        tracing::info!(call = %self.p.uuid_a, cause = e.cause(), "speech recognition failed: {e}");
        let error = ChannelError::Stt(e.to_string());
        self.call.publish(
            "call.speech.failed",
            json!({"cause": error.cause(), "engineCause": e.cause(), "detail": e.to_string()}),
        );
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f64) -> Frame {
        let mut f = [0i16; FRAME_SAMPLES];
        for (i, s) in f.iter_mut().enumerate() {
            *s = (amplitude * (i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin()) as i16;
        }
        f
    }

    fn real(frame: Frame) -> Decoded {
        Decoded { frame, concealed: false }
    }

    /// What the session taps when a packet is missing: a frame of silence
    /// flagged as standing in for it.
    const MISSING: Decoded = Decoded { frame: [0; FRAME_SAMPLES], concealed: true };

    /// Speech, a 220 ms pause, then 100 ms of audio that never arrived
    /// (`gap`), then speech again, with an utterance ended by 300 ms of
    /// quiet: the progress after each frame.
    fn pause_with_a_gap(gap: Decoded) -> Vec<Progress> {
        let mut u = Utterance::new(Some(Duration::from_millis(300)), None);
        let (loud, silent) = (real(tone(8000.0)), real([0; FRAME_SAMPLES]));
        let frames = [(loud, 25), (silent, 11), (gap, 5), (loud, 10)];
        frames.iter().flat_map(|(f, n)| std::iter::repeat_n(*f, *n)).map(|f| u.push(&f)).collect()
    }

    #[test]
    fn missing_audio_in_a_pause_does_not_end_the_utterance() {
        let progress = pause_with_a_gap(MISSING);
        assert!(progress[3..].iter().all(|p| *p == Progress::Speaking), "{progress:?}");
        // Heard as silence (as before the tap said which frames were
        // missing), the same gap ends it: 220 + 100 ms of quiet.
        let heard_as_silence = pause_with_a_gap(real(MISSING.frame));
        assert_eq!(
            heard_as_silence.iter().position(|p| *p == Progress::Done),
            Some(25 + 15 - 1),
            "the 15th quiet frame"
        );
    }

    #[test]
    fn a_stream_that_stops_still_ends_the_utterance() {
        let mut u = Utterance::new(Some(Duration::from_millis(300)), None);
        for _ in 0..25 {
            u.push(&real(tone(8000.0)));
        }
        let held = (1..100).find(|_| u.push(&MISSING) == Progress::Done).unwrap_or(0);
        // 100 ms held over, then 300 ms counted as quiet.
        assert_eq!(held, 5 + 15);
        // The missing audio is kept as it came (silence) for the recogniser.
        assert_eq!(u.into_samples().len(), (25 + 20) * FRAME_SAMPLES);
    }

    #[test]
    fn quiet_is_waiting_and_voice_then_silence_ends_the_utterance() {
        let mut u = Utterance::new(Some(Duration::from_millis(400)), None);
        let silent = [0i16; FRAME_SAMPLES];
        for _ in 0..50 {
            assert_eq!(u.push(&real(silent)), Progress::Waiting);
        }
        assert!(!u.started());
        let loud = tone(8000.0);
        let mut progress: Vec<Progress> = (0..25).map(|_| u.push(&real(loud))).collect();
        assert!(u.started());
        assert_eq!(progress.last(), Some(&Progress::Speaking));
        progress.clear();
        let mut quiet_frames = 0;
        while u.push(&real(silent)) != Progress::Done {
            quiet_frames += 1;
            assert!(quiet_frames < 100, "silence ends it");
        }
        // 400 ms of quiet is 20 frames.
        assert!((18..=21).contains(&quiet_frames), "{quiet_frames}");
        let samples = u.into_samples();
        // The voice, a little before it, and the closing quiet.
        assert!(samples.len() >= 25 * FRAME_SAMPLES, "{}", samples.len());
        assert!(samples.len() <= (25 + PREROLL_FRAMES + 21) * FRAME_SAMPLES, "{}", samples.len());
    }

    #[test]
    fn an_utterance_stops_at_its_longest() {
        let mut u = Utterance::new(None, Some(Duration::from_millis(500)));
        let loud = tone(8000.0);
        let frames = (1..200).find(|_| u.push(&real(loud)) == Progress::Done).unwrap_or(0);
        assert!((20..=30).contains(&frames), "about 500 ms: {frames} frames");
        assert_eq!(u.into_samples().len(), 25 * FRAME_SAMPLES);
    }

    #[test]
    fn settings_are_bounded() {
        let u = Utterance::new(Some(Duration::ZERO), Some(Duration::from_secs(3600)));
        assert_eq!(u.end_silence_ms, MIN_END_SILENCE.as_millis() as u64);
        assert_eq!(u.max_samples, MAX_SPEECH.as_millis() as usize / 20 * FRAME_SAMPLES);
    }
}
