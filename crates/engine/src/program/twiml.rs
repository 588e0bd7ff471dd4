//! TwiML: `<Response>` with Twilio's verbs, read with quick-xml.
//!
//! Supported, with Twilio's defaults: `Say` (`voice`, `language`, `loop`
//! 1, 0 = until stopped), `Play` (`loop`; `digits` sends DTMF), `Pause`
//! (`length` 1 s), `Gather` (`input` dtmf, `numDigits` unlimited,
//! `finishOnKey` `#` (empty: none), `timeout` 5 s, `action` (default: the
//! current document's URL), `method` POST, `hints`, `language`,
//! `speechTimeout`, `bargeIn` true, `actionOnEmptyResult` false; nested
//! `Say`, `Play`, `Pause`), `Record` (`action`, `method`, `timeout` 5 s of
//! silence (0: none), `finishOnKey` `1234567890*#`, `maxLength` 3600 s,
//! `playBeep` true), `Dial` (`action` (without one the document goes on),
//! `method`, `timeout` 30 s, `callerId`, `record`, `timeLimit` 14400 s; a
//! number as text, or `Number`, `Sip`, `Client` nouns), `Redirect`,
//! `Reject` (`reason` rejected/busy), `Hangup`, `Connect`/`Stream` (until
//! the socket closes) and `Start`/`Stream` (in the background), with
//! `Parameter` children as metadata. Anything else is an error naming it.

use std::time::Duration;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::{check_size, ParseError, MAX_VERBS};
use super::fonoster::ws_url;
use super::json::{dtmf_digits, is_key, MAX_DURATION};
use super::sound::Sound;
use super::verb::{
    Dial, Gather, Hook, Inputs, Method, Play, Prompt, Record, RejectReason, Repeat, Say, Stream, Target, Verb,
};

/// The deepest nesting read.
const MAX_DEPTH: usize = 16;

/// Parses a TwiML document.
pub fn parse(input: &[u8]) -> Result<Vec<Verb>, ParseError> {
    check_size(input)?;
    let text = std::str::from_utf8(input).map_err(|_| ParseError::Syntax("TwiML is not UTF-8".into()))?;
    let root = tree(text)?;
    if root.name != "Response" {
        return Err(ParseError::Syntax(format!("the root element is <{}>, not <Response>", root.name)));
    }
    let mut verbs = Vec::new();
    for (i, el) in root.children.iter().enumerate() {
        let path = format!("Response/{}[{}]", el.name, i + 1);
        verbs.push(verb(&path, el)?);
    }
    Ok(verbs)
}

/// One element: its name, attributes, text and children.
#[derive(Debug, Default)]
pub(crate) struct El {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<El>,
    /// Text after this element, inside its parent (mixed content).
    pub(crate) tail: String,
}

impl El {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn syntax(e: impl std::fmt::Display) -> ParseError {
    ParseError::Syntax(format!("not XML: {e}"))
}

fn element(e: &BytesStart<'_>) -> Result<El, ParseError> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(syntax)?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a.unescape_value().map_err(syntax)?.into_owned();
        attrs.push((key, value));
    }
    Ok(El { name, attrs, ..El::default() })
}

/// Reads the document into a tree of elements, within the limits.
pub(crate) fn tree(input: &str) -> Result<El, ParseError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(syntax)?;
        let done = match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError::Syntax(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element(&e)?);
                None
            }
            Event::Empty(e) => Some(element(&e)?),
            Event::End(_) => stack.pop(),
            Event::Text(t) => {
                let s = t.unescape().map_err(syntax)?;
                match stack.last_mut() {
                    Some(top) => match top.children.last_mut() {
                        Some(last) => last.tail.push_str(&s),
                        None => top.text.push_str(&s),
                    },
                    None if s.trim().is_empty() => {}
                    None => return Err(ParseError::Syntax("text outside the root element".into())),
                }
                None
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
                None
            }
            Event::Eof => break,
            _ => None,
        };
        if let Some(el) = done {
            count += 1;
            if count > MAX_VERBS * 4 {
                return Err(ParseError::TooManyVerbs { limit: MAX_VERBS });
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None if root.is_none() => root = Some(el),
                None => return Err(ParseError::Syntax("more than one root element".into())),
            }
        }
    }
    if !stack.is_empty() {
        return Err(ParseError::Syntax("the document ends inside an element".into()));
    }
    root.ok_or_else(|| ParseError::Syntax("no root element".into()))
}

