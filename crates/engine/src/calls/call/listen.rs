//! One call listening to another (eavesdrop, whisper, barge): the call
//! listened to taps its two legs into channels the listening call handed
//! over ([`CallCommand::Listened`]) and, for whisper and barge, plays
//! what a mixer task sends it to the agent (and the other party); the
//! listening call plays the mix of both sides to its own leg and taps
//! what its leg says into the mixer. Nothing is shared but channels: the
//! mixer ends when either call's media goes away, and dropping its
//! senders ends the players on both sides, so the call listened to goes
//! back to its plain relay by itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::frame::{Frame, SILENT_FRAME};
use media::mixer::sum;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};

use super::media::CallMedia;
use super::{Call, CallCommand, CommandError, CommandResult};
use crate::calls::registry::Channel;
use crate::media::{ChannelSource, Decoded, LegId};

/// Frames that may wait in each channel between the calls (each 20 ms).
const DEPTH: usize = 8;
/// Frames left waiting beyond this are dropped, to keep the delay short.
const KEEP: usize = 3;
/// How long the call listened to may take to accept.
const ACCEPT_WAIT: Duration = Duration::from_secs(5);

/// How a listening call joins another call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenMode {
    /// Hears both sides; nobody hears it.
    Eavesdrop,
    /// Hears both sides; the agent hears it, the other party does not.
    Whisper,
    /// Three-way (force insert): everyone hears everyone.
    Barge,
}

impl ListenMode {
    /// Its name in events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenMode::Eavesdrop => "eavesdrop",
            ListenMode::Whisper => "whisper",
            ListenMode::Barge => "barge",
        }
    }

    /// Whether the agent hears the listener.
    fn to_agent(self) -> bool {
        self != ListenMode::Eavesdrop
    }

    /// Whether the other party hears the listener.
    fn to_other(self) -> bool {
        self == ListenMode::Barge
    }
}

/// What each party hears from one tick of `agent` (the leg listened to),
/// `other` (its partner) and `listener`: the listener always hears both
/// sides; the agent hears its partner plus the listener when `mode`
/// lets it (`None`: unchanged, the plain relay); the other party likewise.
pub fn mix(mode: ListenMode, agent: &Frame, other: &Frame, listener: &Frame) -> Heard {
    Heard {
        listener: sum(&[agent, other]),
        agent: mode.to_agent().then(|| sum(&[other, listener])),
        other: mode.to_other().then(|| sum(&[agent, listener])),
    }
}

/// One tick's frames for each party; see [`mix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// What the listener hears.
    pub listener: Frame,
    /// What the agent hears instead of its partner alone.
    pub agent: Option<Frame>,
    /// What the other party hears instead of the agent alone.
    pub other: Option<Frame>,
}

/// The channels a listening call hands to the call it listens to.
#[derive(Debug)]
pub struct ListenFeed {
    /// Where the agent's voice goes.
    agent: mpsc::Sender<Decoded>,
    /// Where its partner's voice goes.
    other: mpsc::Sender<Decoded>,
    /// What the agent is to hear (whisper, barge).
    to_agent: Option<ChannelSource>,
    /// What the other party is to hear (barge).
    to_other: Option<ChannelSource>,
}

/// The hand-over of [`CallCommand::Listened`]: taken once by the call
/// listened to. Two are equal when they are the same hand-over.
#[derive(Debug, Clone)]
pub struct Listen {
    /// How the listener joins.
    pub mode: ListenMode,
    /// The leg id the listener named (the agent's leg), when it named one.
    pub leg: String,
    feed: Arc<Mutex<Option<ListenFeed>>>,
}

impl PartialEq for Listen {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.feed, &other.feed)
    }
}

impl Eq for Listen {}

impl Listen {
    fn take(&self) -> Option<ListenFeed> {
        self.feed.lock().ok()?.take()
    }
}

/// The live leg of the agent with extension `extension` among
/// `channels`, in the state `callstate` (`ACTIVE`, `RINGING`), not part
/// of call `except`.
pub fn agent_leg(channels: &[Channel], extension: &str, callstate: &str, except: &str) -> Option<Channel> {
    channels
        .iter()
        .find(|c| c.callstate == callstate && c.call_uuid != except && leg_user(&c.name) == Some(extension))
        .cloned()
}

/// The user a leg's channel name (`sip/<user>@<address>`) names.
pub fn leg_user(name: &str) -> Option<&str> {
    name.strip_prefix("sip/")?.split('@').next()
}

impl Call {
    /// The listening side: asks the call that has leg or call id `target`
    /// in this workspace to hand its audio over, then plays the mix to
    /// `leg` and (whisper, barge) hands what `leg` says to the mixer.
    pub(super) async fn listen_to(
        &mut self,
        mode: ListenMode,
        target: &str,
        media: &mut CallMedia,
        leg: LegId,
    ) -> CommandResult {
        self.link(mode, target, media, leg, false).await
    }

