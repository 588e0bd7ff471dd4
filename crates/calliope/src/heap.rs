//! The allocator's own figures (jemalloc), as `/metrics` gauges beside
//! RSS: what the program holds (`allocated`), the pages those allocations
//! sit in (`active`), what jemalloc keeps resident (`resident`, active plus
//! freed pages not yet given back, plus its metadata) and the address space
//! it keeps mapped but gave back (`retained`). RSS far above `allocated`
//! is the allocator keeping freed memory; `allocated` far above idle is
//! something in the program still holding it.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metrics::{describe_gauge, gauge, Unit};
use tikv_jemalloc_ctl::{epoch, stats, Access, AsName};

/// Bytes the program has allocated and not freed.
const ALLOCATED: &str = "calliope_heap_allocated_bytes";
/// Bytes in the pages that hold live allocations.
const ACTIVE: &str = "calliope_heap_active_bytes";
/// Bytes the allocator holds resident (freed pages not yet purged included).
const RESIDENT: &str = "calliope_heap_resident_bytes";
/// Bytes of address space the allocator keeps mapped without holding them.
const RETAINED: &str = "calliope_heap_retained_bytes";
/// Bytes of the allocator's own bookkeeping.
const METADATA: &str = "calliope_heap_metadata_bytes";

/// The environment variable jemalloc reads its settings from: being the
/// process's `malloc` (unprefixed), it reads the usual one.
const CONF_VAR: &str = "MALLOC_CONF";

/// How long freed pages stay before jemalloc gives them back to the
/// system (its default is 10 s for dirty pages).
const DIRTY_DECAY_MS: isize = 1_000;
/// How long pages given back lazily stay counted (`MADV_FREE`): none, so
/// that RSS shows what is held.
const MUZZY_DECAY_MS: isize = 0;

/// Makes jemalloc give freed pages back within about a second (its
/// background threads purge), so that RSS follows the load down once it
/// is over; for the arenas there are and those made later. Left alone
/// when `MALLOC_CONF` sets a decay itself. Call it first thing.
pub fn purge_promptly() {
    if std::env::var(CONF_VAR).is_ok_and(|conf| conf.contains("decay_ms")) {
        return;
    }
    for (kind, ms) in [("dirty", DIRTY_DECAY_MS), ("muzzy", MUZZY_DECAY_MS)] {
        let default = format!("arenas.{kind}_decay_ms\0");
        if let Err(e) = default.as_bytes().name().write(ms) {
            tracing::warn!(error = %e, "could not set jemalloc's {kind} decay");
            return;
        }
        let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
        let Ok(mut each) = format!("arena.0.{kind}_decay_ms\0").as_bytes().name().mib::<[usize; 3]>() else {
            continue;
        };
        for arena in 0..arenas as usize {
            each[1] = arena;
            // Arenas not made yet refuse it, and take the default above.
            let _ = each.write(ms);
        }
    }
}

/// How often, at most, a runtime worker hands its cache back (see
/// [`hand_back_cache`]).
const HAND_BACK_EVERY: Duration = Duration::from_secs(1);

/// Hands this thread's cache of freed blocks (jemalloc's tcache) back to
/// the arenas, unless it did so less than [`HAND_BACK_EVERY`] ago. For the
/// runtime's workers as they park: a thread only trims its cache as it
/// allocates, so a worker left idle after a load keeps up to hundreds of
/// freed blocks of each size, and each keeps the slab it came from from
/// being reused or given back. Disabling the cache empties it.
pub fn hand_back_cache() {
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    let now = Instant::now();
    if LAST.get().is_some_and(|last| now.duration_since(last) < HAND_BACK_EVERY) {
        return;
    }
    LAST.set(Some(now));
    let enabled = b"thread.tcache.enabled\0".name();
    if enabled.write(false).is_ok() {
        let _ = enabled.write(true);
    }
}

/// How far the heap's allocated bytes must fall below their highest
/// reading since the last purge for [`Settle`] to purge: a load ending,
/// not the ups and downs under load or at idle.
const SETTLE_FALL: usize = 8 << 20;

/// Follows the heap's allocated bytes (each [`record`]) and, when they
/// fall by a quarter and at least [`SETTLE_FALL`] from their highest
/// reading since the last purge, gives every arena's freed pages back at
/// once. The decay gives them back too, but only as its curve and the
/// background threads' wake-ups allow: after a load some stay. Once per
/// fall, never under a steady load.
#[derive(Debug, Default)]
pub struct Settle {
    high: usize,
}

