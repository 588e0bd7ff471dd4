//! Fuzz target: see `checks::conference_settings` in fuzz/checks/program.rs.
#![no_main]

#[path = "../checks/program.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::conference_settings(data));
