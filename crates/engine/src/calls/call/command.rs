//! What a call can be asked to do from outside (the API, a program), and
//! the typed answers: each command travels with a oneshot that the call
//! task answers, so the caller learns whether it was done and why not.

use tokio::sync::{mpsc, oneshot};

use super::listen::{Listen, ListenMode};
use super::originate::Destination;
use super::phase::Phase;

/// A command for a live call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    /// Hang the call up: CANCEL or a final response while it rings, BYE
    /// on every leg once answered. Sent for one leg other than the call's
    /// first ([`Envelope::leg`]), only that leg ends, exactly as when its
    /// phone hangs up (the call goes on as its program or bridge says).
    Hangup,
    /// Play a file or a `tone_stream://` spec into the call.
    Play {
        /// What to play.
        uri: String,
    },
    /// Record the call's audio (both directions, one channel each) to a
    /// WAV file.
    Record {
        /// Where to.
        path: String,
    },
    /// Stop the call's recording.
    StopRecord,
    /// Send DTMF digits to the call's legs.
    Dtmf {
        /// The digits.
        digits: String,
    },
    /// Turn detection of in-band DTMF (tones in the audio) on or off.
    DetectDtmf {
        /// On when true.
        on: bool,
    },
    /// Stop (or resume) the caller's audio reaching the other side.
    Mute {
        /// Muted when true.
        on: bool,
    },
    /// Take the call somewhere else (blind transfer).
    Transfer {
        /// The new destination.
        target: String,
    },
    /// Join this call's caller with another live call.
    Bridge {
        /// The other call's id.
        call: String,
    },
    /// Stop (or resume) the leg hearing anything: the other side and
    /// what is played to it (it hears silence).
    Deaf {
        /// Deaf when true.
        on: bool,
    },
    /// Keep a channel variable on the call's legs (shown in the channel
    /// list).
    Set {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// Ring `to` and bridge the answered leg to whoever answers there (an
    /// originated call's `bridge` app).
    Connect {
        /// Where to.
        to: Destination,
    },
    /// Listen to another live call of the workspace (this call's leg
    /// hears both its sides; whisper and barge are heard there too).
    ListenTo {
        /// How.
        mode: ListenMode,
        /// The other call's id, or the id of the leg to listen to (the
        /// agent's).
        target: String,
    },
    /// Hand this call's audio to a call that listens to it (sent by the
    /// listening call's [`CallCommand::ListenTo`]).
    Listened(Listen),
    /// Answer this ringing call for another agent: the caller is answered
    /// and linked to the picking call's leg through the hand-over (sent by
    /// the picking call).
    PickUp(Listen),
    /// Pick up another call of the workspace that is ringing (`target`
    /// names it or one of its legs): its caller and this call's leg hear
    /// each other.
    Intercept {
        /// The ringing call's id, or one of its legs'.
        target: String,
    },
    /// Speak text into the call (text to speech), `loops` times (0: until
    /// stopped); it takes over what the call plays until it ends.
    Say {
        /// What to say.
        text: String,
        /// The voice, when one is asked for.
        voice: Option<String>,
        /// The language, when one is asked for.
        language: Option<String>,
        /// How many times (0: until stopped).
        loops: u32,
    },
    /// Play the audio at an http(s) URL into the call, `loops` times (0:
    /// until stopped).
    PlayUrl {
        /// Where the audio is.
        url: String,
        /// How many times (0: until stopped).
        loops: u32,
    },
    /// Stop what a [`CallCommand::Say`], [`CallCommand::PlayUrl`] or
    /// [`CallCommand::Play`] plays.
    StopPlay,
    /// Replace the program the call runs (Vonage `transfer` to an NCCO).
    Program(ProgramSource),
}

/// Where a call's new program comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSource {
    /// An NCCO given inline (a JSON array of actions).
    Ncco(serde_json::Value),
    /// A URL answering with a program (fetched as the answer URL is).
    Url(String),
}