    /// The picking side of a pickup: asks the ringing call that has leg or
    /// call id `target` to answer its caller and link it with `leg` (each
    /// hears the other).
    pub(super) async fn pick_up_from(
        &mut self,
        target: &str,
        media: &mut CallMedia,
        leg: LegId,
    ) -> CommandResult {
        self.link(ListenMode::Barge, target, media, leg, true).await
    }

    async fn link(
        &mut self,
        mode: ListenMode,
        target: &str,
        media: &mut CallMedia,
        leg: LegId,
        pickup: bool,
    ) -> CommandResult {
        let handle = self.sw.calls.handle(self.workspace_id, target).ok_or(CommandError::NotFound)?;
        if handle.uuid == self.uuid() {
            return Err(CommandError::Media("a call cannot listen to itself".into()));
        }
        let (agent_tx, agent_rx) = mpsc::channel(DEPTH);
        let (other_tx, other_rx) = mpsc::channel(DEPTH);
        let (to_agent, agent_src) = split(mode.to_agent().then(|| ChannelSource::new(DEPTH)));
        let (to_other, other_src) = split(mode.to_other().then(|| ChannelSource::new(DEPTH)));
        let feed = ListenFeed { agent: agent_tx, other: other_tx, to_agent: agent_src, to_other: other_src };
        let listen = Listen { mode, leg: target.to_owned(), feed: Arc::new(Mutex::new(Some(feed))) };
        let command = if pickup { CallCommand::PickUp(listen) } else { CallCommand::Listened(listen) };
        match tokio::time::timeout(ACCEPT_WAIT, handle.send(command)).await {
            Ok(Ok(())) => {}
            Ok(Err(CommandError::Gone)) => return Err(CommandError::NotFound),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(CommandError::Busy),
        }
        let failed = |e: crate::media::MediaError| CommandError::Media(e.to_string());
        let voice = if mode.to_agent() {
            let (tx, rx) = mpsc::channel(DEPTH);
            media.handle.tap(leg, tx).await.map_err(failed)?;
            Some(rx)
        } else {
            None
        };
        let (to_listener, source) = ChannelSource::new(DEPTH);
        self.listening = Some(media.handle.play(leg, Box::new(source)).await.map_err(failed)?);
        let mixer = Mixer { mode, agent: agent_rx, other: other_rx, voice, to_listener, to_agent, to_other };
        tokio::spawn(mixer.run());
        self.publish(
            "call.listen.started",
            serde_json::json!({"target": handle.uuid, "mode": mode.as_str()}),
        );
        Ok(())
    }

    /// The side listened to: taps `legs` (the agent first, then its
    /// partner, if any) into the listener's channels and plays what the
    /// mixer sends to those the mode lets hear the listener.
    pub(super) async fn listened(
        &mut self,
        listen: &Listen,
        media: &mut CallMedia,
        legs: &[LegId],
    ) -> CommandResult {
        let feed =
            listen.take().ok_or_else(|| CommandError::Media("the hand-over was already taken".into()))?;
        let failed = |e: crate::media::MediaError| CommandError::Media(e.to_string());
        let agent = *legs.first().ok_or(CommandError::Gone)?;
        media.handle.tap(agent, feed.agent).await.map_err(failed)?;
        let other = legs.get(1).copied();
        if let Some(other) = other {
            media.handle.tap(other, feed.other).await.map_err(failed)?;
        }
        if let Some(src) = feed.to_agent {
            media.handle.play(agent, Box::new(src)).await.map_err(failed)?;
        }
        if let (Some(other), Some(src)) = (other, feed.to_other) {
            media.handle.play(other, Box::new(src)).await.map_err(failed)?;
        }
        self.publish("call.listened", serde_json::json!({"mode": listen.mode.as_str(), "leg": agent.0}));
        Ok(())
    }
}

fn split(
    pair: Option<(mpsc::Sender<Frame>, ChannelSource)>,
) -> (Option<mpsc::Sender<Frame>>, Option<ChannelSource>) {
    match pair {
        Some((tx, src)) => (Some(tx), Some(src)),
        None => (None, None),
    }
}

/// The task between the two calls: every 20 ms, one frame from each
/// tap in, the mixes out.
struct Mixer {
    mode: ListenMode,
    agent: mpsc::Receiver<Decoded>,
    other: mpsc::Receiver<Decoded>,
    voice: Option<mpsc::Receiver<Decoded>>,
    to_listener: mpsc::Sender<Frame>,
    to_agent: Option<mpsc::Sender<Frame>>,
    to_other: Option<mpsc::Sender<Frame>>,
}