impl Settle {
    /// Takes a reading of allocated bytes; purges (and says so) when the
    /// heap fell.
    pub fn observe(&mut self, allocated: usize) -> bool {
        if allocated >= self.high {
            self.high = allocated;
            return false;
        }
        if self.high - allocated < SETTLE_FALL.max(self.high / 4) {
            return false;
        }
        purge_all();
        self.high = allocated;
        true
    }
}

/// Purges every arena's dirty pages now: a dirty decay of 0 purges
/// them as it is set (jemalloc's `arena.<i>.purge` takes no value, which
/// the safe `mallctl` wrappers cannot call), then the decay goes back.
fn purge_all() {
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    let Ok(mut each) = b"arena.0.dirty_decay_ms\0".name().mib::<[usize; 3]>() else {
        return;
    };
    for arena in 0..arenas as usize {
        each[1] = arena;
        let Ok(ms): Result<isize, _> = each.read() else { continue };
        if ms > 0 && each.write(0isize).is_ok() {
            let _ = each.write(ms);
        }
    }
}

/// Gives the gauges their help text and logs the allocator's settings
/// (background threads, decay), once at start.
pub fn describe() {
    describe_gauge!(ALLOCATED, Unit::Bytes, "Heap bytes allocated and not freed (jemalloc).");
    describe_gauge!(ACTIVE, Unit::Bytes, "Heap bytes in pages holding live allocations (jemalloc).");
    describe_gauge!(RESIDENT, Unit::Bytes, "Heap bytes the allocator keeps resident (jemalloc).");
    describe_gauge!(
        RETAINED,
        Unit::Bytes,
        "Address space the allocator keeps mapped but gave back (jemalloc)."
    );
    describe_gauge!(METADATA, Unit::Bytes, "The allocator's own bookkeeping (jemalloc).");
    let flag = |name: &[u8]| name.name().read().map_or_else(|e| format!("? ({e})"), |v: bool| v.to_string());
    let ms = |name: &[u8]| name.name().read().map_or_else(|e| format!("? ({e})"), |v: isize| v.to_string());
    tracing::info!(
        background_threads = %flag(b"background_thread\0"),
        dirty_decay_ms = %ms(b"arenas.dirty_decay_ms\0"),
        muzzy_decay_ms = %ms(b"arenas.muzzy_decay_ms\0"),
        arenas = %tikv_jemalloc_ctl::arenas::narenas::read().map_or(0, |n| n),
        "heap allocator"
    );
}

/// The environment variable naming where [`write_stats_on_request`]
/// writes (a path prefix).
const STATS_VAR: &str = "CALLIOPE_HEAP_STATS";

