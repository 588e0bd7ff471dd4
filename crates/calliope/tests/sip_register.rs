//! Registration with real SIPp peers: digest with a good and a bad
//! password, a nonce reused with a higher count, a stale nonce, and
//! unregistering.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use support::calliope::{assert_passed, Calliope, Sipp};

#[test]
fn register_with_digest_then_unregister() {
    let c = Calliope::start(&[]);
    c.agent("1001", "secret-1001");
    let out =
        Sipp::new("register.xml", c.sip).args(&["-s", "1001", "-au", "1001", "-ap", "secret-1001"]).run();
    assert_passed(&out, "register");
    let out =
        Sipp::new("unregister.xml", c.sip).args(&["-s", "1001", "-au", "1001", "-ap", "secret-1001"]).run();
    assert_passed(&out, "unregister");
}

#[test]
fn bad_password_is_forbidden() {
    let c = Calliope::start(&[]);
    c.agent("1002", "right");
    let out = Sipp::new("register_bad.xml", c.sip).args(&["-s", "1002", "-au", "1002", "-ap", "wrong"]).run();
    assert_passed(&out, "bad password");
}

#[test]
fn nonce_reused_with_a_higher_count_is_accepted() {
    let c = Calliope::start(&[]);
    c.agent("1003", "pw");
    let out =
        Sipp::new("register_refresh.xml", c.sip).args(&["-s", "1003", "-au", "1003", "-ap", "pw"]).run();
    assert_passed(&out, "refresh");
}

#[test]
fn stale_nonce_is_challenged_with_stale_true() {
    let c = Calliope::start(&["--sip-nonce-ttl", "1"]);
    c.agent("1004", "pw");
    let out = Sipp::new("register_stale.xml", c.sip).args(&["-s", "1004", "-au", "1004", "-ap", "pw"]).run();
    assert_passed(&out, "stale");
}
