//! Schemathesis against a running Calliope's `/openapi.json`: requests
//! generated from the document, every answer checked for server errors and
//! for conformance to the document's response schemas. Bounded in examples
//! per operation and in time. Schemathesis is installed by
//! `scripts/install-test-deps` in a virtualenv under `~/.cache/calliope`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::calliope::Calliope;

/// The version `scripts/install-test-deps` installs.
const VERSION: &str = "4.32.5";

/// The `st` command: `CALLIOPE_SCHEMATHESIS`, or the virtualenv that
/// `scripts/install-test-deps` makes.
fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CALLIOPE_SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME")?;
    let st = PathBuf::from(home).join(format!(".cache/calliope/schemathesis-{VERSION}/bin/st"));
    st.exists().then_some(st)
}

#[test]
fn generated_requests_get_no_server_error_and_answers_match_the_document() {
    let Some(st) = schemathesis() else {
        assert!(std::env::var_os("CI").is_none(), "schemathesis is missing: run scripts/install-test-deps");
        eprintln!("skipped: schemathesis is not installed (scripts/install-test-deps installs it)");
        return;
    };
    let calliope = Calliope::start(&["--rate-limit", "1000000"]);
    let (status, workspaces) = calliope.call("GET", "/v1beta2/workspaces", serde_json::Value::Null);
    assert_eq!(status, 200, "{workspaces}");
    let workspace = workspaces["items"][0]["accessKeyId"].as_str().unwrap().to_owned();
    let report = calliope.dir.path().join("schemathesis.json");
    let started = Instant::now();
    let mut child = Command::new(&st)
        .arg("run")
        .arg(format!("{}/openapi.json", calliope.http))
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "12", "--seed", "20261202", "--workers", "1"])
        .args(["--max-time", "100", "--request-timeout", "10", "--no-shrink"])
        .args(["--suppress-health-check", "all", "--warnings", "off"])
        .args(["--header", &format!("Authorization: Bearer {}", calliope.token())])
        .args(["--header", &format!("AccessKeyId: {workspace}")])
        // Deleting or changing the test's own user or workspace would end
        // its session; the malformed-input tests cover those endpoints.
        .args(["--exclude-path-regex", "^/v1beta2/(users|workspaces)/"])
        .arg("--report-json-path")
        .arg(&report)
        .args(["--report", "json"])
        .env("NO_COLOR", "1")
        .current_dir(calliope.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hard stop well past schemathesis's own time budget.
    let deadline = started + Duration::from_secs(200);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("schemathesis ran past {}s", deadline.duration_since(started).as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("schemathesis took {:.0?}", started.elapsed());
    let summary = text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>();
    eprintln!("{}", summary.join("\n"));
    assert!(
        out.status.success(),
        "schemathesis found problems (exit {:?}):\n{text}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(calliope.pbx_get("/api/routes").0 == 200, "the server is still up");
}
