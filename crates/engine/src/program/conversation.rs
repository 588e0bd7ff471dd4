//! Joining a conference room: what a member asks for ([`Conversation`],
//! from NCCO `conversation`, a route to a conference or an IVR's
//! conference action), the PBX room settings that fill it in
//! ([`Conversation::apply_settings`]), and the PIN asked before joining
//! ([`ask_pin`]).
//!
//! Room settings are `key=value` pairs separated by `;` or new lines (a
//! route's `body`, an IVR action's `body`): `pin` (digits the caller types,
//! `#` to finish), `pin_attempts` (default 3), `moh` (music on hold while
//! alone: a `tone_stream://` spec, a sound file path or an `http(s)` URL),
//! `enter_sound` / `exit_sound` (`tone_stream://` specs, `none` for
//! silence), `flags` (`mute`, `deaf`, `endconf`, `nomoh`, `wait-mod`
//! separated by `|` or `,`, as FreeSWITCH's member flags) and `record`
//! (`true`: the room is recorded while this member is in it).

use std::time::Duration;

use crate::conference::{ENTER_SOUND, EXIT_SOUND};

use super::channel::{Audio, BargeIn, Channel, ChannelError, Played};
use super::error::ParseError;
use super::interpreter::{DigitSpec, Runner};
use super::sound::Sound;
use super::verb::Repeat;

/// What a caller hears before typing the room's PIN.
pub const PIN_PROMPT: &str = "Please enter the conference PIN, then press the pound key.";
/// What a caller hears after a wrong PIN.
pub const BAD_PIN: &str = "That PIN is not correct.";
/// What a caller hears before being hung up after too many wrong PINs.
pub const PIN_GOODBYE: &str = "Too many wrong PINs. Goodbye.";
/// Played instead of [`PIN_PROMPT`] when no speech engine works: two
/// short high beeps.
pub const PIN_PROMPT_TONE: &str = "tone_stream://%(150,100,1400);%(150,400,1400)";
/// Played instead of [`BAD_PIN`] when no speech engine works: a low buzz.
pub const BAD_PIN_TONE: &str = "tone_stream://%(600,300,300)";
/// How long the caller has to start typing the PIN.
const PIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long between the PIN's digits.
const PIN_INTER_DIGIT: Duration = Duration::from_secs(5);
/// The longest PIN.
const MAX_PIN: usize = 32;
/// The most tries a room may give.
const MAX_PIN_ATTEMPTS: u32 = 10;

/// What a member asks for when joining a room.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The room's name (per workspace).
    pub name: String,
    /// The room starts (members hear each other) when this member joins;
    /// before, everyone hears music on hold.
    pub start_on_enter: bool,
    /// The room ends when this member leaves: everyone else leaves too.
    pub end_on_exit: bool,
    /// Music played while the member is alone or the room has not started;
    /// `None`: silence.
    pub music_on_hold: Option<Sound>,
    /// Others hear this member (NCCO `canSpeak`: an empty list is `false`).
    pub can_speak: bool,
    /// This member hears the room (NCCO `canHear`: an empty list is `false`).
    pub can_hear: bool,
    /// NCCO `canSpeak` naming legs: only these legs (call ids) hear this
    /// member; `None`: everybody.
    pub speak_to: Option<Vec<String>>,
    /// NCCO `canHear` naming legs: this member hears only these legs;
    /// `None`: everybody.
    pub hear_from: Option<Vec<String>>,
    /// Joins muted (unmuted through the API).
    pub mute: bool,
    /// Joins deaf (undeafened through the API).
    pub deaf: bool,
    /// Record the room (a WAV in the recordings folder).
    pub record: bool,
    /// The PIN to type before joining.
    pub pin: Option<String>,
    /// How many tries the PIN gets.
    pub pin_attempts: u32,
    /// Played to the room when the member joins (`tone_stream://`); `None`:
    /// silent.
    pub enter_sound: Option<String>,
    /// Played to the room when the member leaves.
    pub exit_sound: Option<String>,
}

impl Conversation {
    /// The defaults for room `name`: starts the room, speaks and hears,
    /// entry and exit tones, no PIN, no music on hold.
    pub fn named(name: &str) -> Conversation {
        Conversation {
            name: name.to_owned(),
            start_on_enter: true,
            end_on_exit: false,
            music_on_hold: None,
            can_speak: true,
            can_hear: true,
            speak_to: None,
            hear_from: None,
            mute: false,
            deaf: false,
            record: false,
            pin: None,
            pin_attempts: 3,
            enter_sound: Some(ENTER_SOUND.to_owned()),
            exit_sound: Some(EXIT_SOUND.to_owned()),
        }
    }