fn at(path: &str, attr: &str) -> String {
    format!("{path}@{attr}")
}

/// A whole-number attribute within range.
fn int(path: &str, el: &El, attr: &str, min: u64, max: u64) -> Result<Option<u64>, ParseError> {
    match el.attr(attr).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ParseError::invalid(
                &at(path, attr),
                format!("must be a whole number from {min} to {max}, not {v:?}"),
            )),
        },
    }
}

/// A seconds attribute.
fn secs(path: &str, el: &El, attr: &str, min: u64) -> Result<Option<Duration>, ParseError> {
    Ok(int(path, el, attr, min, MAX_DURATION.as_secs())?.map(Duration::from_secs))
}

fn boolean(path: &str, el: &El, attr: &str) -> Result<Option<bool>, ParseError> {
    match el.attr(attr).map(str::trim) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(ParseError::invalid(&at(path, attr), format!("must be true or false, not {v:?}"))),
    }
}

fn method(path: &str, el: &El) -> Result<Method, ParseError> {
    match el.attr("method").map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("POST") => Ok(Method::Post),
        Some("GET") => Ok(Method::Get),
        Some(v) => Err(ParseError::invalid(&at(path, "method"), format!("must be GET or POST, not {v:?}"))),
    }
}

fn action(el: &El) -> Option<String> {
    el.attr("action").map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned)
}

fn no_children(path: &str, el: &El) -> Result<(), ParseError> {
    match el.children.first() {
        Some(c) => Err(ParseError::invalid(path, format!("<{}> may not hold <{}>", el.name, c.name))),
        None => Ok(()),
    }
}

/// The text of an element and of everything in it, in order (SSML inside
/// `Say`).
fn all_text<'e>(el: &'e El, out: &mut Vec<&'e str>) {
    out.push(&el.text);
    for c in &el.children {
        all_text(c, out);
        out.push(&c.tail);
    }
}

fn say(path: &str, el: &El) -> Result<Say, ParseError> {
    let mut pieces = Vec::new();
    all_text(el, &mut pieces);
    let text = pieces.iter().flat_map(|p| p.split_whitespace()).collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(ParseError::invalid(path, "<Say> needs text"));
    }
    Ok(Say {
        text,
        voice: el.attr("voice").map(str::to_owned),
        language: el.attr("language").map(str::to_owned),
        repeat: Repeat::from_count(int(path, el, "loop", 0, 1000)?.unwrap_or(1)),
        barge_in: false,
    })
}

fn play(path: &str, el: &El) -> Result<Play, ParseError> {
    no_children(path, el)?;
    Ok(Play {
        sound: Sound::from_url(path, &el.text)?,
        repeat: Repeat::from_count(int(path, el, "loop", 0, 1000)?.unwrap_or(1)),
        barge_in: false,
    })
}

fn pause(path: &str, el: &El) -> Result<Duration, ParseError> {
    no_children(path, el)?;
    Ok(secs(path, el, "length", 0)?.unwrap_or(Duration::from_secs(1)))
}

