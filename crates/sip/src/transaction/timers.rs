//! Timer bookkeeping: the queue of deadlines across transactions and the
//! doubling retransmission interval.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::event::TxId;
use crate::shrink::Shrink;

/// `now + d`, or `None` ("never") when that overflows the clock.
pub(super) fn after(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// The earlier of two optional deadlines.
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// True when `deadline` is set and not after `now`.
pub(super) fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

/// A retransmission timer (A, E, G, or the 2xx one): when it fires next and
/// the interval it was armed with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retransmit {
    /// When it fires.
    pub(super) at: Instant,
    interval: Duration,
}

impl Retransmit {
    /// Armed at `now + interval`; `None` when that overflows.
    pub(super) fn start(now: Instant, interval: Duration) -> Option<Retransmit> {
        Some(Retransmit { at: after(now, interval)?, interval })
    }

    /// After a retransmission at `now`: the interval doubles, up to `cap`.
    pub(super) fn backoff(self, now: Instant, cap: Option<Duration>) -> Option<Retransmit> {
        let doubled = self.interval.saturating_mul(2);
        Retransmit::start(now, cap.map_or(doubled, |c| doubled.min(c)))
    }
}

/// Deadlines of all transactions, earliest first. A transaction whose
/// deadline moved (or that ended) leaves its old entry behind; the driver
/// recognises such stale entries (the transaction's scheduled time
/// differs), skips them, and pops them off the top so that the earliest
/// entry is always a live one.
#[derive(Debug, Default)]
pub(super) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, TxId)>>,
}

impl TimerQueue {
    /// Adds a deadline.
    pub(super) fn push(&mut self, at: Instant, id: TxId) {
        self.heap.push(Reverse((at, id)));
    }

    /// The earliest deadline, stale or not.
    pub(super) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The earliest entry.
    pub(super) fn peek(&self) -> Option<(Instant, TxId)> {
        self.heap.peek().map(|Reverse(entry)| *entry)
    }

    /// Removes the earliest entry.
    pub(super) fn pop(&mut self) {
        self.heap.pop();
        self.heap.shrink_when_sparse();
    }

    /// Takes the earliest entry if it is due at `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Instant, TxId)> {
        if self.next()? <= now {
            let entry = self.heap.pop().map(|Reverse(entry)| entry);
            self.heap.shrink_when_sparse();
            entry
        } else {
            None
        }
    }

    /// Keeps the entries `keep` says yes to, and gives back the room.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(Instant, TxId) -> bool) {
        self.heap.retain(|Reverse((at, id))| keep(*at, *id));
        self.heap.shrink_when_sparse();
    }

    /// Number of entries, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}
