//! A leg's incoming audio as linear PCM frames: RTP payloads go through a
//! jitter buffer, are decoded, and come out 20 ms per tick.
//!
//! Where nothing came in time (a lost packet, or a stream running behind
//! the tick), the frame is filled with silence and flagged as concealed:
//! recordings, taps and the peer hear the silence, detectors skip it.

use std::collections::VecDeque;
use std::ops::Range;

use media::frame::{Frame, FRAME_SAMPLES, SILENT_FRAME};
use media::g711::Law;
use media::jitter::{JitterBuffer, Playout, Pushed};

/// The most decoded samples waiting (100 ms); older ones are dropped.
const MAX_WAITING: usize = 800;
/// Packets the jitter buffer holds.
const CAPACITY: usize = 16;

/// One tick's frame of a leg's audio, as the detectors and taps get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// The samples (concealment or silence where audio is missing).
    pub frame: Frame,
    /// Some of it never arrived: the frame stands in for missing audio, so
    /// a detector holds its state rather than hear it (audio consumers
    /// play or record it as is).
    pub concealed: bool,
}

/// Decodes one leg's audio.
#[derive(Debug)]
pub(crate) struct Decoder {
    jitter: JitterBuffer<Vec<i16>>,
    waiting: VecDeque<i16>,
    /// Samples ever taken off (or dropped from) the front of `waiting`.
    taken: u64,
    /// Where `waiting` holds fill for lost packets, in the same count as
    /// `taken`, in order.
    fill: VecDeque<Range<u64>>,
}

impl Decoder {
    pub(crate) fn new(delay_ms: u64) -> Self {
        Self {
            jitter: JitterBuffer::new(delay_ms, CAPACITY),
            waiting: VecDeque::with_capacity(MAX_WAITING),
            taken: 0,
            fill: VecDeque::new(),
        }
    }

    /// Takes an audio payload in `law` that arrived at `now_ms`.
    pub(crate) fn push(&mut self, law: Law, sequence: u16, payload: &[u8], now_ms: u64) {
        if self.jitter.push(sequence, now_ms, law.decode_slice(payload)) == Pushed::Late {
            crate::metrics::MEDIA.late.increment(1);
        }
    }

    /// The next 20 ms at `now_ms` (silence where nothing came).
    pub(crate) fn frame(&mut self, now_ms: u64) -> Decoded {
        while let Some(out) = self.jitter.pop(now_ms) {
            match out {
                Playout::Packet { item, .. } => self.waiting.extend(item),
                Playout::Lost { .. } => self.conceal_lost(),
            }
        }
        if let Some(excess) = self.waiting.len().checked_sub(MAX_WAITING) {
            self.waiting.drain(..excess);
            self.taken += excess as u64;
        }
        let mut frame = SILENT_FRAME;
        let got = self.waiting.len().min(FRAME_SAMPLES);
        for (slot, s) in frame.iter_mut().zip(self.waiting.drain(..got)) {
            *slot = s;
        }
        while self.fill.front().is_some_and(|r| r.end <= self.taken) {
            self.fill.pop_front();
        }
        self.taken += got as u64;
        let filled = self.fill.front().is_some_and(|r| r.start < self.taken);
        Decoded { frame, concealed: got < FRAME_SAMPLES || filled }
    }

    /// Stands in for a lost packet with a frame of silence.
    fn conceal_lost(&mut self) {
        let start = self.taken + self.waiting.len() as u64;
        let end = start + FRAME_SAMPLES as u64;
        self.waiting.extend(SILENT_FRAME);
        match self.fill.back_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => self.fill.push_back(start..end),
        }
    }
}
