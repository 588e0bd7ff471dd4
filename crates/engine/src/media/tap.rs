//! Moving frames between a session and other tasks: a tap hands a leg's
//! decoded voice to a channel every tick (for a conference room, speech
//! recognition, a WebSocket stream), and a [`ChannelSource`] plays frames
//! that arrive on a channel (a conference mix, streamed audio).

use media::frame::{Frame, SILENT_FRAME};
use media::player::Source;
use tokio::sync::mpsc;

/// The most taps on one leg.
pub(crate) const MAX_TAPS: usize = 4;

/// A [`Source`] fed over a bounded channel: a frame when one is waiting,
/// silence when none is (the feeder is late), the end when the sender is
/// dropped.
#[derive(Debug)]
pub struct ChannelSource {
    rx: mpsc::Receiver<Frame>,
}

impl ChannelSource {
    /// A source and the sender that feeds it; `capacity` frames may wait
    /// (each is 20 ms).
    pub fn new(capacity: usize) -> (mpsc::Sender<Frame>, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self { rx })
    }
}

impl Source for ChannelSource {
    fn next_frame(&mut self) -> Option<Frame> {
        match self.rx.try_recv() {
            Ok(f) => Some(f),
            Err(mpsc::error::TryRecvError::Empty) => Some(SILENT_FRAME),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
        }
    }
}