/// Writes jemalloc's full statistics (`malloc_stats_print`: bins, slabs,
/// thread caches, decay) to `PREFIX.TAG.txt` when a file `PREFIX.now`
/// holding TAG appears, PREFIX being `CALLIOPE_HEAP_STATS` (unset:
/// nothing); checked with each [`record`]. For finding where memory sits;
/// `benches/sip/run`'s soak asks at idle and after the load.
fn write_stats_on_request() {
    static PREFIX: OnceLock<Option<String>> = OnceLock::new();
    let Some(prefix) = PREFIX.get_or_init(|| std::env::var(STATS_VAR).ok()) else {
        return;
    };
    let request = format!("{prefix}.now");
    let Ok(tag) = std::fs::read_to_string(&request) else {
        return;
    };
    let _ = std::fs::remove_file(&request);
    let tag: String = tag.trim().chars().filter(char::is_ascii_alphanumeric).collect();
    match std::fs::File::create(format!("{prefix}.{tag}.txt")) {
        Ok(file) => {
            if let Err(e) = tikv_jemalloc_ctl::stats_print::stats_print(file, Default::default()) {
                tracing::warn!(error = %e, "could not write the heap statistics");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not write the heap statistics"),
    }
}

/// Reads the allocator's figures afresh and sets the gauges; returns the
/// bytes allocated.
pub fn record() -> Option<usize> {
    if epoch::advance().is_err() {
        return None;
    }
    write_stats_on_request();
    let figures = [
        (ALLOCATED, stats::allocated::read()),
        (ACTIVE, stats::active::read()),
        (RESIDENT, stats::resident::read()),
        (RETAINED, stats::retained::read()),
        (METADATA, stats::metadata::read()),
    ];
    let allocated = figures[0].1.as_ref().ok().copied();
    for (name, value) in figures {
        if let Ok(v) = value {
            gauge!(name).set(v as f64);
        }
    }
    allocated
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tikv_jemalloc_ctl::{Access, AsName};

    /// Bytes this thread has allocated through jemalloc since it started.
    fn allocated_here() -> u64 {
        b"thread.allocated\0".name().read().unwrap()
    }

    #[test]
    fn c_code_allocates_from_jemalloc() {
        // glibc's `opendir` takes a buffer of 32 KiB from `malloc`; Rust's
        // side of `read_dir` only a few bytes.
        let before = allocated_here();
        let dir = std::fs::read_dir(".").unwrap();
        let after = allocated_here();
        drop(dir);
        assert!(after - before >= 16 * 1024, "C's malloc is not jemalloc: {} bytes", after - before);
    }

    #[test]
    fn a_fall_of_the_heap_purges_once() {
        const MIB: usize = 1 << 20;
        let mut settle = super::Settle::default();
        assert!(!settle.observe(40 * MIB));
        assert!(!settle.observe(100 * MIB), "rising");
        assert!(!settle.observe(80 * MIB), "a fifth down: the ups and downs of a load");
        assert!(settle.observe(70 * MIB), "down by 30 MiB, more than a quarter");
        assert!(!settle.observe(65 * MIB), "once per fall");
        assert!(settle.observe(45 * MIB), "down by a quarter again");
        assert!(!settle.observe(40 * MIB), "less than 8 MiB down: idle's ups and downs");
    }

    #[test]
    fn purging_gives_freed_pages_back() {
        std::thread::spawn(|| {
            let arena: u32 = b"arenas.create\0".name().read().unwrap();
            b"thread.arena\0".name().write(arena).unwrap();
            let dirty = || {
                tikv_jemalloc_ctl::epoch::advance().unwrap();
                let stat = format!("stats.arenas.{arena}.pdirty\0");
                let pages: usize = stat.as_bytes().name().read().unwrap();
                pages
            };
            let decay = format!("arena.{arena}.dirty_decay_ms\0");
            decay.as_bytes().name().write(60_000isize).unwrap();
            // Large blocks, past the thread cache: freed, their pages
            // stay dirty for the decay's minute.
            let blocks: Vec<Vec<u8>> = (0..16).map(|_| vec![1; 1 << 20]).collect();
            drop(blocks);
            assert!(dirty() > 0, "freed pages are kept");
            super::purge_all();
            assert_eq!(dirty(), 0, "purged");
            let ms: isize = decay.as_bytes().name().read().unwrap();
            assert_eq!(ms, 60_000, "the decay is back");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_parked_worker_hands_its_cache_back() {
        std::thread::spawn(|| {
            // An arena of this thread's own, so that its figures are this
            // thread's cache alone.
            let arena: u32 = b"arenas.create\0".name().read().unwrap();
            b"thread.arena\0".name().write(arena).unwrap();
            let cached = || {
                tikv_jemalloc_ctl::epoch::advance().unwrap();
                let stat = format!("stats.arenas.{arena}.tcache_bytes\0");
                let bytes: usize = stat.as_bytes().name().read().unwrap();
                bytes
            };
            // What a burst leaves: blocks freed on this thread stay in its
            // cache.
            let blocks: Vec<Box<[u8; 320]>> = (0..1000).map(|_| Box::new([1; 320])).collect();
            drop(blocks);
            let before = cached();
            assert!(before >= 16 * 320, "the freed blocks are cached: {before} bytes");
            super::hand_back_cache();
            assert_eq!(cached(), 0, "handed back ({before} bytes before)");
            // Again at once: not before `HAND_BACK_EVERY`.
            let blocks: Vec<Box<[u8; 320]>> = (0..1000).map(|_| Box::new([1; 320])).collect();
            drop(blocks);
            super::hand_back_cache();
            assert!(cached() > 0, "handed back again too soon");
        })
        .join()
        .unwrap();
    }
}
