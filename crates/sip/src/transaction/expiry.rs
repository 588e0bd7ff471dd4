//! When finished server transactions end: a few queues of (deadline, id)
//! in deadline order, 24 bytes an entry and no allocation of their own.
//! Finished transactions end a fixed time after their last response
//! (timer J or L, 64*T1; timer I, T4), so each kind arrives nearly in
//! order: one queue per length keeps each insertion at (or near) the
//! back, where a binary search finds its place.

use std::collections::VecDeque;
use std::time::Instant;

use super::event::ServerTxId;
use crate::shrink::Shrink;

/// Deadlines of finished server transactions, earliest first in each of
/// [`Expiry::QUEUES`] queues. An entry whose transaction went earlier
/// (forgotten, or a transport error) stays until it comes to the front.
#[derive(Debug, Default)]
pub(super) struct Expiry {
    queues: [VecDeque<(Instant, ServerTxId)>; 2],
}

/// Which queue an entry goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    /// Timer I (T4).
    Short,
    /// Timers J and L (64*T1).
    Long,
}

impl Expiry {
    /// Adds `id`, ending at `at`, in deadline order (after equal ones).
    pub(super) fn push(&mut self, length: Length, at: Instant, id: ServerTxId) {
        let queue = &mut self.queues[length as usize];
        let place = queue.partition_point(|(t, _)| *t <= at);
        queue.insert(place, (at, id));
    }

    /// The earliest deadline, stale or not.
    pub(super) fn next(&self) -> Option<Instant> {
        self.queues.iter().filter_map(|q| q.front().map(|(at, _)| *at)).min()
    }

    /// The entry with the earliest deadline.
    pub(super) fn peek(&self) -> Option<(Instant, ServerTxId)> {
        self.queues.iter().filter_map(|q| q.front().copied()).min()
    }

    /// Removes the entry with the earliest deadline.
    pub(super) fn pop(&mut self) -> Option<(Instant, ServerTxId)> {
        let queue = self.queues.iter_mut().filter(|q| !q.is_empty()).min_by_key(|q| q.front().copied())?;
        let entry = queue.pop_front();
        queue.shrink_when_sparse();
        entry
    }

    /// Takes the earliest entry if it is due at `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Instant, ServerTxId)> {
        if self.next()? <= now {
            self.pop()
        } else {
            None
        }
    }

    /// Number of entries, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn entries_come_out_in_deadline_order_across_queues() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut expiry = Expiry::default();
        expiry.push(Length::Long, at(32_000), ServerTxId(1));
        expiry.push(Length::Short, at(5_000), ServerTxId(2));
        // Out of order within a queue (an ACK that came late).
        expiry.push(Length::Long, at(31_900), ServerTxId(3));
        expiry.push(Length::Long, at(32_000), ServerTxId(4));
        assert_eq!(expiry.len(), 4);
        assert_eq!(expiry.next(), Some(at(5_000)));
        assert_eq!(expiry.pop_due(at(4_999)), None);
        let order: Vec<_> = std::iter::from_fn(|| expiry.pop_due(at(40_000))).map(|(_, id)| id.0).collect();
        assert_eq!(order, [2, 3, 1, 4], "earliest first, equal ones in arrival order");
        assert_eq!(expiry.len(), 0);
    }
}
