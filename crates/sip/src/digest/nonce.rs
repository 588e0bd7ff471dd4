//! Server nonces: issued from caller-given randomness and time, validated
//! by an HMAC (so no state is kept per challenge), expired after a
//! lifetime, and with their nonce-counts tracked against replay.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::shrink::Shrink;

/// Bytes of caller-given randomness in each nonce.
pub const NONCE_RANDOM_BYTES: usize = 16;

const MAC_BYTES: usize = 16;
const NONCE_BYTES: usize = 8 + NONCE_RANDOM_BYTES + MAC_BYTES;

/// What a nonce is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by this store (same secret) and within its lifetime; carries
    /// the time it was issued.
    Fresh(u64),
    /// Issued by this store but past its lifetime, or too old to be tracked.
    Stale,
    /// Not issued by this store: forged, corrupted, or from another secret.
    Unknown,
}

/// What a nonce-count is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountStatus {
    /// Higher than every count seen with this nonce: recorded.
    Accepted,
    /// Not higher than a count already seen: a replay.
    Replay,
    /// The nonce was dropped from tracking to bound memory: challenge anew.
    Forgotten,
}

/// Issues and checks nonces.
///
/// A nonce is `base64url(issued_ms || random || HMAC-SHA256(secret, issued_ms
/// || random)[..16])`: the store recognises its own nonces without keeping
/// them, and keeps state only for nonces that were used, to refuse a
/// nonce-count that does not increase. Tracking is bounded: past
/// `max_tracked` nonces the oldest are forgotten, and any untracked nonce
/// issued no later than a forgotten one counts as stale. A used nonce is
/// kept as its issue time and random bytes (24 bytes), not as its text: at
/// 1000 calls a second the 100 000 tracked nonces of a burst would
/// otherwise hold about 25 MB for their 300 s. Counts and expiry order
/// live in two contiguous tables (a hash map and a heap) that give their
/// room back as they empty: a tree's nodes, allocated one by one among a
/// load's short-lived objects, would pin the allocator's pages long after
/// the load.
///
/// Time is whatever millisecond clock the caller uses for `now_ms`
/// (wall-clock milliseconds survive a restart when the secret does).
pub struct NonceStore {
    /// The HMAC keyed by the secret, its key schedule done once: each
    /// nonce clones it rather than hashing the key again.
    keyed: Hmac<Sha256>,
    lifetime_ms: u64,
    max_tracked: usize,
    /// The last count of each used nonce.
    counts: HashMap<Used, u32>,
    /// The same nonces, oldest issued on top: what expires or is forgotten next.
    by_issue: BinaryHeap<Reverse<Used>>,
    forgotten_up_to: Option<u64>,
}

/// A used nonce: when it was issued and its random bytes (which, with the
/// secret, make the rest of it).
type Used = (u64, [u8; NONCE_RANDOM_BYTES]);

impl std::fmt::Debug for NonceStore {
    /// Everything but the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceStore")
            .field("lifetime_ms", &self.lifetime_ms)
            .field("max_tracked", &self.max_tracked)
            .field("tracked", &self.counts.len())
            .field("forgotten_up_to", &self.forgotten_up_to)
            .finish_non_exhaustive()
    }
}

impl NonceStore {
    /// A store keyed by `secret`, whose nonces live `lifetime_ms`, tracking
    /// at most `max_tracked` used nonces.
    pub fn new(secret: &[u8], lifetime_ms: u64, max_tracked: usize) -> NonceStore {
        // HMAC takes keys of any length (longer ones are hashed): this
        // cannot fail, and the secret is configuration, not input.
        let keyed = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        NonceStore {
            keyed,
            lifetime_ms,
            max_tracked: max_tracked.max(1),
            counts: HashMap::new(),
            by_issue: BinaryHeap::new(),
            forgotten_up_to: None,
        }
    }

