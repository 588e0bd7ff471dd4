//! Text to speech: the [`Tts`] trait and the two local engines, espeak-ng
//! and flite, run as programs that write a WAV to stdout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::process::{run, Run};
use super::SpeechError;

/// The longest text spoken at once, in characters.
pub const MAX_TEXT: usize = 4000;

/// Mono 16-bit PCM at `rate` Hz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    /// The samples.
    pub samples: Arc<[i16]>,
    /// 8000 or 16000.
    pub rate: u32,
}

impl Pcm {
    /// A player source of these samples at the telephone rate (8 kHz).
    pub fn to_source(&self) -> Result<media::player::PcmSource, SpeechError> {
        if self.rate == media::frame::FRAME_RATE {
            return Ok(media::player::PcmSource::new(self.samples.clone()));
        }
        let at8k = media::resample(&self.samples, self.rate, media::frame::FRAME_RATE)
            .map_err(|_| SpeechError::BadRate(self.rate))?;
        Ok(media::player::PcmSource::new(at8k))
    }
}

/// A text-to-speech engine.
#[async_trait]
pub trait Tts: Send + Sync + std::fmt::Debug {
    /// The engine's name, e.g. `espeak-ng` (part of the cache key).
    fn name(&self) -> &'static str;

    /// The voice used when none is given.
    fn default_voice(&self) -> &str;

    /// `text` spoken in `voice` (the default when `None`) as PCM at `rate`
    /// (8000 or 16000 Hz).
    async fn synthesize(&self, text: &str, voice: Option<&str>, rate: u32) -> Result<Pcm, SpeechError>;
}

/// Checks what every engine needs: a rate of 8 or 16 kHz and text of a
/// sane length.
pub(crate) fn check_request(text: &str, rate: u32) -> Result<(), SpeechError> {
    if rate != 8000 && rate != 16000 {
        return Err(SpeechError::BadRate(rate));
    }
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT {
        return Err(SpeechError::BadText { max: MAX_TEXT });
    }
    Ok(())
}

/// A voice name is letters, digits, `_`, `-` and `+`, not starting with `-`
/// (so it cannot be read as an option), at most 40 characters.
fn plain_voice(engine: &'static str, voice: &str) -> Result<(), SpeechError> {
    let ok = !voice.is_empty()
        && voice.len() <= 40
        && !voice.starts_with('-')
        && voice.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err(SpeechError::BadVoice { engine, voice: voice.to_owned() })
    }
}

/// A WAV from an engine as mono PCM at `rate`.
fn decode(engine: &'static str, wav: &[u8], rate: u32) -> Result<Pcm, SpeechError> {
    let bad = |e: media::Error| SpeechError::BadOutput { engine, detail: e.to_string() };
    let wav = media::wav::read(wav).map_err(bad)?;
    let samples = media::resample(&wav.samples, wav.sample_rate, rate).map_err(bad)?;
    Ok(Pcm { samples: samples.into(), rate })
}

/// Limits shared by the local engines.
#[derive(Debug, Clone)]
pub struct ProgramLimits {
    /// Longest run.
    pub timeout: Duration,
    /// Largest WAV read from the program.
    pub max_output: usize,
    /// Processes running at once; engines given clones of one set of
    /// limits share these slots.
    pub slots: Arc<tokio::sync::Semaphore>,
}

impl ProgramLimits {
    /// `timeout` and `max_output` with [`super::MAX_PROCESSES`] slots of
    /// their own.
    pub fn new(timeout: Duration, max_output: usize) -> Self {
        ProgramLimits {
            timeout,
            max_output,
            slots: Arc::new(tokio::sync::Semaphore::new(super::MAX_PROCESSES)),
        }
    }
}

impl Default for ProgramLimits {
    fn default() -> Self {
        // 32 MB is about 12 minutes of 22 kHz speech.
        ProgramLimits::new(Duration::from_secs(20), 32 * 1024 * 1024)
    }
}

