//! Server nonces: validated by an HMAC (so no state is kept per
//! challenge), expired after a lifetime, and numbered, so that the
//! nonce-counts of used ones are checked against replay in a table of
//! fixed size.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of caller-given randomness in each nonce.
pub const NONCE_RANDOM_BYTES: usize = 16;

/// The most slots a store's table takes (2^26: 256 MiB).
const MAX_SLOTS: usize = 1 << 26;
/// A slot no nonce used yet: any tag, no count seen (not 0, see [`NonceStore::new`]).
const UNUSED: u32 = 0xffff_0000;
const MAC_BYTES: usize = 16;
/// Issue time (8), epoch (4), sequence number (8), randomness: what the MAC covers.
const BODY_BYTES: usize = 8 + 4 + 8 + NONCE_RANDOM_BYTES;
const NONCE_BYTES: usize = BODY_BYTES + MAC_BYTES;
/// The length of a nonce's text (base64 without padding).
const NONCE_CHARS: usize = NONCE_BYTES / 3 * 4 + [0, 2, 3][NONCE_BYTES % 3];

/// What a nonce is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by this store and within its lifetime and the table's window.
    Fresh(Issued),
    /// Issued with this store's secret but past its lifetime, by another
    /// process (another epoch), or so long ago (in nonces issued since) that
    /// its slot in the table may serve a newer nonce.
    Stale,
    /// Not issued with this store's secret: forged, corrupted, or from
    /// another secret.
    Unknown,
}

/// What a nonce-count is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountStatus {
    /// Higher than every count seen with this nonce: recorded.
    Accepted,
    /// Not higher than a count already seen: a replay.
    Replay,
    /// The nonce left the table's window, or the count is more than a slot
    /// holds ([`NonceStore::MAX_COUNT`]): challenge anew.
    Forgotten,
}

/// A nonce of this store's, as read by [`NonceStore::status`]: what the
/// later checks need, so that the nonce is decoded and its MAC checked
/// once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    at_ms: u64,
    seq: u64,
}

impl Issued {
    /// When the nonce was issued, on the caller's clock.
    pub fn at_ms(self) -> u64 {
        self.at_ms
    }
}

/// Issues and checks nonces.
///
/// A nonce is `base64url(issued_ms || epoch || seq || random ||
/// HMAC-SHA256(secret, issued_ms || epoch || seq || random)[..16])`: the
/// store recognises its own nonces without keeping them. `seq` numbers the
/// nonces this store issued; `epoch` tells this store's nonces from those
/// of another process with the same secret (one before a restart), which
/// are stale.
///
/// Nonce-counts live in a table of `slots` counters (a power of two),
/// allocated once, like the nonce index and nonce-count array of
/// Kamailio's auth module: the nonce numbered `seq` uses slot `seq mod
/// slots`, which holds a tag of `seq`'s turn around the table and the
/// highest count seen. A nonce is tracked while fewer than `slots` nonces
/// were issued after it; an older one is stale, so that its slot may be
/// reused with no replay possible. The table's memory does not depend on
/// the load, and nothing needs forgetting as time passes.
///
/// Time is whatever millisecond clock the caller uses for `now_ms`.
pub struct NonceStore {
    /// The HMAC keyed by the secret, its key schedule done once: each
    /// nonce clones it rather than hashing the key again.
    keyed: Hmac<Sha256>,
    lifetime_ms: u64,
    epoch: u32,
    /// The sequence number of the next nonce issued.
    next_seq: AtomicU64,
    /// Per slot: the tag of the nonce's turn (high 16 bits) and its highest
    /// count plus one (low 16 bits; 0 when unused).
    counts: Box<[u32]>,
    /// log2 of the number of slots.
    slot_bits: u32,
}

impl std::fmt::Debug for NonceStore {
    /// Everything but the key and the table.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceStore")
            .field("lifetime_ms", &self.lifetime_ms)
            .field("epoch", &self.epoch)
            .field("next_seq", &self.next_seq)
            .field("slots", &self.counts.len())
            .finish_non_exhaustive()
    }
}

