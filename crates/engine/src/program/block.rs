//! Blocks: stored call flows (`blocks` records) compiled to verbs.
//!
//! A block's `xml` is a Blockly workspace: one stack of `<block>`
//! elements chained by `<next>`, each with `<field name="...">` values.
//! The seed does not list block types, so Calliope reads these (fields in
//! capitals):
//!
//! | type | fields | verb |
//! | --- | --- | --- |
//! | `answer` | | answer |
//! | `hangup` | | hangup |
//! | `say` | `TEXT`, `VOICE` | say |
//! | `play` | `SOUND` (a stored sound: media JSON or id, `tone_stream://`, URL, path) | play |
//! | `wait` | `MS` | wait |
//! | `play_dtmf` | `DIGITS` | playDtmf |
//! | `dial` | `DEST` (number, `sip:` URI or agent), `TIMEOUT` (s, default 30) | dial |
//! | `record` | `MAX` (s, default 60), `SILENCE` (s, default 5) | record |
//! | `ivr` | `ID` | runs that IVR menu; must be the last block |
//!
//! A block whose `xml` is empty runs its `ivr_menu_id`; with both, the
//! `xml` runs first and the IVR after it. Any other block type, a second
//! stack, or a block with inputs is refused, naming it.

use std::time::Duration;

use store::Record;

use super::channel::Channel;
use super::error::{check_size, ParseError};
use super::interpreter::{Limits, Outcome, Runner};
use super::ivr::{self, Menus};
use super::json::{dtmf_digits, MAX_DURATION};
use super::scripts::Scripts;
use super::sound::Sound;
use super::twiml::{tree, El};
use super::verb::{Dial, Hook, Play, Record as RecordVerb, Repeat, Say, Verb};

/// A compiled block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockProgram {
    /// The verbs, in order.
    pub verbs: Vec<Verb>,
    /// The IVR menu run after them.
    pub then_ivr: Option<i64>,
}

/// The most blocks in one chain.
const MAX_BLOCKS: usize = 256;

/// Compiles a `blocks` record.
pub fn compile(block: &Record) -> Result<BlockProgram, ParseError> {
    let ivr_id = block.text("ivr_menu_id").trim();
    let ivr_id = if ivr_id.is_empty() {
        None
    } else {
        Some(ivr_id.parse::<i64>().map_err(|_| ParseError::invalid("ivr_menu_id", "is not an IVR id"))?)
    };
    let xml = block.text("xml").trim();
    let mut program = if xml.is_empty() { BlockProgram::default() } else { parse_xml(xml.as_bytes())? };
    if program.then_ivr.is_none() {
        program.then_ivr = ivr_id;
    }
    if program.verbs.is_empty() && program.then_ivr.is_none() {
        return Err(ParseError::Syntax(format!(
            "block {} has no flow (no xml and no ivr_menu_id)",
            block.id
        )));
    }
    Ok(program)
}