/// espeak-ng (`espeak-ng --stdout -v <voice> --stdin`, the text on stdin).
#[derive(Debug, Clone)]
pub struct Espeak {
    program: PathBuf,
    limits: ProgramLimits,
}

impl Espeak {
    /// espeak-ng at `program` (a bare name is looked up in `PATH`).
    pub fn new(program: impl Into<PathBuf>, limits: ProgramLimits) -> Self {
        Espeak { program: program.into(), limits }
    }
}

#[async_trait]
impl Tts for Espeak {
    fn name(&self) -> &'static str {
        "espeak-ng"
    }

    fn default_voice(&self) -> &str {
        "en-us"
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>, rate: u32) -> Result<Pcm, SpeechError> {
        check_request(text, rate)?;
        let voice = voice.unwrap_or(self.default_voice());
        plain_voice(self.name(), voice)?;
        let out = run(Run {
            engine: self.name(),
            program: &self.program,
            args: vec!["--stdout".into(), "-v".into(), voice.into(), "--stdin".into()],
            stdin: text.as_bytes().to_vec(),
            timeout: self.limits.timeout,
            max_stdout: self.limits.max_output,
            slots: &self.limits.slots,
        })
        .await
        .map_err(|e| match e {
            SpeechError::Failed { ref stderr, .. } if stderr.contains("voice does not exist") => {
                SpeechError::BadVoice { engine: "espeak-ng", voice: voice.to_owned() }
            }
            e => e,
        })?;
        decode(self.name(), &out, rate)
    }
}

/// The voices built into Debian's flite. Only these are accepted: flite
/// takes any other name as a file or URL to load.
pub const FLITE_VOICES: &[&str] = &["kal", "kal16", "awb", "awb_time", "rms", "slt"];

/// flite (`flite -voice <voice> -o /dev/stdout -t " <text>"`).
#[derive(Debug, Clone)]
pub struct Flite {
    program: PathBuf,
    limits: ProgramLimits,
}

impl Flite {
    /// flite at `program` (a bare name is looked up in `PATH`).
    pub fn new(program: impl Into<PathBuf>, limits: ProgramLimits) -> Self {
        Flite { program: program.into(), limits }
    }
}

#[async_trait]
impl Tts for Flite {
    fn name(&self) -> &'static str {
        "flite"
    }

    fn default_voice(&self) -> &str {
        "slt"
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>, rate: u32) -> Result<Pcm, SpeechError> {
        check_request(text, rate)?;
        let voice = voice.unwrap_or(self.default_voice());
        if !FLITE_VOICES.contains(&voice) {
            return Err(SpeechError::BadVoice { engine: self.name(), voice: voice.to_owned() });
        }
        let out = run(Run {
            engine: self.name(),
            program: &self.program,
            // The text as an argument after `-t`, led by a space so that
            // no text is read as an option. (flite reading a file or
            // /dev/stdin can hang at its end.)
            args: vec![
                "-voice".into(),
                voice.into(),
                "-o".into(),
                "/dev/stdout".into(),
                "-t".into(),
                format!(" {}", text.trim()).into(),
            ],
            stdin: Vec::new(),
            timeout: self.limits.timeout,
            max_stdout: self.limits.max_output,
            slots: &self.limits.slots,
        })
        .await?;
        decode(self.name(), &out, rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_voices_are_checked_before_any_process() {
        assert!(matches!(check_request("hi", 44_100), Err(SpeechError::BadRate(44_100))));
        assert!(matches!(check_request("  ", 8000), Err(SpeechError::BadText { .. })));
        assert!(matches!(check_request(&"a".repeat(MAX_TEXT + 1), 8000), Err(SpeechError::BadText { .. })));
        assert!(check_request("hello", 16_000).is_ok());
        for bad in ["", "-w", "en us", "../x", "a;b", &"v".repeat(41)] {
            assert!(plain_voice("espeak-ng", bad).is_err(), "{bad}");
        }
        for good in ["en-us", "en-us+f3", "mb_en1"] {
            assert!(plain_voice("espeak-ng", good).is_ok(), "{good}");
        }
    }
}