    /// A new nonce issued at `now_ms` from caller-given random bytes.
    pub fn issue(&self, now_ms: u64, random: [u8; NONCE_RANDOM_BYTES]) -> String {
        let mut raw = [0u8; NONCE_BYTES];
        let (time, rest) = raw.split_at_mut(8);
        let (rand, mac) = rest.split_at_mut(NONCE_RANDOM_BYTES);
        time.copy_from_slice(&now_ms.to_be_bytes());
        rand.copy_from_slice(&random);
        let tag = self.mac(now_ms, &random);
        mac.copy_from_slice(&tag[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Whether `nonce` is one of ours and still fresh at `now_ms`.
    pub fn status(&self, nonce: &str, now_ms: u64) -> NonceStatus {
        match self.issued_at(nonce) {
            Some(issued) => self.freshness(nonce, issued, now_ms),
            None => NonceStatus::Unknown,
        }
    }

    /// Whether `nonce`, already known to be ours and issued at `issued_ms`
    /// (from [`NonceStatus::Fresh`]), is still fresh at `now_ms`: the
    /// checks of [`NonceStore::status`] but the HMAC.
    pub fn freshness(&self, nonce: &str, issued_ms: u64, now_ms: u64) -> NonceStatus {
        let issued = issued_ms;
        let expired = issued > now_ms || now_ms - issued > self.lifetime_ms;
        let forgotten = self.forgotten_up_to.is_some_and(|t| issued <= t)
            && !used(nonce, issued).is_some_and(|k| self.counts.contains_key(&k));
        if expired || forgotten {
            NonceStatus::Stale
        } else {
            NonceStatus::Fresh(issued)
        }
    }

    /// Records nonce-count `nc` for a fresh `nonce` issued at `issued_ms`
    /// (from [`NonceStatus::Fresh`]); refuses a count that does not increase.
    /// Forgets expired nonces on the way.
    pub fn use_count(&mut self, nonce: &str, issued_ms: u64, nc: u32, now_ms: u64) -> CountStatus {
        self.forget_expired(now_ms);
        let Some(key) = used(nonce, issued_ms) else { return CountStatus::Forgotten };
        if let Some(last) = self.counts.get_mut(&key) {
            if nc <= *last {
                return CountStatus::Replay;
            }
            *last = nc;
            return CountStatus::Accepted;
        }
        if self.forgotten_up_to.is_some_and(|t| issued_ms <= t) {
            return CountStatus::Forgotten;
        }
        while self.counts.len() >= self.max_tracked {
            let Some(issued) = self.pop_oldest() else { break };
            self.forgotten_up_to = Some(self.forgotten_up_to.map_or(issued, |t| t.max(issued)));
        }
        if self.forgotten_up_to.is_some_and(|t| issued_ms <= t) {
            return CountStatus::Forgotten;
        }
        self.counts.insert(key, nc);
        self.by_issue.push(Reverse(key));
        CountStatus::Accepted
    }

    /// Number of nonces whose counts are tracked.
    pub fn tracked(&self) -> usize {
        self.counts.len()
    }

    /// Stops tracking the nonces that expired by `now_ms` (their counts
    /// no longer matter: an expired nonce is stale whatever its count).
    pub fn forget_expired(&mut self, now_ms: u64) {
        while let Some(Reverse((issued, _))) = self.by_issue.peek() {
            if now_ms.saturating_sub(*issued) <= self.lifetime_ms {
                break;
            }
            self.pop_oldest();
        }
        self.counts.shrink_when_sparse();
        self.by_issue.shrink_when_sparse();
    }

    /// Stops tracking the nonce issued first; gives its issue time.
    fn pop_oldest(&mut self) -> Option<u64> {
        let Reverse(key) = self.by_issue.pop()?;
        self.counts.remove(&key);
        Some(key.0)
    }

    fn issued_at(&self, nonce: &str) -> Option<u64> {
        if nonce.len() > 2 * NONCE_BYTES {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        if raw.len() != NONCE_BYTES {
            return None;
        }
        let (time, rest) = raw.split_at(8);
        let (rand, mac) = rest.split_at(NONCE_RANDOM_BYTES);
        let issued = u64::from_be_bytes(time.try_into().ok()?);
        let expected = self.mac(issued, rand);
        let ok: bool = expected[..MAC_BYTES].ct_eq(mac).into();
        ok.then_some(issued)
    }

    fn mac(&self, issued: u64, random: &[u8]) -> [u8; 32] {
        let mut m = self.keyed.clone();
        m.update(&issued.to_be_bytes());
        m.update(random);
        m.finalize().into_bytes().into()
    }
}

/// The key `nonce` (issued at `issued_ms`) is tracked under: its issue
/// time and random bytes; `None` when it is not a nonce of ours' shape.
fn used(nonce: &str, issued_ms: u64) -> Option<Used> {
    let mut raw = [0u8; NONCE_BYTES];
    if nonce.len() > 2 * NONCE_BYTES || URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw).ok()? != NONCE_BYTES {
        return None;
    }
    let random = raw.get(8..8 + NONCE_RANDOM_BYTES)?.try_into().ok()?;
    Some((issued_ms, random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_used_nonces_gives_its_room_back_as_they_expire() {
        let mut store = NonceStore::new(b"secret", 300_000, 100_000);
        for i in 0..50_000u32 {
            let mut random = [0u8; NONCE_RANDOM_BYTES];
            random[..4].copy_from_slice(&i.to_be_bytes());
            let issued = u64::from(i);
            let nonce = store.issue(issued, random);
            assert_eq!(store.use_count(&nonce, issued, 1, issued), CountStatus::Accepted);
        }
        assert!(store.counts.capacity() >= 50_000 && store.by_issue.capacity() >= 50_000);
        store.forget_expired(300_000 + 50_000);
        assert_eq!(store.tracked(), 0);
        assert!(store.counts.capacity() <= 2048, "{}", store.counts.capacity());
        assert!(store.by_issue.capacity() <= 2048, "{}", store.by_issue.capacity());
    }
}
