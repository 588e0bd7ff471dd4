//! What a million used nonces leave on the heap: nothing past the
//! nonce-count table, allocated (and made resident) when the store is
//! made. Counted in heap bytes from jemalloc's statistics (the binary's
//! allocator), as tests/retention_call.rs does. One file, one test, so
//! that nothing else allocates meanwhile.

use sip::digest::{CountStatus, NonceStatus, NonceStore, NONCE_RANDOM_BYTES};

/// The binary's allocator, whose statistics count the heap.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bytes allocated and not freed, in jemalloc's size classes.
fn live() -> isize {
    tikv_jemalloc_ctl::epoch::advance().expect("epoch");
    tikv_jemalloc_ctl::stats::allocated::read().expect("stats") as isize
}

/// Bytes in pages the allocator has resident.
fn resident() -> isize {
    tikv_jemalloc_ctl::epoch::advance().expect("epoch");
    tikv_jemalloc_ctl::stats::resident::read().expect("stats") as isize
}

#[test]
fn a_million_used_nonces_take_no_more_than_the_table() {
    const SLOTS: usize = 1 << 20;
    const NONCES: u64 = 1_000_000;
    let (before, resident_before) = (live(), resident());
    let mut store = NonceStore::new(b"secret", 300_000, SLOTS, 7);
    let table = live() - before;
    assert!((4 * SLOTS as isize..=4 * SLOTS as isize + 64 * 1024).contains(&table), "{table}");
    let resident_table = resident() - resident_before;
    assert!(resident_table >= 4 * SLOTS as isize, "the table is resident from the start: {resident_table}");

    let mut random = [0u8; NONCE_RANDOM_BYTES];
    let mut peak = 0;
    for i in 0..NONCES {
        random[..8].copy_from_slice(&i.to_be_bytes());
        let now = 1_000 + i / 1_000;
        let nonce = store.issue(now, random);
        let NonceStatus::Fresh(issued) = store.status(&nonce, now) else { panic!("{nonce} not fresh") };
        assert_eq!(store.use_count(issued, 1), CountStatus::Accepted);
        assert_eq!(store.use_count(issued, 1), CountStatus::Replay);
        assert_eq!(store.use_count(issued, 2), CountStatus::Accepted);
        if i % 100_000 == 0 {
            peak = peak.max(live() - before);
        }
    }
    let after = live() - before;
    let resident_after = resident() - resident_before;
    eprintln!(
        "heap: table {table} B, after {NONCES} nonces {after} B, peak seen {peak} B; \
         resident: table {resident_table} B, after {resident_after} B"
    );
    assert!(
        resident_after - resident_table <= 1024 * 1024,
        "resident grew {} B",
        resident_after - resident_table
    );
    // A nonce's text lives while it is checked; jemalloc counts in batches.
    // As kept before this table, the million would take 24 MB.
    assert!(after - table <= 64 * 1024, "grew {} B past the table", after - table);
    assert!(peak - table <= 64 * 1024, "peaked {} B past the table", peak - table);
}