fn verb(path: &str, el: &El) -> Result<Verb, ParseError> {
    Ok(match el.name.as_str() {
        "Say" => Verb::Say(say(path, el)?),
        "Play" => match el.attr("digits") {
            Some(d) if el.text.trim().is_empty() => {
                Verb::PlayDtmf { digits: dtmf_digits(&at(path, "digits"), d)? }
            }
            _ => Verb::Play(play(path, el)?),
        },
        "Pause" => Verb::Wait(pause(path, el)?),
        "Gather" => gather(path, el)?,
        "Record" => {
            no_children(path, el)?;
            let finish = el.attr("finishOnKey").unwrap_or("1234567890*#");
            if let Some(c) = finish.chars().find(|c| !is_key(*c)) {
                return Err(ParseError::invalid(&at(path, "finishOnKey"), format!("{c:?} is not a key")));
            }
            Verb::Record(Record {
                max_duration: secs(path, el, "maxLength", 1)?.unwrap_or(Duration::from_secs(3600)),
                max_silence: match secs(path, el, "timeout", 0)? {
                    Some(Duration::ZERO) => None,
                    Some(d) => Some(d),
                    None => Some(Duration::from_secs(5)),
                },
                beep: boolean(path, el, "playBeep")?.unwrap_or(true),
                finish_on_key: finish.to_owned(),
                background: false,
                hook: Some(Hook {
                    url: action(el),
                    method: method(path, el)?,
                    replaces: true,
                    on_empty: true,
                }),
            })
        }
        "Dial" => dial(path, el)?,
        "Redirect" => {
            no_children(path, el)?;
            let url = el.text.trim();
            if url.is_empty() {
                return Err(ParseError::invalid(path, "<Redirect> needs a URL"));
            }
            Verb::Redirect(Hook {
                url: Some(url.to_owned()),
                method: method(path, el)?,
                replaces: true,
                on_empty: true,
            })
        }
        "Reject" => Verb::Reject(match el.attr("reason") {
            None | Some("rejected") => RejectReason::Rejected,
            Some("busy") => RejectReason::Busy,
            Some(v) => {
                return Err(ParseError::invalid(
                    &at(path, "reason"),
                    format!("must be rejected or busy, not {v:?}"),
                ))
            }
        }),
        "Hangup" => Verb::Hangup,
        "Connect" | "Start" => {
            let [child] = el.children.as_slice() else {
                return Err(ParseError::invalid(path, format!("<{}> must hold one <Stream>", el.name)));
            };
            if child.name != "Stream" {
                return Err(ParseError::invalid(
                    path,
                    format!("<{}><{}> is not supported", el.name, child.name),
                ));
            }
            let cpath = format!("{path}/Stream");
            let url =
                child.attr("url").ok_or_else(|| ParseError::invalid(&at(&cpath, "url"), "is required"))?;
            let mut metadata = serde_json::Map::new();
            for p in &child.children {
                if p.name != "Parameter" {
                    return Err(ParseError::invalid(&cpath, format!("<Stream> may not hold <{}>", p.name)));
                }
                let name = p
                    .attr("name")
                    .ok_or_else(|| ParseError::invalid(&at(&cpath, "Parameter"), "needs a name"))?;
                metadata.insert(name.to_owned(), p.attr("value").unwrap_or_default().into());
            }
            Verb::Stream(Stream {
                url: ws_url(&at(&cpath, "url"), url)?,
                sample_rate: 8000,
                metadata: serde_json::Value::Object(metadata),
                background: el.name == "Start",
            })
        }
        other => return Err(ParseError::UnknownVerb { path: path.to_owned(), name: other.to_owned() }),
    })
}

fn gather(path: &str, el: &El) -> Result<Verb, ParseError> {
    let mut inputs = Inputs { dtmf: false, speech: false };
    for word in el.attr("input").unwrap_or("dtmf").split_whitespace() {
        match word {
            "dtmf" => inputs.dtmf = true,
            "speech" => inputs.speech = true,
            other => return Err(ParseError::invalid(&at(path, "input"), format!("unknown input {other:?}"))),
        }
    }
    if !inputs.dtmf && !inputs.speech {
        return Err(ParseError::invalid(&at(path, "input"), "must name dtmf and/or speech"));
    }
    let finish_on_key = match el.attr("finishOnKey") {
        None => Some('#'),
        Some("") => None,
        Some(k) => {
            let mut chars = k.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if is_key(c) => Some(c),
                _ => {
                    return Err(ParseError::invalid(
                        &at(path, "finishOnKey"),
                        format!("must be one key, not {k:?}"),
                    ))
                }
            }
        }
    };
    let timeout = secs(path, el, "timeout", 1)?.unwrap_or(Duration::from_secs(5));
    let end_on_silence = match el.attr("speechTimeout") {
        None | Some("auto") => None,
        Some(_) => secs(path, el, "speechTimeout", 1)?,
    };
    let mut prompts = Vec::new();
    for (i, c) in el.children.iter().enumerate() {
        let cpath = format!("{path}/{}[{}]", c.name, i + 1);
        prompts.push(match c.name.as_str() {
            "Say" => Prompt::Say(say(&cpath, c)?),
            "Play" => Prompt::Play(play(&cpath, c)?),
            "Pause" => Prompt::Pause(pause(&cpath, c)?),
            other => return Err(ParseError::invalid(&cpath, format!("<Gather> may not hold <{other}>"))),
        });
    }
    Ok(Verb::Gather(Gather {
        inputs,
        prompts,
        barge_in: boolean(path, el, "bargeIn")?.unwrap_or(true),
        timeout,
        inter_digit_timeout: timeout,
        finish_on_key,
        max_digits: int(path, el, "numDigits", 1, 128)?.map(|n| n as u32),
        hints: el
            .attr("hints")
            .map(|h| h.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        language: el.attr("language").map(str::to_owned),
        end_on_silence,
        max_speech: None,
        hook: Some(Hook {
            url: action(el),
            method: method(path, el)?,
            replaces: true,
            on_empty: boolean(path, el, "actionOnEmptyResult")?.unwrap_or(false),
        }),
    }))
}

