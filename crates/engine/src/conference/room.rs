//! One room's task: every 20 ms it takes a frame from each member, mixes
//! (each hears everyone but itself), adds the room's tones, and hands each
//! member what it hears; commands (join, leave, mute, record, ...) arrive
//! on a bounded queue between ticks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::frame::{Frame, FRAME_SAMPLES, SILENT_FRAME};
use media::mixer::{mix_minus, sum};
use media::player::{Source, ToneSource};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::rules::{self, Audience, Hears, MemberFlags};
use super::{
    now_ms, ConferenceError, LeaveReason, MemberChange, MemberId, MemberInfo, RecordingDone, RoomInfo,
};
use crate::events::{Bus, Event};
use crate::media::recording::Recording;
use crate::media::{Decoded, LegId, MediaEvent, PlayerSource, RecordMode, RecordSpec, RecordingId};

/// Frames a member's voice may queue before the oldest are dropped (the
/// member's session and the room tick on their own clocks).
const MAX_BACKLOG: usize = 3;
/// Commands that may wait for a room.
pub(super) const COMMAND_QUEUE: usize = 64;
/// Ticks a room with no member lives (1 s).
const EMPTY_TICKS: u32 = 50;

/// The rooms of every workspace, by (workspace, name).
pub(super) type Map = Arc<Mutex<HashMap<(i64, String), RoomHandle>>>;

/// A running room's command queue.
#[derive(Debug, Clone)]
pub(super) struct RoomHandle {
    /// Tells this room from a later one of the same name.
    pub id: u64,
    pub tx: mpsc::Sender<Command>,
}

/// A member on its way in.
pub(super) struct NewMember {
    pub flags: MemberFlags,
    pub audience: Audience,
    pub call_id: Option<String>,
    pub voice: mpsc::Receiver<Decoded>,
    pub feed: mpsc::Sender<Frame>,
    pub enter: Option<ToneSource>,
    pub exit: Option<ToneSource>,
    pub left: oneshot::Sender<LeaveReason>,
}

/// Why a join did not happen.
pub(super) enum Refused {
    Full(usize),
    /// The room was ending: try a new one with the same member.
    Ended(Box<NewMember>),
}

pub(super) enum Command {
    Join { member: Box<NewMember>, reply: oneshot::Sender<Result<MemberId, Refused>> },
    Leave { id: MemberId, reply: oneshot::Sender<Result<(), ConferenceError>> },
    Change { id: MemberId, change: MemberChange, reply: oneshot::Sender<Result<(), ConferenceError>> },
    Info { reply: oneshot::Sender<RoomInfo> },
    Record { path: PathBuf, file: std::fs::File, reply: oneshot::Sender<Result<(), ConferenceError>> },
    StopRecord { reply: oneshot::Sender<Result<oneshot::Receiver<RecordingDone>, ConferenceError>> },
}

struct Member {
    id: MemberId,
    flags: MemberFlags,
    audience: Audience,
    call_id: Option<String>,
    voice: mpsc::Receiver<Decoded>,
    feed: mpsc::Sender<Frame>,
    exit: Option<ToneSource>,
    left: Option<oneshot::Sender<LeaveReason>>,
    joined_at: i64,
    dropped: u64,
    gone: bool,
}

struct RoomRecording {
    rec: Recording,
    path: PathBuf,
    events: mpsc::Receiver<MediaEvent>,
}

/// A room's state, owned by its task.
pub(super) struct Room {
    workspace: i64,
    name: String,
    id: u64,
    created_at: i64,
    members: Vec<Member>,
    next_member: MemberId,
    hold: Option<PlayerSource>,
    tones: Vec<ToneSource>,
    recording: Option<RoomRecording>,
    next_recording: u64,
    max_members: usize,
    bus: Bus,
    map: Map,
    inputs: Vec<Option<Frame>>,
    outputs: Vec<Frame>,
    announced: bool,
    empty_ticks: u32,
    /// Members with `canSpeak` / `canHear` lists: while none, the plain
    /// mix-minus is all each member hears.
    routed: usize,
}