impl NonceStore {
    /// The highest nonce-count a slot holds: a higher one is answered
    /// [`CountStatus::Forgotten`] (a new challenge).
    pub const MAX_COUNT: u32 = u16::MAX as u32 - 1;

    /// A store keyed by `secret`, whose nonces live `lifetime_ms`, with a
    /// table of `slots` counters (rounded up to a power of two, at most
    /// 2^26; four bytes each). `epoch` should differ for each process that
    /// shares the secret (random, say): nonces of another epoch are stale.
    pub fn new(secret: &[u8], lifetime_ms: u64, slots: usize, epoch: u32) -> NonceStore {
        // HMAC takes keys of any length (longer ones are hashed): this
        // cannot fail, and the secret is configuration, not input.
        let keyed = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        let slots = slots.clamp(1, MAX_SLOTS).next_power_of_two();
        NonceStore {
            keyed,
            lifetime_ms,
            epoch,
            next_seq: AtomicU64::new(0),
            // Written through (not zeroed memory the kernel maps as it is
            // touched): the table is resident from the start, so that a load
            // adds nothing to the process's memory.
            counts: vec![UNUSED; slots].into_boxed_slice(),
            slot_bits: slots.trailing_zeros(),
        }
    }

    /// A new nonce issued at `now_ms` from caller-given random bytes.
    pub fn issue(&self, now_ms: u64, random: [u8; NONCE_RANDOM_BYTES]) -> String {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut raw = [0u8; NONCE_BYTES];
        let (body, mac) = raw.split_at_mut(BODY_BYTES);
        let (time, rest) = body.split_at_mut(8);
        let (epoch, rest) = rest.split_at_mut(4);
        let (number, rand) = rest.split_at_mut(8);
        time.copy_from_slice(&now_ms.to_be_bytes());
        epoch.copy_from_slice(&self.epoch.to_be_bytes());
        number.copy_from_slice(&seq.to_be_bytes());
        rand.copy_from_slice(&random);
        let tag = self.mac(body);
        mac.copy_from_slice(&tag[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Whether `nonce` is one of ours and still fresh at `now_ms`: one
    /// decode and one HMAC.
    pub fn status(&self, nonce: &str, now_ms: u64) -> NonceStatus {
        let mut raw = [0u8; NONCE_BYTES];
        if nonce.len() != NONCE_CHARS || URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) != Ok(NONCE_BYTES) {
            return NonceStatus::Unknown;
        }
        let (body, mac) = raw.split_at(BODY_BYTES);
        let ours: bool = self.mac(body)[..MAC_BYTES].ct_eq(mac).into();
        if !ours {
            return NonceStatus::Unknown;
        }
        let field = |at: usize| body.get(at..at + 8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes);
        let epoch = body.get(8..12).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
        match (field(0), epoch, field(12)) {
            (Some(at_ms), Some(epoch), Some(seq)) if epoch == self.epoch => {
                self.freshness(Issued { at_ms, seq }, now_ms)
            }
            _ => NonceStatus::Stale,
        }
    }

    /// Whether the nonce `issued` (from [`NonceStatus::Fresh`]) is still
    /// fresh at `now_ms`: the checks of [`NonceStore::status`] but the
    /// decode and the HMAC.
    pub fn freshness(&self, issued: Issued, now_ms: u64) -> NonceStatus {
        let expired = issued.at_ms > now_ms || now_ms - issued.at_ms > self.lifetime_ms;
        if expired || !self.in_window(issued.seq) {
            NonceStatus::Stale
        } else {
            NonceStatus::Fresh(issued)
        }
    }

    /// Records nonce-count `nc` for the fresh nonce `issued` (from
    /// [`NonceStatus::Fresh`]); refuses a count that does not increase.
    pub fn use_count(&mut self, issued: Issued, nc: u32) -> CountStatus {
        if !self.in_window(issued.seq) || nc > Self::MAX_COUNT {
            return CountStatus::Forgotten;
        }
        let mask = (1u64 << self.slot_bits) - 1;
        // Truncated: the window check keeps an earlier turn's slot from passing as this one's.
        let tag = (issued.seq >> self.slot_bits) as u16;
        let Some(slot) = self.counts.get_mut((issued.seq & mask) as usize) else {
            return CountStatus::Forgotten;
        };
        let seen = if (*slot >> 16) as u16 == tag { *slot & 0xffff } else { 0 };
        if nc < seen {
            return CountStatus::Replay;
        }
        *slot = u32::from(tag) << 16 | (nc + 1);
        CountStatus::Accepted
    }

    /// The number of slots in the table: how many nonces, the most recently
    /// issued, have their counts checked.
    pub fn slots(&self) -> usize {
        self.counts.len()
    }

    /// Whether the nonce numbered `seq` still owns its slot: fewer than
    /// `slots` nonces were issued after it (and it was issued here).
    fn in_window(&self, seq: u64) -> bool {
        let next = self.next_seq.load(Ordering::Relaxed);
        seq < next && next - seq <= 1u64 << self.slot_bits
    }

    fn mac(&self, body: &[u8]) -> [u8; 32] {
        let mut m = self.keyed.clone();
        m.update(body);
        m.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(store: &NonceStore, nonce: &str, now_ms: u64) -> Issued {
        match store.status(nonce, now_ms) {
            NonceStatus::Fresh(issued) => issued,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nonces_have_the_length_they_are_read_with() {
        let store = NonceStore::new(b"secret", 300_000, 16, 1);
        assert_eq!(store.issue(u64::MAX, [0xff; NONCE_RANDOM_BYTES]).len(), NONCE_CHARS);
        assert_eq!(store.issue(0, [0; NONCE_RANDOM_BYTES]).len(), NONCE_CHARS);
    }

    #[test]
    fn counts_increase_per_nonce() {
        let mut store = NonceStore::new(b"secret", 300_000, 16, 1);
        let a = fresh(&store, &store.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000);
        let b = fresh(&store, &store.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000);
        assert_ne!(a, b, "same time and randomness, another number");
        assert_eq!(store.use_count(a, 1), CountStatus::Accepted);
        assert_eq!(store.use_count(a, 1), CountStatus::Replay);
        assert_eq!(store.use_count(b, 1), CountStatus::Accepted, "its own count");
        assert_eq!(store.use_count(a, 3), CountStatus::Accepted);
        assert_eq!(store.use_count(a, 2), CountStatus::Replay);
        assert_eq!(store.use_count(b, 2), CountStatus::Accepted);
        // A first use with count 0 is one use, as before this table.
        let c = fresh(&store, &store.issue(1_000, [2; NONCE_RANDOM_BYTES]), 1_000);
        assert_eq!(store.use_count(c, 0), CountStatus::Accepted);
        assert_eq!(store.use_count(c, 0), CountStatus::Replay);
    }

    #[test]
    fn nonces_older_than_the_window_are_stale_and_their_slots_reused() {
        let mut store = NonceStore::new(b"secret", 300_000, 4, 1);
        let nonces: Vec<String> = (0..6u8).map(|i| store.issue(1_000, [i; NONCE_RANDOM_BYTES])).collect();
        // Six issued, four slots: the first two were overwritten.
        for old in &nonces[..2] {
            assert_eq!(store.status(old, 1_000), NonceStatus::Stale);
        }
        let issued: Vec<Issued> = nonces[2..].iter().map(|n| fresh(&store, n, 1_000)).collect();
        for &i in &issued {
            assert_eq!(store.use_count(i, 5), CountStatus::Accepted);
        }
        // Numbers 4 and 5 share their slots with 0 and 1, which never got there.
        assert_eq!(store.use_count(issued[2], 5), CountStatus::Replay);
        // One more nonce: number 2 leaves the window, even between admission and use.
        let newer = fresh(&store, &store.issue(1_000, [9; NONCE_RANDOM_BYTES]), 1_000);
        assert_eq!(store.freshness(issued[0], 1_000), NonceStatus::Stale);
        assert_eq!(store.use_count(issued[0], 6), CountStatus::Forgotten);
        assert_eq!(store.use_count(newer, 1), CountStatus::Accepted, "slot 2's earlier count is not its");
        assert_eq!(store.use_count(issued[1], 6), CountStatus::Accepted);
    }

    #[test]
    fn counts_past_what_a_slot_holds_are_challenged_anew() {
        let mut store = NonceStore::new(b"secret", 300_000, 4, 1);
        let a = fresh(&store, &store.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000);
        assert_eq!(store.use_count(a, NonceStore::MAX_COUNT), CountStatus::Accepted);
        assert_eq!(store.use_count(a, NonceStore::MAX_COUNT), CountStatus::Replay);
        assert_eq!(store.use_count(a, NonceStore::MAX_COUNT + 1), CountStatus::Forgotten);
        assert_eq!(store.use_count(a, u32::MAX), CountStatus::Forgotten);
        let b = fresh(&store, &store.issue(1_000, [2; NONCE_RANDOM_BYTES]), 1_000);
        assert_eq!(store.use_count(b, u32::MAX), CountStatus::Forgotten, "even at first use");
        assert_eq!(store.use_count(b, 1), CountStatus::Accepted);
    }

    #[test]
    fn other_epochs_are_stale_other_secrets_unknown() {
        let before_restart = NonceStore::new(b"secret", 300_000, 16, 1);
        let store = NonceStore::new(b"secret", 300_000, 16, 2);
        let other_secret = NonceStore::new(b"another", 300_000, 16, 2);
        // The same number here is fresh; not theirs.
        let _ = store.issue(1_000, [1; NONCE_RANDOM_BYTES]);
        assert_eq!(
            store.status(&before_restart.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000),
            NonceStatus::Stale
        );
        assert_eq!(
            store.status(&other_secret.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000),
            NonceStatus::Unknown
        );
        // Not yet issued here (same epoch and secret, another process): stale.
        let twin = NonceStore::new(b"secret", 300_000, 16, 2);
        let _ = twin.issue(1_000, [1; NONCE_RANDOM_BYTES]);
        assert_eq!(store.status(&twin.issue(1_000, [1; NONCE_RANDOM_BYTES]), 1_000), NonceStatus::Stale);
    }

    #[test]
    fn forged_and_malformed_nonces_are_unknown() {
        let store = NonceStore::new(b"secret", 300_000, 16, 1);
        let nonce = store.issue(1_000, [1; NONCE_RANDOM_BYTES]);
        for i in 0..nonce.len() {
            let mut forged = nonce.clone().into_bytes();
            forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).expect("ascii");
            assert_eq!(store.status(&forged, 1_000), NonceStatus::Unknown, "{forged}");
        }
        for bad in ["", "not base64 at all!", &nonce[1..], &format!("{nonce}A"), &"é".repeat(35)] {
            assert_eq!(store.status(bad, 1_000), NonceStatus::Unknown, "{bad}");
        }
    }

    #[test]
    fn nonces_expire_after_their_lifetime() {
        let store = NonceStore::new(b"secret", 60_000, 16, 1);
        let nonce = store.issue(1_000, [1; NONCE_RANDOM_BYTES]);
        let issued = fresh(&store, &nonce, 61_000);
        assert_eq!(issued.at_ms(), 1_000);
        assert_eq!(store.status(&nonce, 61_001), NonceStatus::Stale);
        assert_eq!(store.freshness(issued, 61_001), NonceStatus::Stale);
        assert_eq!(store.status(&nonce, 999), NonceStatus::Stale, "issued in this clock's future");
    }

    #[test]
    fn the_table_is_a_power_of_two_within_bounds() {
        assert_eq!(NonceStore::new(b"s", 1, 0, 0).slots(), 1);
        assert_eq!(NonceStore::new(b"s", 1, 1000, 0).slots(), 1024);
        assert_eq!(NonceStore::new(b"s", 1, 1 << 20, 0).slots(), 1 << 20);
        // One slot: only the last nonce issued is tracked.
        let mut store = NonceStore::new(b"s", 60_000, 1, 0);
        let a = fresh(&store, &store.issue(1, [1; NONCE_RANDOM_BYTES]), 1);
        assert_eq!(store.use_count(a, 1), CountStatus::Accepted);
        let b = fresh(&store, &store.issue(1, [1; NONCE_RANDOM_BYTES]), 1);
        assert_eq!(store.use_count(a, 2), CountStatus::Forgotten);
        assert_eq!(store.use_count(b, 1), CountStatus::Accepted);
    }
}
