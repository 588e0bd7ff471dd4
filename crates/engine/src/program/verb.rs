//! The verbs: one typed set that every front-end compiles to.
//!
//! Durations are [`Duration`]s whatever unit the dialect wrote; each
//! front-end fills in the defaults its own documentation gives, so a
//! [`Verb`] is complete and the interpreter never guesses.

use std::time::Duration;

use super::sound::Sound;

/// One step of a program.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// Answer the call (200 OK); media verbs answer on their own first.
    Answer,
    /// Ring the caller (180 Ringing) without answering.
    Ring,
    /// Speak text.
    Say(Say),
    /// Play a sound.
    Play(Play),
    /// Send DTMF digits into the call (RFC 4733).
    PlayDtmf {
        /// The keys, `0-9*#A-D`, `w` for a 500 ms pause.
        digits: String,
    },
    /// Collect digits, speech or both, prompts first.
    Gather(Gather),
    /// Record the caller.
    Record(Record),
    /// Ring other parties and bridge the first that answers.
    Dial(Dial),
    /// The call's audio both ways over a WebSocket.
    Stream(Stream),
    /// Stop sending the caller's audio (or what it hears) onward.
    Mute(Direction),
    /// Undo [`Verb::Mute`].
    Unmute(Direction),
    /// Silence for a while.
    Wait(Duration),
    /// Fetch a new program; it replaces the rest of this one.
    Redirect(Hook),
    /// Send a payload to a URL; an answer with a program replaces the rest.
    Notify {
        /// What is sent (a JSON value, as the script gave it).
        payload: serde_json::Value,
        /// Where it goes.
        hook: Hook,
    },
    /// Refuse a call that is not answered yet.
    Reject(RejectReason),
    /// End the call.
    Hangup,
    /// Join a conference room (NCCO `conversation`, a route or an IVR
    /// action to a conference): a PIN first when the room has one, then
    /// in the room until the member leaves it.
    Conversation(super::conversation::Conversation),
}

impl Verb {
    /// The verb's name, as events and errors say it.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Answer => "answer",
            Verb::Ring => "ring",
            Verb::Say(_) => "say",
            Verb::Play(_) => "play",
            Verb::PlayDtmf { .. } => "playDtmf",
            Verb::Gather(_) => "gather",
            Verb::Record(_) => "record",
            Verb::Dial(_) => "dial",
            Verb::Stream(_) => "stream",
            Verb::Mute(_) => "mute",
            Verb::Unmute(_) => "unmute",
            Verb::Wait(_) => "wait",
            Verb::Redirect(_) => "redirect",
            Verb::Notify { .. } => "notify",
            Verb::Reject(_) => "reject",
            Verb::Hangup => "hangup",
            Verb::Conversation(_) => "conversation",
        }
    }
}

/// How many times a prompt plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// This many times (at least once).
    Times(u32),
    /// Until something stops it (the interpreter caps it: see
    /// [`super::Limits::max_repeat`]).
    Forever,
}

impl Repeat {
    /// A dialect's loop count: 0 means forever.
    pub fn from_count(n: u64) -> Repeat {
        match n {
            0 => Repeat::Forever,
            n => Repeat::Times(u32::try_from(n).unwrap_or(u32::MAX)),
        }
    }
}

/// Text to speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// What to say.
    pub text: String,
    /// The voice (engine-specific name), or the application's default.
    pub voice: Option<String>,
    /// The language (`en-US`), or the voice's own.
    pub language: Option<String>,
    /// How many times.
    pub repeat: Repeat,
    /// Whether a digit (or speech) stops it; the key pressed is kept for a
    /// gather that follows.
    pub barge_in: bool,
}

/// A sound played into the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    /// What to play.
    pub sound: Sound,
    /// How many times.
    pub repeat: Repeat,
    /// Whether a digit (or speech) stops it.
    pub barge_in: bool,
}

