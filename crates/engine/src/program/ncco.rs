//! Vonage NCCO: a JSON array of actions, `[{"action": "talk", ...}]`.
//!
//! Options and defaults as Vonage documents them (seconds): `talk`
//! (`bargeIn` false, `loop` 1, 0 = until stopped); `stream` (`streamUrl`
//! array of one URL, `bargeIn`, `loop`); `input` (`type` dtmf/speech;
//! `dtmf.timeOut` 3, `dtmf.maxDigits` 4, `dtmf.submitOnHash` false;
//! `speech.startTimeout` 10, `speech.endOnSilence` 2, `speech.maxDuration`
//! 60, `speech.context` as hints); `record` (`endOnSilence`, `endOnKey`,
//! `timeOut` 7200, `beepStart` false; without any end condition it records
//! in the background while the NCCO goes on); `connect` (one endpoint:
//! `phone`, `sip`, `app`, `vbc`, or `websocket` as a media stream;
//! `timeout` 60, `limit` 7200, `from`; `eventType: synchronous` makes the
//! event's answer replace the NCCO); `notify` (`payload`, `eventUrl`);
//! `wait` (`timeout` 10); `conversation` (a conference room; see `conversation` below).
//! Results go to the action's `eventUrl` (default: the application's
//! event_url) with `eventMethod` (default POST).

use std::time::Duration;

use serde_json::Value;

use super::conversation::Conversation;
use super::error::{check_size, ParseError, MAX_VERBS};
use super::fonoster::ws_url;
use super::json::{dtmf_key, Obj};
use super::sound::Sound;
use super::verb::{Dial, Gather, Hook, Inputs, Method, Play, Record, Repeat, Say, Stream, Target, Verb};

/// Parses an NCCO body.
pub fn parse(input: &[u8]) -> Result<Vec<Verb>, ParseError> {
    check_size(input)?;
    let json: Value =
        serde_json::from_slice(input).map_err(|e| ParseError::Syntax(format!("not JSON: {e}")))?;
    parse_value(&json)
}

/// Parses an NCCO already read as JSON.
pub fn parse_value(json: &Value) -> Result<Vec<Verb>, ParseError> {
    let Value::Array(actions) = json else {
        return Err(ParseError::Syntax("an NCCO is a JSON array of actions".into()));
    };
    if actions.len() > MAX_VERBS {
        return Err(ParseError::TooManyVerbs { limit: MAX_VERBS });
    }
    actions.iter().enumerate().map(|(i, a)| action(&Obj::new(format!("[{i}]"), a)?)).collect()
}

fn action(o: &Obj<'_>) -> Result<Verb, ParseError> {
    let name = o.req_str("action")?;
    Ok(match name {
        "talk" => Verb::Say(Say {
            text: o.req_str("text")?.to_owned(),
            voice: o.str("voiceName")?.map(str::to_owned),
            language: o.str("language")?.map(str::to_owned),
            repeat: Repeat::from_count(o.int("loop", 0, 100)?.unwrap_or(1)),
            barge_in: o.bool("bargeIn")?.unwrap_or(false),
        }),
        "stream" => {
            let urls = o.strings("streamUrl")?;
            let [url] = urls.as_slice() else {
                return Err(ParseError::invalid(&o.at("streamUrl"), "must be an array of one URL"));
            };
            Verb::Play(Play {
                sound: Sound::from_url(&o.at("streamUrl"), url)?,
                repeat: Repeat::from_count(o.int("loop", 0, 100)?.unwrap_or(1)),
                barge_in: o.bool("bargeIn")?.unwrap_or(false),
            })
        }
        "input" => input(o)?,
        "record" => {
            let end_on_silence = o.secs("endOnSilence", 3.0, 10.0)?;
            let end_on_key = match o.str("endOnKey")? {
                Some(k) => Some(dtmf_key(&o.at("endOnKey"), k)?),
                None => None,
            };
            let time_out = o.secs("timeOut", 3.0, 7200.0)?;
            Verb::Record(Record {
                max_duration: time_out.unwrap_or(Duration::from_secs(7200)),
                max_silence: end_on_silence,
                beep: o.bool("beepStart")?.unwrap_or(false),
                finish_on_key: end_on_key.map(String::from).unwrap_or_default(),
                background: end_on_silence.is_none() && end_on_key.is_none() && time_out.is_none(),
                hook: Some(Hook { replaces: false, ..event_hook(o)? }),
            })
        }
        "connect" => connect(o)?,
        "notify" => {
            let payload =
                o.obj("payload")?.ok_or_else(|| ParseError::invalid(&o.at("payload"), "is required"))?;
            let hook = event_hook(o)?;
            if hook.url.is_none() {
                return Err(ParseError::invalid(&o.at("eventUrl"), "is required"));
            }
            Verb::Notify { payload: Value::Object(payload.map.clone()), hook }
        }
        "wait" => Verb::Wait(o.secs("timeout", 0.1, 7200.0)?.unwrap_or(Duration::from_secs(10))),
        "conversation" => conversation(o)?,
        other => return Err(ParseError::UnknownVerb { path: o.path.clone(), name: other.to_owned() }),
    })
}