/// Compiles a Blockly workspace.
pub fn parse_xml(input: &[u8]) -> Result<BlockProgram, ParseError> {
    check_size(input)?;
    let text = std::str::from_utf8(input).map_err(|_| ParseError::Syntax("block xml is not UTF-8".into()))?;
    let root = tree(text)?;
    if root.name != "xml" {
        return Err(ParseError::Syntax(format!("the root element is <{}>, not <xml>", root.name)));
    }
    let stacks: Vec<&El> = root.children.iter().filter(|c| c.name == "block").collect();
    let first = match stacks.as_slice() {
        [] => return Err(ParseError::Syntax("the workspace has no blocks".into())),
        [one] => *one,
        _ => return Err(ParseError::Syntax("the workspace has more than one stack of blocks".into())),
    };
    let mut program = BlockProgram::default();
    let mut current = Some(first);
    while let Some(el) = current {
        let n = program.verbs.len() + 1;
        if n > MAX_BLOCKS {
            return Err(ParseError::TooManyVerbs { limit: MAX_BLOCKS });
        }
        let kind = el.attr("type").unwrap_or("");
        let path = format!("block {n} ({kind})");
        if program.then_ivr.is_some() {
            return Err(ParseError::invalid(&path, "nothing may follow an ivr block"));
        }
        let mut next = None;
        for c in &el.children {
            match c.name.as_str() {
                "field" | "comment" | "mutation" => {}
                "next" => next = c.children.iter().find(|b| b.name == "block"),
                other => {
                    return Err(ParseError::invalid(&path, format!("<{other}> inputs are not supported")))
                }
            }
        }
        let field = |name: &str| -> Option<&str> {
            el.children
                .iter()
                .find(|c| c.name == "field" && c.attr("name") == Some(name))
                .map(|c| c.text.trim())
                .filter(|t| !t.is_empty())
        };
        let required = |name: &str| {
            field(name).ok_or_else(|| ParseError::invalid(&format!("{path}.{name}"), "is required"))
        };
        let secs = |name: &str, default: u64| -> Result<Duration, ParseError> {
            match field(name) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => match v.parse::<u64>() {
                    Ok(s) if s > 0 && s <= MAX_DURATION.as_secs() => Ok(Duration::from_secs(s)),
                    _ => Err(ParseError::invalid(
                        &format!("{path}.{name}"),
                        format!("must be seconds, not {v:?}"),
                    )),
                },
            }
        };
        let verb = match kind {
            "answer" => Some(Verb::Answer),
            "hangup" => Some(Verb::Hangup),
            "say" => Some(Verb::Say(Say {
                text: required("TEXT")?.to_owned(),
                voice: field("VOICE").map(str::to_owned),
                language: None,
                repeat: Repeat::Times(1),
                barge_in: false,
            })),
            "play" => {
                let sound = Sound::parse_stored(&format!("{path}.SOUND"), required("SOUND")?)?
                    .ok_or_else(|| ParseError::invalid(&format!("{path}.SOUND"), "is required"))?;
                Some(Verb::Play(Play { sound, repeat: Repeat::Times(1), barge_in: false }))
            }
            "wait" => {
                let v = required("MS")?;
                match v.parse::<u64>() {
                    Ok(ms) if ms > 0 && ms <= MAX_DURATION.as_millis() as u64 => {
                        Some(Verb::Wait(Duration::from_millis(ms)))
                    }
                    _ => {
                        return Err(ParseError::invalid(
                            &format!("{path}.MS"),
                            format!("must be milliseconds, not {v:?}"),
                        ))
                    }
                }
            }
            "play_dtmf" => {
                Some(Verb::PlayDtmf { digits: dtmf_digits(&format!("{path}.DIGITS"), required("DIGITS")?)? })
            }
            "dial" => Some(Verb::Dial(Dial {
                targets: vec![super::fonoster::target(required("DEST")?)],
                timeout: secs("TIMEOUT", 30)?,
                from: None,
                record: false,
                time_limit: None,
                hook: None,
            })),
            "record" => Some(Verb::Record(RecordVerb {
                max_duration: secs("MAX", 60)?,
                max_silence: Some(secs("SILENCE", 5)?),
                beep: true,
                finish_on_key: "#".into(),
                background: false,
                hook: None::<Hook>,
            })),
            "ivr" => {
                let id = required("ID")?;
                program.then_ivr = Some(
                    id.parse().map_err(|_| ParseError::invalid(&format!("{path}.ID"), "is not an IVR id"))?,
                );
                None
            }
            other => return Err(ParseError::UnknownVerb { path, name: other.to_owned() }),
        };
        program.verbs.extend(verb);
        current = next;
    }
    Ok(program)
}

/// Runs a compiled block: its verbs, then its IVR; hangs up at the end
/// unless the call is handed on.
pub async fn run(
    program: &BlockProgram,
    menus: &Menus,
    channel: &mut impl Channel,
    scripts: &mut impl Scripts,
    limits: &Limits,
) -> Outcome {
    let mut runner = Runner::new(channel, limits);
    let mut outcome = runner.run(program.verbs.clone(), scripts).await;
    if let (Outcome::Completed, Some(id)) = (&outcome, program.then_ivr) {
        outcome = ivr::run_in(menus, id, &mut runner, limits).await;
    }
    runner.finish(outcome).await
}
