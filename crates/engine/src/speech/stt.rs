//! Speech to text: the [`Stt`] trait and pocketsphinx
//! (`pocketsphinx_continuous` from Debian's `pocketsphinx`, the model from
//! `pocketsphinx-en-us`). Hints become a JSGF grammar of those phrases,
//! which is what makes short answers recognisable (TELEPHONY.md "Media");
//! without hints the general language model is used.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;

use super::process::{run, Run};
use super::SpeechError;

/// What was heard.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The words, lower case, separated by single spaces; empty when
    /// nothing was recognised.
    pub text: String,
    /// From 0 to 1.
    pub confidence: f32,
}

/// A speech-to-text engine.
#[async_trait]
pub trait Stt: Send + Sync + std::fmt::Debug {
    /// The engine's name, e.g. `pocketsphinx`.
    fn name(&self) -> &'static str;

    /// What is said in `samples` (mono, at `rate` Hz; engines that want
    /// another rate resample), preferring the phrases in `hints`.
    async fn recognize(
        &self,
        samples: &[i16],
        rate: u32,
        hints: &[String],
    ) -> Result<Transcript, SpeechError>;
}

/// The most hints used, and the longest one.
const MAX_HINTS: usize = 200;
const MAX_HINT_LEN: usize = 100;
/// The longest audio recognised at once: 60 s at 16 kHz.
const MAX_SAMPLES: usize = 60 * 16_000;

/// pocketsphinx, run on a WAV file (and a grammar file) written to a work
/// directory and removed afterwards; at most [`super::MAX_PROCESSES`] at
/// once.
#[derive(Debug)]
pub struct Pocketsphinx {
    program: PathBuf,
    model: PathBuf,
    work: PathBuf,
    timeout: Duration,
    words: OnceLock<HashSet<String>>,
    slots: tokio::sync::Semaphore,
}

/// Removes a file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Pocketsphinx {
    /// `program` with the model directory `model` (holding `en-us/`,
    /// `cmudict-en-us.dict` and `en-us.lm.bin`), work files in `work`.
    pub fn new(
        program: impl Into<PathBuf>,
        model: impl Into<PathBuf>,
        work: impl Into<PathBuf>,
        timeout: Duration,
    ) -> Self {
        Pocketsphinx {
            program: program.into(),
            model: model.into(),
            work: work.into(),
            timeout,
            words: OnceLock::new(),
            slots: tokio::sync::Semaphore::new(super::MAX_PROCESSES),
        }
    }

    /// Debian's model directory.
    pub fn debian_model() -> PathBuf {
        PathBuf::from("/usr/share/pocketsphinx/model/en-us")
    }

    fn dict(&self) -> PathBuf {
        self.model.join("cmudict-en-us.dict")
    }

    /// The words of the dictionary, read once.
    async fn words(&self) -> Result<&HashSet<String>, SpeechError> {
        if let Some(w) = self.words.get() {
            return Ok(w);
        }
        let text = tokio::fs::read_to_string(self.dict()).await.map_err(|e| SpeechError::EngineMissing {
            engine: "pocketsphinx",
            path: format!("{} ({e})", self.dict().display()),
        })?;
        let words = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|w| w.split('(').next().unwrap_or(w).to_owned())
            .collect();
        Ok(self.words.get_or_init(|| words))
    }

    /// The hints the grammar can hold: lower case, plain words all in the
    /// dictionary; others are dropped.
    async fn usable_hints(&self, hints: &[String]) -> Result<Vec<String>, SpeechError> {
        let mut out: Vec<String> = Vec::new();
        for hint in hints.iter().take(MAX_HINTS) {
            if hint.len() > MAX_HINT_LEN {
                continue;
            }
            let words: Vec<String> = hint
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
            if words.is_empty()
                || words.iter().any(|w| !w.chars().all(|c| c.is_ascii_lowercase() || c == '\''))
            {
                continue;
            }
            let dict = self.words().await?;
            if words.iter().all(|w| dict.contains(w)) {
                let phrase = words.join(" ");
                if !out.contains(&phrase) {
                    out.push(phrase);
                }
            } else {
                tracing::debug!(hint, "a speech hint has words pocketsphinx does not know; dropped");
            }
        }
        Ok(out)
    }
}

/// A JSGF grammar accepting exactly one of `phrases`.
fn grammar(phrases: &[String]) -> String {
    format!("#JSGF V1.0;\ngrammar hints;\npublic <hint> = {};\n", phrases.join(" | "))
}

fn is_filler(word: &str) -> bool {
    word.starts_with('<') || word.starts_with('[') || word.starts_with('+') || word == "(NULL)"
}

