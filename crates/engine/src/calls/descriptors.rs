//! Admission by file descriptors: a new call is refused (503) while the
//! descriptors in use would leave fewer than a reserve free, so that the
//! store, the HTTP API and SIP keep working for the calls already live.
//!
//! Counting every open descriptor (listing `/proc/self/fd`) costs 1 µs to
//! 4 µs a descriptor (measured here: 0.3 ms with 100 open, 42 ms to 80 ms
//! with 19 000, the kernel making an entry for each), far too much for
//! each INVITE under load. So the descriptors that are not media sockets
//! (the "base": store files, listeners, connections) are counted off the
//! call path, once a second or less often when a count is slow (at most
//! 1% of a core), and the media sockets, most of them under load, are
//! counted exactly at each admission from the RTP port pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::Registry;
use crate::media::PortPool;

/// Descriptors a new call is expected to take: RTP and RTCP for each of
/// its two legs.
pub const PER_CALL: usize = 4;

/// How often the base is counted again, at most.
pub const RECOUNT: Duration = Duration::from_secs(1);

/// A count waits at least this many times as long as the last one took.
const RECOUNT_COST_FACTOR: u32 = 100;

/// The reserve when none is configured: a tenth of `limit`, at least 64
/// (never more than the limit).
pub fn default_reserve(limit: usize) -> usize {
    (limit / 10).max(64).min(limit)
}

/// The descriptor budget of the process.
#[derive(Debug)]
pub struct Descriptors {
    limit: usize,
    reserve: usize,
    /// Open descriptors that are not media sockets, at the last count.
    base: AtomicUsize,
    ports: Arc<PortPool>,
}

impl Descriptors {
    /// A budget of `limit` descriptors (the process's soft
    /// `RLIMIT_NOFILE`) keeping `reserve` free, with the media sockets of
    /// `ports`; the base is counted now.
    pub fn new(limit: usize, reserve: usize, ports: Arc<PortPool>) -> Descriptors {
        let d = Descriptors { limit, reserve: reserve.min(limit), base: AtomicUsize::new(0), ports };
        d.recount();
        d
    }

    /// A budget whose base is `base`, never counted (for tests).
    #[cfg(test)]
    pub(crate) fn fixed(limit: usize, reserve: usize, base: usize, ports: Arc<PortPool>) -> Descriptors {
        Descriptors { limit, reserve, base: AtomicUsize::new(base), ports }
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The reserve kept free.
    pub fn reserve(&self) -> usize {
        self.reserve
    }

    /// Descriptors in use, estimated with `calls` live calls: the base
    /// plus the media sockets in use, or two a call if that is more (calls
    /// just admitted have not bound their ports yet), plus the idle pairs
    /// the port pool keeps for reuse.
    pub fn in_use(&self, calls: usize) -> usize {
        let media = self.ports.sockets_in_use().max(calls.saturating_mul(2));
        self.base.load(Ordering::Relaxed).saturating_add(media).saturating_add(self.ports.sockets_idle())
    }

    /// Whether one more call fits with `calls` live, the reserve kept;
    /// idle pairs are closed to make room if that is enough.
    pub fn has_room(&self, calls: usize) -> bool {
        let needed = self.in_use(calls).saturating_add(PER_CALL).saturating_add(self.reserve);
        let short = needed.saturating_sub(self.limit);
        short == 0 || (short <= self.ports.sockets_idle() && self.ports.close_idle(short) >= short)
    }

    /// Counts the base again (a no-op where `/proc/self/fd` is missing).
    pub fn recount(&self) {
        if let Some(open) = count_open() {
            let media = self.ports.sockets_in_use() + self.ports.sockets_idle();
            self.base.store(open.saturating_sub(media), Ordering::Relaxed);
        }
    }
}

/// The open descriptors of this process (Linux), the one that reads them
/// left out; `None` where they cannot be listed.
pub fn count_open() -> Option<usize> {
    let dir = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(dir.count().saturating_sub(1))
}

/// Counts the base again every [`RECOUNT`], or 100 times as long as the
/// last count took if that is more (on a blocking thread), and publishes
/// the figures as gauges, for as long as `registry` lives.
pub fn watch(registry: &Arc<Registry>, descriptors: Arc<Descriptors>) {
    let registry: Weak<Registry> = Arc::downgrade(registry);
    metrics::gauge!(crate::metrics::FDS_LIMIT).set(descriptors.limit() as f64);
    tokio::spawn(async move {
        let mut pause = RECOUNT;
        loop {
            tokio::time::sleep(pause).await;
            let Some(registry) = registry.upgrade() else { return };
            let d = descriptors.clone();
            let Ok(took) = tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                d.recount();
                started.elapsed()
            })
            .await
            else {
                return;
            };
            pause = RECOUNT.max(took * RECOUNT_COST_FACTOR);
            let in_use = descriptors.in_use(registry.calls());
            metrics::gauge!(crate::metrics::FDS_OPEN).set(in_use as f64);
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_a_tenth_at_least_64() {
        assert_eq!(default_reserve(20_000), 2_000);
        assert_eq!(default_reserve(256), 64);
        assert_eq!(default_reserve(10), 10);
    }

    #[test]
    fn calls_fit_while_the_reserve_stays_free() {
        let ports = PortPool::new(43000, 43100);
        // 20 in use and 64 kept of 100: 16 left, 4 of them for the new
        // call, two for each live one (no ports bound yet).
        let d = Descriptors::fixed(100, 64, 20, ports);
        assert!(d.has_room(6) && !d.has_room(7));
    }

    #[test]
    fn the_base_is_this_process_s_open_descriptors() {
        let open = count_open().unwrap();
        let d = Descriptors::new(100_000, 64, PortPool::new(43100, 43110));
        assert!(d.in_use(0) > 2 && d.in_use(0) < open + 100, "{} of about {open}", d.in_use(0));
    }

    #[tokio::test]
    async fn media_sockets_are_counted_as_they_are_bound() {
        let ports = PortPool::new(43200, 43210);
        let d = Descriptors::new(100_000, 64, ports.clone());
        let before = d.in_use(0);
        let pair = ports.bind([127, 0, 0, 1].into()).await.unwrap();
        assert_eq!(d.in_use(0), before + 2);
        assert_eq!(d.in_use(10), before + 20, "two a live call when more than the bound ones");
        drop(pair);
        assert_eq!(d.in_use(0), before + 2, "kept bound for reuse");
        assert!(d.has_room(0));
        assert_eq!(ports.close_idle(2), 2);
        assert_eq!(d.in_use(0), before);
    }

    #[tokio::test]
    async fn idle_pairs_are_closed_to_make_room() {
        let ports = PortPool::new(43220, 43240);
        // 20 in use and 64 kept of 90: 6 left, room for one call unbound.
        let d = Descriptors::fixed(90, 64, 20, ports.clone());
        let ip = [127, 0, 0, 1].into();
        let call = [ports.bind(ip).await.unwrap(), ports.bind(ip).await.unwrap()];
        assert!(!d.has_room(1));
        drop(call);
        assert_eq!(ports.sockets_idle(), 4);
        assert!(d.has_room(0), "an idle pair is closed to make room");
        assert_eq!(ports.sockets_idle(), 2, "one, as many as needed");
        assert!(!d.has_room(2));
        assert_eq!(ports.sockets_idle(), 2, "none closed when that would not be enough");
    }
}
