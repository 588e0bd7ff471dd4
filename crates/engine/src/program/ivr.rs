//! IVR menus: the `ivrs` and `ivr_actions` records compiled into [`Menus`]
//! and run as a state machine over the same [`Channel`] as every program.
//!
//! A menu plays `greet_long` the first time and `greet_short` (or
//! `greet_long` again) on every repeat, with DTMF barge-in; it collects up
//! to `digit_len` digits (`timeout` for the first, `inter_digit_timeout`
//! after; `#` ends input unless an action uses it) and runs the action
//! whose `digits` equal them, or, with `match_prefix`, the longest whose
//! `digits` they start with. A miss plays `invalid_sound` and counts a
//! failure; silence counts a timeout; at `max_failures` / `max_timeouts`
//! it runs `exec_on_max_failures` / `exec_on_max_timeouts`, or plays
//! `exit_sound` and hangs up. A `pin` is asked for (`pin_file`,
//! `bad_pin_file`, `confirm_attempts` tries, default 3) when the menu is
//! entered. Actions: `IVR_EXTENSION` and `IVR_ROUTE` hand the call to the
//! router ([`Outcome::Transfer`]; an empty `args` means the digits
//! entered; `IVR_ROUTE`'s `body` is the context, default `context-1`),
//! `IVR_PLAY` and `IVR_TTS` play `args` (or `body`) and return to the
//! menu, `IVR_SUB` enters menu `args`, `IVR_TOP` returns to the menu above,
//! `IVR_BACK` to the first menu, `IVR_EXIT` plays `exit_sound` and hangs
//! up, `IVR_CONFERENCE`, `IVR_CONFERENCE_ROOM` and `IVR_MEETING_ROOM` join
//! the conference room `args` (or the digits entered), with the room's
//! settings in `body`. Queue, script and system actions are refused when
//! the menus are compiled, naming the action.

use std::collections::HashMap;
use std::time::Duration;

use store::Record;

use super::channel::{Audio, BargeIn, Channel, ChannelError, Played};
use super::conversation::Conversation;
use super::error::{ParseError, ProgramError};
use super::interpreter::{DigitSpec, Limits, Outcome, Runner};
use super::sound::Sound;
use super::verb::Repeat;

/// The context an `IVR_ROUTE` without a body routes in.
pub const DEFAULT_CONTEXT: &str = "context-1";
/// Menus entered within menus, at most.
const MAX_DEPTH: usize = 32;

/// What a key does.
#[derive(Debug, Clone, PartialEq)]
pub enum MenuAction {
    /// Hand the call to this extension (`None`: the digits entered).
    Extension(Option<String>),
    /// Route this number (`None`: the digits entered) in a context.
    Route {
        /// The number.
        number: Option<String>,
        /// The context.
        context: String,
    },
    /// Play a sound, then the menu again.
    Play(Sound),
    /// Speak text, then the menu again.
    Tts(String),
    /// Enter another menu.
    Sub(i64),
    /// Return to the menu above.
    Top,
    /// Return to the first menu.
    Back,
    /// Say goodbye and hang up.
    Exit,
    /// Join a conference room (`IVR_CONFERENCE`, `IVR_CONFERENCE_ROOM`,
    /// `IVR_MEETING_ROOM`): the room is `args`, or the digits entered
    /// when its name is empty; `body` holds the room's settings (see
    /// [`super::conversation`]). The call ends when the member leaves.
    Conference(Conversation),
}

/// One key of a menu.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The digits.
    pub digits: String,
    /// Whether entered digits that start with `digits` match.
    pub prefix: bool,
    /// What it does.
    pub action: MenuAction,
}

