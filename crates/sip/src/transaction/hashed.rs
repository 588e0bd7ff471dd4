//! Transaction keys as 64-bit keyed hashes. The tables that match messages
//! to transactions index them by the SipHash of their key, with a random
//! key per layer, instead of by the key's text: a finished transaction
//! that absorbs retransmissions for 32 s then holds 8 bytes of key, not
//! two copies of its branch and sent-by. Nobody outside can compute the
//! hash, so nobody can craft a collision; by accident a message meets one
//! of a million (2^20) transactions with odds of 2^-44: far below a lost
//! datagram.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// Hashes transaction keys with SipHash under a random per-layer key.
#[derive(Debug, Default)]
pub(super) struct KeyHasher(RandomState);

impl KeyHasher {
    /// The keyed hash of `key`.
    pub(super) fn of<K: Hash>(&self, key: &K) -> u64 {
        self.0.hash_one(key)
    }
}

/// A map from keyed hashes (already uniform, so not hashed again).
pub(super) type ByHash<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// The identity hasher for keys that are themselves keyed hashes.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64`s are hashed here; anything else is folded in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_layers_differ() {
        let a = KeyHasher::default();
        let b = KeyHasher::default();
        assert_eq!(a.of(&("z9hG4bKx", 5060)), a.of(&("z9hG4bKx", 5060)));
        assert_ne!(a.of(&("z9hG4bKx", 5060)), a.of(&("z9hG4bKy", 5060)));
        assert_ne!(a.of(&"z9hG4bKx"), b.of(&"z9hG4bKx"), "each layer has its own key");
        let mut map: ByHash<u32> = ByHash::default();
        map.insert(a.of(&"k"), 1);
        assert_eq!(map.get(&a.of(&"k")), Some(&1));
    }
}
