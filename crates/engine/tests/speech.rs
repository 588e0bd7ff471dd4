//! The local speech engines as real subprocesses (Debian's espeak-ng,
//! flite and pocketsphinx, installed by scripts/install-test-deps):
//! espeak-ng speaks into PCM that is not silence, cached on disk so a
//! second request starts no process; pocketsphinx recognises espeak-ng's
//! words with those words as hints; a missing program, a hanging one and
//! one that writes without end give typed errors.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::speech::{
    CachedTts, Engines, EnginesConfig, Espeak, Flite, Pocketsphinx, ProgramLimits, SpeechError, Stt, Tts,
};
use serde_json::json;

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// A shell script at `dir/name` that runs `body`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn limits() -> ProgramLimits {
    ProgramLimits::new(Duration::from_secs(20), 8 * 1024 * 1024)
}

#[tokio::test]
async fn espeak_speaks_yes_and_the_second_time_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let wrapper = script(
        dir.path(),
        "espeak-counted",
        &format!("echo run >> {}\nexec espeak-ng \"$@\"", log.display()),
    );
    let tts =
        CachedTts::new(Arc::new(Espeak::new(&wrapper, limits())), dir.path().join("cache"), 10 * 1024 * 1024);

    let first = tts.synthesize("yes", None, 16_000).await.unwrap();
    assert_eq!(first.rate, 16_000);
    let secs = first.samples.len() as f64 / 16_000.0;
    assert!((0.2..2.0).contains(&secs), "{secs} s of speech");
    assert!(rms(&first.samples) > 500.0, "rms {}", rms(&first.samples));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);

    let second = tts.synthesize("yes", None, 16_000).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        1,
        "no new process for a cached prompt"
    );

    // Another rate, voice or text is another entry.
    let at8k = tts.synthesize("yes", None, 8000).await.unwrap();
    assert_eq!(at8k.rate, 8000);
    assert!((at8k.samples.len() as i64 - first.samples.len() as i64 / 2).abs() < 10);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);

    // Either plays as a source at 8 kHz.
    let source = first.to_source().unwrap();
    assert!((source.samples().len() as i64 - at8k.samples.len() as i64).abs() < 10);
    assert_eq!(at8k.to_source().unwrap().samples(), &at8k.samples[..]);
}

#[tokio::test]
async fn the_cache_stays_within_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Room for about one short word at 8 kHz (~10 KB each).
    let tts = CachedTts::new(Arc::new(Espeak::new("espeak-ng", limits())), &cache, 14_000);
    for word in ["one", "two", "three"] {
        tts.synthesize(word, None, 8000).await.unwrap();
    }
    let total: u64 = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    assert!(total <= 14_000, "{total} bytes cached");
    assert!(total > 0);
}

#[tokio::test]
async fn flite_speaks_too() {
    let pcm = Flite::new("flite", limits()).synthesize("hello there", Some("kal"), 8000).await.unwrap();
    assert_eq!(pcm.rate, 8000);
    assert!(pcm.samples.len() > 4000);
    assert!(rms(&pcm.samples) > 300.0);
    let e = Flite::new("flite", limits()).synthesize("hi", Some("/etc/passwd"), 8000).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_BAD_VOICE");
}

