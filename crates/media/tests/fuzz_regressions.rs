//! Replays the fuzz corpora on stable, without cargo-fuzz: every input that
//! ever crashed a `media` fuzz target (fuzz/regressions/<target>/) and every
//! seed (fuzz/corpus/<target>/) goes through the same checks the target
//! runs (fuzz/checks/media.rs): no panic, and the round trips hold.

#[path = "../../../fuzz/checks/media.rs"]
mod checks;

use media::{dtmf, rtcp, rtp, wav};
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
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

/// Runs `check` on every kept crash and seed of `target`, naming the file
/// that fails; returns the seeds.
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
fn rtp_regressions_and_seeds() {
    for (path, data) in replay("rtp", checks::rtp) {
        assert!(rtp::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn rtcp_regressions_and_seeds() {
    for (path, data) in replay("rtcp", checks::rtcp) {
        assert!(rtcp::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn dtmf_regressions_and_seeds() {
    for (path, data) in replay("dtmf", checks::dtmf) {
        assert!(dtmf::parse(&data).is_ok(), "seed {} does not parse", path.display());
    }
}

#[test]
fn wav_regressions_and_seeds() {
    for (path, data) in replay("wav", checks::wav) {
        assert!(wav::read(&data).is_ok(), "seed {} does not read", path.display());
    }
}

#[test]
fn tone_stream_regressions_and_seeds() {
    for (path, data) in replay("tone_stream", checks::tone_stream) {
        let text = String::from_utf8(data).unwrap_or_default();
        assert!(media::player::parse_tone_stream(&text).is_ok(), "seed {} does not parse", path.display());
    }
}
