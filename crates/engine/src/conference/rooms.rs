//! The registry of running rooms, per workspace by name, and the calls a
//! call task or the API makes on them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use media::player::ToneSource;
use tokio::sync::{mpsc, oneshot};

use super::room::{Command, Map, NewMember, Refused, Room, RoomHandle, COMMAND_QUEUE};
use super::{
    check_name, ConferenceError, JoinOptions, Joined, MemberChange, MemberId, RecordingDone, RoomInfo,
};
use crate::events::Bus;
use crate::media::{ChannelSource, LegId, MediaHandle, PlayerSource};

/// Frames of a member's voice that may wait for the room.
const VOICE_QUEUE: usize = 8;
/// Frames of the room's audio that may wait in a member's session.
const FEED_QUEUE: usize = 4;

/// Limits of the registry.
#[derive(Debug, Clone, Copy)]
pub struct RoomsConfig {
    /// The most rooms running at once (all workspaces).
    pub max_rooms: usize,
    /// The most members in one room.
    pub max_members: usize,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        Self { max_rooms: 1000, max_members: 200 }
    }
}

/// The running rooms; cheap to clone.
#[derive(Debug, Clone)]
pub struct Rooms {
    map: Map,
    bus: Bus,
    config: RoomsConfig,
    next_room: Arc<AtomicU64>,
}

impl Rooms {
    /// No rooms yet; events go to `bus`.
    pub fn new(bus: Bus, config: RoomsConfig) -> Self {
        Self {
            map: Arc::new(Mutex::new(HashMap::new())),
            bus,
            config,
            next_room: Arc::new(AtomicU64::new(1)),
        }
    }

    fn handle(&self, workspace: i64, name: &str) -> Result<RoomHandle, ConferenceError> {
        let map = self.map.lock().map_err(|_| ConferenceError::Ended)?;
        map.get(&(workspace, name.to_string()))
            .filter(|h| !h.tx.is_closed())
            .cloned()
            .ok_or_else(|| ConferenceError::NoRoom(name.to_string()))
    }

    /// The room, made (with `hold` as its music) if it is not running.
    fn get_or_create(
        &self,
        workspace: i64,
        name: &str,
        hold: &mut Option<PlayerSource>,
    ) -> Result<RoomHandle, ConferenceError> {
        let mut map = self.map.lock().map_err(|_| ConferenceError::Ended)?;
        let key = (workspace, name.to_string());
        if let Some(h) = map.get(&key).filter(|h| !h.tx.is_closed()) {
            return Ok(h.clone());
        }
        map.remove(&key);
        if map.len() >= self.config.max_rooms {
            return Err(ConferenceError::TooManyRooms(self.config.max_rooms));
        }
        let id = self.next_room.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let room = Room::new(
            workspace,
            name.to_string(),
            id,
            hold.take(),
            self.config.max_members,
            self.bus.clone(),
            self.map.clone(),
        );
        tokio::spawn(room.run(rx));
        let h = RoomHandle { id, tx };
        map.insert(key, h.clone());
        Ok(h)
    }

    /// Joins the call's leg to the room `name` of the workspace, making the
    /// room if needed: the room taps what the leg says and plays it the
    /// mix (replacing what the leg heard until it leaves).
    pub async fn join(
        &self,
        workspace: i64,
        name: &str,
        media: &MediaHandle,
        leg: LegId,
        options: JoinOptions,
    ) -> Result<Joined, ConferenceError> {
        check_name(name)?;
        let tone = |spec: &Option<String>| -> Result<Option<ToneSource>, ConferenceError> {
            spec.as_deref()
                .map(|s| {
                    ToneSource::parse(s)
                        .map_err(|e| ConferenceError::BadTone { what: s.to_string(), detail: e.to_string() })
                })
                .transpose()
        };
        let enter = tone(&options.enter_sound)?;
        let exit = tone(&options.exit_sound)?;
        self.precheck(workspace, name).await?;
        let (voice_tx, voice) = mpsc::channel(VOICE_QUEUE);
        media.tap(leg, voice_tx).await?;
        let (feed, source) = ChannelSource::new(FEED_QUEUE);
        let playback = media.play(leg, Box::new(source)).await?;
        let (left_tx, left) = oneshot::channel();
        let mut member = Box::new(NewMember {
            flags: options.flags,
            audience: options.audience,
            call_id: options.call_id,
            voice,
            feed,
            enter,
            exit,
            left: left_tx,
        });
        let mut hold = options.hold_music;
        for _ in 0..3 {
            let room = self.get_or_create(workspace, name, &mut hold)?;
            let (reply, rx) = oneshot::channel();
            match room.tx.send(Command::Join { member, reply }).await {
                Err(mpsc::error::SendError(Command::Join { member: m, .. })) => {
                    member = m;
                    continue;
                }
                Err(_) => return Err(ConferenceError::Ended),
                Ok(()) => {}
            }
            match rx.await {
                Ok(Ok(id)) => return Ok(Joined { member: id, playback, left }),
                Ok(Err(Refused::Full(n))) => return Err(ConferenceError::RoomFull(n)),
                Ok(Err(Refused::Ended(m))) => member = m,
                Err(_) => return Err(ConferenceError::Ended),
            }
        }
        Err(ConferenceError::Ended)
    }

