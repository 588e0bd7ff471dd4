//! Fuzz target: see `checks::tone_stream` in fuzz/checks/media.rs.
#![no_main]

#[path = "../checks/media.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tone_stream(data));
