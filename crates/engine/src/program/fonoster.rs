//! Fonoster commands: `{"commands": [{"say": {...}}, {"hangup": {}}]}`.
//!
//! Each command is an object with one key, the verb, whose value is an
//! object of its options (names as the Fonoster SDK writes them). Every
//! duration is in milliseconds, as the seed's examples are. Defaults:
//! gather `source` `speech,dtmf`, `timeout` 4000, `finishOnKey` `#`;
//! record `maxDuration` 3600000, `maxSilence` (alias `timeout`) 5000,
//! `beep` true, `finishOnKey` `#`; dial `timeout` 30000. A result goes to
//! `actionUrl` (default: the application's endpoint) as a POST, and its
//! answer replaces the rest of the commands.

use std::time::Duration;

use serde_json::Value;

use super::error::{check_size, ParseError, MAX_VERBS};
use super::json::{dtmf_digits, dtmf_key, Obj};
use super::sound::Sound;
use super::verb::{
    Dial, Direction, Gather, Hook, Inputs, Method, Play, Record, RejectReason, Repeat, Say, Stream, Target,
    Verb,
};

/// Parses a Fonoster answer body.
pub fn parse(input: &[u8]) -> Result<Vec<Verb>, ParseError> {
    check_size(input)?;
    let json: Value =
        serde_json::from_slice(input).map_err(|e| ParseError::Syntax(format!("not JSON: {e}")))?;
    parse_value(&json)
}

/// Parses a Fonoster answer already read as JSON.
pub fn parse_value(json: &Value) -> Result<Vec<Verb>, ParseError> {
    let top = Obj::new("$".into(), json)
        .map_err(|_| ParseError::Syntax("expected {\"commands\": [...]}".into()))?;
    let Some(commands) = top.array("commands")? else {
        return Err(ParseError::Syntax("expected {\"commands\": [...]}".into()));
    };
    if commands.len() > MAX_VERBS {
        return Err(ParseError::TooManyVerbs { limit: MAX_VERBS });
    }
    commands.iter().enumerate().map(|(i, c)| command(&format!("commands[{i}]"), c)).collect()
}

fn command(path: &str, value: &Value) -> Result<Verb, ParseError> {
    let outer = Obj::new(path.to_owned(), value)?;
    let mut keys = outer.map.iter();
    let (name, body) = match (keys.next(), keys.next()) {
        (Some(kv), None) => kv,
        _ => return Err(ParseError::invalid(path, "must hold exactly one verb")),
    };
    let empty = Value::Object(Default::default());
    let body = if body.is_null() { &empty } else { body };
    let o = Obj::new(format!("{path}.{name}"), body)?;
    let hook = || -> Result<Option<Hook>, ParseError> {
        Ok(Some(Hook {
            url: o.str("actionUrl")?.map(str::to_owned),
            method: Method::Post,
            replaces: true,
            on_empty: true,
        }))
    };
    Ok(match name.as_str() {
        "answer" => Verb::Answer,
        "hangup" => Verb::Hangup,
        "say" => Verb::Say(Say {
            text: o.req_str("text")?.to_owned(),
            voice: o.str("voice")?.map(str::to_owned),
            language: o.str("language")?.map(str::to_owned),
            repeat: Repeat::Times(1),
            barge_in: false,
        }),
        "play" => Verb::Play(Play {
            sound: Sound::from_url(&o.at("url"), o.req_str("url")?)?,
            repeat: Repeat::Times(1),
            barge_in: false,
        }),
        "playDtmf" => Verb::PlayDtmf { digits: dtmf_digits(&o.at("digits"), o.req_str("digits")?)? },
        "gather" => {
            let inputs = match o.str("source")?.unwrap_or("speech,dtmf") {
                "dtmf" => Inputs { dtmf: true, speech: false },
                "speech" => Inputs { dtmf: false, speech: true },
                "speech,dtmf" | "dtmf,speech" => Inputs { dtmf: true, speech: true },
                other => {
                    return Err(ParseError::invalid(
                        &o.at("source"),
                        format!("must be dtmf, speech or speech,dtmf, not {other:?}"),
                    ))
                }
            };
            let timeout = o.millis("timeout")?.unwrap_or(Duration::from_millis(4000));
            Verb::Gather(Gather {
                inputs,
                prompts: Vec::new(),
                barge_in: true,
                timeout,
                inter_digit_timeout: timeout,
                finish_on_key: Some(match o.str("finishOnKey")? {
                    Some(k) => dtmf_key(&o.at("finishOnKey"), k)?,
                    None => '#',
                }),
                max_digits: o.int("maxDigits", 1, 128)?.map(|n| n as u32),
                hints: o.strings("hints")?,
                language: o.str("language")?.map(str::to_owned),
                end_on_silence: None,
                max_speech: None,
                hook: hook()?,
            })
        }
        "record" => Verb::Record(Record {
            max_duration: o.millis("maxDuration")?.unwrap_or(Duration::from_secs(3600)),
            max_silence: Some(match o.millis("maxSilence")? {
                Some(d) => d,
                None => o.millis("timeout")?.unwrap_or(Duration::from_secs(5)),
            }),
            beep: o.bool("beep")?.unwrap_or(true),
            finish_on_key: match o.str("finishOnKey")? {
                Some(k) => dtmf_key(&o.at("finishOnKey"), k)?.to_string(),
                None => "#".into(),
            },
            background: false,
            hook: hook()?,
        }),
        "dial" => Verb::Dial(Dial {
            targets: vec![target(o.req_str("destination")?.trim())],
            timeout: o.millis("timeout")?.unwrap_or(Duration::from_secs(30)),
            from: o.str("from")?.map(str::to_owned),
            record: o.bool("record")?.unwrap_or(false) || o.str("recordDirection")?.is_some(),
            time_limit: None,
            hook: hook()?,
        }),
        "mute" => Verb::Mute(direction(&o)?),
        "unmute" => Verb::Unmute(direction(&o)?),
        "stream" => Verb::Stream(Stream {
            url: ws_url(&o.at("url"), o.req_str("url")?)?,
            sample_rate: match o.int("sampleRate", 8000, 16000)? {
                None | Some(8000) => 8000,
                Some(16000) => 16000,
                Some(_) => return Err(ParseError::invalid(&o.at("sampleRate"), "must be 8000 or 16000")),
            },
            metadata: o.map.get("metadata").cloned().unwrap_or(Value::Null),
            background: true,
        }),
        "pause" => Verb::Wait(o.millis("time")?.unwrap_or(Duration::from_secs(1))),
        "redirect" => Verb::Redirect(Hook::post(Some(o.req_str("url")?.to_owned()))),
        "reject" => Verb::Reject(match o.str("reason")? {
            None | Some("rejected") => RejectReason::Rejected,
            Some("busy") => RejectReason::Busy,
            Some(other) => {
                return Err(ParseError::invalid(
                    &o.at("reason"),
                    format!("must be rejected or busy, not {other:?}"),
                ))
            }
        }),
        other => return Err(ParseError::UnknownVerb { path: path.to_owned(), name: other.to_owned() }),
    })
}

