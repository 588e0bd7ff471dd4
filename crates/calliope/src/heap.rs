//! The allocator's own figures (jemalloc), as `/metrics` gauges beside
//! RSS: what the program holds (`allocated`), the pages those allocations
//! sit in (`active`), what jemalloc keeps resident (`resident`, active plus
//! freed pages not yet given back, plus its metadata) and the address space
//! it keeps mapped but gave back (`retained`). RSS far above `allocated`
//! is the allocator keeping freed memory; `allocated` far above idle is
//! something in the program still holding it.

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

/// Reads the allocator's figures afresh and sets the gauges.
pub fn record() {
    if epoch::advance().is_err() {
        return;
    }
    let figures = [
        (ALLOCATED, stats::allocated::read()),
        (ACTIVE, stats::active::read()),
        (RESIDENT, stats::resident::read()),
        (RETAINED, stats::retained::read()),
        (METADATA, stats::metadata::read()),
    ];
    for (name, value) in figures {
        if let Ok(v) = value {
            gauge!(name).set(v as f64);
        }
    }
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
}
