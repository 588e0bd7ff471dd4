//! Graceful shutdown: SIGTERM with 20 answered calls sends BYE on every
//! leg (20 at the callers, 20 at the callee), writes every call record,
//! and refuses new calls meanwhile.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::calliope::{free_port, Sipp};
use support::calls::{callee_with, calliope, wait, CALLEE, CALLER};

const CALLS: usize = 20;

#[test]
fn sigterm_with_live_calls_sends_bye_on_every_leg_and_writes_every_record() {
    // Two port pairs per call.
    let rtp = support::calliope::free_range(4 * CALLS as u16 + 8);
    let c = calliope(&["--rtp-ports", &format!("{}-{}", rtp.0, rtp.1)]);
    let n = CALLS.to_string();
    let uas = callee_with(&c, "uas_answer.xml", free_port(), &["-m", &n]);
    let media = free_port().to_string();
    // Each caller call waits for Calliope's BYE (and answers it).
    let uac = Sipp::new("uac_hungup.xml", c.sip)
        .args(&["-s", CALLEE, "-au", CALLER, "-ap", "caller-pw", "-key", "caller", CALLER, "-mp", &media])
        .args(&["-m", &n, "-l", &n, "-r", "10"])
        .spawn();
    let mut active = 0;
    for _ in 0..400 {
        let legs = c.pbx_get("/api/channels").1.as_array().cloned().unwrap_or_default();
        active = legs.iter().filter(|l| l["callstate"] == "ACTIVE").count();
        if active == 2 * CALLS {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let legs = c.pbx_get("/api/channels").1.as_array().cloned().unwrap_or_default();
    let states: Vec<String> = legs.iter().map(|l| format!("{}:{}", l["direction"], l["callstate"])).collect();
    assert_eq!(active, 2 * CALLS, "every call is answered before the stop: {states:?}");

    let c = c.restart(&[]);
    wait(uac, "every caller got BYE and answered it");
    wait(uas, "the callee got BYE on each of its legs");
    let (st, body) = c.call("GET", "/v1beta2/calls?pageSize=100", Value::Null);
    assert_eq!(st, 200, "{body}");
    let items = crate::support::calls::legs_of(&body);
    assert_eq!(items.len(), 2 * CALLS, "one record per leg, all written before the exit: {body}");
    assert!(items.iter().all(|r| r["status"] == "NORMAL_CLEARING"), "{items:?}");
}
