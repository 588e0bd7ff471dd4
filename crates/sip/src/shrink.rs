//! Giving back the room of tables that emptied out. A burst of calls
//! grows the transaction tables (tens of thousands of entries over the 32 s
//! that finished transactions stay) and the used nonces (300 s) to its
//! peak; without this they would keep that capacity, and the memory, for
//! the life of the process. The engine's tables use it too.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

/// Capacity below which a table is left as it is.
const FLOOR: usize = 1024;

/// A table that can halve its room when mostly empty.
pub trait Shrink {
    /// Shrinks to twice the entries when fewer than a quarter of the room
    /// is used (and the room is past [`FLOOR`]): each shrink follows at
    /// least as many removals as it moves entries, so the cost stays
    /// constant per removal, and growing back needs as many insertions.
    fn shrink_when_sparse(&mut self);
}

/// Whether a table of `len` entries in `capacity` should shrink (see
/// [`Shrink::shrink_when_sparse`]).
pub(crate) fn sparse(len: usize, capacity: usize) -> bool {
    capacity > FLOOR && len < capacity / 4
}

impl<K: Eq + Hash, V, S: BuildHasher> Shrink for HashMap<K, V, S> {
    fn shrink_when_sparse(&mut self) {
        if sparse(self.len(), self.capacity()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

impl<T> Shrink for VecDeque<T> {
    fn shrink_when_sparse(&mut self) {
        if sparse(self.len(), self.capacity()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

impl<T: Ord> Shrink for BinaryHeap<T> {
    fn shrink_when_sparse(&mut self) {
        if sparse(self.len(), self.capacity()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_that_empties_out_gives_its_room_back() {
        let mut map: HashMap<u64, [u8; 64]> = (0..100_000).map(|i| (i, [0; 64])).collect();
        let peak = map.capacity();
        for i in 0..100_000 {
            map.remove(&i);
            map.shrink_when_sparse();
        }
        assert!(map.capacity() <= FLOOR, "{} of {peak}", map.capacity());
        let mut queue: VecDeque<u64> = (0..100_000).collect();
        while queue.pop_front().is_some() {
            queue.shrink_when_sparse();
        }
        assert!(queue.capacity() <= FLOOR, "{}", queue.capacity());
    }

    #[test]
    fn a_busy_table_keeps_its_room() {
        let mut map: HashMap<u64, u64> = (0..10_000).map(|i| (i, i)).collect();
        let peak = map.capacity();
        for i in 0..5_000 {
            map.remove(&i);
            map.shrink_when_sparse();
        }
        // (Removals leave tombstones that the room counts as used, so it
        // drifts down a little without any shrinking.)
        assert!(map.capacity() > peak * 9 / 10, "half full is not sparse: {} of {peak}", map.capacity());
    }
}