/// What a gather plays before (and while) it listens.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Text to speech.
    Say(Say),
    /// A sound.
    Play(Play),
    /// Silence.
    Pause(Duration),
}

/// Which input a gather takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs {
    /// Keypad digits.
    pub dtmf: bool,
    /// Speech, through the application's recogniser.
    pub speech: bool,
}

/// Collect digits and/or speech.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    /// Which input is taken.
    pub inputs: Inputs,
    /// Played first; with `barge_in` a digit or speech stops them and
    /// counts as input.
    pub prompts: Vec<Prompt>,
    /// Whether input stops the prompts.
    pub barge_in: bool,
    /// How long to wait for the first input after the prompts.
    pub timeout: Duration,
    /// How long to wait for each further digit.
    pub inter_digit_timeout: Duration,
    /// The key that ends digit input (not part of the digits).
    pub finish_on_key: Option<char>,
    /// Input ends when this many digits are in.
    pub max_digits: Option<u32>,
    /// Words or phrases the recogniser should expect.
    pub hints: Vec<String>,
    /// The recognition language.
    pub language: Option<String>,
    /// Silence that ends an utterance.
    pub end_on_silence: Option<Duration>,
    /// The longest utterance.
    pub max_speech: Option<Duration>,
    /// Where the result goes.
    pub hook: Option<Hook>,
}

/// Record the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The longest recording.
    pub max_duration: Duration,
    /// Silence that ends it.
    pub max_silence: Option<Duration>,
    /// A beep first.
    pub beep: bool,
    /// Keys that end it.
    pub finish_on_key: String,
    /// Recording goes on while the script continues, until the call ends
    /// (NCCO `record` without an end condition).
    pub background: bool,
    /// Where the result goes.
    pub hook: Option<Hook>,
}

/// Where a dial goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A telephone number, routed as an outbound call.
    Number(String),
    /// A SIP URI.
    Sip {
        /// The URI (`sip:alice@example.com`).
        uri: String,
        /// Extra headers for the INVITE.
        headers: Vec<(String, String)>,
    },
    /// An agent (user name or extension) of the workspace.
    Agent(String),
}

/// Ring one or more targets; the first to answer is bridged.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// Who is rung (at once).
    pub targets: Vec<Target>,
    /// How long to ring.
    pub timeout: Duration,
    /// The caller ID shown to them.
    pub from: Option<String>,
    /// Record the bridged call.
    pub record: bool,
    /// The longest bridged call.
    pub time_limit: Option<Duration>,
    /// Where the dial status goes.
    pub hook: Option<Hook>,
}

/// A media stream over a WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// 8000 or 16000 (16-bit linear PCM, 20 ms frames).
    pub sample_rate: u32,
    /// Extra metadata for the socket's first frame.
    pub metadata: serde_json::Value,
    /// Runs beside the script (Fonoster `stream`) instead of until the
    /// socket closes (NCCO `connect` websocket, TwiML `Connect`).
    pub background: bool,
}

/// Which audio a mute applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the caller says.
    In,
    /// What the caller hears.
    Out,
    /// Both.
    Both,
}

/// Why a call is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// 603 Decline.
    Rejected,
    /// 486 Busy Here.
    Busy,
}

/// An HTTP method of a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET with the result as query parameters.
    Get,
    /// POST with the result as the body.
    Post,
}

/// Where a verb's result goes and what its answer does.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// The URL; `None`: the application's default (the endpoint, the
    /// event URL, or the current document's URL, as the dialect says).
    pub url: Option<String>,
    /// The method.
    pub method: Method,
    /// Whether a program in the answer replaces the rest of the script.
    pub replaces: bool,
    /// Whether a result with nothing collected is sent too (otherwise the
    /// script just goes on).
    pub on_empty: bool,
}

impl Hook {
    /// A POST whose answer replaces the rest, sent even when empty.
    pub fn post(url: Option<String>) -> Hook {
        Hook { url, method: Method::Post, replaces: true, on_empty: true }
    }
}