impl CallCommand {
    /// Its name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            CallCommand::Hangup => "hangup",
            CallCommand::Play { .. } => "play",
            CallCommand::Record { .. } => "record",
            CallCommand::StopRecord => "stop_record",
            CallCommand::Dtmf { .. } => "dtmf",
            CallCommand::Mute { .. } => "mute",
            CallCommand::DetectDtmf { .. } => "detect_dtmf",
            CallCommand::Transfer { .. } => "transfer",
            CallCommand::Bridge { .. } => "bridge",
            CallCommand::Deaf { .. } => "deaf",
            CallCommand::Set { .. } => "set",
            CallCommand::Connect { .. } => "connect",
            CallCommand::ListenTo { .. } => "listen_to",
            CallCommand::Listened(_) => "listened",
            CallCommand::PickUp(_) => "pick_up",
            CallCommand::Intercept { .. } => "intercept",
            CallCommand::Say { .. } => "say",
            CallCommand::PlayUrl { .. } => "play_url",
            CallCommand::StopPlay => "stop_play",
            CallCommand::Program(_) => "program",
        }
    }
}

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The call's phase does not allow it (the API answers 409).
    #[error("the call is {} and cannot do that now", .0.as_str())]
    NotInPhase(Phase),
    /// No live call or leg has that id (404).
    #[error("no such call")]
    NotFound,
    /// This build of the engine cannot do it yet (501).
    #[error("not supported yet")]
    Unsupported,
    /// The media could not do it (a file that is not a WAV, a path that
    /// cannot be written...).
    #[error("{0}")]
    Media(String),
    /// The call's mailbox is full (503: try again).
    #[error("the call is busy")]
    Busy,
    /// The call ended before it answered.
    #[error("the call ended")]
    Gone,
}

/// What a command achieved.
pub type CommandResult = Result<(), CommandError>;

/// A command with the way back to whoever sent it.
#[derive(Debug)]
pub struct Envelope {
    /// The command.
    pub command: CallCommand,
    /// The leg it is for, when the sender named one of the call's legs
    /// other than its first (whose id is the call's): a media command
    /// acts on that leg (it is muted, made deaf, played to...). `None`:
    /// the call's first leg.
    pub leg: Option<String>,
    /// Where the answer goes.
    pub reply: oneshot::Sender<CommandResult>,
}

impl Envelope {
    /// A command for the call's first leg.
    pub fn new(command: CallCommand, reply: oneshot::Sender<CommandResult>) -> Envelope {
        Envelope { command, leg: None, reply }
    }

    /// The leg a hang-up names, when it names one other than the call's
    /// first: only that leg ends, as if its phone hung up.
    pub fn leg_hangup(&self) -> Option<&str> {
        match self.command {
            CallCommand::Hangup => self.leg.as_deref(),
            _ => None,
        }
    }
}

/// How many commands may wait for a call.
pub const MAILBOX: usize = 16;

/// The way to send commands to one call; cheap to clone.
#[derive(Debug, Clone)]
pub struct CallHandle {
    /// The call's id.
    pub uuid: String,
    tx: mpsc::Sender<Envelope>,
}

impl CallHandle {
    /// A handle and the mailbox its call task reads.
    pub fn new(uuid: String) -> (CallHandle, mpsc::Receiver<Envelope>) {
        let (tx, rx) = mpsc::channel(MAILBOX);
        (CallHandle { uuid, tx }, rx)
    }

    /// Sends `command` and waits for the call's answer.
    pub async fn send(&self, command: CallCommand) -> CommandResult {
        self.send_to(None, command).await
    }

    /// Sends `command` for the call's leg `leg` (`None`: its first leg)
    /// and waits for the call's answer.
    pub async fn send_to(&self, leg: Option<String>, command: CallCommand) -> CommandResult {
        let (reply, answer) = oneshot::channel();
        match self.tx.try_send(Envelope { command, leg, reply }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Err(CommandError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(CommandError::Gone),
        }
        answer.await.unwrap_or(Err(CommandError::Gone))
    }

    /// Sends `command` without waiting for the answer; false when the
    /// mailbox is full or the call is gone.
    pub fn post(&self, command: CallCommand) -> bool {
        let (reply, _) = oneshot::channel();
        self.tx.try_send(Envelope::new(command, reply)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_are_answered_through_their_envelope() {
        let (handle, mut mailbox) = CallHandle::new("c1".into());
        let task = tokio::spawn(async move {
            let env = mailbox.recv().await.expect("a command");
            assert_eq!(env.command, CallCommand::Hangup);
            let _ = env.reply.send(Err(CommandError::NotInPhase(Phase::Ending)));
        });
        assert_eq!(handle.send(CallCommand::Hangup).await, Err(CommandError::NotInPhase(Phase::Ending)));
        task.await.expect("task");
        assert_eq!(handle.send(CallCommand::Hangup).await, Err(CommandError::Gone), "the call is gone");
    }

    #[tokio::test]
    async fn a_full_mailbox_says_busy() {
        let (handle, _mailbox) = CallHandle::new("c2".into());
        for _ in 0..MAILBOX {
            assert!(handle.post(CallCommand::Hangup));
        }
        assert_eq!(handle.send(CallCommand::Hangup).await, Err(CommandError::Busy));
    }
}
