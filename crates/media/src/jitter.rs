//! A fixed-delay jitter buffer: packets go in by 16-bit sequence number
//! with their arrival time, and come out in sequence order once they have
//! waited the playout delay. Time is an argument in milliseconds.
//!
//! - A packet is due `delay_ms` after it arrived; [`JitterBuffer::pop`]
//!   gives the next packet in order once it is due.
//! - A missing packet is reported as [`Playout::Lost`] when a later packet
//!   is due (so the caller can conceal it), and a packet arriving after its
//!   turn is dropped and counted as late.
//! - Duplicates are dropped; the buffer holds at most `capacity` packets and
//!   drops arrivals beyond that; a jump in sequence of more than
//!   `capacity` packets restarts playout at the new position instead of
//!   reporting thousands of losses.

use std::collections::BTreeMap;

use crate::rtp::SeqExtender;

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Stored for playout.
    Queued,
    /// Already stored: dropped.
    Duplicate,
    /// Its turn has passed (played or declared lost): dropped.
    Late,
    /// The buffer is full: dropped.
    Overflow,
}

/// What comes out of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout<T> {
    /// The next packet in order.
    Packet {
        /// Its sequence number.
        sequence: u16,
        /// What was pushed with it.
        item: T,
    },
    /// The next packet in order never arrived in time.
    Lost {
        /// Its sequence number.
        sequence: u16,
    },
}

/// Counters since the buffer was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets queued.
    pub queued: u64,
    /// Packets played out.
    pub played: u64,
    /// Sequence numbers reported lost.
    pub lost: u64,
    /// Packets dropped for arriving after their turn.
    pub late: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Times playout jumped to a far-away sequence number.
    pub resyncs: u64,
}

/// A fixed-delay, bounded reordering buffer of `T` (payloads, frames...).
#[derive(Debug, Clone)]
pub struct JitterBuffer<T> {
    delay_ms: u64,
    capacity: usize,
    seq: SeqExtender,
    slots: BTreeMap<u64, (u64, T)>,
    next: Option<u64>,
    stats: JitterStats,
}

impl<T> JitterBuffer<T> {
    /// A buffer that delays every packet by `delay_ms` and holds at most
    /// `capacity` (at least 1) packets.
    pub fn new(delay_ms: u64, capacity: usize) -> Self {
        Self {
            delay_ms,
            capacity: capacity.max(1),
            seq: SeqExtender::new(),
            slots: BTreeMap::new(),
            next: None,
            stats: JitterStats::default(),
        }
    }

