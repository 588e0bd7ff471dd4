//! Sounds: an uploaded or system media file, a `tone_stream://` spec, a URL
//! or text to speak.
//!
//! Stored sounds (IVR greetings, action arguments) come in several shapes;
//! [`Sound::parse_stored`] reads them all:
//! - a media reference `{"media_id":217,"media_path":"...","media_type":"UPLOAD"}`,
//!   as a JSON object or a JSON string holding one;
//! - a bare media id (`257`);
//! - `tone_stream://...` (checked by `media`'s parser);
//! - `http://` / `https://` URLs;
//! - a file path (`/...`, `$${sound_prefix}/...`, `phrase:...`, or a name
//!   ending in `.wav`/`.mp3`);
//! - anything else is text to speak.

use super::error::ParseError;

/// Something to play.
#[derive(Debug, Clone, PartialEq)]
pub enum Sound {
    /// A stored media file.
    Media(MediaRef),
    /// A `tone_stream://` spec (already checked to parse).
    Tone(String),
    /// A WAV (or other audio) over http(s).
    Url(String),
    /// Text spoken with the application's (or IVR's) TTS engine and voice.
    Tts(String),
}

/// A reference to stored media, as the PBX dialect writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// The media record's id, when known.
    pub id: Option<i64>,
    /// Its path as stored (may be empty when only the id is known).
    pub path: String,
    /// `UPLOAD`, `SYSTEM`, ... (empty when not said).
    pub kind: String,
}

/// The longest text a stored sound may hold.
const MAX_SOUND_LEN: usize = 8192;

impl Sound {
    /// A tone spec, checked.
    pub fn tone(spec: &str) -> Result<Sound, ParseError> {
        media::player::parse_tone_stream(spec)
            .map_err(|e| ParseError::invalid("tone_stream", e.to_string()))?;
        Ok(Sound::Tone(spec.trim().to_owned()))
    }

    /// A URL given to `play`: `tone_stream://`, http(s), or a stored media
    /// path/id (`media:<id>` or a bare number).
    pub fn from_url(field: &str, url: &str) -> Result<Sound, ParseError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(ParseError::invalid(field, "is empty"));
        }
        if url.len() > MAX_SOUND_LEN {
            return Err(ParseError::invalid(field, "is too long"));
        }
        if url.starts_with("tone_stream://") {
            return Sound::tone(url);
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(Sound::Url(url.to_owned()));
        }
        if let Some(id) = url.strip_prefix("media:").or(Some(url)).and_then(|s| s.parse::<i64>().ok()) {
            return Ok(Sound::Media(MediaRef { id: Some(id), path: String::new(), kind: String::new() }));
        }
        if looks_like_path(url) {
            return Ok(Sound::Media(MediaRef { id: None, path: url.to_owned(), kind: String::new() }));
        }
        Err(ParseError::invalid(field, format!("is not a playable URL: {url:?}")))
    }

    /// A stored sound field (see the module doc); `None` when empty.
    pub fn parse_stored(field: &str, value: &str) -> Result<Option<Sound>, ParseError> {
        let v = value.trim();
        if v.is_empty() || v == "null" || v == "\"\"" {
            return Ok(None);
        }
        if v.len() > MAX_SOUND_LEN {
            return Err(ParseError::invalid(field, "is too long"));
        }
        if v.starts_with('{') || v.starts_with('"') {
            let json: serde_json::Value = serde_json::from_str(v)
                .map_err(|e| ParseError::invalid(field, format!("is not valid JSON: {e}")))?;
            return Sound::from_json(field, &json);
        }
        if let Ok(id) = v.parse::<i64>() {
            return Ok(Some(Sound::Media(MediaRef {
                id: Some(id),
                path: String::new(),
                kind: String::new(),
            })));
        }
        if v.starts_with("tone_stream://") {
            return Sound::tone(v).map(Some);
        }
        if v.starts_with("http://") || v.starts_with("https://") {
            return Ok(Some(Sound::Url(v.to_owned())));
        }
        if looks_like_path(v) {
            return Ok(Some(Sound::Media(MediaRef { id: None, path: v.to_owned(), kind: String::new() })));
        }
        Ok(Some(Sound::Tts(v.to_owned())))
    }

    /// A sound given as JSON: a media reference object, a string (read as
    /// [`Sound::parse_stored`]), or a number (a media id).
    pub fn from_json(field: &str, json: &serde_json::Value) -> Result<Option<Sound>, ParseError> {
        use serde_json::Value as J;
        match json {
            J::Null => Ok(None),
            J::String(s) => Sound::parse_stored(field, s),
            J::Number(n) => match n.as_i64() {
                Some(id) => Ok(Some(Sound::Media(MediaRef {
                    id: Some(id),
                    path: String::new(),
                    kind: String::new(),
                }))),
                None => Err(ParseError::invalid(field, "is not a media id")),
            },
            J::Object(o) => {
                let id =
                    match o.get("media_id") {
                        None | Some(J::Null) => None,
                        Some(J::Number(n)) => n.as_i64(),
                        Some(J::String(s)) if s.is_empty() => None,
                        Some(J::String(s)) => Some(s.parse::<i64>().map_err(|_| {
                            ParseError::invalid(&format!("{field}.media_id"), "is not a number")
                        })?),
                        Some(_) => {
                            return Err(ParseError::invalid(&format!("{field}.media_id"), "is not a number"))
                        }
                    };
                let text = |name: &str| -> Result<String, ParseError> {
                    match o.get(name) {
                        None | Some(J::Null) => Ok(String::new()),
                        Some(J::String(s)) => Ok(s.clone()),
                        Some(_) => Err(ParseError::invalid(&format!("{field}.{name}"), "is not a string")),
                    }
                };
                let path = text("media_path")?;
                let kind = text("media_type")?;
                if id.is_none() && path.is_empty() {
                    return Err(ParseError::invalid(field, "names neither media_id nor media_path"));
                }
                if path.starts_with("tone_stream://") {
                    return Sound::tone(&path).map(Some);
                }
                Ok(Some(Sound::Media(MediaRef { id, path, kind })))
            }
            _ => Err(ParseError::invalid(field, "is not a sound")),
        }
    }
}

