//! How the next program is fetched: the [`Scripts`] trait.
//!
//! A verb with a [`Hook`] hands its result to [`Scripts::submit`]; the
//! implementation (the webhook client) encodes it the way the dialect does
//! (see [`super::encode`]), sends it, and parses the answer with
//! [`super::parse_answer`]. A `redirect` is a submit with
//! [`VerbResult::Redirect`].

use std::future::Future;

use super::channel::{DialResult, Recording};
use super::error::ParseError;
use super::verb::{Hook, Verb};

/// What a gather collected.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Collected {
    /// The digits (finish key left out).
    pub digits: String,
    /// The recognised speech.
    pub speech: Option<String>,
    /// The recogniser's confidence.
    pub confidence: Option<f32>,
    /// The key that ended input, if one did.
    pub finished_on_key: Option<char>,
    /// Input ended by a timeout.
    pub timed_out: bool,
}

impl Collected {
    /// Nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty() && self.speech.is_none()
    }
}

/// A verb's result.
#[derive(Debug, Clone, PartialEq)]
pub enum VerbResult {
    /// Digits and/or speech.
    Input(Collected),
    /// A recording.
    Record(Recording),
    /// A dial's status.
    Dial(DialResult),
    /// A `notify` payload.
    Notify(serde_json::Value),
    /// A `redirect`: nothing but the request for a new program.
    Redirect,
}

/// One request for the next program.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Where it goes and how.
    pub hook: Hook,
    /// The verb that produced it.
    pub verb: &'static str,
    /// What it produced.
    pub result: VerbResult,
}

/// What the answer says.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// A new program: it replaces the rest of the script.
    Replace(Vec<Verb>),
    /// No program in the answer (an event's empty reply): go on.
    Continue,
}

/// Why the next program could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// Network error, timeout or HTTP error status (fallbacks included).
    #[error("webhook failed: {0}")]
    Fetch(String),
    /// The answer is not a script of any dialect.
    #[error("webhook answer: {0}")]
    Parse(#[from] ParseError),
}

impl ScriptError {
    /// A short cause for the CDR and events.
    pub fn cause(&self) -> &'static str {
        match self {
            ScriptError::Fetch(_) => "webhook_failed",
            ScriptError::Parse(_) => "webhook_bad_answer",
        }
    }
}

/// Sends results and fetches programs.
pub trait Scripts: Send {
    /// Sends a verb's result; the answer's program, if any.
    fn submit(&mut self, report: Report) -> impl Future<Output = Result<Next, ScriptError>> + Send;
}