/// A dial destination: a SIP URI, a number, or an agent's user name.
pub(crate) fn target(dest: &str) -> Target {
    if dest.starts_with("sip:") || dest.starts_with("sips:") {
        Target::Sip { uri: dest.to_owned(), headers: Vec::new() }
    } else if !dest.is_empty() && dest.trim_start_matches('+').chars().all(|c| c.is_ascii_digit()) {
        Target::Number(dest.to_owned())
    } else {
        Target::Agent(dest.to_owned())
    }
}

/// A `ws://` or `wss://` URL.
pub(crate) fn ws_url(path: &str, url: &str) -> Result<String, ParseError> {
    let url = url.trim();
    if url.starts_with("ws://") || url.starts_with("wss://") {
        Ok(url.to_owned())
    } else {
        Err(ParseError::invalid(path, format!("must be a ws:// or wss:// URL, not {url:?}")))
    }
}

fn direction(o: &Obj<'_>) -> Result<Direction, ParseError> {
    match o.str("direction")? {
        None | Some("BOTH") | Some("both") => Ok(Direction::Both),
        Some("IN") | Some("in") => Ok(Direction::In),
        Some("OUT") | Some("out") => Ok(Direction::Out),
        Some(other) => {
            Err(ParseError::invalid(&o.at("direction"), format!("must be IN, OUT or BOTH, not {other:?}")))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The seed's example answer.
    const SEED: &str = r##"{
      "commands": [
        { "say": { "text": "Hello, welcome to our service!" } },
        { "gather": { "source": "speech", "timeout": 5000, "finishOnKey": "#" } },
        { "hangup": {} }
      ]
    }"##;

    #[test]
    fn seed_example_parses_with_defaults() {
        let verbs = parse(SEED.as_bytes()).unwrap();
        assert_eq!(verbs.len(), 3);
        let Verb::Say(say) = &verbs[0] else { panic!("{verbs:?}") };
        assert_eq!(say.text, "Hello, welcome to our service!");
        assert_eq!(say.voice, None);
        let Verb::Gather(g) = &verbs[1] else { panic!("{verbs:?}") };
        assert_eq!(g.inputs, Inputs { dtmf: false, speech: true });
        assert_eq!(g.timeout, Duration::from_millis(5000));
        assert_eq!(g.finish_on_key, Some('#'));
        assert_eq!(g.hook, Some(Hook::post(None)));
        assert_eq!(verbs[2], Verb::Hangup);
    }

    #[test]
    fn seed_command_examples_parse() {
        let body = r##"{"commands":[
          {"answer":{}},
          {"say":{"text":"Hello world","voice":"en-US-Wavenet-D"}},
          {"play":{"url":"https://example.com/audio.wav"}},
          {"playDtmf":{"digits":"1234#"}},
          {"gather":{"source":"speech","timeout":5000,"finishOnKey":"#","hints":["yes","no","help"]}},
          {"record":{"timeout":30000,"finishOnKey":"#","maxDuration":60000}},
          {"dial":{"destination":"+1234567890","timeout":30000}},
          {"mute":{}}, {"unmute":{"direction":"IN"}},
          {"stream":{"url":"ws://127.0.0.1:9000/audio","sampleRate":16000}},
          {"pause":{"time":1500}},
          {"redirect":{"url":"https://example.com/next"}},
          {"hangup":{}}
        ]}"##;
        let verbs = parse(body.as_bytes()).unwrap();
        assert_eq!(verbs.len(), 13);
        let Verb::Say(say) = &verbs[1] else { panic!() };
        assert_eq!(say.voice.as_deref(), Some("en-US-Wavenet-D"));
        assert_eq!(
            verbs[2],
            Verb::Play(Play {
                sound: Sound::Url("https://example.com/audio.wav".into()),
                repeat: Repeat::Times(1),
                barge_in: false
            })
        );
        let Verb::Gather(g) = &verbs[4] else { panic!() };
        assert_eq!(g.hints, ["yes", "no", "help"]);
        let Verb::Record(r) = &verbs[5] else { panic!() };
        assert_eq!(r.max_duration, Duration::from_secs(60));
        assert_eq!(r.max_silence, Some(Duration::from_secs(30)));
        assert!(r.beep);
        let Verb::Dial(d) = &verbs[6] else { panic!() };
        assert_eq!(d.targets, [Target::Number("+1234567890".into())]);
        assert_eq!(d.timeout, Duration::from_secs(30));
        assert_eq!(verbs[7], Verb::Mute(Direction::Both));
        assert_eq!(verbs[8], Verb::Unmute(Direction::In));
        let Verb::Stream(s) = &verbs[9] else { panic!() };
        assert_eq!((s.sample_rate, s.background), (16000, true));
        assert_eq!(verbs[10], Verb::Wait(Duration::from_millis(1500)));
        assert_eq!(verbs[11], Verb::Redirect(Hook::post(Some("https://example.com/next".into()))));
    }

    #[test]
    fn gather_defaults_take_both_inputs() {
        let verbs = parse(br#"{"commands":[{"gather":{}}]}"#).unwrap();
        let Verb::Gather(g) = &verbs[0] else { panic!() };
        assert_eq!(g.inputs, Inputs { dtmf: true, speech: true });
        assert_eq!(g.timeout, Duration::from_millis(4000));
        assert_eq!(g.max_digits, None);
    }

    #[test]
    fn dial_destinations() {
        assert_eq!(
            target("sip:bob@example.com"),
            Target::Sip { uri: "sip:bob@example.com".into(), headers: vec![] }
        );
        assert_eq!(target("1001"), Target::Number("1001".into()));
        assert_eq!(target("alice"), Target::Agent("alice".into()));
    }

    #[test]
    fn garbage_and_wrong_shapes_are_clear_errors() {
        let err = |s: &str| parse(s.as_bytes()).unwrap_err().to_string();
        assert!(err("<html>").contains("not JSON"), "{}", err("<html>"));
        assert!(err("[]").contains("commands"));
        assert!(err(r#"{"commands":{}}"#).contains("commands"));
        assert_eq!(err(r#"{"commands":[{"dance":{}}]}"#), "commands[0]: unknown verb \"dance\"");
        assert_eq!(err(r#"{"commands":[{"say":{}}]}"#), "commands[0].say.text: is required");
        assert_eq!(
            err(r#"{"commands":[{"say":{"text":5}}]}"#),
            "commands[0].say.text: must be a string, not a number"
        );
        assert!(err(r#"{"commands":[{"gather":{"timeout":"5"}}]}"#).contains("commands[0].gather.timeout"));
        assert!(err(r#"{"commands":[{"gather":{"timeout":-1}}]}"#).contains("whole number"));
        assert!(err(r###"{"commands":[{"gather":{"finishOnKey":"##"}}]}"###).contains("one key"));
        assert!(err(r#"{"commands":[{"gather":{"source":"mind"}}]}"#).contains("source"));
        assert!(err(r#"{"commands":[{"say":{"text":"a"},"hangup":{}}]}"#).contains("exactly one verb"));
        assert!(err(r#"{"commands":[{"stream":{"url":"http://x"}}]}"#).contains("ws://"));
        assert!(err(r#"{"commands":[{"playDtmf":{"digits":"12x"}}]}"#).contains("not a DTMF key"));
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = format!(r#"{{"commands":[{{"say":{{"text":"{}"}}}}]}}"#, "a".repeat(300_000));
        assert!(matches!(parse(big.as_bytes()), Err(ParseError::TooLarge { .. })));
        let many = format!(r#"{{"commands":[{}]}}"#, vec![r#"{"hangup":{}}"#; MAX_VERBS + 1].join(","));
        assert_eq!(parse(many.as_bytes()), Err(ParseError::TooManyVerbs { limit: MAX_VERBS }));
    }
}
