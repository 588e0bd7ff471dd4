//! The CPU of the server's digest check on a REGISTER with credentials,
//! as the engine runs it: [`Authenticator::admit`] then
//! [`Authenticator::verify_admitted`] against the account's password, one
//! fresh nonce per registration. Counted in instructions, not time: run
//! the ignored test under `perf stat -e instructions` twice, with
//! `DIGEST_COST_VERIFY=0` (the challenges and client answers only) and
//! `=1` (the same, then the checks), and divide the difference by
//! `DIGEST_COST_CHECKS` (default 100 000). See benches/sip/README.md.
//!
//! Run by default, it checks a small batch is all accepted.

use sip::digest::{
    Algorithm, Answer, AuthConfig, Authenticator, Credentials, Outcome, Secret, NONCE_RANDOM_BYTES,
};
use sip::{Method, Uri};

const REALM: &str = "calliope.example.com";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `checks` registrations: each challenged with a new nonce and answered;
/// checked when `verify`. Gives how many were accepted.
fn run(checks: usize, verify: bool) -> usize {
    // MD5, as SIPp answers in benches/sip.
    let config = AuthConfig { algorithms: vec![Algorithm::Md5], ..AuthConfig::default() };
    let mut auth = Authenticator::new(REALM, b"bench secret", config);
    let uri = Uri::parse("sip:calliope.example.com").expect("uri");
    let mut random = [0u8; NONCE_RANDOM_BYTES];
    let answered: Vec<Credentials> = (0..checks)
        .map(|i| {
            random[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let challenge = auth.challenges(1_000 + i as u64 / 100, random, false).remove(0);
            let answer = Answer {
                username: "1001",
                password: "s3cret",
                method: &Method::Register,
                uri: "sip:calliope.example.com",
                cnonce: "c1ient",
                nc: 1,
            };
            Credentials::answer(&challenge, &answer)
        })
        .collect();
    if !verify {
        return 0;
    }
    let now = 1_000 + checks as u64 / 100 + 1;
    answered
        .iter()
        .filter(|creds| {
            let outcome = match auth.admit(creds, now) {
                Ok(admitted) => auth.verify_admitted(
                    admitted,
                    creds,
                    &Method::Register,
                    &uri,
                    Secret::Password("s3cret"),
                    now,
                ),
                Err(outcome) => outcome,
            };
            outcome == Outcome::Ok
        })
        .count()
}

#[test]
fn every_fresh_registration_is_accepted() {
    assert_eq!(run(1_000, true), 1_000);
}

#[test]
#[ignore = "a measurement: run under perf stat (see the file's doc)"]
fn cost() {
    let checks = env_or("DIGEST_COST_CHECKS", 100_000);
    let verify = env_or("DIGEST_COST_VERIFY", 1) != 0;
    let accepted = run(checks, verify);
    if verify {
        assert_eq!(accepted, checks);
    }
}
