//! A program-running call in a conference room: its leg joins the room
//! of its workspace ([`crate::conference::Rooms::join`]: the room taps
//! what the caller says and plays it the mix, in the leg's own codec) and
//! the call waits there, answering SIP as always, until the member leaves
//! (the room ended, a kick) or the caller hangs up. A call forwarded to a
//! conference destination joins its room the same way
//! (`Call::run_forwarded`).

use std::path::PathBuf;

use serde_json::json;

use super::{AppChannel, Got, LEG_A};
use crate::conference::{Audience, ConferenceError, JoinOptions, LeaveReason, MemberFlags};
use crate::media::MediaEvent;
use crate::program::{Audio, ChannelError, Conversation, LeftRoom};
use crate::router::Target;

impl AppChannel<'_> {
    /// Joins the room `c` names and stays until the member leaves it.
    pub(super) async fn join_room(&mut self, c: &Conversation) -> Result<LeftRoom, ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let hold_music = match &c.music_on_hold {
            Some(sound) => match self.source(&Audio::Sound(sound.clone())).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::info!(call = %self.p.uuid_a, error = %e, "no music on hold for the room: silence");
                    None
                }
            },
            None => None,
        };
        let options = JoinOptions {
            flags: MemberFlags {
                muted: c.mute,
                deaf: c.deaf,
                can_speak: c.can_speak,
                can_hear: c.can_hear,
                start_on_enter: c.start_on_enter,
                end_on_exit: c.end_on_exit,
            },
            audience: Audience { speak_to: c.speak_to.clone(), hear_from: c.hear_from.clone() },
            call_id: Some(self.p.uuid_a.clone()),
            enter_sound: c.enter_sound.clone(),
            exit_sound: c.exit_sound.clone(),
            hold_music,
        };
        let rooms = self.call.sw.rooms.clone();
        let workspace = self.p.workspace_id;
        let joined =
            rooms.join(workspace, &c.name, &self.media.handle, LEG_A, options).await.map_err(refused)?;
        tracing::info!(call = %self.p.uuid_a, room = %c.name, member = joined.member, "joined the conference room");
        self.call.publish("call.conference.joined", json!({"conference": c.name, "member": joined.member}));
        if c.record {
            self.record_room(workspace, &c.name).await;
        }
        let mut left = joined.left;
        let reason = loop {
            match self.wait(None).await? {
                Got::Media(MediaEvent::PlaybackFinished { id, .. }) if id == joined.playback => {
                    break left.try_recv().ok();
                }
                Got::Digit(d) => self.keep(d),
                _ => {}
            }
        };
        let reason = match reason {
            Some(LeaveReason::RoomEnded) => LeftRoom::RoomEnded,
            Some(LeaveReason::Kicked) => LeftRoom::Kicked,
            Some(LeaveReason::Left | LeaveReason::Hangup) | None => LeftRoom::Left,
        };
        self.call
            .publish("call.conference.left", json!({"conference": c.name, "reason": format!("{reason:?}")}));
        Ok(reason)
    }

    /// Starts recording the room, unless it already is.
    async fn record_room(&mut self, workspace: i64, name: &str) {
        let Some(dir) = self.call.sw.config.recordings.as_ref() else {
            tracing::info!(room = %name, "no recordings folder is configured: the room is not recorded");
            return;
        };
        let dir = dir.join(workspace.to_string());
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(error = %e, "the recordings folder cannot be made");
            return;
        }
        let safe: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let path: PathBuf = dir.join(format!("conference-{safe}-{}.wav", self.now()));
        match self.call.sw.rooms.record(workspace, name, path).await {
            Ok(()) | Err(ConferenceError::Recording(_)) => {}
            Err(e) => tracing::info!(room = %name, error = %e, "the room is not recorded"),
        }
    }
}

/// A join the room refused, as the program sees it.
fn refused(e: ConferenceError) -> ChannelError {
    match e {
        ConferenceError::Media(m) => ChannelError::Media(m.to_string()),
        other => ChannelError::Failed(other.to_string()),
    }
}

/// What a route to a conference joins: the room the destination names,
/// with the settings of its `body`. A destination that names no room (or
/// only settings) is the room of the number dialled (`callee`).
pub(in crate::calls::call) fn route_program(
    target: &Target,
    body: &str,
    callee: &str,
) -> Result<Conversation, String> {
    let Target::Conference { room, .. } = target else {
        return Err("not a conference".into());
    };
    let room = room.trim();
    let name = if room.is_empty() || (room == body.trim() && room.contains('=')) { callee } else { room };
    crate::conference::check_name(name).map_err(|e| e.to_string())?;
    let mut c = Conversation::named(name);
    if body.trim() != room {
        c.apply_settings("body", body).map_err(|e| format!("the room's settings: {e}"))?;
    }
    Ok(c)
}