/// One compiled menu.
#[derive(Debug, Clone, PartialEq)]
pub struct Menu {
    /// The `ivrs` id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// First greeting.
    pub greet_long: Option<Sound>,
    /// Greeting on repeats.
    pub greet_short: Option<Sound>,
    /// After a miss.
    pub invalid_sound: Option<Sound>,
    /// Before hanging up.
    pub exit_sound: Option<Sound>,
    /// Before handing the call on.
    pub transfer_sound: Option<Sound>,
    /// Wait for the first digit (default 15 s).
    pub timeout: Duration,
    /// Wait between digits (default 3 s).
    pub inter_digit_timeout: Duration,
    /// The most digits (default 1).
    pub digit_len: u32,
    /// Misses before `exec_on_max_failures` (default 3).
    pub max_failures: u32,
    /// Silences before `exec_on_max_timeouts` (default 4).
    pub max_timeouts: u32,
    /// What runs after too many misses (`None`: exit).
    pub on_max_failures: Option<MenuAction>,
    /// What runs after too many silences (`None`: exit).
    pub on_max_timeouts: Option<MenuAction>,
    /// A PIN asked for on entry.
    pub pin: Option<String>,
    /// The PIN prompt.
    pub pin_file: Option<Sound>,
    /// After a wrong PIN.
    pub bad_pin_file: Option<Sound>,
    /// PIN tries (default 3).
    pub pin_attempts: u32,
    /// The TTS engine for text sounds (`None`: the default engine).
    pub tts_engine: Option<String>,
    /// The TTS voice for text sounds.
    pub tts_voice: Option<String>,
    /// The keys.
    pub entries: Vec<Entry>,
}

/// A workspace's menus by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Menus {
    menus: HashMap<i64, Menu>,
}

