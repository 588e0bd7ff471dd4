//! The official Vonage applications client (`@vonage/applications`, from
//! npm, pinned) against a running Calliope: it creates, gets, updates and
//! deletes an application and iterates every page of the list by the HAL
//! `_links`; what it saw is checked against the Fonoster REST view of the
//! same records. `scripts/install-test-deps` installs the client under
//! `~/.cache/calliope`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::calliope::Calliope;

/// The version `scripts/install-test-deps` installs.
const VERSION: &str = "1.23.1";

/// The `node_modules` holding the client: `CALLIOPE_VONAGE_NODE_MODULES`,
/// or the one `scripts/install-test-deps` makes.
fn node_modules() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CALLIOPE_VONAGE_NODE_MODULES") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME")?;
    let dir = PathBuf::from(home).join(format!(".cache/calliope/vonage-applications-{VERSION}/node_modules"));
    dir.join("@vonage/applications").exists().then_some(dir)
}

/// Runs the client script with an API key; answers what it printed.
fn run_client(calliope: &Calliope, modules: &PathBuf, key: &str, secret: &str, more: usize) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/vonage_applications.js");
    let mut child = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", modules)
        .env("VONAGE_API_HOST", &calliope.http)
        .env("VONAGE_API_KEY", key)
        .env("VONAGE_API_SECRET", secret)
        .env("MORE", more.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the Vonage client ran past 180s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Vonage client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_official_client_creates_gets_updates_deletes_and_iterates_every_page() {
    let Some(modules) = node_modules() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "@vonage/applications is missing: run scripts/install-test-deps"
        );
        eprintln!("skipped: @vonage/applications is not installed (scripts/install-test-deps installs it)");
        return;
    };
    let calliope = Calliope::start(&[]);
    let (st, key) = calliope.call("POST", "/v1beta2/apikeys", json!({"role": "WORKSPACE_ADMIN"}));
    assert_eq!(st, 201, "{key}");
    let (id, secret) = (key["accessKeyId"].as_str().unwrap(), key["accessKeySecret"].as_str().unwrap());

    let more = 25;
    let seen = run_client(&calliope, &modules, id, secret, more);

    let created = &seen["created"];
    let app = created["id"].as_str().unwrap();
    assert_eq!(created["name"], "sdk first");
    assert_eq!(created["hasPrivateKey"], true, "{seen}");
    assert_eq!(created["hasPublicKey"], true, "{seen}");
    assert_eq!(seen["got"]["id"], app);
    assert_eq!(seen["got"]["answer"], "https://example.com/answer");
    assert_eq!(seen["updated"]["name"], "sdk renamed");

    // Every page, each application once: the first, renamed, and the rest.
    let first = &seen["firstPage"];
    assert_eq!(first["count"], 10, "{seen}");
    assert_eq!(first["totalItems"], more + 1, "{seen}");
    assert_eq!(first["totalPages"], (more + 1).div_ceil(10), "{seen}");
    let listed: Vec<&str> = seen["listed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let unique: HashSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), more + 1, "listAllApplications saw {} applications", listed.len());
    assert_eq!(unique.len(), listed.len(), "an application listed twice");
    assert!(unique.contains(app));
    for made in seen["more"].as_array().unwrap() {
        assert!(unique.contains(made.as_str().unwrap()), "{made} was not listed");
    }

    // Deleted for the client, and for every other dialect.
    assert_eq!(seen["afterDelete"], 404, "{seen}");
    let (st, _) = calliope.call("GET", &format!("/v1beta2/applications/{app}"), Value::Null);
    assert_eq!(st, 404);
    let (st, body) = calliope.call("GET", "/v1beta2/applications?pageSize=100", Value::Null);
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), more);
}
