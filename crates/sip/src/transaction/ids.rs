//! Transaction ids: one counter shared by the layer and its users, so that
//! a user can name a client transaction before the layer starts it.
//!
//! Several layers may split one id space: layer `s` of `n` gives ids
//! `k * n + s`, so an id names its layer ([`ClientTxId::shard`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::event::{ClientTxId, ServerTxId, TxId};

/// The source of every id of one [`super::Transactions`]. Cloning it
/// shares the counter: ids taken from any clone are never given twice.
#[derive(Debug, Clone)]
pub struct TxIds {
    next: Arc<AtomicU64>,
    shard: u64,
    shards: u64,
}

impl Default for TxIds {
    fn default() -> TxIds {
        TxIds::sharded(0, 1)
    }
}

impl TxIds {
    /// A new counter, starting at 1.
    pub fn new() -> TxIds {
        TxIds::default()
    }

    /// The ids of layer `shard` of `shards` (at least one): those whose
    /// remainder by `shards` is `shard` (taken modulo `shards`).
    pub fn sharded(shard: usize, shards: usize) -> TxIds {
        let shards = shards.max(1) as u64;
        TxIds { next: Arc::new(AtomicU64::new(0)), shard: shard as u64 % shards, shards }
    }

    /// Reserves a client transaction id, for
    /// [`super::Transactions::send_request_as`].
    pub fn client(&self) -> ClientTxId {
        ClientTxId(self.next())
    }

    pub(super) fn server(&self) -> ServerTxId {
        ServerTxId(self.next())
    }

    fn next(&self) -> u64 {
        // Only uniqueness matters, not order with other memory.
        let k = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        k.wrapping_mul(self.shards).wrapping_add(self.shard)
    }
}

fn shard_of(id: u64, shards: usize) -> usize {
    (id % shards.max(1) as u64) as usize
}

impl ClientTxId {
    /// The layer of `shards` that gave this id ([`TxIds::sharded`]).
    pub fn shard(self, shards: usize) -> usize {
        shard_of(self.0, shards)
    }
}

impl ServerTxId {
    /// The layer of `shards` that gave this id ([`TxIds::sharded`]).
    pub fn shard(self, shards: usize) -> usize {
        shard_of(self.0, shards)
    }
}

impl TxId {
    /// The layer of `shards` that gave this id ([`TxIds::sharded`]).
    pub fn shard(self, shards: usize) -> usize {
        match self {
            TxId::Client(c) => c.shard(shards),
            TxId::Server(s) => s.shard(shards),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_shard_and_never_repeat() {
        let shards = 4;
        let mut seen = std::collections::HashSet::new();
        for s in 0..shards {
            let ids = TxIds::sharded(s, shards);
            let other = ids.clone();
            for _ in 0..100 {
                let c = ids.client();
                let v = other.server();
                assert_eq!(c.shard(shards), s);
                assert_eq!(v.shard(shards), s);
                assert_eq!(TxId::Client(c).shard(shards), s);
                assert!(seen.insert(c.0) && seen.insert(v.0), "an id was given twice");
            }
        }
        let one = TxIds::new();
        assert_eq!(one.client().0, 1);
        assert_eq!(one.client().shard(1), 0);
    }
}