fn int(rec: &Record, name: &str) -> Option<i64> {
    match rec.get(name) {
        store::Value::Int(v) => Some(*v),
        store::Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn ms(rec: &Record, name: &str, default: u64) -> Duration {
    Duration::from_millis(
        int(rec, name).and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(default),
    )
}

fn count(rec: &Record, name: &str, default: u32) -> u32 {
    int(rec, name).and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(default)
}

fn text(rec: &Record, name: &str) -> Option<String> {
    Some(rec.text(name).trim().to_owned()).filter(|s| !s.is_empty())
}

impl Menus {
    /// Compiles `ivrs` records and their `ivr_actions`.
    pub fn compile(ivrs: &[Record], actions: &[Record]) -> Result<Menus, ParseError> {
        let mut menus = HashMap::new();
        for rec in ivrs {
            let path = format!("ivr {}", rec.id);
            let sound = |name: &str| Sound::parse_stored(&format!("{path}.{name}"), rec.text(name));
            let exec = |name: &str| match text(rec, name) {
                None => Ok(None),
                Some(t) => exec_action(&format!("{path}.{name}"), &t).map(Some),
            };
            let menu = Menu {
                id: rec.id,
                name: rec.text("name").to_owned(),
                greet_long: sound("greet_long")?,
                greet_short: sound("greet_short")?,
                invalid_sound: sound("invalid_sound")?,
                exit_sound: sound("exit_sound")?,
                transfer_sound: sound("transfer_sound")?,
                timeout: ms(rec, "timeout", 15_000),
                inter_digit_timeout: ms(rec, "inter_digit_timeout", 3_000),
                digit_len: count(rec, "digit_len", 1).min(64),
                max_failures: count(rec, "max_failures", 3),
                max_timeouts: count(rec, "max_timeouts", 4),
                on_max_failures: exec("exec_on_max_failures")?,
                on_max_timeouts: exec("exec_on_max_timeouts")?,
                pin: text(rec, "pin"),
                pin_file: sound("pin_file")?,
                bad_pin_file: sound("bad_pin_file")?,
                pin_attempts: count(rec, "confirm_attempts", 3),
                tts_engine: text(rec, "tts_engine"),
                tts_voice: text(rec, "tts_voice"),
                entries: Vec::new(),
            };
            if let Some(pin) = &menu.pin {
                if !pin.chars().all(|c| c.is_ascii_digit() || c == '*') || pin.len() > 32 {
                    return Err(ParseError::invalid(&format!("{path}.pin"), "must be up to 32 digits"));
                }
            }
            menus.insert(rec.id, menu);
        }
        for rec in actions {
            let menu_id = int(rec, "ivr_menu_id").unwrap_or(0);
            let path = format!("ivr {menu_id} action {}", rec.id);
            let digits = rec.text("digits").trim().to_owned();
            if digits.is_empty() || digits.len() > 64 || !digits.chars().all(super::json::is_key) {
                return Err(ParseError::invalid(
                    &format!("{path}.digits"),
                    format!("must be keypad digits, not {digits:?}"),
                ));
            }
            let action = action(&path, rec.text("action"), rec.text("args").trim(), rec.text("body").trim())?;
            let Some(menu) = menus.get_mut(&menu_id) else {
                return Err(ParseError::invalid(&path, format!("names IVR {menu_id}, which does not exist")));
            };
            let prefix = int(rec, "match_prefix").unwrap_or(0) != 0;
            menu.entries.push(Entry { digits, prefix, action });
        }
        let ids: Vec<i64> = menus.keys().copied().collect();
        for menu in menus.values() {
            let subs = menu
                .entries
                .iter()
                .map(|e| &e.action)
                .chain(menu.on_max_failures.iter())
                .chain(menu.on_max_timeouts.iter());
            for a in subs {
                if let MenuAction::Sub(id) = a {
                    if !ids.contains(id) {
                        return Err(ParseError::invalid(
                            &format!("ivr {}", menu.id),
                            format!("IVR_SUB names IVR {id}, which does not exist"),
                        ));
                    }
                }
            }
        }
        Ok(Menus { menus })
    }

    /// A menu by id.
    pub fn get(&self, id: i64) -> Option<&Menu> {
        self.menus.get(&id)
    }
}

/// An action from its kind, `args` and `body`.
fn action(path: &str, kind: &str, args: &str, body: &str) -> Result<MenuAction, ParseError> {
    let arg = || Some(args.to_owned()).filter(|s| !s.is_empty());
    Ok(match kind {
        "IVR_EXTENSION" => MenuAction::Extension(arg()),
        "IVR_ROUTE" => MenuAction::Route {
            number: arg(),
            context: Some(body.to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_CONTEXT.into()),
        },
        "IVR_PLAY" => {
            let src = if args.is_empty() { body } else { args };
            match Sound::parse_stored(&format!("{path}.args"), src)? {
                Some(s) => MenuAction::Play(s),
                None => return Err(ParseError::invalid(&format!("{path}.args"), "IVR_PLAY needs a sound")),
            }
        }
        "IVR_TTS" => {
            let t = if args.is_empty() { body } else { args };
            if t.is_empty() {
                return Err(ParseError::invalid(&format!("{path}.args"), "IVR_TTS needs text"));
            }
            MenuAction::Tts(t.to_owned())
        }
        "IVR_SUB" => MenuAction::Sub(
            args.parse()
                .map_err(|_| ParseError::invalid(&format!("{path}.args"), "IVR_SUB needs an IVR id"))?,
        ),
        "IVR_TOP" => MenuAction::Top,
        "IVR_BACK" => MenuAction::Back,
        "IVR_EXIT" => MenuAction::Exit,
        "IVR_CONFERENCE" | "IVR_CONFERENCE_ROOM" | "IVR_MEETING_ROOM" => {
            let mut c = Conversation::named(args.trim());
            if !c.name.is_empty() {
                crate::conference::check_name(&c.name)
                    .map_err(|e| ParseError::invalid(&format!("{path}.args"), e.to_string()))?;
            }
            c.apply_settings(&format!("{path}.body"), body)?;
            MenuAction::Conference(c)
        }
        "IVR_QUEUE" | "IVR_SCRIPT" | "IVR_SYSTEM" => {
            return Err(ParseError::invalid(
                &format!("{path}.action"),
                format!("{kind} is not supported yet"),
            ))
        }
        other => {
            return Err(ParseError::invalid(
                &format!("{path}.action"),
                format!("unknown IVR action {other:?}"),
            ))
        }
    })
}

/// `exec_on_max_*`: an action name with its argument (`IVR_SUB 2`,
/// `IVR_EXTENSION 1000`, `IVR_EXIT`), or FreeSWITCH's `hangup` and
/// `transfer <number> [XML <context>]`.
fn exec_action(path: &str, text: &str) -> Result<MenuAction, ParseError> {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    match kind {
        "hangup" => Ok(MenuAction::Exit),
        "transfer" => match rest.as_slice() {
            [number] => {
                Ok(MenuAction::Route { number: Some((*number).into()), context: DEFAULT_CONTEXT.into() })
            }
            [number, _dialplan, context] => {
                Ok(MenuAction::Route { number: Some((*number).into()), context: (*context).into() })
            }
            _ => Err(ParseError::invalid(path, "transfer takes <number> [XML <context>]")),
        },
        _ => action(path, kind, rest.first().copied().unwrap_or(""), &rest.get(1..).unwrap_or(&[]).join(" ")),
    }
}

/// Runs the menus from `start`, with the default [`Limits`].
pub async fn run(menus: &Menus, start: i64, channel: &mut impl Channel) -> Outcome {
    run_with(menus, start, channel, &Limits::default()).await
}

/// Runs the menus from `start` under `limits`; hangs up unless the call
/// is handed on.
pub async fn run_with(menus: &Menus, start: i64, channel: &mut impl Channel, limits: &Limits) -> Outcome {
    let mut runner = Runner::new(channel, limits);
    let outcome = run_in(menus, start, &mut runner, limits).await;
    runner.finish(outcome).await
}

/// Runs the menus on a runner that may have run verbs before.
pub(crate) async fn run_in<C: Channel>(
    menus: &Menus,
    start: i64,
    runner: &mut Runner<'_, C>,
    limits: &Limits,
) -> Outcome {
    match drive(menus, start, runner, limits).await {
        Ok(outcome) => outcome,
        Err(ChannelError::HungUp) => Outcome::CallerHungUp,
        Err(error) => Outcome::Failed(ProgramError::Channel { verb: "ivr", error }),
    }
}

/// What the menu loop does next.
enum Step {
    /// Stay in this menu (replay the short greeting).
    Stay,
    /// Enter a menu (and ask its PIN).
    Enter(i64),
    /// Return to the menu above.
    Up,
    /// Return to the first menu.
    Home,
    /// Stop.
    Stop(Outcome),
}

async fn drive<C: Channel>(
    menus: &Menus,
    start: i64,
    r: &mut Runner<'_, C>,
    limits: &Limits,
) -> Result<Outcome, ChannelError> {
    let missing = |id| Outcome::Failed(ProgramError::Menu(format!("IVR {id} does not exist")));
    if menus.get(start).is_none() {
        return Ok(missing(start));
    }
    r.answer().await?;
    let mut path: Vec<i64> = vec![start];
    let mut entering = true;
    let mut rounds = 0usize;
    loop {
        let id = *path.last().unwrap_or(&start);
        let Some(menu) = menus.get(id) else { return Ok(missing(id)) };
        if entering && menu.pin.is_some() && !ask_pin(menu, r).await? {
            play(r, menu, &menu.exit_sound).await?;
            return Ok(Outcome::Failed(ProgramError::Menu(format!("wrong PIN for IVR {id}"))));
        }
        entering = false;
        let (mut failures, mut timeouts, mut first) = (0u32, 0u32, true);
        let step = loop {
            rounds += 1;
            if rounds > limits.max_steps {
                return Ok(Outcome::Failed(ProgramError::Limit("too many IVR rounds in one call")));
            }
            let greeting = if first {
                &menu.greet_long
            } else {
                menu.greet_short.as_ref().map_or(&menu.greet_long, |_| &menu.greet_short)
            };
            first = false;
            let barged = match greeting {
                Some(s) => match r
                    .play_audio(&audio(menu, s), Repeat::Times(1), BargeIn { dtmf: true, speech: false })
                    .await?
                {
                    Played::Digit(d) => Some(d),
                    _ => None,
                },
                None => None,
            };
            let uses_hash = menu.entries.iter().any(|e| e.digits.contains('#'));
            let spec =
                DigitSpec { finish_on_key: (!uses_hash).then_some('#'), max_digits: Some(menu.digit_len) };
            let got = r.collect(barged, &spec, true, None, menu.timeout, menu.inter_digit_timeout).await?;
            if got.digits.is_empty() && got.timed_out {
                timeouts += 1;
                if timeouts >= menu.max_timeouts {
                    break exec_limit(menu, &menu.on_max_timeouts, r, &got.digits).await?;
                }
                continue;
            }
            // A finish key alone is a miss, like a wrong digit.
            match find(menu, &got.digits).filter(|_| !got.digits.is_empty()) {
                Some(entry) => match run_action(menu, &entry.action, r, &got.digits).await? {
                    Step::Stay => {}
                    other => break other,
                },
                None => {
                    play(r, menu, &menu.invalid_sound).await?;
                    failures += 1;
                    if failures >= menu.max_failures {
                        break exec_limit(menu, &menu.on_max_failures, r, &got.digits).await?;
                    }
                }
            }
        };
        match step {
            Step::Stay => {}
            Step::Stop(outcome) => return Ok(outcome),
            Step::Enter(next) => {
                if path.len() >= MAX_DEPTH {
                    path.remove(0);
                }
                path.push(next);
                entering = true;
            }
            Step::Up => {
                if path.len() > 1 {
                    path.pop();
                }
            }
            Step::Home => path.truncate(1),
        }
    }
}

/// The action for entered digits: an exact match, else the longest
/// prefix match.
fn find<'m>(menu: &'m Menu, digits: &str) -> Option<&'m Entry> {
    menu.entries.iter().find(|e| e.digits == digits).or_else(|| {
        menu.entries
            .iter()
            .filter(|e| e.prefix && digits.starts_with(&e.digits))
            .max_by_key(|e| e.digits.len())
    })
}

