//! Which engine and voice an application gets: its `textToSpeech` and
//! `speechToText` configuration (`{"productRef": ..., "config": {"voice":
//! ...}}`), read against the engines this process has.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::tts::ProgramLimits;
use super::{CachedTts, Espeak, Flite, Pocketsphinx, SpeechError, Stt, Tts};

/// Where the local engines are and their limits.
#[derive(Debug, Clone)]
pub struct EnginesConfig {
    /// The espeak-ng program.
    pub espeak: PathBuf,
    /// The flite program.
    pub flite: PathBuf,
    /// The pocketsphinx program.
    pub pocketsphinx: PathBuf,
    /// pocketsphinx's model directory.
    pub pocketsphinx_model: PathBuf,
    /// Timeout and output cap of a TTS run.
    pub tts_limits: ProgramLimits,
    /// Timeout of an STT run.
    pub stt_timeout: Duration,
    /// Size bound of the TTS cache.
    pub cache_bytes: u64,
}

impl Default for EnginesConfig {
    fn default() -> Self {
        EnginesConfig {
            espeak: "espeak-ng".into(),
            flite: "flite".into(),
            pocketsphinx: "pocketsphinx_continuous".into(),
            pocketsphinx_model: Pocketsphinx::debian_model(),
            tts_limits: ProgramLimits::default(),
            stt_timeout: Duration::from_secs(30),
            cache_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The engines of this process, and the choice among them.
#[derive(Debug, Clone)]
pub struct Engines {
    espeak: Arc<dyn Tts>,
    flite: Arc<dyn Tts>,
    pocketsphinx: Arc<dyn Stt>,
}

/// A productRef without its `tts.`/`tts-`/`stt.`/`stt-` prefix, lower case.
fn product(config: Option<&Value>, kind: &str) -> String {
    let p = config
        .and_then(|c| c.get("productRef").or_else(|| c.get("product_ref")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    for sep in [".", "-"] {
        if let Some(rest) = p.strip_prefix(&format!("{kind}{sep}")) {
            return rest.to_owned();
        }
    }
    p
}

impl Engines {
    /// The local engines, TTS cached under `data_dir/tts-cache` and STT
    /// work files under `data_dir/stt-work`.
    pub fn local(cfg: &EnginesConfig, data_dir: &Path) -> Self {
        let cache = data_dir.join("tts-cache");
        let espeak: Arc<dyn Tts> = Arc::new(Espeak::new(&cfg.espeak, cfg.tts_limits.clone()));
        let flite: Arc<dyn Tts> = Arc::new(Flite::new(&cfg.flite, cfg.tts_limits.clone()));
        Engines {
            espeak: Arc::new(CachedTts::new(espeak, &cache, cfg.cache_bytes)),
            flite: Arc::new(CachedTts::new(flite, &cache, cfg.cache_bytes)),
            pocketsphinx: Arc::new(Pocketsphinx::new(
                &cfg.pocketsphinx,
                &cfg.pocketsphinx_model,
                data_dir.join("stt-work"),
                cfg.stt_timeout,
            )),
        }
    }

    /// The TTS engine and voice that `text_to_speech` (an application's
    /// configuration, or none) asks for: espeak-ng when it names none.
    pub fn tts(&self, text_to_speech: Option<&Value>) -> Result<(Arc<dyn Tts>, Option<String>), SpeechError> {
        let voice = text_to_speech
            .and_then(|c| c.get("config"))
            .and_then(|c| c.get("voice"))
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned);
        let engine = match product(text_to_speech, "tts").as_str() {
            "" | "espeak" | "espeak-ng" | "espeakng" => self.espeak.clone(),
            "flite" => self.flite.clone(),
            _ => {
                let name =
                    text_to_speech.and_then(|c| c.get("productRef")).and_then(Value::as_str).unwrap_or("");
                return Err(SpeechError::UnsupportedEngine(name.to_owned()));
            }
        };
        Ok((engine, voice))
    }

    /// The engine and voice for one `say`: `engine` (an IVR's
    /// `tts_engine`: `espeak-ng`, `flite`, with or without `tts.`) and
    /// `voice` when given, else the application's `text_to_speech`; with
    /// no voice anywhere, espeak-ng takes `language` (`en-US` becomes its
    /// voice `en-us`).
    pub fn for_say(
        &self,
        text_to_speech: Option<&Value>,
        engine: Option<&str>,
        voice: Option<&str>,
        language: Option<&str>,
    ) -> Result<(Arc<dyn Tts>, Option<String>), SpeechError> {
        let named = engine.filter(|e| !e.trim().is_empty()).map(|e| serde_json::json!({ "productRef": e }));
        let (tts, configured) = self.tts(named.as_ref().or(text_to_speech))?;
        let voice = voice.filter(|v| !v.trim().is_empty()).map(str::to_owned).or(configured);
        let voice = match (voice, tts.name(), language.filter(|l| !l.trim().is_empty())) {
            (Some(v), _, _) => Some(v),
            (None, "espeak-ng", Some(lang)) => Some(lang.trim().to_ascii_lowercase()),
            (None, _, _) => None,
        };
        Ok((tts, voice))
    }

    /// The STT engine that `speech_to_text` asks for: pocketsphinx when it
    /// names none.
    pub fn stt(&self, speech_to_text: Option<&Value>) -> Result<Arc<dyn Stt>, SpeechError> {
        match product(speech_to_text, "stt").as_str() {
            "" | "pocketsphinx" | "sphinx" => Ok(self.pocketsphinx.clone()),
            _ => {
                let name =
                    speech_to_text.and_then(|c| c.get("productRef")).and_then(Value::as_str).unwrap_or("");
                Err(SpeechError::UnsupportedEngine(name.to_owned()))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_configuration_picks_engine_and_voice() {
        let e = Engines::local(&EnginesConfig::default(), Path::new("/nonexistent"));
        let (t, v) = e.tts(None).unwrap();
        assert_eq!((t.name(), v), ("espeak-ng", None));
        let (t, v) = e.tts(Some(&json!({"productRef":"tts.flite","config":{"voice":"kal"}}))).unwrap();
        assert_eq!((t.name(), v.as_deref()), ("flite", Some("kal")));
        let (t, _) = e.tts(Some(&json!({"productRef":"tts-espeak-ng"}))).unwrap();
        assert_eq!(t.name(), "espeak-ng");
        let err = e.tts(Some(&json!({"productRef":"tts-google","config":{"voice":"x"}}))).unwrap_err();
        assert_eq!(err.cause(), "SPEECH_ENGINE_UNSUPPORTED");
        assert_eq!(e.stt(None).unwrap().name(), "pocketsphinx");
        assert_eq!(e.stt(Some(&json!({"productRef":"stt.pocketsphinx"}))).unwrap().name(), "pocketsphinx");
        assert!(e.stt(Some(&json!({"productRef":"stt-google"}))).is_err());
    }

    #[test]
    fn a_say_may_name_its_engine_voice_and_language() {
        let e = Engines::local(&EnginesConfig::default(), Path::new("/nonexistent"));
        let app = json!({"productRef":"tts.flite","config":{"voice":"kal"}});
        let (t, v) = e.for_say(Some(&app), None, None, Some("fr-FR")).unwrap();
        assert_eq!((t.name(), v.as_deref()), ("flite", Some("kal")));
        let (t, v) = e.for_say(Some(&app), Some("espeak-ng"), None, Some("fr-FR")).unwrap();
        assert_eq!((t.name(), v.as_deref()), ("espeak-ng", Some("fr-fr")));
        let (t, v) = e.for_say(None, None, Some("en-us+f3"), Some("de")).unwrap();
        assert_eq!((t.name(), v.as_deref()), ("espeak-ng", Some("en-us+f3")));
        let (_, v) = e.for_say(None, Some(""), None, None).unwrap();
        assert_eq!(v, None);
        assert!(e.for_say(None, Some("polly"), None, None).is_err());
    }
}
