//! A room driven by hand, for `benches/media`'s conference benchmark: the
//! real room task's tick (mix-minus, tones, music on hold, the members'
//! queues) without a clock or media sessions. Not for calls.

use media::frame::Frame;
use tokio::sync::{mpsc, oneshot};

use super::room::{Command, NewMember, Room};
use super::{Audience, LeaveReason, MemberFlags};
use crate::events::Bus;
use crate::media::Decoded;

/// A room of members whose voices the caller supplies each tick.
pub struct BenchRoom {
    room: Room,
    voices: Vec<mpsc::Sender<Decoded>>,
    feeds: Vec<mpsc::Receiver<Frame>>,
    _left: Vec<oneshot::Receiver<LeaveReason>>,
}

impl BenchRoom {
    /// A room of `members` members (all speaking and hearing).
    pub fn new(members: usize) -> BenchRoom {
        Self::with_audience(members, |_| Audience::default())
    }

    /// A room of `members` members whose legs are `leg-0`, `leg-1`, ...;
    /// member `i` has `audience(i)` (NCCO `canSpeak` / `canHear` lists).
    pub fn with_audience(members: usize, audience: impl Fn(usize) -> Audience) -> BenchRoom {
        let named = (0..members).any(|i| !audience(i).is_everybody());
        let map = std::sync::Arc::default();
        let mut room = Room::new(1, "bench".into(), 1, None, members.max(1), Bus::default(), map);
        let (mut voices, mut feeds, mut lefts) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..members {
            let (voice_tx, voice) = mpsc::channel(8);
            let (feed, feed_rx) = mpsc::channel(4);
            let (left, left_rx) = oneshot::channel();
            let member = NewMember {
                flags: MemberFlags::default(),
                audience: audience(i),
                call_id: named.then(|| format!("leg-{i}")),
                voice,
                feed,
                enter: None,
                exit: None,
                left,
            };
            let (reply, _) = oneshot::channel();
            room.command(Command::Join { member: Box::new(member), reply });
            voices.push(voice_tx);
            feeds.push(feed_rx);
            lefts.push(left_rx);
        }
        BenchRoom { room, voices, feeds, _left: lefts }
    }

    /// Every member says `frame` (what their sessions would hand over).
    pub fn speak(&mut self, frame: &Frame) {
        for v in &self.voices {
            let _ = v.try_send(Decoded { frame: *frame, concealed: false });
        }
    }

    /// One 20 ms step of the room.
    pub fn tick(&mut self) {
        self.room.tick();
    }

    /// Takes what every member was given (what their sessions would play);
    /// returns how many frames.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        for f in &mut self.feeds {
            while f.try_recv().is_ok() {
                n += 1;
            }
        }
        n
    }
}
