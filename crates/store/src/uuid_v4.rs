//! Random (version 4) UUIDs from the thread's random generator.
//!
//! `uuid::Uuid::new_v4` asks the kernel for its 16 bytes every time (a
//! `getrandom` system call); a call makes four (two leg ids and two call
//! records' refs). rand's thread-local generator is a CSPRNG seeded from
//! the kernel once per thread, so the ids stay unguessable without the
//! system calls.

/// A new random (version 4) UUID.
pub fn new_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_eq!(a.get_version(), Some(uuid::Version::Random));
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(a, b);
    }
}
