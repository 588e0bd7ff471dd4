//! The one error type of the speech engines.

/// Why speech could not be made or recognised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpeechError {
    /// The engine's program is not there (or not executable).
    #[error("speech engine {engine} is not installed (no program at {path:?})")]
    EngineMissing {
        /// The engine, e.g. `espeak-ng`.
        engine: &'static str,
        /// The program looked for.
        path: String,
    },
    /// An application asks for an engine this build does not have.
    #[error("speech engine {0:?} is not supported")]
    UnsupportedEngine(String),
    /// A voice the engine does not offer, or not a plain name.
    #[error("voice {voice:?} is not a voice of {engine}")]
    BadVoice {
        /// The engine.
        engine: &'static str,
        /// The voice asked for.
        voice: String,
    },
    /// Empty text, or longer than the limit.
    #[error("text to speak must be 1 to {max} characters")]
    BadText {
        /// The most characters.
        max: usize,
    },
    /// A sample rate other than 8000 or 16000 Hz was asked for.
    #[error("unsupported sample rate {0} Hz (8000 or 16000)")]
    BadRate(u32),
    /// The engine ran past its timeout and was killed.
    #[error("speech engine {engine} gave no result within {ms} ms")]
    Timeout {
        /// The engine.
        engine: &'static str,
        /// The timeout.
        ms: u64,
    },
    /// The engine wrote more than the cap and was killed.
    #[error("speech engine {engine} wrote more than {limit} bytes")]
    TooLarge {
        /// The engine.
        engine: &'static str,
        /// The cap in bytes.
        limit: usize,
    },
    /// The engine exited with an error.
    #[error("speech engine {engine} failed ({status}): {stderr}")]
    Failed {
        /// The engine.
        engine: &'static str,
        /// Its exit status.
        status: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The engine's output is not what it should write.
    #[error("speech engine {engine} wrote unreadable output: {detail}")]
    BadOutput {
        /// The engine.
        engine: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A file of the cache or a work file could not be used.
    #[error("speech files: {0}")]
    Io(String),
}

impl SpeechError {
    /// A stable short cause for events and CDRs, e.g. `SPEECH_ENGINE_MISSING`.
    pub fn cause(&self) -> &'static str {
        match self {
            SpeechError::EngineMissing { .. } => "SPEECH_ENGINE_MISSING",
            SpeechError::UnsupportedEngine(_) => "SPEECH_ENGINE_UNSUPPORTED",
            SpeechError::BadVoice { .. } => "SPEECH_BAD_VOICE",
            SpeechError::BadText { .. } => "SPEECH_BAD_TEXT",
            SpeechError::BadRate(_) => "SPEECH_BAD_RATE",
            SpeechError::Timeout { .. } => "SPEECH_TIMEOUT",
            SpeechError::TooLarge { .. } => "SPEECH_OUTPUT_TOO_LARGE",
            SpeechError::Failed { .. } | SpeechError::BadOutput { .. } => "SPEECH_ENGINE_FAILED",
            SpeechError::Io(_) => "SPEECH_IO_ERROR",
        }
    }
}