impl Room {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        workspace: i64,
        name: String,
        id: u64,
        hold: Option<PlayerSource>,
        max_members: usize,
        bus: Bus,
        map: Map,
    ) -> Self {
        Self {
            workspace,
            name,
            id,
            created_at: now_ms(),
            members: Vec::new(),
            next_member: 1,
            hold,
            tones: Vec::new(),
            recording: None,
            next_recording: 1,
            max_members,
            bus,
            map,
            inputs: Vec::new(),
            outputs: Vec::new(),
            announced: false,
            empty_ticks: 0,
            routed: 0,
        }
    }

    fn publish(&self, name: &'static str, mut data: serde_json::Value) {
        if let Some(o) = data.as_object_mut() {
            o.insert("conference".into(), json!(self.name));
        }
        self.bus.publish(Event { name, workspace_id: self.workspace, at: now_ms(), data });
    }

    /// Runs the room until it ends.
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ended = tokio::select! {
                _ = tick.tick() => self.tick(),
                cmd = rx.recv() => match cmd {
                    Some(c) => self.command(c),
                    None => true,
                },
            };
            if ended {
                break;
            }
        }
        self.end();
        // Anyone who queued a join meanwhile goes to a new room.
        rx.close();
        while let Ok(c) = rx.try_recv() {
            match c {
                Command::Join { member, reply } => {
                    let _ = reply.send(Err(Refused::Ended(member)));
                }
                Command::Info { .. } | Command::Leave { .. } | Command::Change { .. } => {}
                Command::Record { reply, .. } => {
                    let _ = reply.send(Err(ConferenceError::Ended));
                }
                Command::StopRecord { reply } => {
                    let _ = reply.send(Err(ConferenceError::Ended));
                }
            }
        }
    }

    /// Handles one command; true when the room ends.
    pub(super) fn command(&mut self, c: Command) -> bool {
        match c {
            Command::Join { member, reply } => {
                if self.members.len() >= self.max_members {
                    let _ = reply.send(Err(Refused::Full(self.max_members)));
                    return false;
                }
                let m = *member;
                let id = self.next_member;
                self.next_member += 1;
                if let Some(t) = m.enter {
                    self.tones.push(t);
                }
                if !self.announced {
                    self.announced = true;
                    self.publish("conference.started", json!({}));
                }
                self.publish("member.joined", json!({ "member": id, "callId": m.call_id }));
                if !m.audience.is_everybody() {
                    self.routed += 1;
                }
                self.members.push(Member {
                    id,
                    flags: m.flags,
                    audience: m.audience,
                    call_id: m.call_id,
                    voice: m.voice,
                    feed: m.feed,
                    exit: m.exit,
                    left: Some(m.left),
                    joined_at: now_ms(),
                    dropped: 0,
                    gone: false,
                });
                let _ = reply.send(Ok(id));
                false
            }
            Command::Leave { id, reply } => match self.index(id) {
                Some(i) => {
                    let _ = reply.send(Ok(()));
                    self.remove(i, LeaveReason::Left)
                }
                None => {
                    let _ = reply.send(Err(ConferenceError::NoMember(id)));
                    false
                }
            },
            Command::Change { id, change, reply } => {
                let Some(i) = self.index(id) else {
                    let _ = reply.send(Err(ConferenceError::NoMember(id)));
                    return false;
                };
                let _ = reply.send(Ok(()));
                match change {
                    MemberChange::Mute(on) => self.members[i].flags.muted = on,
                    MemberChange::Deaf(on) => self.members[i].flags.deaf = on,
                    MemberChange::Kick => return self.remove(i, LeaveReason::Kicked),
                }
                self.publish(
                    "member.updated",
                    json!({ "member": id, "muted": self.members[i].flags.muted, "deaf": self.members[i].flags.deaf }),
                );
                false
            }
            Command::Info { reply } => {
                let _ = reply.send(self.info());
                false
            }
            Command::Record { path, file, reply } => {
                if self.recording.is_some() {
                    let _ =
                        reply.send(Err(ConferenceError::Recording("the room is already recording".into())));
                    return false;
                }
                let (tx, events) = mpsc::channel(2);
                let id = RecordingId(self.next_recording);
                self.next_recording += 1;
                let spec = RecordSpec { legs: vec![LegId(0)], mode: RecordMode::Mono, path: path.clone() };
                let rec = Recording::start(id, spec, file, tx);
                self.recording = Some(RoomRecording { rec, path: path.clone(), events });
                self.publish("conference.recording.started", json!({ "path": path }));
                let _ = reply.send(Ok(()));
                false
            }
            Command::StopRecord { reply } => {
                let r = match self.recording.take() {
                    Some(r) => Ok(self.finish_recording(r)),
                    None => Err(ConferenceError::Recording("the room is not recording".into())),
                };
                let _ = reply.send(r);
                false
            }
        }
    }

    fn finish_recording(&self, r: RoomRecording) -> oneshot::Receiver<RecordingDone> {
        let RoomRecording { rec, path, mut events } = r;
        rec.finish();
        let (done_tx, done) = oneshot::channel();
        tokio::spawn(async move {
            let done = match events.recv().await {
                Some(MediaEvent::RecordingFinished { path, duration_ms, error, .. }) => {
                    RecordingDone { path, duration_ms, error }
                }
                _ => RecordingDone { path, duration_ms: 0, error: Some("the recording was lost".into()) },
            };
            let _ = done_tx.send(done);
        });
        done
    }

    fn index(&self, id: MemberId) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// Removes member `i`; true when the room ends with it.
    fn remove(&mut self, i: usize, reason: LeaveReason) -> bool {
        let mut m = self.members.remove(i);
        if !m.audience.is_everybody() {
            self.routed -= 1;
        }
        if let Some(tx) = m.left.take() {
            let _ = tx.send(reason);
        }
        self.publish(
            "member.left",
            json!({ "member": m.id, "callId": m.call_id, "reason": reason.as_str() }),
        );
        if let Some(t) = m.exit.take() {
            self.tones.push(t);
        }
        rules::ends_on_leave(&m.flags, self.members.len())
    }

    /// Ends the room: the rest leave, the recording completes, the name is
    /// free again.
    fn end(&mut self) {
        while !self.members.is_empty() {
            self.remove(0, LeaveReason::RoomEnded);
        }
        if let Some(r) = self.recording.take() {
            drop(self.finish_recording(r));
        }
        if let Ok(mut map) = self.map.lock() {
            let key = (self.workspace, self.name.clone());
            if map.get(&key).is_some_and(|h| h.id == self.id) {
                map.remove(&key);
            }
        }
        self.publish("conference.ended", json!({}));
    }

    fn info(&self) -> RoomInfo {
        RoomInfo {
            name: self.name.clone(),
            created_at: self.created_at,
            started: rules::started(self.members.iter().map(|m| &m.flags)),
            recording: self.recording.as_ref().map(|r| r.path.clone()),
            members: self
                .members
                .iter()
                .map(|m| MemberInfo {
                    id: m.id,
                    call_id: m.call_id.clone(),
                    muted: m.flags.muted,
                    deaf: m.flags.deaf,
                    can_speak: m.flags.can_speak,
                    can_hear: m.flags.can_hear,
                    audience: m.audience.clone(),
                    joined_at: m.joined_at,
                    dropped: m.dropped,
                })
                .collect(),
        }
    }

    /// One 20 ms step; true when the room ends.
    pub(super) fn tick(&mut self) -> bool {
        if self.members.is_empty() {
            // A room nobody reached (its first joiner went away before
            // joining) ends after a second.
            self.empty_ticks += 1;
            return self.empty_ticks > EMPTY_TICKS;
        }
        self.empty_ticks = 0;
        let started = rules::started(self.members.iter().map(|m| &m.flags));
        self.inputs.clear();
        for m in &mut self.members {
            let frame = match m.voice.try_recv() {
                Ok(d) => Some(d.frame),
                Err(mpsc::error::TryRecvError::Empty) => None,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    m.gone = true;
                    None
                }
            };
            // Keep the delay bounded when the member's clock runs ahead.
            while m.voice.len() > MAX_BACKLOG {
                let _ = m.voice.try_recv();
            }
            self.inputs.push(frame.filter(|_| rules::in_mix(&m.flags, started)));
        }
        mix_minus(&self.inputs, &mut self.outputs);
        if self.routed > 0 {
            self.route();
        }

        let count = self.members.len();
        let tones = self.tone_frame();
        let hold = if self.members.iter().any(|m| rules::hears(&m.flags, count, started) == Hears::Hold) {
            self.hold_frame()
        } else {
            SILENT_FRAME
        };
        for (i, m) in self.members.iter_mut().enumerate() {
            let mut out = match rules::hears(&m.flags, count, started) {
                Hears::Mix => self.outputs[i],
                Hears::Hold => hold,
                Hears::Nothing => SILENT_FRAME,
            };
            if m.flags.hears() {
                if let Some(t) = &tones {
                    out = sum(&[&out, t]);
                }
            }
            match m.feed.try_send(out) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => m.dropped += 1,
                Err(mpsc::error::TrySendError::Closed(_)) => m.gone = true,
            }
        }
        if let Some(r) = &mut self.recording {
            let said: Vec<&Frame> = self.inputs.iter().flatten().collect();
            let mix = sum(&said);
            r.rec.tick(|_| Some((mix, SILENT_FRAME)));
        }
        let mut ended = false;
        while let Some(i) = self.members.iter().position(|m| m.gone) {
            ended |= self.remove(i, LeaveReason::Hangup);
        }
        ended
    }

    /// Redoes the mix of each listener that a `canSpeak` / `canHear` list
    /// keeps from hearing some voice (the plain mix-minus stands for the
    /// others): the sum of the voices it may hear, or, when those are the
    /// more, everything but itself and the voices it may not hear, so a
    /// listener costs the smaller of the two.
    fn route(&mut self) {
        let mut total = [0i32; FRAME_SAMPLES];
        for f in self.inputs.iter().flatten() {
            for (t, &s) in total.iter_mut().zip(f) {
                *t += i32::from(s);
            }
        }
        let (mut heard, mut unheard): (Vec<&Frame>, Vec<&Frame>) = (Vec::new(), Vec::new());
        for (i, listener) in self.members.iter().enumerate() {
            heard.clear();
            unheard.clear();
            for (j, speaker) in self.members.iter().enumerate() {
                let Some(voice) = self.inputs[j].as_ref().filter(|_| j != i) else { continue };
                let audible = rules::audible(
                    speaker.call_id.as_deref(),
                    &speaker.audience,
                    listener.call_id.as_deref(),
                    &listener.audience,
                );
                if audible { &mut heard } else { &mut unheard }.push(voice);
            }
            if unheard.is_empty() {
                continue;
            }
            self.outputs[i] = if heard.len() <= unheard.len() {
                sum(&heard)
            } else {
                let own = self.inputs[i].as_ref();
                let mut out = SILENT_FRAME;
                for (k, o) in out.iter_mut().enumerate() {
                    let gone: i32 = unheard.iter().map(|f| i32::from(f[k])).sum();
                    let t = total[k] - own.map_or(0, |f| i32::from(f[k])) - gone;
                    *o = t.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
                }
                out
            };
        }
    }

    /// The room's tones this tick, summed; finished tones are dropped.
    fn tone_frame(&mut self) -> Option<Frame> {
        if self.tones.is_empty() {
            return None;
        }
        let mut frames = Vec::with_capacity(self.tones.len());
        self.tones.retain_mut(|t| match t.next_frame() {
            Some(f) => {
                frames.push(f);
                true
            }
            None => false,
        });
        let refs: Vec<&Frame> = frames.iter().collect();
        Some(sum(&refs))
    }

    fn hold_frame(&mut self) -> Frame {
        match self.hold.as_mut().and_then(|h| h.next_frame()) {
            Some(f) => f,
            None => {
                self.hold = None;
                SILENT_FRAME
            }
        }
    }
}