#[tokio::test]
async fn pocketsphinx_recognises_espeaks_words_with_hints() {
    let dir = tempfile::tempdir().unwrap();
    let espeak = Espeak::new("espeak-ng", limits());
    let stt = Pocketsphinx::new(
        "pocketsphinx_continuous",
        Pocketsphinx::debian_model(),
        dir.path(),
        Duration::from_secs(30),
    );
    // More hints than words tried, and one the dictionary lacks (dropped),
    // so that a right answer is not luck.
    let hints: Vec<String> =
        ["yes", "no", "help", "sales", "operator", "xqzzy"].iter().map(|s| (*s).to_owned()).collect();
    for word in ["yes", "help"] {
        let pcm = espeak.synthesize(word, None, 16_000).await.unwrap();
        // A little silence around the word, as a caller's audio has.
        let mut audio = vec![0i16; 4000];
        audio.extend_from_slice(&pcm.samples);
        audio.extend(std::iter::repeat_n(0i16, 8000));
        let t = stt.recognize(&audio, 16_000, &hints).await.unwrap();
        assert_eq!(t.text, word);
        assert!(t.confidence > 0.0 && t.confidence <= 1.0, "{}", t.confidence);
    }
    // The work files are gone.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_missing_engine_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-engine");
    let e = Espeak::new(&missing, limits()).synthesize("yes", None, 8000).await.unwrap_err();
    assert!(
        matches!(&e, SpeechError::EngineMissing { engine: "espeak-ng", path } if path.contains("no-such-engine"))
    );
    assert_eq!(e.cause(), "SPEECH_ENGINE_MISSING");
    let e = Flite::new(&missing, limits()).synthesize("yes", None, 8000).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_ENGINE_MISSING");
    let cached = CachedTts::new(Arc::new(Espeak::new(&missing, limits())), dir.path().join("c"), 1 << 20);
    assert_eq!(cached.synthesize("yes", None, 8000).await.unwrap_err().cause(), "SPEECH_ENGINE_MISSING");
    let stt = Pocketsphinx::new(&missing, Pocketsphinx::debian_model(), dir.path(), Duration::from_secs(5));
    let e = stt.recognize(&[100i16; 16_000], 16_000, &[]).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_ENGINE_MISSING");
    let stt = Pocketsphinx::new("pocketsphinx_continuous", &missing, dir.path(), Duration::from_secs(5));
    let e = stt.recognize(&[100i16; 16_000], 16_000, &["yes".to_owned()]).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_ENGINE_MISSING");

    // Through the application's configuration too.
    let cfg = EnginesConfig { espeak: missing.clone(), ..EnginesConfig::default() };
    let engines = Engines::local(&cfg, dir.path());
    let (tts, voice) = engines.tts(Some(&json!({"productRef": "tts.espeak", "config": {}}))).unwrap();
    let e = tts.synthesize("hello", voice.as_deref(), 8000).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_ENGINE_MISSING");
}

#[tokio::test]
async fn a_hanging_or_flooding_engine_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let hang = script(dir.path(), "hang", "exec sleep 30");
    let short = ProgramLimits::new(Duration::from_millis(300), 1024 * 1024);
    let started = Instant::now();
    let e = Espeak::new(&hang, short.clone()).synthesize("yes", None, 8000).await.unwrap_err();
    assert!(matches!(e, SpeechError::Timeout { ms: 300, .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let flood = script(dir.path(), "flood", "exec cat /dev/zero");
    let e = Espeak::new(&flood, short.clone()).synthesize("yes", None, 8000).await.unwrap_err();
    assert!(matches!(e, SpeechError::TooLarge { limit: 1_048_576, .. }), "{e}");

    let fails = script(dir.path(), "fails", "echo 'broken engine' >&2\nexit 3");
    let e = Espeak::new(&fails, short.clone()).synthesize("yes", None, 8000).await.unwrap_err();
    assert!(matches!(&e, SpeechError::Failed { stderr, .. } if stderr == "broken engine"), "{e}");

    let garbage = script(dir.path(), "garbage", "echo not a wav");
    let e = Espeak::new(&garbage, short).synthesize("yes", None, 8000).await.unwrap_err();
    assert!(matches!(e, SpeechError::BadOutput { .. }), "{e}");

    let e =
        Espeak::new("espeak-ng", limits()).synthesize("yes", Some("xx-nonexistent"), 8000).await.unwrap_err();
    assert_eq!(e.cause(), "SPEECH_BAD_VOICE");
}

#[tokio::test]
async fn engine_processes_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let running = dir.path().join("running");
    std::fs::create_dir(&running).unwrap();
    let peaks = dir.path().join("peaks");
    // Marks itself running, notes how many are, then speaks.
    let body = format!(
        "touch {r}/$$\nls {r} | wc -l >> {p}\nsleep 0.2\nrm {r}/$$\nexec espeak-ng \"$@\"",
        r = running.display(),
        p = peaks.display()
    );
    let program = script(dir.path(), "espeak-slow", &body);
    let tts = Arc::new(Espeak::new(&program, limits()));
    let mut all = Vec::new();
    for i in 0..(engine::speech::MAX_PROCESSES + 4) {
        let tts = tts.clone();
        all.push(tokio::spawn(async move { tts.synthesize(&format!("number {i}"), None, 8000).await }));
    }
    for h in all {
        h.await.unwrap().unwrap();
    }
    let peak: usize = std::fs::read_to_string(&peaks)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse::<usize>().unwrap())
        .max()
        .unwrap();
    assert!(peak <= engine::speech::MAX_PROCESSES, "{peak} engine processes at once");
    assert!(peak >= 2, "they do run side by side ({peak})");
}