    /// Applies PBX room settings (see the module's documentation); `path`
    /// names where they came from, for errors.
    pub fn apply_settings(&mut self, path: &str, text: &str) -> Result<(), ParseError> {
        for pair in pairs(text) {
            let pair = pair.as_str();
            let Some((key, value)) = pair.split_once('=') else {
                return Err(ParseError::invalid(path, format!("{pair:?} is not key=value")));
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            let at = format!("{path}.{key}");
            match key.as_str() {
                "pin" => self.pin = Some(check_pin(&at, value)?).filter(|p| !p.is_empty()),
                "pin_attempts" => {
                    self.pin_attempts = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PIN_ATTEMPTS).contains(n))
                        .ok_or_else(|| ParseError::invalid(&at, "must be 1 to 10"))?
                }
                "moh" | "music_on_hold" => self.music_on_hold = sound(&at, value)?,
                "enter_sound" => self.enter_sound = tone(&at, value)?,
                "exit_sound" => self.exit_sound = tone(&at, value)?,
                "record" => self.record = truthy(&at, value)?,
                "flags" => {
                    for flag in value.split(['|', ',']).map(str::trim).filter(|f| !f.is_empty()) {
                        match flag {
                            "mute" => self.mute = true,
                            "deaf" => self.deaf = true,
                            "endconf" => self.end_on_exit = true,
                            "wait-mod" => self.start_on_enter = false,
                            "nomoh" => self.music_on_hold = None,
                            other => return Err(ParseError::invalid(&at, format!("unknown flag {other:?}"))),
                        }
                    }
                }
                other => return Err(ParseError::invalid(path, format!("unknown setting {other:?}"))),
            }
        }
        Ok(())
    }
}

impl Conversation {
    /// The room FreeSWITCH's `conference` app names in its arguments:
    /// `<room>[@<profile>][+[<pin>]][+flags{<flag>|<flag>}]` (the flags
    /// of [`Conversation::apply_settings`]). The profile is accepted and
    /// ignored: a room's settings come with what leads to it.
    pub fn from_conference_args(args: &str) -> Result<Conversation, ParseError> {
        let args = args.trim();
        let (room, rest) = match args.split_once('+') {
            Some((room, rest)) => (room, Some(rest)),
            None => (args, None),
        };
        let name = room.split_once('@').map_or(room, |(name, _profile)| name).trim();
        crate::conference::check_name(name).map_err(|e| ParseError::invalid("args", e.to_string()))?;
        let mut c = Conversation::named(name);
        for (i, part) in rest.into_iter().flat_map(|r| r.split('+')).enumerate() {
            let part = part.trim();
            if let Some(flags) = part.strip_prefix("flags{").and_then(|f| f.strip_suffix('}')) {
                c.apply_settings("args.flags", &format!("flags={flags}"))?;
            } else if i == 0 {
                c.pin = Some(check_pin("args.pin", part)?).filter(|p| !p.is_empty());
            } else {
                return Err(ParseError::invalid(
                    "args",
                    format!("{part:?}: expected room[@profile][+pin][+flags{{mute|deaf|endconf}}]"),
                ));
            }
        }
        Ok(c)
    }
}

/// The settings' keys.
const KEYS: [&str; 8] =
    ["pin", "pin_attempts", "moh", "music_on_hold", "enter_sound", "exit_sound", "record", "flags"];

/// The `key=value` pairs of settings: split at new lines, and at `;` when
/// a key follows (a `tone_stream://` spec keeps its own `;`).
fn pairs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut current: Option<String> = None;
        for piece in line.split(';') {
            let starts_key = piece
                .split_once('=')
                .is_some_and(|(k, _)| KEYS.contains(&k.trim().to_ascii_lowercase().as_str()));
            match current.as_mut() {
                Some(c) if !starts_key => {
                    c.push(';');
                    c.push_str(piece);
                }
                _ => {
                    if let Some(c) = current.take() {
                        out.push(c);
                    }
                    current = Some(piece.to_owned());
                }
            }
        }
        out.extend(current);
    }
    out.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect()
}

/// A PIN: up to 32 digits (`*` allowed).
pub fn check_pin(path: &str, pin: &str) -> Result<String, ParseError> {
    if pin.len() > MAX_PIN || !pin.chars().all(|c| c.is_ascii_digit() || c == '*') {
        return Err(ParseError::invalid(path, "a PIN is up to 32 digits"));
    }
    Ok(pin.to_owned())
}

fn truthy(path: &str, v: &str) -> Result<bool, ParseError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ParseError::invalid(path, "must be true or false")),
    }
}

fn sound(path: &str, v: &str) -> Result<Option<Sound>, ParseError> {
    Ok(match v {
        "" | "none" => None,
        v if v.starts_with("tone_stream://") => Some(checked_tone(path, v)?),
        v if v.starts_with("http://") || v.starts_with("https://") => Some(Sound::Url(v.to_owned())),
        v if v.starts_with('/') || v.starts_with("file://") => {
            let path = v.strip_prefix("file://").unwrap_or(v).to_owned();
            Some(Sound::Media(super::sound::MediaRef { id: None, path, kind: String::new() }))
        }
        _ => return Err(ParseError::invalid(path, "a tone_stream:// spec, a file path or an http(s) URL")),
    })
}