/// `conversation`: `name` (required), `startOnEnter` (true), `endOnExit`
/// (false), `musicOnHoldUrl` (an array of one URL), `canSpeak` and
/// `canHear` (arrays of leg ids: `canSpeak` the legs that hear this
/// member, `canHear` the legs it hears; an empty array is nobody, a
/// missing one everybody), `mute` (false; not with `canSpeak`) and
/// `record` (false).
fn conversation(o: &Obj<'_>) -> Result<Verb, ParseError> {
    let name = o.req_str("name")?;
    crate::conference::check_name(name).map_err(|e| ParseError::invalid(&o.at("name"), e.to_string()))?;
    let mut c = Conversation::named(name);
    c.start_on_enter = o.bool("startOnEnter")?.unwrap_or(true);
    c.end_on_exit = o.bool("endOnExit")?.unwrap_or(false);
    c.record = o.bool("record")?.unwrap_or(false);
    c.mute = o.bool("mute")?.unwrap_or(false);
    let moh = o.strings("musicOnHoldUrl")?;
    c.music_on_hold = match moh.as_slice() {
        [] => None,
        [url] => Some(Sound::from_url(&o.at("musicOnHoldUrl"), url)?),
        _ => return Err(ParseError::invalid(&o.at("musicOnHoldUrl"), "must be an array of one URL")),
    };
    if o.array("canSpeak")?.is_some() {
        if o.bool("mute")?.is_some() {
            return Err(ParseError::invalid(&o.at("mute"), "cannot be given with canSpeak"));
        }
        let legs = leg_ids(o, "canSpeak")?;
        c.can_speak = !legs.is_empty();
        c.speak_to = Some(legs).filter(|l| !l.is_empty());
    }
    if o.array("canHear")?.is_some() {
        let legs = leg_ids(o, "canHear")?;
        c.can_hear = !legs.is_empty();
        c.hear_from = Some(legs).filter(|l| !l.is_empty());
    }
    Ok(Verb::Conversation(c))
}

/// The most legs a `canSpeak` or `canHear` list names.
const MAX_LEGS: usize = 200;

/// A `canSpeak` / `canHear` list: up to [`MAX_LEGS`] leg ids, each 1 to
/// 128 printable characters.
fn leg_ids(o: &Obj<'_>, name: &str) -> Result<Vec<String>, ParseError> {
    let legs = o.strings(name)?;
    if legs.len() > MAX_LEGS {
        return Err(ParseError::invalid(&o.at(name), format!("at most {MAX_LEGS} legs")));
    }
    for (i, leg) in legs.iter().enumerate() {
        if leg.is_empty() || leg.len() > 128 || leg.chars().any(char::is_control) {
            return Err(ParseError::invalid(
                &format!("{}[{i}]", o.at(name)),
                "a leg id is 1 to 128 printable characters",
            ));
        }
    }
    Ok(legs)
}

/// `eventUrl` (an array of one URL) and `eventMethod`.
fn event_hook(o: &Obj<'_>) -> Result<Hook, ParseError> {
    let urls = o.strings("eventUrl")?;
    let url = match urls.as_slice() {
        [] => None,
        [url] => Some(url.clone()),
        _ => return Err(ParseError::invalid(&o.at("eventUrl"), "must be an array of one URL")),
    };
    let method = match o.str("eventMethod")?.map(str::to_ascii_uppercase).as_deref() {
        None | Some("POST") => Method::Post,
        Some("GET") => Method::Get,
        Some(other) => {
            return Err(ParseError::invalid(
                &o.at("eventMethod"),
                format!("must be GET or POST, not {other:?}"),
            ))
        }
    };
    Ok(Hook { url, method, replaces: true, on_empty: true })
}

