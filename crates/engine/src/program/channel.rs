//! What a live call does for a program: the [`Channel`] trait.
//!
//! The interpreter owns the logic (barge-in, digit collection, loops,
//! timeouts); a channel only performs one media or signalling step at a
//! time and says how it ended. The engine's call task implements it over
//! its legs and media session; tests implement it with a script.

use std::future::Future;
use std::time::Duration;

use super::conversation::Conversation;
use super::sound::Sound;
use super::verb::{Dial, Direction, RejectReason, Stream};

/// One thing to play into the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Audio {
    /// Text to speech.
    Say {
        /// The text.
        text: String,
        /// The voice, or the application's default.
        voice: Option<String>,
        /// The language, or the voice's own.
        language: Option<String>,
        /// The TTS engine (an IVR's `tts_engine`), or the application's.
        engine: Option<String>,
    },
    /// A sound.
    Sound(Sound),
    /// Silence.
    Silence(Duration),
}

/// What may interrupt a playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BargeIn {
    /// A DTMF digit.
    pub dtmf: bool,
    /// The caller starting to speak.
    pub speech: bool,
}

impl BargeIn {
    /// Nothing interrupts.
    pub const NONE: BargeIn = BargeIn { dtmf: false, speech: false };
}

/// How a playback ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Played {
    /// It played to its end.
    Finished,
    /// A digit stopped it (the digit is input, not lost).
    Digit(char),
    /// The caller started speaking.
    Speech,
}

/// What to listen for in one [`Channel::input`] call.
#[derive(Debug, Clone, PartialEq)]
pub struct Listen {
    /// How long to wait for something.
    pub timeout: Duration,
    /// Take DTMF digits.
    pub dtmf: bool,
    /// Take speech, with these settings.
    pub speech: Option<SpeechSettings>,
}

/// How speech is recognised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpeechSettings {
    /// Expected words or phrases (a grammar for local engines).
    pub hints: Vec<String>,
    /// The language.
    pub language: Option<String>,
    /// Silence that ends an utterance.
    pub end_on_silence: Option<Duration>,
    /// The longest utterance.
    pub max_duration: Option<Duration>,
}

/// One piece of input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A DTMF digit.
    Digit(char),
    /// A recognised utterance.
    Speech {
        /// The text.
        text: String,
        /// The recogniser's confidence, 0 to 1.
        confidence: f32,
    },
    /// Nothing within the timeout.
    Timeout,
}

/// What a recording is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSpec {
    /// The longest recording.
    pub max_duration: Duration,
    /// Silence that ends it.
    pub max_silence: Option<Duration>,
    /// Keys that end it.
    pub finish_on_key: String,
    /// Keep recording until the call ends, returning at once.
    pub background: bool,
}

/// How a recording ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordEnd {
    /// The caller was silent for `max_silence`.
    Silence,
    /// A finish key.
    Key(char),
    /// `max_duration` reached.
    MaxDuration,
    /// The caller hung up (the recording is kept).
    HungUp,
    /// Still recording in the background.
    Background,
}

/// A recording the channel made.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Where it can be downloaded.
    pub url: String,
    /// Its id in the store.
    pub id: String,
    /// Its length.
    pub duration: Duration,
    /// Its size in bytes.
    pub size: u64,
    /// Why it ended.
    pub ended_by: RecordEnd,
}

/// How a dial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialStatus {
    /// Answered, bridged, and ended by the other side.
    Completed,
    /// Busy.
    Busy,
    /// Nobody answered within the timeout.
    NoAnswer,
    /// The call could not be placed.
    Failed,
    /// Refused by the other side.
    Rejected,
}

/// What a dial did.
#[derive(Debug, Clone, PartialEq)]
pub struct DialResult {
    /// How it ended.
    pub status: DialStatus,
    /// The other leg's id, when one was placed.
    pub leg_id: Option<String>,
    /// How long the bridged call lasted.
    pub duration: Duration,
    /// The recording of the bridged call, when asked for.
    pub recording: Option<Recording>,
}

/// How a member's time in a conference room ended (the caller hanging up
/// is [`ChannelError::HungUp`] instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftRoom {
    /// The room ended (a member with `endOnExit` left).
    RoomEnded,
    /// Kicked through the API.
    Kicked,
    /// Taken out otherwise (the room could not go on with it).
    Left,
}

/// Why a channel could not do a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The caller hung up.
    #[error("the caller hung up")]
    HungUp,
    /// No TTS engine, or it failed.
    #[error("text to speech: {0}")]
    Tts(String),
    /// No STT engine, or it failed.
    #[error("speech recognition: {0}")]
    Stt(String),
    /// A sound could not be fetched or decoded.
    #[error("media: {0}")]
    Media(String),
    /// The channel cannot do this (yet).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

impl ChannelError {
    /// A short cause for the CDR and events.
    pub fn cause(&self) -> &'static str {
        match self {
            ChannelError::HungUp => "caller_hangup",
            ChannelError::Tts(_) => "tts_unavailable",
            ChannelError::Stt(_) => "stt_unavailable",
            ChannelError::Media(_) => "media_error",
            ChannelError::Unsupported(_) => "unsupported_verb",
            ChannelError::Failed(_) => "channel_error",
        }
    }
}

/// What a live call does. Each step is async and ends with a typed result;
/// a caller hang-up is [`ChannelError::HungUp`] from whatever step is
/// running.
pub trait Channel: Send {
    /// Answer the call.
    fn answer(&mut self) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// Send 180 Ringing.
    fn ring(&mut self) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// Play audio; stops early when `barge_in` allows.
    fn play(
        &mut self,
        audio: &Audio,
        barge_in: BargeIn,
    ) -> impl Future<Output = Result<Played, ChannelError>> + Send;
    /// Send DTMF digits.
    fn play_dtmf(&mut self, digits: &str) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// Wait for one piece of input.
    fn input(&mut self, listen: &Listen) -> impl Future<Output = Result<Input, ChannelError>> + Send;
    /// Record the caller.
    fn record(&mut self, spec: &RecordSpec) -> impl Future<Output = Result<Recording, ChannelError>> + Send;
    /// Ring targets and bridge the first that answers, until either side
    /// hangs up (the caller hanging up is [`ChannelError::HungUp`]).
    fn dial(&mut self, dial: &Dial) -> impl Future<Output = Result<DialResult, ChannelError>> + Send;
    /// Start a media stream; unless it runs in the background, returns
    /// when the socket closes.
    fn stream(&mut self, stream: &Stream) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// Mute (`true`) or unmute audio in one direction.
    fn mute(
        &mut self,
        direction: Direction,
        on: bool,
    ) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// Join the conference room `conversation` names (made on first
    /// join) and stay until the member leaves it; the PIN is asked before
    /// (by the interpreter).
    fn conference(
        &mut self,
        conversation: &Conversation,
    ) -> impl Future<Output = Result<LeftRoom, ChannelError>> + Send;
    /// Refuse the unanswered call.
    fn reject(&mut self, reason: RejectReason) -> impl Future<Output = Result<(), ChannelError>> + Send;
    /// End the call.
    fn hangup(&mut self) -> impl Future<Output = Result<(), ChannelError>> + Send;
}