fn tone(path: &str, v: &str) -> Result<Option<String>, ParseError> {
    match v {
        "" | "none" => Ok(None),
        v if v.starts_with("tone_stream://") => Ok(Some(v.to_owned())).and_then(|t| {
            checked_tone(path, v)?;
            Ok(t)
        }),
        _ => Err(ParseError::invalid(path, "a tone_stream:// spec or none")),
    }
}

fn checked_tone(path: &str, spec: &str) -> Result<Sound, ParseError> {
    Sound::tone(spec).map_err(|e| ParseError::invalid(path, e.to_string()))
}

/// Asks for the room's PIN up to `pin_attempts` times: a prompt (speech,
/// or beeps without a speech engine), digits until `#` or as many as the
/// PIN has; a wrong one is told. `true` once the right PIN is typed;
/// after the last wrong one the caller hears [`PIN_GOODBYE`] and `false`
/// comes back (the caller hangs up the call).
pub(crate) async fn ask_pin<C: Channel>(
    r: &mut Runner<'_, C>,
    conversation: &Conversation,
) -> Result<bool, ChannelError> {
    let Some(pin) = conversation.pin.as_deref() else { return Ok(true) };
    let digits = u32::try_from(pin.len()).unwrap_or(u32::MAX);
    for _ in 0..conversation.pin_attempts.max(1) {
        let barged = match prompt(r, PIN_PROMPT, PIN_PROMPT_TONE, true).await? {
            Played::Digit(d) => Some(d),
            _ => None,
        };
        let spec = DigitSpec { finish_on_key: Some('#'), max_digits: Some(digits) };
        let got = r.collect(barged, &spec, true, None, PIN_TIMEOUT, PIN_INTER_DIGIT).await?;
        if got.digits == pin {
            return Ok(true);
        }
        prompt(r, BAD_PIN, BAD_PIN_TONE, false).await?;
    }
    prompt(r, PIN_GOODBYE, BAD_PIN_TONE, false).await?;
    Ok(false)
}

/// Speaks `text`, or plays `tone` when no speech engine works.
async fn prompt<C: Channel>(
    r: &mut Runner<'_, C>,
    text: &str,
    tone: &str,
    barge_in: bool,
) -> Result<Played, ChannelError> {
    let barge = BargeIn { dtmf: barge_in, speech: false };
    let say = Audio::Say { text: text.to_owned(), voice: None, language: None, engine: None };
    match r.play_audio(&say, Repeat::Times(1), barge).await {
        Err(ChannelError::Tts(e)) => {
            tracing::info!(error = %e, "no speech for a conference prompt: a tone instead");
            r.play_audio(&Audio::Sound(Sound::Tone(tone.to_owned())), Repeat::Times(1), barge).await
        }
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_in_pin_music_tones_and_flags() {
        let mut c = Conversation::named("sales");
        c.apply_settings(
            "body",
            "pin=4321; moh=tone_stream://%(1000,0,440);loops=-1\nflags=mute|endconf; exit_sound=none;record=yes",
        )
        .unwrap();
        assert_eq!(c.pin.as_deref(), Some("4321"));
        assert!(c.mute && c.end_on_exit && c.record && c.start_on_enter);
        assert_eq!(c.exit_sound, None);
        assert_eq!(c.enter_sound.as_deref(), Some(ENTER_SOUND));
        assert_eq!(c.music_on_hold, Some(Sound::Tone("tone_stream://%(1000,0,440);loops=-1".into())));
        c.apply_settings("body", "moh=/srv/moh.wav").unwrap();
        let Some(Sound::Media(m)) = &c.music_on_hold else { panic!() };
        assert_eq!(m.path, "/srv/moh.wav");
    }

    #[test]
    fn conference_app_args_name_the_room_its_pin_and_flags() {
        let c = Conversation::from_conference_args("sales").unwrap();
        assert_eq!((c.name.as_str(), c.pin.as_deref(), c.mute), ("sales", None, false));
        let c = Conversation::from_conference_args("sales@default+1234+flags{mute|endconf}").unwrap();
        assert_eq!((c.name.as_str(), c.pin.as_deref()), ("sales", Some("1234")));
        assert!(c.mute && c.end_on_exit);
        let c = Conversation::from_conference_args("board++flags{deaf}").unwrap();
        assert!(c.pin.is_none() && c.deaf);
        let err = |a: &str| Conversation::from_conference_args(a).unwrap_err().to_string();
        assert!(err("").contains("args"));
        assert!(err("r+12ab").contains("args.pin"));
        assert!(err("r+flags{loud}").contains("unknown flag"));
        assert!(err("r+1+2").contains("expected room"));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = |t: &str| Conversation::named("x").apply_settings("body", t).unwrap_err().to_string();
        assert!(err("pin=12a").contains("body.pin"));
        assert!(err("colour=red").contains("unknown setting"));
        assert!(err("flags=moderator").contains("unknown flag"));
        assert!(err("pin").contains("key=value"));
        assert!(err("pin_attempts=0").contains("1 to 10"));
        assert!(err("moh=music.wav").contains("moh"));
    }
}