fn input(o: &Obj<'_>) -> Result<Verb, ParseError> {
    let types = o.strings("type")?;
    if types.is_empty() {
        return Err(ParseError::invalid(&o.at("type"), "must name dtmf and/or speech"));
    }
    let mut inputs = Inputs { dtmf: false, speech: false };
    for t in &types {
        match t.as_str() {
            "dtmf" => inputs.dtmf = true,
            "speech" => inputs.speech = true,
            other => return Err(ParseError::invalid(&o.at("type"), format!("unknown input type {other:?}"))),
        }
    }
    let dtmf = o.obj("dtmf")?;
    let speech = o.obj("speech")?;
    let digit_timeout = match &dtmf {
        Some(d) => d.secs("timeOut", 0.0, 10.0)?,
        None => None,
    }
    .unwrap_or(Duration::from_secs(3));
    let max_digits = match &dtmf {
        Some(d) => d.int("maxDigits", 1, 20)?,
        None => None,
    }
    .unwrap_or(4) as u32;
    let submit_on_hash = match &dtmf {
        Some(d) => d.bool("submitOnHash")?,
        None => None,
    }
    .unwrap_or(false);
    let (mut hints, mut language, mut start, mut silence, mut max_speech) =
        (Vec::new(), None, None, None, None);
    if let Some(s) = &speech {
        hints = s.strings("context")?;
        language = s.str("language")?.map(str::to_owned);
        start = s.secs("startTimeout", 1.0, 60.0)?;
        silence = s.secs("endOnSilence", 0.4, 10.0)?;
        max_speech = s.secs("maxDuration", 1.0, 60.0)?;
    }
    let timeout = if inputs.speech { start.unwrap_or(Duration::from_secs(10)) } else { digit_timeout };
    Ok(Verb::Gather(Gather {
        inputs,
        prompts: Vec::new(),
        barge_in: true,
        timeout,
        inter_digit_timeout: digit_timeout,
        finish_on_key: submit_on_hash.then_some('#'),
        max_digits: Some(max_digits),
        hints,
        language,
        end_on_silence: Some(silence.unwrap_or(Duration::from_secs(2))),
        max_speech: Some(max_speech.unwrap_or(Duration::from_secs(60))),
        hook: Some(event_hook(o)?),
    }))
}