/// The next frame of a tap (silence when none waits); `None` once its
/// sender is gone. Concealed frames are mixed as they are.
fn next(rx: &mut mpsc::Receiver<Decoded>) -> Option<Frame> {
    while rx.len() > KEEP {
        let _ = rx.try_recv();
    }
    match rx.try_recv() {
        Ok(d) => Some(d.frame),
        Err(TryRecvError::Empty) => Some(SILENT_FRAME),
        Err(TryRecvError::Disconnected) => None,
    }
}

/// Sends a frame; false once the receiving side is gone.
fn give(tx: &mpsc::Sender<Frame>, frame: Frame) -> bool {
    !matches!(tx.try_send(frame), Err(TrySendError::Closed(_)))
}

impl Mixer {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            // The call listened to ended: its taps are gone.
            let Some(agent) = next(&mut self.agent) else { return };
            let other = next(&mut self.other).unwrap_or(SILENT_FRAME);
            let voice = match &mut self.voice {
                Some(rx) => match next(rx) {
                    Some(f) => f,
                    None => return,
                },
                None => SILENT_FRAME,
            };
            let heard = mix(self.mode, &agent, &other, &voice);
            if !give(&self.to_listener, heard.listener) {
                return;
            }
            if let (Some(tx), Some(f)) = (&self.to_agent, heard.agent) {
                give(tx, f);
            }
            if let (Some(tx), Some(f)) = (&self.to_other, heard.other) {
                give(tx, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: i16) -> Frame {
        [v; media::frame::FRAME_SAMPLES]
    }

    #[test]
    fn each_mode_decides_who_hears_the_listener() {
        let (a, o, l) = (f(100), f(20), f(3));
        let e = mix(ListenMode::Eavesdrop, &a, &o, &l);
        assert_eq!(e, Heard { listener: f(120), agent: None, other: None }, "nobody hears an eavesdropper");
        let w = mix(ListenMode::Whisper, &a, &o, &l);
        assert_eq!(w, Heard { listener: f(120), agent: Some(f(23)), other: None }, "only the agent");
        let b = mix(ListenMode::Barge, &a, &o, &l);
        assert_eq!(b, Heard { listener: f(120), agent: Some(f(23)), other: Some(f(103)) }, "everyone");
    }

    #[test]
    fn an_agent_leg_is_found_by_extension_and_state() {
        let leg = |uuid: &str, call: &str, name: &str, state: &'static str| Channel {
            uuid: uuid.into(),
            call_uuid: call.into(),
            workspace_id: 1,
            direction: "inbound",
            created_ms: 1,
            name: name.into(),
            callstate: state,
            ..Channel::default()
        };
        let legs = vec![
            leg("a", "c1", "sip/2001@127.0.0.1", "ACTIVE"),
            leg("b", "c1", "sip/2002@", "ACTIVE"),
            leg("x", "c2", "sip/20021@", "ACTIVE"),
            leg("r", "c3", "sip/2005@", "RINGING"),
        ];
        assert_eq!(agent_leg(&legs, "2002", "ACTIVE", "").map(|c| c.uuid), Some("b".into()));
        assert!(agent_leg(&legs, "2002", "ACTIVE", "c1").is_none(), "not the listener's own call");
        assert!(agent_leg(&legs, "2005", "ACTIVE", "").is_none(), "ringing, not talking");
        assert_eq!(agent_leg(&legs, "2005", "RINGING", "").map(|c| c.uuid), Some("r".into()));
        assert!(agent_leg(&legs, "200", "ACTIVE", "").is_none());
    }

    #[tokio::test]
    async fn the_mixer_ends_when_the_call_listened_to_goes() {
        let (agent_tx, agent) = mpsc::channel(DEPTH);
        let (other_tx, other) = mpsc::channel(DEPTH);
        let (to_listener, mut heard) = mpsc::channel(DEPTH);
        let mixer = Mixer {
            mode: ListenMode::Eavesdrop,
            agent,
            other,
            voice: None,
            to_listener,
            to_agent: None,
            to_other: None,
        };
        let task = tokio::spawn(mixer.run());
        agent_tx.send(Decoded { frame: f(7), concealed: false }).await.expect("agent");
        other_tx.send(Decoded { frame: f(8), concealed: false }).await.expect("other");
        let mut first = SILENT_FRAME;
        while first == SILENT_FRAME {
            first = tokio::time::timeout(Duration::from_secs(5), heard.recv())
                .await
                .expect("a frame")
                .expect("open");
        }
        assert_eq!(first, f(15), "both sides, summed");
        drop(agent_tx);
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("ended").expect("no panic");
        while heard.try_recv().is_ok() {}
        assert!(heard.recv().await.is_none(), "the listener's source ends with it");
    }
}
