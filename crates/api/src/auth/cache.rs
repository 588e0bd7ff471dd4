//! Authenticated callers, kept a few seconds so that a client making many
//! requests with the same credentials costs no query per request: the
//! credential is checked (signature, password hash, the user, key,
//! workspace and membership read from the store) on the first request,
//! and again once the entry is older than [`TTL`], the credential itself
//! expires, any write through the API cleared the cache, or anything on
//! this server wrote to users, workspaces, memberships or API keys
//! (`store::Db::identity_writes` moved): a revoked key, a demoted member
//! or a changed password is seen at the next request. Only another node's
//! writes (on a shared PostgreSQL) wait for the [`TTL`]. An opaque session
//! token is therefore touched (`last_request_at`) at most once per
//! [`TTL`] while it is used, not on every request.
//!
//! The key is a SHA-256 of the credential headers, never the credential
//! itself. Failed attempts are never cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use store::Millis;

use super::Caller;

/// How long a checked caller is trusted without asking the store again.
/// It bounds how late another node's change (on a shared PostgreSQL) is
/// seen; this node's own writes clear the cache at once.
pub const TTL: Millis = 5_000;

/// Most callers kept; past that the cache starts again empty.
const MAX: usize = 10_000;

/// A hash of the credential headers of a request.
pub type CacheKey = [u8; 32];

/// A checked caller, good until a time and while the store's identity
/// writes stay at a count.
type Entry = (Millis, u64, Caller);

/// The cache; one per server, in the API state.
#[derive(Debug, Default)]
pub struct CallerCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
    /// Bumped by [`CallerCache::clear`]: a check begun before a write
    /// does not cache what it read.
    generation: AtomicU64,
}

impl CallerCache {
    /// The key of a request that sent `credential` (the Authorization or
    /// token header's value) and `access_key_id` (the workspace header).
    pub fn key(credential: &str, access_key_id: Option<&str>) -> CacheKey {
        let mut h = Sha256::new();
        h.update(credential.as_bytes());
        h.update([0]);
        h.update(access_key_id.unwrap_or("").as_bytes());
        h.finalize().into()
    }

    /// The caller cached under `key`, if it is still good at `now` with
    /// the store's identity writes at `writes`.
    pub fn get(&self, key: &CacheKey, now: Millis, writes: u64) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        let (until, seen, caller) = entries.get(key)?;
        (now < *until && *seen == writes).then(|| caller.clone())
    }

    /// Where a check begins: what [`CallerCache::put`] compares with.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps `caller`, checked from what the store held when its identity
    /// writes were at `writes`, until `until` (at most [`TTL`] after
    /// `now`), unless the cache was cleared since `generation` was read.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        key: CacheKey,
        caller: Caller,
        now: Millis,
        until: Option<Millis>,
        generation: u64,
        writes: u64,
    ) {
        let until = until.unwrap_or(Millis::MAX).min(now.saturating_add(TTL));
        let Ok(mut entries) = self.entries.lock() else { return };
        if self.generation.load(Ordering::SeqCst) != generation || until <= now {
            return;
        }
        if entries.len() >= MAX {
            entries.clear();
        }
        entries.insert(key, (until, writes, caller));
    }

    /// Forgets every caller (something was written).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Session;

    fn caller() -> Caller {
        Caller { user: None, api_key: None, workspace: None, role: None, session: Session::default() }
    }

    #[test]
    fn callers_are_kept_until_their_end_the_ttl_or_a_write() {
        let cache = CallerCache::default();
        let a = CallerCache::key("Bearer a", None);
        assert_ne!(a, CallerCache::key("Bearer a", Some("WO1")), "the workspace header is part of the key");
        let g = cache.generation();
        cache.put(a, caller(), 1_000, None, g, 0);
        assert!(cache.get(&a, 1_000 + TTL - 1, 0).is_some());
        assert!(cache.get(&a, 1_000 + TTL, 0).is_none(), "the TTL");

        cache.put(a, caller(), 1_000, Some(1_500), g, 0);
        assert!(cache.get(&a, 1_499, 0).is_some());
        assert!(cache.get(&a, 1_500, 0).is_none(), "the credential's own end");

        cache.put(a, caller(), 1_000, None, g, 0);
        cache.clear();
        assert!(cache.get(&a, 1_001, 0).is_none(), "a write clears it");
        cache.put(a, caller(), 1_000, None, g, 0);
        assert!(cache.get(&a, 1_001, 0).is_none(), "a check begun before the write is not cached");
        cache.put(a, caller(), 1_000, None, cache.generation(), 0);
        assert!(cache.get(&a, 1_001, 0).is_some());
        assert!(cache.get(&a, 1_001, 1).is_none(), "the store's identity tables were written");
    }
}