fn dial(path: &str, el: &El) -> Result<Verb, ParseError> {
    let mut targets = Vec::new();
    let text = el.text.trim();
    if !text.is_empty() {
        targets.push(Target::Number(text.to_owned()));
    }
    for (i, c) in el.children.iter().enumerate() {
        let cpath = format!("{path}/{}[{}]", c.name, i + 1);
        let value = c.text.trim();
        if value.is_empty() {
            return Err(ParseError::invalid(&cpath, format!("<{}> needs a value", c.name)));
        }
        targets.push(match c.name.as_str() {
            "Number" => Target::Number(value.to_owned()),
            "Sip" => {
                if !(value.starts_with("sip:") || value.starts_with("sips:")) {
                    return Err(ParseError::invalid(&cpath, "must be a sip: URI"));
                }
                Target::Sip { uri: value.to_owned(), headers: Vec::new() }
            }
            "Client" => Target::Agent(value.to_owned()),
            other => return Err(ParseError::invalid(&cpath, format!("<Dial><{other}> is not supported"))),
        });
    }
    if targets.is_empty() {
        return Err(ParseError::invalid(path, "<Dial> needs a number or a noun"));
    }
    let record = match el.attr("record") {
        None | Some("do-not-record") | Some("false") => false,
        Some("record-from-answer") | Some("record-from-ringing") | Some("true") => true,
        Some(v) => return Err(ParseError::invalid(&at(path, "record"), format!("unknown value {v:?}"))),
    };
    Ok(Verb::Dial(Dial {
        targets,
        timeout: secs(path, el, "timeout", 1)?.unwrap_or(Duration::from_secs(30)),
        from: el.attr("callerId").map(str::to_owned),
        record,
        time_limit: Some(secs(path, el, "timeLimit", 1)?.unwrap_or(Duration::from_secs(14_400))),
        hook: action(el).map(|url| Hook {
            url: Some(url),
            method: Method::Post,
            replaces: true,
            on_empty: true,
        }),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gather_with_nested_say_then_fallthrough() {
        let doc = r##"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather input="speech dtmf" timeout="3" numDigits="1" action="/handle" method="POST" hints="sales, support">
    <Say voice="alice">Press 1 for sales &amp; 2 for support.</Say>
    <Pause length="2"/>
  </Gather>
  <Say>We did not receive any input. Goodbye!</Say>
  <Hangup/>
</Response>"##;
        let verbs = parse(doc.as_bytes()).unwrap();
        assert_eq!(verbs.len(), 3);
        let Verb::Gather(g) = &verbs[0] else { panic!() };
        assert_eq!(g.inputs, Inputs { dtmf: true, speech: true });
        assert_eq!((g.timeout, g.max_digits, g.finish_on_key), (Duration::from_secs(3), Some(1), Some('#')));
        assert_eq!(g.hints, ["sales", "support"]);
        let Prompt::Say(s) = &g.prompts[0] else { panic!() };
        assert_eq!(
            (s.text.as_str(), s.voice.as_deref()),
            ("Press 1 for sales & 2 for support.", Some("alice"))
        );
        assert_eq!(g.prompts[1], Prompt::Pause(Duration::from_secs(2)));
        let hook = g.hook.as_ref().unwrap();
        assert_eq!((hook.url.as_deref(), hook.on_empty), (Some("/handle"), false));
        assert_eq!(verbs[2], Verb::Hangup);
    }

    #[test]
    fn record_dial_redirect_reject_connect() {
        let doc = r##"<Response>
  <Record maxLength="20" finishOnKey="#" timeout="0" playBeep="false"/>
  <Dial timeout="10" callerId="+15551234567" action="/dialed" record="record-from-answer">
    <Number>+15558675310</Number><Sip>sip:bob@example.com</Sip><Client>alice</Client>
  </Dial>
  <Dial>1001</Dial>
  <Play digits="1w2"/>
  <Play loop="0">https://example.com/hold.wav</Play>
  <Redirect method="GET">https://example.com/next</Redirect>
  <Reject reason="busy"/>
  <Connect><Stream url="wss://example.com/audio"><Parameter name="who" value="me"/></Stream></Connect>
  <Start><Stream url="ws://127.0.0.1:9/a"/></Start>
</Response>"##;
        let verbs = parse(doc.as_bytes()).unwrap();
        let Verb::Record(r) = &verbs[0] else { panic!() };
        assert_eq!(
            (r.max_duration, r.max_silence, r.beep, r.finish_on_key.as_str()),
            (Duration::from_secs(20), None, false, "#")
        );
        assert_eq!(r.hook.as_ref().unwrap().url, None);
        let Verb::Dial(d) = &verbs[1] else { panic!() };
        assert_eq!(
            d.targets,
            [
                Target::Number("+15558675310".into()),
                Target::Sip { uri: "sip:bob@example.com".into(), headers: vec![] },
                Target::Agent("alice".into())
            ]
        );
        assert!(d.record);
        assert_eq!(d.hook.as_ref().unwrap().url.as_deref(), Some("/dialed"));
        let Verb::Dial(d) = &verbs[2] else { panic!() };
        assert_eq!(
            (d.targets.as_slice(), d.hook.as_ref()),
            ([Target::Number("1001".into())].as_slice(), None)
        );
        assert_eq!(verbs[3], Verb::PlayDtmf { digits: "1w2".into() });
        let Verb::Play(p) = &verbs[4] else { panic!() };
        assert_eq!(p.repeat, Repeat::Forever);
        let Verb::Redirect(h) = &verbs[5] else { panic!() };
        assert_eq!((h.url.as_deref(), h.method), (Some("https://example.com/next"), Method::Get));
        assert_eq!(verbs[6], Verb::Reject(RejectReason::Busy));
        let Verb::Stream(s) = &verbs[7] else { panic!() };
        assert_eq!((s.background, s.metadata["who"].as_str()), (false, Some("me")));
        let Verb::Stream(s) = &verbs[8] else { panic!() };
        assert!(s.background);
    }

    #[test]
    fn bad_documents_are_clear_errors() {
        let err = |s: &str| parse(s.as_bytes()).unwrap_err().to_string();
        assert!(err("<html><body>oops</body></html>").contains("not <Response>"));
        assert!(
            err("<Response><Say>hi</Response>").starts_with("not a script"),
            "{}",
            err("<Response><Say>hi</Response>")
        );
        assert_eq!(err("<Response><Dance/></Response>"), "Response/Dance[1]: unknown verb \"Dance\"");
        assert!(
            err(r##"<Response><Gather timeout="soon"/></Response>"##).contains("Response/Gather[1]@timeout")
        );
        assert!(err(r##"<Response><Gather><Dial>1</Dial></Gather></Response>"##).contains("may not hold"));
        assert!(err(r##"<Response><Dial><Conference>x</Conference></Dial></Response>"##)
            .contains("not supported"));
        assert!(err("<Response><Say/></Response>").contains("needs text"));
        let ssml = parse(
            b"<Response><Say>Hello <emphasis>big</emphasis> world<break time=\"1s\"/></Say></Response>",
        )
        .unwrap();
        assert!(matches!(&ssml[0], Verb::Say(s) if s.text == "Hello big world"), "{ssml:?}");
        assert!(err("<Response></Response><Response/>").contains("more than one root"));
        assert!(err("not xml at all").starts_with("not a script"));
        let deep = format!("<Response>{}{}</Response>", "<a>".repeat(20), "</a>".repeat(20));
        assert!(err(&deep).contains("deeper"));
        assert!(matches!(parse(&vec![b' '; 300_000]), Err(ParseError::TooLarge { .. })));
    }
}
