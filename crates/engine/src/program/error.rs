//! Errors of the program layer: parsing a script, and running one.

use super::channel::ChannelError;
use super::scripts::ScriptError;

/// The largest script a front-end reads, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;
/// The most verbs one script may hold (nested prompts included).
pub const MAX_VERBS: usize = 256;

/// Why a script could not be read. `path` names the place in the script
/// (`commands[2].gather.timeout`, `Response/Gather[1]@numDigits`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input is larger than [`MAX_SCRIPT_BYTES`].
    #[error("script is {size} bytes, more than the {limit} allowed")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More verbs than [`MAX_VERBS`].
    #[error("script has more than {limit} verbs")]
    TooManyVerbs {
        /// The limit.
        limit: usize,
    },
    /// Not JSON / not XML / not the expected top-level shape.
    #[error("not a script: {0}")]
    Syntax(String),
    /// A verb this dialect does not have.
    #[error("{path}: unknown verb {name:?}")]
    UnknownVerb {
        /// Where.
        path: String,
        /// The name given.
        name: String,
    },
    /// A field of the wrong type or value, or a required one missing.
    #[error("{path}: {detail}")]
    Invalid {
        /// Where.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

impl ParseError {
    /// An [`ParseError::Invalid`] at `path`.
    pub fn invalid(path: &str, detail: impl Into<String>) -> ParseError {
        ParseError::Invalid { path: path.to_owned(), detail: detail.into() }
    }
}

/// Rejects input larger than [`MAX_SCRIPT_BYTES`].
pub fn check_size(input: &[u8]) -> Result<(), ParseError> {
    if input.len() > MAX_SCRIPT_BYTES {
        return Err(ParseError::TooLarge { size: input.len(), limit: MAX_SCRIPT_BYTES });
    }
    Ok(())
}

/// Why a program stopped before its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProgramError {
    /// The call could not do what a verb asked.
    #[error("{verb}: {error}")]
    Channel {
        /// The verb.
        verb: &'static str,
        /// What the call said.
        error: ChannelError,
    },
    /// The next program could not be fetched.
    #[error("{verb}: {error}")]
    Script {
        /// The verb whose result was sent (or `redirect`).
        verb: &'static str,
        /// What went wrong.
        error: ScriptError,
    },
    /// A verb that is parsed but not run yet.
    #[error("{verb} is not supported yet: {detail}")]
    Unsupported {
        /// The verb.
        verb: &'static str,
        /// Why.
        detail: String,
    },
    /// A cap of [`super::Limits`] was reached.
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// A verb that is only valid before the call is answered.
    #[error("{0} after the call was answered")]
    AfterAnswer(&'static str),
    /// An IVR menu or block could not run.
    #[error("{0}")]
    Menu(String),
    /// The caller typed a conference room's PIN wrong too many times.
    #[error("wrong PIN for the conference room {0:?}")]
    WrongPin(String),
}

impl ProgramError {
    /// A short cause for the CDR and events (`tts_unavailable`,
    /// `webhook_failed`, `program_limit`, ...).
    pub fn cause(&self) -> &'static str {
        match self {
            ProgramError::Channel { error, .. } => error.cause(),
            ProgramError::Script { error, .. } => error.cause(),
            ProgramError::Unsupported { .. } => "unsupported_verb",
            ProgramError::Limit(_) => "program_limit",
            ProgramError::AfterAnswer(_) => "invalid_verb_order",
            ProgramError::Menu(_) => "ivr_failed",
            ProgramError::WrongPin(_) => "wrong_pin",
        }
    }
}
