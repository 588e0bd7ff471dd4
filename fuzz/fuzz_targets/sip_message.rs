//! Fuzz target: see `checks::message` in fuzz/checks/sip.rs.
#![no_main]

#[path = "../checks/sip.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::message(data));
