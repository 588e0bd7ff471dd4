//! Two baresip softphones call each other directly (no Calliope) and each
//! hears the other's tone: proves the harness in `support::baresip` that
//! the tests through Calliope reuse. Skipped when baresip is not installed,
//! except under `CI=true`.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::baresip::{self, has_tone, tone_report, tones_wav, Account, Baresip};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn direct_call_carries_audio_both_ways() {
    if !baresip::available() {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // The caller says 1 kHz for 2 s, then stays silent (the call would end
    // with its file); the callee answers with 600 Hz all along.
    let caller_wav = tmp.path().join("caller.wav");
    std::fs::write(&caller_wav, tones_wav(&[(1000.0, 2000), (0.0, 20_000)])).unwrap();
    let callee_wav = tmp.path().join("callee.wav");
    std::fs::write(&callee_wav, tones_wav(&[(600.0, 30_000)])).unwrap();

    let callee =
        Baresip::start(&tmp.path().join("callee"), Account::new("bob").auto_answer().playing(&callee_wav))
            .unwrap();
    let caller =
        Baresip::start(&tmp.path().join("caller"), Account::new("alice").playing(&caller_wav)).unwrap();

    caller.dial(&callee.direct_uri()).unwrap();
    callee.wait_for("answering call", 10 * SECOND).unwrap();
    caller.wait_for("Call established", 10 * SECOND).unwrap();
    callee.wait_for("Call established", 10 * SECOND).unwrap();
    let established = caller.wait_event("CALL_ESTABLISHED", SECOND).unwrap();
    assert_eq!(established["peeruri"], callee.direct_uri());

    std::thread::sleep(Duration::from_millis(2500));
    caller.hangup().unwrap();
    caller.wait_for("terminated", 5 * SECOND).unwrap();
    callee.wait_for("terminated", 5 * SECOND).unwrap();
    let closed = callee.wait_event("CALL_CLOSED", 5 * SECOND).unwrap();
    assert_eq!(closed["peeruri"], caller.direct_uri(), "{closed}");

    let heard_by_callee = callee.received_wav(5 * SECOND).unwrap();
    let heard_by_caller = caller.received_wav(5 * SECOND).unwrap();
    let report = tone_report(&heard_by_callee.samples, heard_by_callee.sample_rate, 1000.0);
    eprintln!("callee heard 1 kHz: {report:?}");
    assert!(has_tone(&heard_by_callee, 1000.0, 1500), "callee did not hear the caller: {report:?}");
    assert_eq!(tone_report(&heard_by_callee.samples, 8000, 600.0).tone_ms, 0, "callee heard itself");
    let report = tone_report(&heard_by_caller.samples, heard_by_caller.sample_rate, 600.0);
    eprintln!("caller heard 600 Hz: {report:?}");
    assert!(has_tone(&heard_by_caller, 600.0, 2000), "caller did not hear the callee: {report:?}");
    assert_eq!(tone_report(&heard_by_caller.samples, 8000, 1000.0).tone_ms, 0, "caller heard itself");

    let (caller_pid, callee_pid) = (caller.pid(), callee.pid());
    let caller_log = caller.stop();
    callee.stop();
    for pid in [caller_pid, callee_pid] {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "baresip {pid} still running");
    }
    assert!(caller_log.iter().any(|l| l.contains("ua: stop all")), "no graceful quit: {caller_log:#?}");
    eprintln!("direct call test took {:?}", started.elapsed());
}

#[test]
fn tone_report_finds_the_tone_and_only_it() {
    let wav = |segments: &[(f32, u32)]| media::wav::read(&tones_wav(segments)).unwrap();
    let tone = wav(&[(1000.0, 1000)]);
    let report = tone_report(&tone.samples, 8000, 1000.0);
    assert_eq!((report.duration_ms, report.tone_ms, report.longest_run_ms), (1000, 1000, 1000));
    assert!(!has_tone(&tone, 1200.0, 20));
    assert!(!has_tone(&tone, 500.0, 20));

    // 300 ms of 440 Hz (not on a 20 ms bin) between silences.
    let middle = wav(&[(0.0, 500), (440.0, 300), (0.0, 500)]);
    let report = tone_report(&middle.samples, 8000, 440.0);
    assert!((260..=320).contains(&report.longest_run_ms), "{report:?}");
    assert!(has_tone(&middle, 440.0, 250) && !has_tone(&middle, 440.0, 350));

    // Two runs: the longest counts, the total adds up.
    let split = wav(&[(1000.0, 400), (0.0, 200), (1000.0, 600)]);
    let report = tone_report(&split.samples, 8000, 1000.0);
    assert_eq!((report.tone_ms, report.longest_run_ms), (1000, 600));

    let silence = wav(&[(0.0, 1000)]);
    assert_eq!(tone_report(&silence.samples, 8000, 1000.0).tone_ms, 0);

    // White noise (xorshift) has energy everywhere, so no tone.
    let mut x = 0x2545_f491_u32;
    let noise: Vec<i16> = (0..8000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 16) as i16 / 2
        })
        .collect();
    assert_eq!(tone_report(&noise, 8000, 1000.0).tone_ms, 0);

    // A tone through G.711 is still found; a faint one is not.
    let law = media::wav::read(&media::wav::write(media::wav::Encoding::Ulaw, 8000, &tone.samples).unwrap())
        .unwrap();
    assert!(has_tone(&law, 1000.0, 1000));
    let faint: Vec<i16> = tone.samples.iter().map(|s| s / 100).collect();
    assert_eq!(tone_report(&faint, 8000, 1000.0).tone_ms, 0);
}

#[test]
fn account_lines() {
    let mut direct = Account::new("alice").auto_answer();
    direct.sip_port = 5070;
    assert_eq!(
        direct.accounts_line(),
        "<sip:alice@127.0.0.1:5070>;regint=0;answermode=auto;audio_codecs=pcmu,pcma;ptime=20"
    );
    let registrar = "127.0.0.1:5060".parse().unwrap();
    let agent = Account::new("1001").registering(registrar, "1001", "s3cret");
    assert_eq!(
        agent.accounts_line(),
        "<sip:1001@127.0.0.1:5060>;auth_user=1001;auth_pass=s3cret;regint=60;answermode=manual;\
         audio_codecs=pcmu,pcma;ptime=20"
    );
    let mut tenant = agent.clone();
    tenant.domain = Some("acme.example".into());
    assert!(tenant.accounts_line().starts_with("<sip:1001@acme.example>;outbound=\"sip:127.0.0.1:5060\";"));
}
