//! New ids: UUIDs of version 7, from the thread's random generator.
//!
//! Version 7 puts the time in the leading bits, so the indexes on record
//! refs and on call and leg ids (call records come by the thousand) take
//! new keys at their right edge instead of on random pages. The other 74
//! bits are random, from rand's thread-local CSPRNG (seeded by the kernel
//! once per thread): `uuid::Uuid::now_v7` would ask the kernel for them
//! with a `getrandom` system call per id, four per call.

use std::time::{SystemTime, UNIX_EPOCH};

/// A new UUID (version 7): the current time in milliseconds, then random
/// bits.
pub fn new_uuid() -> uuid::Uuid {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random()).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_7_ordered_and_differ() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_eq!(a.get_version(), Some(uuid::Version::SortRand));
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(a, b);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_uuid().to_string() > a.to_string(), "a later id sorts after");
    }
}
