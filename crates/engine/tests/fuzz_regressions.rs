//! Replays the `program` fuzz corpora on stable, without cargo-fuzz: every
//! input that ever crashed a target (fuzz/regressions/<target>/) and every
//! seed (fuzz/corpus/<target>/) goes through the same checks the target
//! runs (fuzz/checks/program.rs): no panic, the parsers agree with
//! `parse_answer`, and the interpreter finishes whatever parses.
#![allow(clippy::unwrap_used)]

#[path = "../../../fuzz/checks/program.rs"]
mod checks;

use engine::program::{block, fonoster, ncco, twiml};
use std::path::{Path, PathBuf};

/// The files of fuzz/<kind>/<target>/, READMEs aside, sorted.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("README")))
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// Runs `check` on every kept crash and seed of `target`; returns the seeds.
fn replay(target: &str, check: fn(&[u8])) -> Vec<(PathBuf, Vec<u8>)> {
    for (path, data) in inputs("regressions", target) {
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("fuzz regression {} fails again", path.display());
        }
    }
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target} has no seeds");
    for (path, data) in &seeds {
        if std::panic::catch_unwind(|| check(data)).is_err() {
            panic!("fuzz seed {} fails", path.display());
        }
    }
    seeds
}

#[test]
fn conference_settings_seeds() {
    let seeds = replay("conference_settings", checks::conference_settings);
    assert!(seeds.len() >= 2);
}

#[test]
fn program_fonoster_regressions_and_seeds() {
    for (path, data) in replay("program_fonoster", checks::fonoster) {
        assert!(fonoster::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn program_ncco_regressions_and_seeds() {
    for (path, data) in replay("program_ncco", checks::ncco) {
        assert!(ncco::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn program_twiml_regressions_and_seeds() {
    for (path, data) in replay("program_twiml", checks::twiml) {
        assert!(twiml::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn program_block_regressions_and_seeds() {
    for (path, data) in replay("program_block", checks::block) {
        assert!(block::parse_xml(&data).is_ok(), "seed {} does not parse", path.display());
    }
}