    /// Offers a packet with sequence number `sequence` that arrived at
    /// `arrival_ms`.
    pub fn push(&mut self, sequence: u16, arrival_ms: u64, item: T) -> Pushed {
        let ext = self.seq.extend(sequence);
        if self.next.is_some_and(|next| ext < next) {
            self.stats.late += 1;
            return Pushed::Late;
        }
        if self.slots.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Pushed::Duplicate;
        }
        if self.slots.len() >= self.capacity {
            self.stats.overflow += 1;
            return Pushed::Overflow;
        }
        self.slots.insert(ext, (arrival_ms.saturating_add(self.delay_ms), item));
        self.stats.queued += 1;
        Pushed::Queued
    }

    /// The next packet or loss due at `now_ms`, if any. Call it until it
    /// gives `None` to drain everything due, or once per frame to pace.
    pub fn pop(&mut self, now_ms: u64) -> Option<Playout<T>> {
        let (&first, &(first_due, _)) = self.slots.first_key_value()?;
        let next = match self.next {
            Some(next) if first - next > self.capacity as u64 => {
                self.stats.resyncs += 1;
                first
            }
            Some(next) => next,
            None => first,
        };
        if first == next {
            if first_due > now_ms {
                self.next = Some(next);
                return None;
            }
            let (_, item) = self.slots.remove(&first)?;
            self.next = Some(next + 1);
            self.stats.played += 1;
            return Some(Playout::Packet { sequence: first as u16, item });
        }
        // `next` is missing; give up on it once a later packet is due.
        self.next = Some(next);
        if first_due > now_ms {
            return None;
        }
        self.next = Some(next + 1);
        self.stats.lost += 1;
        Some(Playout::Lost { sequence: next as u16 })
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Forgets every packet and the playout position (e.g. on a new SSRC);
    /// keeps the counters.
    pub fn reset(&mut self) {
        self.slots.clear();
        self.next = None;
        self.seq = SeqExtender::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(jb: &mut JitterBuffer<u16>, now: u64) -> Vec<String> {
        std::iter::from_fn(|| jb.pop(now))
            .map(|p| match p {
                Playout::Packet { sequence, item } => {
                    assert_eq!(sequence, item);
                    format!("{sequence}")
                }
                Playout::Lost { sequence } => format!("lost {sequence}"),
            })
            .collect()
    }

    #[test]
    fn holds_packets_for_the_delay_then_plays_in_order() {
        let mut jb = JitterBuffer::new(60, 50);
        assert_eq!(jb.push(11, 0, 11), Pushed::Queued);
        assert_eq!(jb.push(10, 5, 10), Pushed::Queued);
        assert_eq!(jb.push(12, 20, 12), Pushed::Queued);
        assert_eq!(drain(&mut jb, 59), Vec::<String>::new());
        // 11 is due at 60, but 10 (due at 65) comes first.
        assert_eq!(drain(&mut jb, 64), Vec::<String>::new());
        assert_eq!(drain(&mut jb, 65), ["10", "11"]);
        assert_eq!(drain(&mut jb, 80), ["12"]);
        assert!(jb.is_empty());
    }

    #[test]
    fn wraps_around_65535() {
        let mut jb = JitterBuffer::new(0, 50);
        for (i, s) in [65533u16, 65535, 65534, 0, 1].into_iter().enumerate() {
            assert_eq!(jb.push(s, i as u64, s), Pushed::Queued);
        }
        assert_eq!(drain(&mut jb, 100), ["65533", "65534", "65535", "0", "1"]);
    }

    #[test]
    fn gaps_are_reported_as_loss_when_a_later_packet_is_due() {
        let mut jb = JitterBuffer::new(40, 50);
        jb.push(1, 0, 1);
        jb.push(4, 60, 4);
        assert_eq!(drain(&mut jb, 40), ["1"]);
        // 2 and 3 missing: nothing to say until 4 is due at 100.
        assert_eq!(drain(&mut jb, 99), Vec::<String>::new());
        assert_eq!(drain(&mut jb, 100), ["lost 2", "lost 3", "4"]);
        assert_eq!(jb.stats().lost, 2);
    }

    #[test]
    fn late_and_duplicate_packets_are_dropped_and_counted() {
        let mut jb = JitterBuffer::new(20, 50);
        jb.push(1, 0, 1);
        assert_eq!(jb.push(1, 1, 1), Pushed::Duplicate);
        jb.push(3, 10, 3);
        assert_eq!(drain(&mut jb, 30), ["1", "lost 2", "3"]);
        assert_eq!(jb.push(2, 31, 2), Pushed::Late);
        assert_eq!(jb.push(1, 31, 1), Pushed::Late);
        assert_eq!(jb.push(3, 31, 3), Pushed::Late);
        let s = jb.stats();
        assert_eq!((s.queued, s.played, s.lost, s.late, s.duplicates), (2, 2, 1, 3, 1));
    }

    #[test]
    fn bounded_and_resynchronises_on_big_jumps() {
        let mut jb = JitterBuffer::new(0, 4);
        for s in 0..4u16 {
            assert_eq!(jb.push(s, 0, s), Pushed::Queued);
        }
        assert_eq!(jb.push(4, 0, 4), Pushed::Overflow);
        assert_eq!(jb.len(), 4);
        assert_eq!(drain(&mut jb, 0), ["0", "1", "2", "3"]);
        // The peer jumps 1000 ahead: play from there, no 996 losses.
        jb.push(1003, 1, 1003);
        jb.push(1004, 1, 1004);
        assert_eq!(drain(&mut jb, 1), ["1003", "1004"]);
        assert_eq!(jb.stats().resyncs, 1);
        assert_eq!(jb.stats().lost, 0);
        jb.reset();
        jb.push(7, 2, 7);
        assert_eq!(drain(&mut jb, 2), ["7"]);
    }

    #[test]
    fn a_steady_20ms_stream_with_jitter_plays_without_loss() {
        let mut jb = JitterBuffer::new(60, 50);
        let mut played = Vec::new();
        // Packet i sent at 20i ms, delayed 0..45 ms by a fixed pattern.
        let mut arrivals: Vec<(u64, u16)> = (0..200u16)
            .map(|i| (u64::from(i) * 20 + u64::from(i * 37 % 46), i.wrapping_add(65500)))
            .collect();
        arrivals.sort();
        let mut k = 0;
        for now in 0..5000u64 {
            while k < arrivals.len() && arrivals[k].0 == now {
                assert_eq!(jb.push(arrivals[k].1, now, arrivals[k].1), Pushed::Queued);
                k += 1;
            }
            played.extend(drain(&mut jb, now));
        }
        let expected: Vec<String> = (0..200u16).map(|i| i.wrapping_add(65500).to_string()).collect();
        assert_eq!(played, expected);
    }
}