fn connect(o: &Obj<'_>) -> Result<Verb, ParseError> {
    let endpoints =
        o.array("endpoint")?.ok_or_else(|| ParseError::invalid(&o.at("endpoint"), "is required"))?;
    if endpoints.is_empty() || endpoints.len() > 16 {
        return Err(ParseError::invalid(&o.at("endpoint"), "must hold 1 to 16 endpoints"));
    }
    let mut targets = Vec::new();
    for (i, e) in endpoints.iter().enumerate() {
        let e = Obj::new(format!("{}[{i}]", o.at("endpoint")), e)?;
        match e.req_str("type")? {
            "phone" => targets.push(Target::Number(e.req_str("number")?.to_owned())),
            "sip" => {
                let uri = e.req_str("uri")?;
                if !(uri.starts_with("sip:") || uri.starts_with("sips:")) {
                    return Err(ParseError::invalid(&e.at("uri"), "must be a sip: URI"));
                }
                let mut headers = Vec::new();
                if let Some(h) = e.obj("headers")? {
                    for (k, v) in h.map {
                        match v {
                            Value::String(s) => headers.push((k.clone(), s.clone())),
                            _ => return Err(ParseError::invalid(&h.at(k), "must be a string")),
                        }
                    }
                }
                targets.push(Target::Sip { uri: uri.to_owned(), headers });
            }
            "app" => targets.push(Target::Agent(e.req_str("user")?.to_owned())),
            "vbc" => targets.push(Target::Agent(e.req_str("extension")?.to_owned())),
            "websocket" => {
                if endpoints.len() != 1 {
                    return Err(ParseError::invalid(&e.path, "a websocket must be the only endpoint"));
                }
                let sample_rate = match e.str("content-type")?.unwrap_or("audio/l16;rate=16000") {
                    ct if ct.replace(' ', "").eq_ignore_ascii_case("audio/l16;rate=16000") => 16000,
                    ct if ct.replace(' ', "").eq_ignore_ascii_case("audio/l16;rate=8000") => 8000,
                    other => {
                        return Err(ParseError::invalid(
                            &e.at("content-type"),
                            format!("must be audio/l16;rate=16000 or audio/l16;rate=8000, not {other:?}"),
                        ))
                    }
                };
                return Ok(Verb::Stream(Stream {
                    url: ws_url(&e.at("uri"), e.req_str("uri")?)?,
                    sample_rate,
                    metadata: e.map.get("headers").cloned().unwrap_or(Value::Null),
                    background: false,
                }));
            }
            other => {
                return Err(ParseError::invalid(&e.at("type"), format!("unknown endpoint type {other:?}")))
            }
        }
    }
    let synchronous = match o.str("eventType")? {
        None => false,
        Some("synchronous") => true,
        Some(other) => {
            return Err(ParseError::invalid(
                &o.at("eventType"),
                format!("must be synchronous, not {other:?}"),
            ))
        }
    };
    Ok(Verb::Dial(Dial {
        targets,
        timeout: o.secs("timeout", 3.0, 7200.0)?.unwrap_or(Duration::from_secs(60)),
        from: o.str("from")?.map(str::to_owned),
        record: false,
        time_limit: Some(o.secs("limit", 1.0, 7200.0)?.unwrap_or(Duration::from_secs(7200))),
        hook: Some(Hook { replaces: synchronous, ..event_hook(o)? }),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn talk_input_connect_as_vonage_documents_them() {
        let ncco = r##"[
          {"action":"talk","text":"Press 1 for sales","bargeIn":true,"loop":2,"language":"en-GB"},
          {"action":"input","type":["dtmf"],"dtmf":{"maxDigits":1,"timeOut":5},
           "eventUrl":["https://example.com/webhooks/dtmf"]},
          {"action":"connect","from":"447700900000","timeout":45,
           "endpoint":[{"type":"app","user":"alice"}]}
        ]"##;
        let verbs = parse(ncco.as_bytes()).unwrap();
        let Verb::Say(say) = &verbs[0] else { panic!() };
        assert_eq!(
            (say.barge_in, say.repeat, say.language.as_deref()),
            (true, Repeat::Times(2), Some("en-GB"))
        );
        let Verb::Gather(g) = &verbs[1] else { panic!() };
        assert_eq!(g.inputs, Inputs { dtmf: true, speech: false });
        assert_eq!((g.max_digits, g.timeout, g.finish_on_key), (Some(1), Duration::from_secs(5), None));
        assert_eq!(g.hook.as_ref().unwrap().url.as_deref(), Some("https://example.com/webhooks/dtmf"));
        let Verb::Dial(d) = &verbs[2] else { panic!() };
        assert_eq!(d.targets, [Target::Agent("alice".into())]);
        assert_eq!((d.timeout, d.from.as_deref()), (Duration::from_secs(45), Some("447700900000")));
        assert!(!d.hook.as_ref().unwrap().replaces);
    }

    #[test]
    fn input_defaults_and_speech_settings() {
        let verbs = parse(br##"[{"action":"input","type":["dtmf","speech"],"speech":{"context":["sales","support"],"endOnSilence":1.5}}]"##).unwrap();
        let Verb::Gather(g) = &verbs[0] else { panic!() };
        assert_eq!(g.inputs, Inputs { dtmf: true, speech: true });
        assert_eq!(g.max_digits, Some(4));
        assert_eq!(g.timeout, Duration::from_secs(10));
        assert_eq!(g.inter_digit_timeout, Duration::from_secs(3));
        assert_eq!(g.hints, ["sales", "support"]);
        assert_eq!(g.end_on_silence, Some(Duration::from_millis(1500)));
        assert_eq!(g.hook, Some(Hook::post(None)));
        let verbs = parse(br##"[{"action":"input","type":["dtmf"],"dtmf":{"submitOnHash":true}}]"##).unwrap();
        let Verb::Gather(g) = &verbs[0] else { panic!() };
        assert_eq!(g.finish_on_key, Some('#'));
    }

    #[test]
    fn record_stream_wait_notify_conversation() {
        let ncco = r##"[
          {"action":"record","endOnSilence":3,"endOnKey":"#","beepStart":true,"eventUrl":["https://e.x/rec"]},
          {"action":"record"},
          {"action":"stream","streamUrl":["https://example.com/music.wav"],"loop":0},
          {"action":"wait","timeout":0.5},
          {"action":"notify","payload":{"foo":"bar"},"eventUrl":["https://example.com/webhooks/notification"],"eventMethod":"POST"},
          {"action":"conversation","name":"nexmo-conference-standard"},
          {"action":"connect","endpoint":[{"type":"websocket","uri":"wss://example.com/socket","content-type":"audio/l16;rate=8000","headers":{"caller":"x"}}]},
          {"action":"connect","eventType":"synchronous","endpoint":[{"type":"phone","number":"447700900001"},{"type":"sip","uri":"sip:bob@example.com","headers":{"X-A":"1"}}]}
        ]"##;
        let verbs = parse(ncco.as_bytes()).unwrap();
        let Verb::Record(r) = &verbs[0] else { panic!() };
        assert_eq!(
            (r.max_silence, r.finish_on_key.as_str(), r.beep, r.background),
            (Some(Duration::from_secs(3)), "#", true, false)
        );
        assert!(!r.hook.as_ref().unwrap().replaces);
        let Verb::Record(r) = &verbs[1] else { panic!() };
        assert!(r.background);
        assert_eq!(r.max_duration, Duration::from_secs(7200));
        let Verb::Play(p) = &verbs[2] else { panic!() };
        assert_eq!(p.repeat, Repeat::Forever);
        assert_eq!(verbs[3], Verb::Wait(Duration::from_millis(500)));
        let Verb::Notify { payload, hook } = &verbs[4] else { panic!() };
        assert_eq!(payload["foo"], "bar");
        assert_eq!(hook.url.as_deref(), Some("https://example.com/webhooks/notification"));
        assert_eq!(verbs[5], Verb::Conversation(Conversation::named("nexmo-conference-standard")));
        let Verb::Stream(s) = &verbs[6] else { panic!() };
        assert_eq!((s.url.as_str(), s.sample_rate, s.background), ("wss://example.com/socket", 8000, false));
        let Verb::Dial(d) = &verbs[7] else { panic!() };
        assert_eq!(d.targets.len(), 2);
        assert!(d.hook.as_ref().unwrap().replaces);
    }

    #[test]
    fn bad_nccos_are_clear_errors() {
        let err = |s: &str| parse(s.as_bytes()).unwrap_err().to_string();
        assert!(err(r##"{"action":"talk"}"##).contains("array"));
        assert_eq!(err(r##"[{"action":"dance"}]"##), "[0]: unknown verb \"dance\"");
        assert_eq!(err(r##"[{"text":"hi"}]"##), "[0].action: is required");
        assert_eq!(
            err(r##"[{"action":"talk","text":"a","bargeIn":"yes"}]"##),
            "[0].bargeIn: must be a boolean, not a string"
        );
        assert!(err(r##"[{"action":"input","type":["dtmf"],"dtmf":{"maxDigits":50}}]"##)
            .contains("[0].dtmf.maxDigits"));
        assert!(err(r##"[{"action":"input","type":["smell"]}]"##).contains("unknown input type"));
        assert!(err(r##"[{"action":"connect","endpoint":[{"type":"pigeon"}]}]"##)
            .contains("unknown endpoint type"));
        assert!(err(r##"[{"action":"connect","endpoint":[]}]"##).contains("1 to 16"));
        assert!(err(r##"[{"action":"notify","payload":{}}]"##).contains("eventUrl"));
        assert!(err(r##"[{"action":"stream","streamUrl":["a","b"]}]"##).contains("one URL"));
        assert!(err(r##"[{"action":"wait","timeout":0}]"##).contains("between"));
        assert!(err("nonsense").contains("not JSON"));
    }
}
