//! baresip softphones as agents of Calliope: they register with digest,
//! call each other through it, and each hears the other's audio, relayed
//! by Calliope's media bridge.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::baresip::{self, has_tone, tone_report, tones_wav, Account, Baresip};
use support::calliope::Calliope;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn softphones_register_and_call_each_other_with_audio() {
    if !baresip::available() {
        return;
    }
    // baresip 1.0 fails on any SHA-256 challenge: offer MD5 only.
    let c = Calliope::start(&["--sip-digest", "md5"]);
    c.agent("1001", "alice-secret");
    c.agent("1002", "bob-secret");
    let tmp = tempfile::tempdir().unwrap();
    let caller_wav = tmp.path().join("caller.wav");
    std::fs::write(&caller_wav, tones_wav(&[(1000.0, 2000), (0.0, 20_000)])).unwrap();
    let callee_wav = tmp.path().join("callee.wav");
    std::fs::write(&callee_wav, tones_wav(&[(600.0, 30_000)])).unwrap();

    let callee = Baresip::start(
        &tmp.path().join("callee"),
        Account::new("1002").registering(c.sip, "1002", "bob-secret").auto_answer().playing(&callee_wav),
    )
    .unwrap();
    let caller = Baresip::start(
        &tmp.path().join("caller"),
        Account::new("1001").registering(c.sip, "1001", "alice-secret").playing(&caller_wav),
    )
    .unwrap();
    callee.wait_registered(10 * SECOND).unwrap();
    caller.wait_registered(10 * SECOND).unwrap();

    caller.dial(&format!("sip:1002@{}", c.sip)).unwrap();
    if let Err(e) = callee.wait_for("answering call", 10 * SECOND) {
        panic!("{e}\ncaller's log:\n{}", caller.log().join("\n"));
    }
    caller.wait_for("Call established", 10 * SECOND).unwrap();
    let (st, live) = c.pbx_get("/api/channels");
    assert_eq!(st, 200);
    assert_eq!(live.as_array().map(Vec::len), Some(2), "{live}");

    std::thread::sleep(Duration::from_millis(2500));
    caller.hangup().unwrap();
    caller.wait_for("terminated", 5 * SECOND).unwrap();
    callee.wait_for("terminated", 5 * SECOND).unwrap();

    let heard_by_callee = callee.received_wav(5 * SECOND).unwrap();
    let report = tone_report(&heard_by_callee.samples, heard_by_callee.sample_rate, 1000.0);
    assert!(has_tone(&heard_by_callee, 1000.0, 1500), "callee did not hear the caller: {report:?}");
    let heard_by_caller = caller.received_wav(5 * SECOND).unwrap();
    let report = tone_report(&heard_by_caller.samples, heard_by_caller.sample_rate, 600.0);
    assert!(has_tone(&heard_by_caller, 600.0, 2000), "caller did not hear the callee: {report:?}");

    // One record per leg.
    let (_, calls) = c.call("GET", "/v1beta2/calls", serde_json::Value::Null);
    assert_eq!(crate::support::calls::legs_of(&calls).len(), 2, "one call, two legs: {calls}");
    let (_, live) = c.pbx_get("/api/channels");
    assert_eq!(live, serde_json::json!([]));
}
