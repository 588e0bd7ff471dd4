//! Conference rooms: one task per room mixing its members' voices every
//! 20 ms, each member hearing everyone but itself
//! ([`media::mixer::mix_minus`]).
//!
//! # How a call joins
//!
//! A member stays in its own call's media session, whatever its codec: the
//! room taps what the member's leg says ([`MediaHandle::tap`]) and plays
//! what it hears through a [`crate::media::ChannelSource`]
//! ([`MediaHandle::play`]); the session decodes and encodes in the leg's
//! own codec, so PCMU and PCMA members share a room. [`Rooms::join`] does
//! both and hands the channels to the room; when the member leaves (or is
//! kicked, or the room ends) the room drops them, which ends the playback
//! ([`crate::media::MediaEvent::PlaybackFinished`]) and the tap, and the
//! member's [`Joined::left`] says why.
//!
//! # Rules
//!
//! A room is named per workspace, made on first join and gone when the
//! last member leaves or a member with `endOnExit` does. Pure rules in
//! [`rules`]. Every queue is bounded: a member whose session falls behind
//! loses frames (counted in [`MemberInfo::dropped`]), never stalls the
//! room.

#[doc(hidden)]
pub mod bench;
mod room;
mod rooms;
pub mod rules;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use rooms::{Rooms, RoomsConfig};
pub use rules::{Audience, MemberFlags};

#[cfg(doc)]
use crate::media::MediaHandle;
use crate::media::{MediaError, PlaybackId, PlayerSource};

/// The default entry tone (as FreeSWITCH's `enter-sound`).
pub const ENTER_SOUND: &str = "tone_stream://%(200,0,500,600,700)";
/// The default exit tone (as FreeSWITCH's `exit-sound`).
pub const EXIT_SOUND: &str = "tone_stream://%(500,0,300,200,100,50,25)";

/// A member's number within its room (1, 2, ... as FreeSWITCH counts).
pub type MemberId = u64;

/// What goes wrong with a room.
#[derive(Debug, thiserror::Error)]
pub enum ConferenceError {
    /// No such room in the workspace.
    #[error("no conference room {0:?}")]
    NoRoom(String),
    /// No such member in the room.
    #[error("no member {0} in the room")]
    NoMember(MemberId),
    /// The room has as many members as it may.
    #[error("the room is full ({0} members)")]
    RoomFull(usize),
    /// As many rooms run as may.
    #[error("too many conference rooms ({0})")]
    TooManyRooms(usize),
    /// A name that is empty, too long or has control characters.
    #[error("bad room name: {0}")]
    BadName(String),
    /// A tone spec that does not parse.
    #[error("bad tone {what:?}: {detail}")]
    BadTone {
        /// The spec.
        what: String,
        /// Why.
        detail: String,
    },
    /// The room is already recording, or is not.
    #[error("{0}")]
    Recording(String),
    /// The member's media session refused.
    #[error("media: {0}")]
    Media(#[from] MediaError),
    /// The room ended while asked.
    #[error("the room ended")]
    Ended,
}

/// How a member joins.
pub struct JoinOptions {
    /// Its switches.
    pub flags: MemberFlags,
    /// Which legs hear it and which it hears (NCCO `canSpeak` and
    /// `canHear` lists); everybody by default.
    pub audience: Audience,
    /// The call it belongs to, for listings and events.
    pub call_id: Option<String>,
    /// Played to the room when it joins (`tone_stream://` spec); `None`: silent.
    pub enter_sound: Option<String>,
    /// Played to the room when it leaves; `None`: silent.
    pub exit_sound: Option<String>,
    /// Music on hold, used if this join makes the room (a later joiner's
    /// is ignored); `None`: silence while alone.
    pub hold_music: Option<PlayerSource>,
}

impl Default for JoinOptions {
    fn default() -> Self {
        Self {
            flags: MemberFlags::default(),
            audience: Audience::default(),
            call_id: None,
            enter_sound: Some(ENTER_SOUND.to_string()),
            exit_sound: Some(EXIT_SOUND.to_string()),
            hold_music: None,
        }
    }
}

impl std::fmt::Debug for JoinOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinOptions")
            .field("flags", &self.flags)
            .field("audience", &self.audience)
            .field("call_id", &self.call_id)
            .field("enter_sound", &self.enter_sound)
            .field("exit_sound", &self.exit_sound)
            .field("hold_music", &self.hold_music.is_some())
            .finish()
    }
}

/// Why a member is no longer in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// It asked ([`Rooms::leave`]).
    Left,
    /// Its media session went away (the call ended).
    Hangup,
    /// Kicked through the API.
    Kicked,
    /// The room ended (`endOnExit`).
    RoomEnded,
}

impl LeaveReason {
    /// The name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Hangup => "hangup",
            Self::Kicked => "kicked",
            Self::RoomEnded => "roomEnded",
        }
    }
}

/// A member that has joined.
#[derive(Debug)]
pub struct Joined {
    /// Its number in the room.
    pub member: MemberId,
    /// The playback carrying the room's audio on its leg.
    pub playback: PlaybackId,
    /// Resolves when it is no longer in the room, with why.
    pub left: tokio::sync::oneshot::Receiver<LeaveReason>,
}

/// One member, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Its number.
    pub id: MemberId,
    /// Its call, if known.
    pub call_id: Option<String>,
    /// Muted.
    pub muted: bool,
    /// Deaf.
    pub deaf: bool,
    /// NCCO `canSpeak`.
    pub can_speak: bool,
    /// NCCO `canHear`.
    pub can_hear: bool,
    /// NCCO `canSpeak` and `canHear` lists of legs, if given.
    pub audience: Audience,
    /// When it joined (ms since the epoch).
    pub joined_at: i64,
    /// Frames it could not take because its session was behind.
    pub dropped: u64,
}

/// One room, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInfo {
    /// Its name.
    pub name: String,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// Whether a member with `startOnEnter` has joined.
    pub started: bool,
    /// The WAV it is recording to, if any.
    pub recording: Option<PathBuf>,
    /// Its members.
    pub members: Vec<MemberInfo>,
}

/// A change to a member through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Mute (true) or unmute.
    Mute(bool),
    /// Deafen (true) or undeafen.
    Deaf(bool),
    /// Remove it from the room.
    Kick,
}

/// A finished room recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingDone {
    /// The WAV file.
    pub path: PathBuf,
    /// Its length.
    pub duration_ms: u64,
    /// Why writing failed, if it did.
    pub error: Option<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Checks a room name: 1..=64 printable characters.
pub fn check_name(name: &str) -> Result<(), ConferenceError> {
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(ConferenceError::BadName(format!("{name:?}: 1 to 64 printable characters")));
    }
    Ok(())
}
