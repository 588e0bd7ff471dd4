//! Failed logins, throttled per account, per address and per account at an
//! address, with lockouts that grow with each failure.
//!
//! A guesser at one address gets a few free tries at an account, then waits
//! 1 s, 2 s, 4 s, ... (at most 15 minutes) between tries; the same address
//! trying many accounts is throttled the same way after more free tries.
//! An account guessed at from many addresses (ten) is locked for addresses
//! it has not logged in from lately; so the real user gets in from any
//! other address while one guesser is at work, and from an address that
//! worked before while many are. Entries are forgotten an hour after their last failure,
//! and the table is bounded.

use std::collections::HashMap;
use std::sync::Mutex;

use store::Millis;

use crate::error::ApiError;

/// How failures turn into lockouts.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failures of one account from one address before lockouts start.
    pub free_per_pair: u32,
    /// Failures from one address, over all accounts, before lockouts start.
    pub free_per_address: u32,
    /// Addresses failing at one account before it is locked for addresses
    /// it has not logged in from.
    pub free_per_account: u32,
    /// The first lockout; each further failure doubles it.
    pub first_lockout_ms: Millis,
    /// The longest lockout.
    pub max_lockout_ms: Millis,
    /// An entry is forgotten this long after its last failure.
    pub forget_after_ms: Millis,
    /// At most this many entries are kept.
    pub max_entries: usize,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            free_per_pair: 5,
            free_per_address: 20,
            free_per_account: 10,
            first_lockout_ms: 1_000,
            max_lockout_ms: 15 * 60_000,
            forget_after_ms: 60 * 60_000,
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Millis,
    blocked_until: Millis,
}

/// Addresses an account logged in from lately are kept, at most this many.
const KNOWN_PER_ACCOUNT: usize = 8;

#[derive(Debug, Default)]
struct Tables {
    failures: HashMap<String, Entry>,
    /// Per account: addresses it logged in from, with when.
    known: HashMap<String, Vec<(String, Millis)>>,
}

/// The failed-login table.
#[derive(Debug, Default)]
pub struct LoginGuard {
    policy: LoginPolicy,
    tables: Mutex<Tables>,
}

fn pair_key(account: &str, address: &str) -> String {
    format!("pair:{account}\u{0}{address}")
}