/// Reads pocketsphinx's `-time yes` output: hypothesis lines, and per
/// word `word start end confidence`.
fn parse_output(out: &str) -> Transcript {
    let mut words = Vec::new();
    let mut confs = Vec::new();
    let mut hyps = Vec::new();
    for line in out.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let timed =
            parts.len() == 4 && parts.get(1..).is_some_and(|p| p.iter().all(|x| x.parse::<f64>().is_ok()));
        match (timed, parts.first()) {
            (true, Some(word)) => {
                if !is_filler(word) {
                    words.push(word.split('(').next().unwrap_or(word).to_owned());
                    confs.push(parts.get(3).and_then(|c| c.parse::<f32>().ok()).unwrap_or(0.0));
                }
            }
            (false, Some(_)) => hyps.push(line.trim().to_owned()),
            (_, None) => {}
        }
    }
    if words.is_empty() {
        let text = hyps.join(" ");
        let confidence = if text.is_empty() { 0.0 } else { 0.5 };
        return Transcript { text, confidence };
    }
    let confidence = (confs.iter().sum::<f32>() / confs.len() as f32).clamp(0.0, 1.0);
    Transcript { text: words.join(" "), confidence }
}

#[async_trait]
impl Stt for Pocketsphinx {
    fn name(&self) -> &'static str {
        "pocketsphinx"
    }

    async fn recognize(
        &self,
        samples: &[i16],
        rate: u32,
        hints: &[String],
    ) -> Result<Transcript, SpeechError> {
        if rate == 0 {
            return Err(SpeechError::BadRate(rate));
        }
        if samples.is_empty() {
            return Ok(Transcript { text: String::new(), confidence: 0.0 });
        }
        let at16k = media::resample(samples, rate, 16_000).map_err(|_| SpeechError::BadRate(rate))?;
        let at16k = at16k.get(..MAX_SAMPLES).unwrap_or(&at16k);
        let wav = media::wav::write(media::wav::Encoding::Pcm16, 16_000, at16k)
            .map_err(|e| SpeechError::Io(e.to_string()))?;
        let phrases = if hints.is_empty() { Vec::new() } else { self.usable_hints(hints).await? };

        tokio::fs::create_dir_all(&self.work).await.map_err(|e| SpeechError::Io(e.to_string()))?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let audio = TempFile(self.work.join(format!("stt-{id}.wav")));
        tokio::fs::write(&audio.0, &wav).await.map_err(|e| SpeechError::Io(e.to_string()))?;
        let model = |p: &str| -> std::ffi::OsString { self.model.join(p).into_os_string() };
        let mut args: Vec<std::ffi::OsString> = vec![
            "-infile".into(),
            audio.0.clone().into_os_string(),
            "-hmm".into(),
            model("en-us"),
            "-dict".into(),
            self.dict().into_os_string(),
            "-time".into(),
            "yes".into(),
        ];
        let _grammar = if phrases.is_empty() {
            args.extend(["-lm".into(), model("en-us.lm.bin")]);
            None
        } else {
            let g = TempFile(self.work.join(format!("stt-{id}.jsgf")));
            tokio::fs::write(&g.0, grammar(&phrases)).await.map_err(|e| SpeechError::Io(e.to_string()))?;
            args.extend(["-jsgf".into(), g.0.clone().into_os_string()]);
            Some(g)
        };
        if !Path::new(&model("en-us")).is_dir() {
            return Err(SpeechError::EngineMissing {
                engine: "pocketsphinx",
                path: self.model.join("en-us").display().to_string(),
            });
        }
        let out = run(Run {
            engine: self.name(),
            program: &self.program,
            args,
            stdin: Vec::new(),
            timeout: self.timeout,
            max_stdout: 1024 * 1024,
            slots: &self.slots,
        })
        .await?;
        Ok(parse_output(&String::from_utf8_lossy(&out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_with_times_gives_words_and_confidence() {
        let t = parse_output("sales please\n<s> 0.000 0.100 1.000000\nsales 0.1 0.5 0.8\nplease(2) 0.5 0.9 0.6\n<sil> 0.9 1.0 1.0\n");
        assert_eq!(t.text, "sales please");
        assert!((t.confidence - 0.7).abs() < 1e-6);
        assert_eq!(parse_output(""), Transcript { text: String::new(), confidence: 0.0 });
        assert_eq!(parse_output("hello\n").text, "hello");
    }

    #[test]
    fn a_grammar_lists_the_phrases() {
        let g = grammar(&["yes".into(), "sales please".into()]);
        assert!(g.starts_with("#JSGF V1.0;"));
        assert!(g.contains("public <hint> = yes | sales please;"));
    }
}