async fn exec_limit<C: Channel>(
    menu: &Menu,
    action: &Option<MenuAction>,
    r: &mut Runner<'_, C>,
    digits: &str,
) -> Result<Step, ChannelError> {
    match action {
        Some(a) => match run_action(menu, a, r, digits).await? {
            // A play after too many misses still ends the menu.
            Step::Stay => exit(r, menu).await,
            other => Ok(other),
        },
        None => exit(r, menu).await,
    }
}

async fn run_action<C: Channel>(
    menu: &Menu,
    action: &MenuAction,
    r: &mut Runner<'_, C>,
    digits: &str,
) -> Result<Step, ChannelError> {
    Ok(match action {
        MenuAction::Play(s) => {
            r.play_audio(&audio(menu, s), Repeat::Times(1), BargeIn::NONE).await?;
            Step::Stay
        }
        MenuAction::Tts(t) => {
            r.play_audio(&audio(menu, &Sound::Tts(t.clone())), Repeat::Times(1), BargeIn::NONE).await?;
            Step::Stay
        }
        MenuAction::Sub(id) => Step::Enter(*id),
        MenuAction::Top => Step::Up,
        MenuAction::Back => Step::Home,
        MenuAction::Exit => exit(r, menu).await?,
        MenuAction::Conference(c) => {
            let mut c = c.clone();
            if c.name.is_empty() {
                c.name = digits.to_owned();
            }
            if !super::conversation::ask_pin(r, &c).await? {
                return Ok(Step::Stop(Outcome::Failed(ProgramError::WrongPin(c.name))));
            }
            r.channel.conference(&c).await?;
            r.channel.hangup().await?;
            Step::Stop(Outcome::HungUp)
        }
        MenuAction::Extension(ext) => {
            play(r, menu, &menu.transfer_sound).await?;
            Step::Stop(Outcome::Transfer {
                context: None,
                number: ext.clone().unwrap_or_else(|| digits.to_owned()),
            })
        }
        MenuAction::Route { number, context } => {
            play(r, menu, &menu.transfer_sound).await?;
            Step::Stop(Outcome::Transfer {
                context: Some(context.clone()),
                number: number.clone().unwrap_or_else(|| digits.to_owned()),
            })
        }
    })
}