impl LoginGuard {
    /// A guard with `policy`.
    pub fn new(policy: LoginPolicy) -> LoginGuard {
        LoginGuard { policy, tables: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// 429 with `Retry-After` when a login of `account` from `address` must
    /// wait; checked before the password is.
    pub fn check(&self, account: &str, address: &str, now: Millis) -> Result<(), ApiError> {
        let t = self.lock();
        let known = t.known.get(account).is_some_and(|list| {
            list.iter().any(|(a, at)| a == address && now - at < self.policy.forget_after_ms)
        });
        let mut keys = vec![pair_key(account, address), format!("addr:{address}")];
        if !known {
            keys.push(format!("acct:{account}"));
        }
        let until = keys.iter().filter_map(|k| t.failures.get(k)).map(|e| e.blocked_until).max().unwrap_or(0);
        if until > now {
            let secs = ((until - now) as u64).div_ceil(1000).max(1);
            return Err(ApiError::exhausted("too many failed logins; try again later", Some(secs)));
        }
        Ok(())
    }

    /// Counts a failed login of `account` from `address`.
    pub fn failed(&self, account: &str, address: &str, now: Millis) {
        let p = &self.policy;
        let mut t = self.lock();
        if t.failures.len() + 3 > p.max_entries {
            prune(&mut t.failures, now, p);
        }
        let pair = count(&mut t.failures, pair_key(account, address), p.free_per_pair, now, p);
        count(&mut t.failures, format!("addr:{address}"), p.free_per_address, now, p);
        // The account-wide count is of addresses, not of tries: a guesser
        // at one address, held back by the per-pair lockouts, counts once
        // and cannot lock the real user out everywhere.
        if pair == 1 {
            count(&mut t.failures, format!("acct:{account}"), p.free_per_account, now, p);
        }
        if pair == p.free_per_pair {
            tracing::warn!(%address, "failed logins: lockouts begin");
        }
    }

    /// Records a successful login: the account's failures at this address
    /// are forgotten, and the address is one the account is known at.
    pub fn succeeded(&self, account: &str, address: &str, now: Millis) {
        let mut t = self.lock();
        t.failures.remove(&pair_key(account, address));
        if t.known.len() >= self.policy.max_entries {
            let forget = self.policy.forget_after_ms;
            t.known.retain(|_, list| list.iter().any(|(_, at)| now - at < forget));
            if t.known.len() >= self.policy.max_entries {
                t.known.clear();
            }
        }
        let list = t.known.entry(account.to_owned()).or_default();
        list.retain(|(a, _)| a != address);
        list.push((address.to_owned(), now));
        if list.len() > KNOWN_PER_ACCOUNT {
            list.remove(0);
        }
    }

    /// How many entries the failure table holds.
    pub fn len(&self) -> usize {
        self.lock().failures.len()
    }

    /// Whether the failure table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counts a failure for `key`, locking it once past `free`; answers its
/// failures so far.
fn count(failures: &mut HashMap<String, Entry>, key: String, free: u32, now: Millis, p: &LoginPolicy) -> u32 {
    let e = failures.entry(key).or_insert(Entry { failures: 0, last: now, blocked_until: 0 });
    if now - e.last > p.forget_after_ms {
        *e = Entry { failures: 0, last: now, blocked_until: 0 };
    }
    e.failures = e.failures.saturating_add(1);
    e.last = now;
    if e.failures >= free {
        let doublings = (e.failures - free).min(30);
        let lockout = p.first_lockout_ms.saturating_mul(1 << doublings).min(p.max_lockout_ms);
        e.blocked_until = now + lockout;
    }
    e.failures
}

/// Makes room: forgets old entries, then unblocked ones, then those whose
/// lockout ends first.
fn prune(failures: &mut HashMap<String, Entry>, now: Millis, p: &LoginPolicy) {
    failures.retain(|_, e| now - e.last <= p.forget_after_ms);
    if failures.len() + 3 > p.max_entries {
        failures.retain(|_, e| e.blocked_until > now);
    }
    if failures.len() + 3 > p.max_entries {
        let mut ends: Vec<Millis> = failures.values().map(|e| e.blocked_until).collect();
        ends.sort_unstable();
        let cut = ends.get(failures.len() / 2).copied().unwrap_or(Millis::MAX);
        failures.retain(|_, e| e.blocked_until > cut);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy { max_entries: 50, ..LoginPolicy::default() }
    }

    #[test]
    fn lockouts_grow_per_account_and_address() {
        let g = LoginGuard::new(policy());
        let mut now = 1_000_000;
        for _ in 0..4 {
            assert!(g.check("a@x", "1.1.1.1", now).is_ok());
            g.failed("a@x", "1.1.1.1", now);
        }
        assert!(g.check("a@x", "1.1.1.1", now).is_ok());
        g.failed("a@x", "1.1.1.1", now);
        let err = g.check("a@x", "1.1.1.1", now).unwrap_err();
        assert_eq!(err.retry_after, Some(1));
        now += 1_000;
        assert!(g.check("a@x", "1.1.1.1", now).is_ok());
        g.failed("a@x", "1.1.1.1", now);
        assert_eq!(g.check("a@x", "1.1.1.1", now).unwrap_err().retry_after, Some(2));
        // Another address is not held up by this one's failures.
        assert!(g.check("a@x", "2.2.2.2", now).is_ok());
        // Forgotten after an hour.
        now += 3_600_001;
        assert!(g.check("a@x", "1.1.1.1", now).is_ok());
    }

    #[test]
    fn account_lock_spares_known_addresses() {
        let g = LoginGuard::new(policy());
        let now = 1_000_000;
        g.succeeded("a@x", "9.9.9.9", now);
        for i in 0..10 {
            g.failed("a@x", &format!("10.0.0.{i}"), now);
        }
        assert!(g.check("a@x", "10.0.0.99", now).is_err(), "a new address waits");
        assert!(g.check("a@x", "9.9.9.9", now).is_ok(), "a known address gets in");
        assert!(g.check("b@x", "10.0.0.99", now).is_ok(), "other accounts are not locked");
    }

    #[test]
    fn one_patient_guesser_does_not_lock_the_account() {
        let g = LoginGuard::new(policy());
        let mut now = 1_000_000;
        for _ in 0..200 {
            if g.check("a@x", "1.1.1.1", now).is_ok() {
                g.failed("a@x", "1.1.1.1", now);
            }
            now += 30_000;
        }
        assert!(g.check("a@x", "1.1.1.1", now).is_err(), "the guesser waits");
        assert!(g.check("a@x", "2.2.2.2", now).is_ok(), "the user, elsewhere, does not");
    }

    #[test]
    fn the_table_is_bounded() {
        let g = LoginGuard::new(policy());
        for i in 0..500 {
            g.failed(&format!("u{i}@x"), &format!("10.0.{}.{}", i / 256, i % 256), 1_000_000 + i);
        }
        assert!(g.len() <= 50, "{}", g.len());
    }
}
