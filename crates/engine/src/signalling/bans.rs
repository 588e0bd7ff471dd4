//! Addresses that keep failing digest authentication: counted per IP in a
//! sliding window, banned for a while past a threshold, in a table of
//! bounded size whose entries expire (the oldest is evicted when it is
//! full). A banned address gets no answer at all, so a guesser learns
//! nothing and costs nothing; a real phone elsewhere keeps registering.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::limits::Limits;

/// Counters of the ban table, for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BanStats {
    /// Digest failures recorded.
    pub failures: u64,
    /// Bans imposed.
    pub bans: u64,
    /// Messages dropped because their source was banned.
    pub dropped: u64,
    /// Entries evicted to make room.
    pub evicted: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Failures in the current window.
    failures: u32,
    /// When the window started.
    since: Instant,
    /// Banned until then.
    banned_until: Option<Instant>,
    /// When the entry was made, for eviction order.
    created: Instant,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<IpAddr, Entry>,
    /// Addresses in the order their entries were made (stale ones are
    /// skipped on eviction).
    order: VecDeque<(IpAddr, Instant)>,
}

/// The failure and ban table.
#[derive(Debug)]
pub struct Bans {
    threshold: u32,
    window: Duration,
    ban: Duration,
    capacity: usize,
    table: Mutex<Table>,
    failures: AtomicU64,
    bans: AtomicU64,
    dropped: AtomicU64,
    evicted: AtomicU64,
}

impl Bans {
    /// A table with the thresholds and size of `limits`.
    pub fn new(limits: &Limits) -> Bans {
        Bans {
            threshold: limits.auth_failures.max(1),
            window: limits.auth_failure_window,
            ban: limits.ban,
            capacity: limits.ban_table.max(1),
            table: Mutex::new(Table::default()),
            failures: AtomicU64::new(0),
            bans: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    /// Records a digest failure from `ip` at `now`; true when it got the
    /// address banned.
    pub fn fail(&self, ip: IpAddr, now: Instant) -> bool {
        let ip = key(ip);
        self.failures.fetch_add(1, Ordering::Relaxed);
        let Ok(mut t) = self.table.lock() else { return false };
        if !t.entries.contains_key(&ip) {
            self.make_room(&mut t);
            t.entries.insert(ip, Entry { failures: 0, since: now, banned_until: None, created: now });
            t.order.push_back((ip, now));
        }
        let Some(e) = t.entries.get_mut(&ip) else { return false };
        if e.banned_until.is_some_and(|u| u > now) {
            return false;
        }
        if now.saturating_duration_since(e.since) > self.window {
            e.failures = 0;
            e.since = now;
            e.banned_until = None;
        }
        e.failures += 1;
        if e.failures < self.threshold {
            return false;
        }
        e.banned_until = Some(now + self.ban);
        e.failures = 0;
        e.since = now;
        self.bans.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            %ip,
            failures = self.threshold,
            ban_secs = self.ban.as_secs(),
            bans = self.bans.load(Ordering::Relaxed),
            "SIP digest failures: address banned"
        );
        true
    }

    /// Whether messages from `ip` are to be dropped at `now`; counts the
    /// drop when they are.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        // No ban was ever imposed: nothing to look up (the common case).
        if self.bans.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let ip = key(ip);
        let banned = self
            .table
            .lock()
            .is_ok_and(|t| t.entries.get(&ip).and_then(|e| e.banned_until).is_some_and(|u| u > now));
        if banned {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        banned
    }

    /// The counters so far.
    pub fn stats(&self) -> BanStats {
        BanStats {
            failures: self.failures.load(Ordering::Relaxed),
            bans: self.bans.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }

    /// Addresses tracked now.
    pub fn len(&self) -> usize {
        self.table.lock().map_or(0, |t| t.entries.len())
    }

    /// True when no address is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evicts the oldest entries until there is room for one more. Entries
    /// are not swept otherwise: a lapsed one is reset when its address
    /// fails again, and the table never holds more than its capacity.
    fn make_room(&self, t: &mut Table) {
        while t.entries.len() >= self.capacity {
            let Some((ip, created)) = t.order.pop_front() else { break };
            if t.entries.get(&ip).is_some_and(|e| e.created == created) {
                t.entries.remove(&ip);
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What an address is counted under: an IPv4 address itself, an IPv6
/// address by its /64 (one host commonly holds a whole /64, so banning a
/// single IPv6 address would ban nothing).
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(capacity: usize) -> Limits {
        Limits {
            auth_failures: 3,
            auth_failure_window: Duration::from_secs(60),
            ban: Duration::from_secs(600),
            ban_table: capacity,
            ..Limits::default()
        }
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn repeated_failures_ban_an_address_for_a_while_and_only_that_one() {
        let bans = Bans::new(&limits(16));
        let t0 = Instant::now();
        assert!(!bans.fail(ip(1), t0));
        assert!(!bans.fail(ip(1), t0 + Duration::from_secs(1)));
        assert!(!bans.is_banned(ip(1), t0 + Duration::from_secs(1)));
        assert!(bans.fail(ip(1), t0 + Duration::from_secs(2)), "the third failure bans");
        assert!(bans.is_banned(ip(1), t0 + Duration::from_secs(3)));
        assert!(!bans.is_banned(ip(2), t0 + Duration::from_secs(3)), "another address is not banned");
        assert!(bans.is_banned(ip(1), t0 + Duration::from_secs(601)));
        assert!(!bans.is_banned(ip(1), t0 + Duration::from_secs(603)), "the ban expires");
        let s = bans.stats();
        assert_eq!((s.failures, s.bans, s.dropped), (3, 1, 2));
    }

    #[test]
    fn an_ipv6_host_is_banned_by_its_slash_64() {
        let bans = Bans::new(&limits(16));
        let t0 = Instant::now();
        for i in 1..=3u16 {
            bans.fail(IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, i]), t0);
        }
        assert!(bans.is_banned(IpAddr::from([0x2001, 0xdb8, 0, 1, 0xffff, 1, 2, 3]), t0), "same /64");
        assert!(!bans.is_banned(IpAddr::from([0x2001, 0xdb8, 0, 2, 0, 0, 0, 1]), t0), "another /64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0u8; 4]));
        for _ in 0..3 {
            bans.fail(mapped, t0);
        }
        assert!(bans.is_banned(IpAddr::from([192, 0, 2, 7]), t0), "a v4-mapped address is its v4 address");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let bans = Bans::new(&limits(16));
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(!bans.fail(ip(1), t0 + Duration::from_secs(61 * i)), "failure {i}");
        }
        assert!(!bans.is_banned(ip(1), t0 + Duration::from_secs(700)));
    }

    #[test]
    fn the_table_stays_bounded_and_evicts_the_oldest() {
        let bans = Bans::new(&limits(100));
        let t0 = Instant::now();
        for n in 0..10_000u32 {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            bans.fail(addr, t0 + Duration::from_millis(u64::from(n)));
            assert!(bans.len() <= 100);
        }
        assert_eq!(bans.len(), 100);
        assert_eq!(bans.stats().evicted, 9_900);
        // A banned address stays banned while newer ones churn, until evicted.
        let bans = Bans::new(&limits(100));
        for _ in 0..3 {
            bans.fail(ip(9), t0);
        }
        for n in 0..50u32 {
            bans.fail(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n)), t0);
        }
        assert!(bans.is_banned(ip(9), t0 + Duration::from_secs(1)));
    }
}
