//! Fuzz target: see `checks::digest` in fuzz/checks/sip.rs.
#![no_main]

#[path = "../checks/sip.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::digest(data));
