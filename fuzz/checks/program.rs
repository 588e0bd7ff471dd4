//! The properties the `program` fuzz targets check, shared with the
//! regression tests in `crates/engine/tests/fuzz_regressions.rs` (included
//! there with `#[path]`), so a kept crash replays exactly what the fuzzer ran.
//!
//! Each function takes arbitrary bytes; it returns quietly when they do not
//! parse and panics when a property fails. Whatever parses is also run by
//! the interpreter against a call that answers every step at once, so a
//! script that parses can neither panic nor run forever.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use engine::program::{
    self, block, fonoster, ncco, twiml, Audio, BargeIn, Channel, ChannelError, Conversation, Dial,
    DialResult, DialStatus, Dialect, Direction, Input, LeftRoom, Limits, Listen, Next, Played, RecordEnd,
    RecordSpec, Recording, RejectReason, Report, ScriptError, Scripts, Sound, Stream, Verb, MAX_VERBS,
};

/// Fonoster commands: the parser and `parse_answer` for JSON agree.
pub fn fonoster(data: &[u8]) {
    let direct = fonoster::parse(data);
    let via = program::parse_answer("application/json", data);
    if let Ok(verbs) = &direct {
        assert_eq!(via, Ok((Dialect::Fonoster, verbs.clone())), "parse_answer disagrees");
        run(verbs);
    }
}

/// NCCO: the parser and `parse_answer` for JSON agree.
pub fn ncco(data: &[u8]) {
    let direct = ncco::parse(data);
    let via = program::parse_answer("application/json", data);
    if let Ok(verbs) = &direct {
        assert_eq!(via, Ok((Dialect::Ncco, verbs.clone())), "parse_answer disagrees");
        run(verbs);
    }
}

/// TwiML: the parser and `parse_answer` for XML give the same result.
pub fn twiml(data: &[u8]) {
    let direct = twiml::parse(data);
    let via = program::parse_answer("text/xml", data).map(|(d, v)| {
        assert_eq!(d, Dialect::Twiml);
        v
    });
    assert_eq!(direct, via, "parse_answer disagrees");
    if let Ok(verbs) = &direct {
        run(verbs);
    }
}

/// Blocks (Blockly XML), and the same bytes as a stored sound.
pub fn block(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Sound::parse_stored("sound", text);
    }
    let Ok(program) = block::parse_xml(data) else { return };
    assert!(program.verbs.len() <= 256, "too many verbs");
    run(&program.verbs);
}

/// Conference room settings (a route's or IVR action's `body`): no panic;
/// what is accepted is a PIN of digits (32 at most), at least one try,
/// and tones that parse; the room then runs as a program.
pub fn conference_settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut c = Conversation::named("room");
    if c.apply_settings("body", text).is_ok() {
        if let Some(pin) = &c.pin {
            assert!(pin.len() <= 32 && pin.chars().all(|k| k.is_ascii_digit() || k == '*'), "{pin:?}");
        }
        assert!((1..=10).contains(&c.pin_attempts));
        for t in c.enter_sound.iter().chain(&c.exit_sound) {
            assert!(media::player::parse_tone_stream(t).is_ok(), "{t:?}");
        }
        run(&[Verb::Conversation(c)]);
    }
}

/// Runs verbs to the end against [`Instant`], polling without a runtime
/// (every step of that call is ready at once).
fn run(verbs: &[Verb]) {
    assert!(verbs.len() <= MAX_VERBS, "more verbs than MAX_VERBS");
    let limits = Limits { max_repeat: 3, max_steps: 2_000, ..Limits::default() };
    let mut call = Instant::default();
    let mut scripts = Instant::default();
    let mut fut = pin!(program::run_with(verbs.to_vec(), &mut call, &mut scripts, &limits));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if fut.as_mut().poll(&mut cx).is_ready() {
            return;
        }
    }
    panic!("the interpreter did not finish");
}

/// A call and a webhook that answer every step at once; the caller
/// presses keys in turn.
#[derive(Default)]
struct Instant {
    n: u32,
}

impl Channel for Instant {
    async fn answer(&mut self) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn ring(&mut self) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn play(&mut self, _: &Audio, barge_in: BargeIn) -> Result<Played, ChannelError> {
        self.n += 1;
        Ok(if barge_in.dtmf && matches!(self.n % 3, 0) { Played::Digit('1') } else { Played::Finished })
    }
    async fn play_dtmf(&mut self, _: &str) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn input(&mut self, _: &Listen) -> Result<Input, ChannelError> {
        self.n += 1;
        Ok(match self.n % 4 {
            0 => Input::Timeout,
            1 => Input::Digit('#'),
            2 => Input::Speech { text: "yes".into(), confidence: 0.5 },
            _ => Input::Digit('5'),
        })
    }
    async fn record(&mut self, _: &RecordSpec) -> Result<Recording, ChannelError> {
        Ok(Recording {
            url: "u".into(),
            id: "r".into(),
            duration: Default::default(),
            size: 0,
            ended_by: RecordEnd::Silence,
        })
    }
    async fn dial(&mut self, _: &Dial) -> Result<DialResult, ChannelError> {
        Ok(DialResult {
            status: DialStatus::NoAnswer,
            leg_id: None,
            duration: Default::default(),
            recording: None,
        })
    }
    async fn stream(&mut self, _: &Stream) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn mute(&mut self, _: Direction, _: bool) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn conference(&mut self, _: &Conversation) -> Result<LeftRoom, ChannelError> {
        Ok(LeftRoom::RoomEnded)
    }
    async fn reject(&mut self, _: RejectReason) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn hangup(&mut self) -> Result<(), ChannelError> {
        Ok(())
    }
}

impl Scripts for Instant {
    async fn submit(&mut self, _: Report) -> Result<Next, ScriptError> {
        Ok(Next::Continue)
    }
}