/// Whether a stored string names a file rather than text to speak.
fn looks_like_path(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.starts_with('/')
        || s.starts_with("$${")
        || s.starts_with("phrase:")
        || (!s.contains(' ') && [".wav", ".mp3", ".ogg", ".gsm"].iter().any(|ext| lower.ends_with(ext)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn media(id: Option<i64>, path: &str, kind: &str) -> Option<Sound> {
        Some(Sound::Media(MediaRef { id, path: path.into(), kind: kind.into() }))
    }

    #[test]
    fn stored_sounds_of_the_seed() {
        let s = r#"{"media_id":217,"media_path":"/usr/local/freeswitch/storage/upload/x.wav","media_type":"UPLOAD"}"#;
        assert_eq!(
            Sound::parse_stored("greet_long", s).unwrap(),
            media(Some(217), "/usr/local/freeswitch/storage/upload/x.wav", "UPLOAD")
        );
        // The same, as a JSON string holding the object (as PUT sends it).
        let quoted = serde_json::to_string(s).unwrap();
        assert_eq!(Sound::parse_stored("g", &quoted).unwrap(), Sound::parse_stored("g", s).unwrap());
        assert_eq!(Sound::parse_stored("args", "257").unwrap(), media(Some(257), "", ""));
        assert_eq!(
            Sound::parse_stored("args", "tone_stream://%(1000,0,640)").unwrap(),
            Some(Sound::Tone("tone_stream://%(1000,0,640)".into()))
        );
        assert_eq!(
            Sound::parse_stored("g", "$${sound_prefix}/ivr/ivr-generic_greeting.wav").unwrap(),
            media(None, "$${sound_prefix}/ivr/ivr-generic_greeting.wav", "")
        );
        assert_eq!(Sound::parse_stored("g", "").unwrap(), None);
        assert_eq!(
            Sound::parse_stored("g", "Welcome to Calliope").unwrap(),
            Some(Sound::Tts("Welcome to Calliope".into()))
        );
    }

    #[test]
    fn bad_stored_sounds_are_errors() {
        assert!(Sound::parse_stored("g", "tone_stream://%(oops)").is_err());
        assert!(Sound::parse_stored("g", "{\"media_type\":\"UPLOAD\"}").is_err());
        assert!(Sound::parse_stored("g", "{not json").is_err());
        assert!(Sound::parse_stored("g", "{\"media_id\":[1]}").is_err());
        assert!(Sound::from_url("url", "ftp://x").is_err());
        assert!(Sound::from_url("url", "").is_err());
    }
}