/// Plays the exit sound and hangs up.
async fn exit<C: Channel>(r: &mut Runner<'_, C>, menu: &Menu) -> Result<Step, ChannelError> {
    play(r, menu, &menu.exit_sound).await?;
    r.channel.hangup().await?;
    Ok(Step::Stop(Outcome::HungUp))
}

async fn play<C: Channel>(
    r: &mut Runner<'_, C>,
    menu: &Menu,
    sound: &Option<Sound>,
) -> Result<(), ChannelError> {
    if let Some(s) = sound {
        r.play_audio(&audio(menu, s), Repeat::Times(1), BargeIn::NONE).await?;
    }
    Ok(())
}

/// A sound as audio; text is spoken with the menu's voice.
fn audio(menu: &Menu, sound: &Sound) -> Audio {
    match sound {
        Sound::Tts(text) => Audio::Say {
            text: text.clone(),
            voice: menu.tts_voice.clone(),
            language: None,
            engine: menu.tts_engine.clone(),
        },
        other => Audio::Sound(other.clone()),
    }
}

/// Asks for the PIN; `true` when it was given.
async fn ask_pin<C: Channel>(menu: &Menu, r: &mut Runner<'_, C>) -> Result<bool, ChannelError> {
    let pin = menu.pin.clone().unwrap_or_default();
    for _ in 0..menu.pin_attempts {
        let barged = match &menu.pin_file {
            Some(s) => match r
                .play_audio(&audio(menu, s), Repeat::Times(1), BargeIn { dtmf: true, speech: false })
                .await?
            {
                Played::Digit(d) => Some(d),
                _ => None,
            },
            None => None,
        };
        let spec = DigitSpec { finish_on_key: Some('#'), max_digits: Some(pin.len() as u32) };
        let got = r.collect(barged, &spec, true, None, menu.timeout, menu.inter_digit_timeout).await?;
        if got.digits == pin {
            return Ok(true);
        }
        play(r, menu, &menu.bad_pin_file).await?;
    }
    Ok(false)
}
