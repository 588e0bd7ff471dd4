//! A leg's incoming audio as linear PCM frames: RTP payloads go through a
//! jitter buffer, are decoded, and come out 20 ms per tick.

use std::collections::VecDeque;

use media::frame::{Frame, FRAME_SAMPLES, SILENT_FRAME};
use media::g711::Law;
use media::jitter::{JitterBuffer, Playout, Pushed};

/// The most decoded samples waiting (100 ms); older ones are dropped.
const MAX_WAITING: usize = 800;
/// Packets the jitter buffer holds.
const CAPACITY: usize = 16;

/// Decodes one leg's audio.
#[derive(Debug)]
pub(crate) struct Decoder {
    jitter: JitterBuffer<Vec<i16>>,
    waiting: VecDeque<i16>,
}

impl Decoder {
    pub(crate) fn new(delay_ms: u64) -> Self {
        Self { jitter: JitterBuffer::new(delay_ms, CAPACITY), waiting: VecDeque::with_capacity(MAX_WAITING) }
    }

    /// Takes an audio payload in `law` that arrived at `now_ms`.
    pub(crate) fn push(&mut self, law: Law, sequence: u16, payload: &[u8], now_ms: u64) {
        if self.jitter.push(sequence, now_ms, law.decode_slice(payload)) == Pushed::Late {
            crate::metrics::MEDIA.late.increment(1);
        }
    }

    /// The next 20 ms at `now_ms` (silence where nothing came).
    pub(crate) fn frame(&mut self, now_ms: u64) -> Frame {
        while let Some(out) = self.jitter.pop(now_ms) {
            match out {
                Playout::Packet { item, .. } => self.waiting.extend(item),
                Playout::Lost { .. } => self.waiting.extend(SILENT_FRAME),
            }
        }
        while self.waiting.len() > MAX_WAITING {
            self.waiting.pop_front();
        }
        let mut f = SILENT_FRAME;
        for slot in f.iter_mut().take(FRAME_SAMPLES) {
            match self.waiting.pop_front() {
                Some(s) => *slot = s,
                None => break,
            }
        }
        f
    }
}