    /// Refuses a join that would be refused anyway (room full, too many
    /// rooms) before the leg's audio is touched; a join racing with
    /// another may still be refused by the room itself.
    async fn precheck(&self, workspace: i64, name: &str) -> Result<(), ConferenceError> {
        let existing = {
            let map = self.map.lock().map_err(|_| ConferenceError::Ended)?;
            match map.get(&(workspace, name.to_string())).filter(|h| !h.tx.is_closed()) {
                Some(h) => Some(h.clone()),
                None if map.len() >= self.config.max_rooms => {
                    return Err(ConferenceError::TooManyRooms(self.config.max_rooms))
                }
                None => None,
            }
        };
        if let Some(room) = existing {
            let (reply, rx) = oneshot::channel();
            if room.tx.send(Command::Info { reply }).await.is_ok() {
                if let Ok(info) = rx.await {
                    if info.members.len() >= self.config.max_members {
                        return Err(ConferenceError::RoomFull(self.config.max_members));
                    }
                }
            }
        }
        Ok(())
    }

    async fn ask<T>(
        &self,
        workspace: i64,
        name: &str,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, ConferenceError> {
        let room = self.handle(workspace, name)?;
        let (reply, rx) = oneshot::channel();
        room.tx.send(make(reply)).await.map_err(|_| ConferenceError::NoRoom(name.to_string()))?;
        rx.await.map_err(|_| ConferenceError::NoRoom(name.to_string()))
    }

    /// Takes a member out of its room (the call goes on).
    pub async fn leave(&self, workspace: i64, name: &str, member: MemberId) -> Result<(), ConferenceError> {
        self.ask(workspace, name, |reply| Command::Leave { id: member, reply }).await?
    }

    /// Mutes, deafens or kicks a member.
    pub async fn change(
        &self,
        workspace: i64,
        name: &str,
        member: MemberId,
        change: MemberChange,
    ) -> Result<(), ConferenceError> {
        self.ask(workspace, name, |reply| Command::Change { id: member, change, reply }).await?
    }

    /// One room and its members.
    pub async fn room(&self, workspace: i64, name: &str) -> Result<RoomInfo, ConferenceError> {
        self.ask(workspace, name, |reply| Command::Info { reply }).await
    }

    /// The workspace's rooms, by name.
    pub async fn list(&self, workspace: i64) -> Vec<RoomInfo> {
        let names: Vec<String> = match self.map.lock() {
            Ok(map) => map.keys().filter(|(w, _)| *w == workspace).map(|(_, n)| n.clone()).collect(),
            Err(_) => Vec::new(),
        };
        let mut rooms = Vec::new();
        for n in names {
            if let Ok(r) = self.room(workspace, &n).await {
                rooms.push(r);
            }
        }
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    /// Starts recording the room (every voice mixed, mono 16-bit 8 kHz WAV)
    /// to `path`, created now.
    pub async fn record(&self, workspace: i64, name: &str, path: PathBuf) -> Result<(), ConferenceError> {
        self.handle(workspace, name)?;
        let p = path.clone();
        let file = tokio::task::spawn_blocking(move || std::fs::File::create(&p))
            .await
            .map_err(|e| ConferenceError::Recording(e.to_string()))?
            .map_err(|e| ConferenceError::Recording(format!("{}: {e}", path.display())))?;
        self.ask(workspace, name, |reply| Command::Record { path, file, reply }).await?
    }

    /// Stops the room's recording; returns once its file is complete.
    pub async fn stop_record(&self, workspace: i64, name: &str) -> Result<RecordingDone, ConferenceError> {
        let done = self.ask(workspace, name, |reply| Command::StopRecord { reply }).await??;
        done.await.map_err(|_| ConferenceError::Recording("the recording was lost".into()))
    }
}
