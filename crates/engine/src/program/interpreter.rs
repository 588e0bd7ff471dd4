//! The interpreter: runs a program against a [`Channel`], sending results
//! to [`Scripts`]. The one place for barge-in, digit collection, loops,
//! caps and errors, whatever dialect the program came from.
//!
//! - Media verbs answer the call first if nothing has.
//! - A `say`/`play` with barge-in that a digit interrupts keeps the digit
//!   as the first input of a gather that follows at once; any other verb
//!   drops it.
//! - A result with a hook is submitted; a program in the answer replaces
//!   the rest of the script (when the hook says so).
//! - When the script runs out, or fails, the interpreter hangs up; the
//!   [`Outcome`] says why.

use std::collections::VecDeque;
use std::time::Duration;

use super::channel::{
    Audio, BargeIn, Channel, ChannelError, Input, Listen, Played, RecordSpec, SpeechSettings,
};
use super::error::ProgramError;
use super::scripts::{Collected, Next, Report, Scripts, VerbResult};
use super::sound::Sound;
use super::verb::{Gather, Hook, Play, Prompt, Record, RejectReason, Repeat, Say, Verb};

/// The beep before a recording: 1 kHz for 250 ms.
pub const BEEP: &str = "tone_stream://%(250,0,1000)";

/// Caps that keep a program from running forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Verbs run in one call, all scripts together.
    pub max_steps: usize,
    /// Results submitted (and programs fetched) in one call.
    pub max_fetches: usize,
    /// Programs fetched in a row with nothing heard or collected between
    /// them (a redirect loop).
    pub max_chain: usize,
    /// Plays of a prompt that repeats forever (`loop: 0`).
    pub max_repeat: u32,
    /// Inputs read by one gather (digits it ignores included).
    pub max_inputs: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_steps: 10_000, max_fetches: 500, max_chain: 10, max_repeat: 1000, max_inputs: 256 }
    }
}

/// How a program ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The script ran out; the interpreter hung up.
    Completed,
    /// A `hangup` verb.
    HungUp,
    /// A `reject` verb refused the call.
    Rejected(RejectReason),
    /// The caller hung up.
    CallerHungUp,
    /// The call goes on elsewhere (an IVR's route action): the caller is
    /// handed to the router with this destination.
    Transfer {
        /// The calling context to route in; `None`: the call's own.
        context: Option<String>,
        /// The number dialled.
        number: String,
    },
    /// Something failed; the interpreter hung up. The error's
    /// [`ProgramError::cause`] is the CDR's cause.
    Failed(ProgramError),
}

/// Runs `program` with the default [`Limits`].
pub async fn run(program: Vec<Verb>, channel: &mut impl Channel, scripts: &mut impl Scripts) -> Outcome {
    run_with(program, channel, scripts, &Limits::default()).await
}

/// Runs `program` under `limits`.
pub async fn run_with(
    program: Vec<Verb>,
    channel: &mut impl Channel,
    scripts: &mut impl Scripts,
    limits: &Limits,
) -> Outcome {
    let mut runner = Runner::new(channel, limits);
    let outcome = runner.run(program, scripts).await;
    runner.finish(outcome).await
}

/// What a step says to do next.
pub(crate) enum Flow {
    /// The next verb.
    Next,
    /// Replace the rest of the script.
    Replace(Vec<Verb>),
    /// Stop with this outcome.
    Stop(Outcome),
}

/// Why a step stopped.
pub(crate) enum StepError {
    /// The channel failed (the verb is named).
    Channel(&'static str, ChannelError),
    /// The program failed.
    Program(ProgramError),
}

impl StepError {
    pub(crate) fn into_outcome(self) -> Outcome {
        match self {
            StepError::Channel(_, ChannelError::HungUp) => Outcome::CallerHungUp,
            StepError::Channel(verb, error) => Outcome::Failed(ProgramError::Channel { verb, error }),
            StepError::Program(e) => Outcome::Failed(e),
        }
    }
}

/// The state of one run over a channel; the IVR runner uses it too.
pub(crate) struct Runner<'a, C> {
    pub(crate) channel: &'a mut C,
    limits: &'a Limits,
    answered: bool,
    /// A digit that interrupted the last prompt.
    pending: Option<char>,
    steps: usize,
    fetches: usize,
    chain: usize,
}

impl<'a, C: Channel> Runner<'a, C> {
    pub(crate) fn new(channel: &'a mut C, limits: &'a Limits) -> Self {
        Runner { channel, limits, answered: false, pending: None, steps: 0, fetches: 0, chain: 0 }
    }

    /// Runs a script to its end.
    pub(crate) async fn run(&mut self, program: Vec<Verb>, scripts: &mut impl Scripts) -> Outcome {
        let mut script: VecDeque<Verb> = program.into();
        while let Some(verb) = script.pop_front() {
            match self.step(&verb, scripts).await {
                Ok(Flow::Next) => {}
                Ok(Flow::Replace(next)) => script = next.into(),
                Ok(Flow::Stop(outcome)) => return outcome,
                Err(e) => return e.into_outcome(),
            }
        }
        Outcome::Completed
    }

    /// Hangs up after a run that ended or failed.
    pub(crate) async fn finish(&mut self, outcome: Outcome) -> Outcome {
        if matches!(outcome, Outcome::Completed | Outcome::Failed(_)) {
            // A caller already gone is not a new failure.
            let _ = self.channel.hangup().await;
        }
        outcome
    }

    /// Runs one verb.
    pub(crate) async fn step(&mut self, verb: &Verb, scripts: &mut impl Scripts) -> Result<Flow, StepError> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(StepError::Program(ProgramError::Limit("too many verbs in one call")));
        }
        let name = verb.name();
        let ch = |e| StepError::Channel(name, e);
        let pending = self.pending.take();
        match verb {
            Verb::Answer => self.answer().await.map_err(ch)?,
            Verb::Ring => {
                if !self.answered {
                    self.channel.ring().await.map_err(ch)?;
                }
            }
            Verb::Say(say) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                self.say(say).await.map_err(ch)?;
            }
            Verb::Play(play) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                self.play(play).await.map_err(ch)?;
            }
            Verb::PlayDtmf { digits } => {
                self.answer().await.map_err(ch)?;
                self.channel.play_dtmf(digits).await.map_err(ch)?;
            }
            Verb::Gather(g) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                let collected = self.gather(g, pending).await.map_err(ch)?;
                if let Some(hook) = &g.hook {
                    if !collected.is_empty() || hook.on_empty {
                        return self.submit(scripts, hook, name, VerbResult::Input(collected)).await;
                    }
                }
            }
            Verb::Record(r) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                return self.record(r, scripts).await;
            }
            Verb::Dial(d) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                let result = self.channel.dial(d).await.map_err(ch)?;
                if let Some(hook) = &d.hook {
                    return self.submit(scripts, hook, name, VerbResult::Dial(result)).await;
                }
            }
            Verb::Stream(s) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                self.channel.stream(s).await.map_err(ch)?;
            }
            Verb::Mute(dir) => self.channel.mute(*dir, true).await.map_err(ch)?,
            Verb::Unmute(dir) => self.channel.mute(*dir, false).await.map_err(ch)?,
            Verb::Wait(d) => {
                self.chain = 0;
                self.channel.play(&Audio::Silence(*d), BargeIn::NONE).await.map_err(ch)?;
            }
            Verb::Redirect(hook) => {
                let flow = self.submit(scripts, hook, name, VerbResult::Redirect).await?;
                // A redirect whose answer has no program ends the script.
                return Ok(match flow {
                    Flow::Next => Flow::Replace(Vec::new()),
                    other => other,
                });
            }
            Verb::Notify { payload, hook } => {
                return self.submit(scripts, hook, name, VerbResult::Notify(payload.clone())).await;
            }
            Verb::Reject(reason) => {
                if self.answered {
                    return Err(StepError::Program(ProgramError::AfterAnswer(name)));
                }
                self.channel.reject(*reason).await.map_err(ch)?;
                return Ok(Flow::Stop(Outcome::Rejected(*reason)));
            }
            Verb::Hangup => {
                self.channel.hangup().await.map_err(ch)?;
                return Ok(Flow::Stop(Outcome::HungUp));
            }
            Verb::Conversation(c) => {
                self.answer().await.map_err(ch)?;
                self.chain = 0;
                if !super::conversation::ask_pin(self, c).await.map_err(ch)? {
                    // The interpreter hangs up on a failure.
                    return Err(StepError::Program(ProgramError::WrongPin(c.name.clone())));
                }
                self.channel.conference(c).await.map_err(ch)?;
            }
        }
        Ok(Flow::Next)
    }

    /// Answers once.
    pub(crate) async fn answer(&mut self) -> Result<(), ChannelError> {
        if !self.answered {
            self.channel.answer().await?;
            self.answered = true;
        }
        Ok(())
    }

    /// Plays audio `repeat` times; a barge-in stops every repetition.
    pub(crate) async fn play_audio(
        &mut self,
        audio: &Audio,
        repeat: Repeat,
        barge_in: BargeIn,
    ) -> Result<Played, ChannelError> {
        let times = match repeat {
            Repeat::Times(n) => n.clamp(1, self.limits.max_repeat),
            Repeat::Forever => self.limits.max_repeat,
        };
        for _ in 0..times {
            match self.channel.play(audio, barge_in).await? {
                Played::Finished => {}
                Played::Digit(d) if barge_in.dtmf => return Ok(Played::Digit(d)),
                Played::Speech if barge_in.speech => return Ok(Played::Speech),
                // A channel that reports what was not asked for: go on.
                Played::Digit(_) | Played::Speech => {}
            }
        }
        Ok(Played::Finished)
    }

    async fn say(&mut self, say: &Say) -> Result<(), ChannelError> {
        let barge = BargeIn { dtmf: say.barge_in, speech: say.barge_in };
        if let Played::Digit(d) = self.play_audio(&say_audio(say), say.repeat, barge).await? {
            self.pending = Some(d);
        }
        Ok(())
    }

    async fn play(&mut self, play: &Play) -> Result<(), ChannelError> {
        let barge = BargeIn { dtmf: play.barge_in, speech: play.barge_in };
        if let Played::Digit(d) =
            self.play_audio(&Audio::Sound(play.sound.clone()), play.repeat, barge).await?
        {
            self.pending = Some(d);
        }
        Ok(())
    }

    /// Prompts, then input until a finish key, enough digits, speech, or a
    /// timeout.
    async fn gather(&mut self, g: &Gather, pending: Option<char>) -> Result<Collected, ChannelError> {
        let barge = BargeIn { dtmf: g.inputs.dtmf && g.barge_in, speech: g.inputs.speech && g.barge_in };
        let mut first = pending.filter(|_| g.inputs.dtmf);
        if first.is_none() {
            for prompt in &g.prompts {
                let (audio, repeat) = match prompt {
                    Prompt::Say(s) => (say_audio(s), s.repeat),
                    Prompt::Play(p) => (Audio::Sound(p.sound.clone()), p.repeat),
                    Prompt::Pause(d) => (Audio::Silence(*d), Repeat::Times(1)),
                };
                match self.play_audio(&audio, repeat, barge).await? {
                    Played::Finished => {}
                    Played::Digit(d) => {
                        first = Some(d);
                        break;
                    }
                    Played::Speech => break,
                }
            }
        }
        let spec = DigitSpec { finish_on_key: g.finish_on_key, max_digits: g.max_digits };
        let speech = g.inputs.speech.then(|| SpeechSettings {
            hints: g.hints.clone(),
            language: g.language.clone(),
            end_on_silence: g.end_on_silence,
            max_duration: g.max_speech,
        });
        self.collect(first, &spec, g.inputs.dtmf, speech, g.timeout, g.inter_digit_timeout).await
    }

    /// Reads input after an optional first digit.
    pub(crate) async fn collect(
        &mut self,
        first: Option<char>,
        spec: &DigitSpec,
        dtmf: bool,
        speech: Option<SpeechSettings>,
        timeout: Duration,
        inter_digit: Duration,
    ) -> Result<Collected, ChannelError> {
        let mut c = Collected::default();
        if let Some(d) = first {
            if spec.take(d, &mut c) {
                return Ok(c);
            }
        }
        for _ in 0..self.limits.max_inputs {
            let listen = Listen {
                timeout: if c.digits.is_empty() { timeout } else { inter_digit },
                dtmf,
                speech: speech.clone().filter(|_| c.digits.is_empty()),
            };
            match self.channel.input(&listen).await? {
                Input::Digit(d) if dtmf => {
                    if spec.take(d, &mut c) {
                        return Ok(c);
                    }
                }
                Input::Digit(_) => {}
                Input::Speech { text, confidence } if listen.speech.is_some() => {
                    c.speech = Some(text);
                    c.confidence = Some(confidence);
                    return Ok(c);
                }
                Input::Speech { .. } => {}
                Input::Timeout => {
                    c.timed_out = true;
                    return Ok(c);
                }
            }
        }
        c.timed_out = true;
        Ok(c)
    }

    async fn record(&mut self, r: &Record, scripts: &mut impl Scripts) -> Result<Flow, StepError> {
        let ch = |e| StepError::Channel("record", e);
        if r.beep {
            let beep = Audio::Sound(Sound::Tone(BEEP.into()));
            self.channel.play(&beep, BargeIn::NONE).await.map_err(ch)?;
        }
        let spec = RecordSpec {
            max_duration: r.max_duration,
            max_silence: r.max_silence,
            finish_on_key: r.finish_on_key.clone(),
            background: r.background,
        };
        let recording = self.channel.record(&spec).await.map_err(ch)?;
        match &r.hook {
            Some(hook) => self.submit(scripts, hook, "record", VerbResult::Record(recording)).await,
            None => Ok(Flow::Next),
        }
    }

    /// Sends a result; a failure ends the program only when the answer
    /// was to replace the script (an event's failure is the webhook
    /// client's to report).
    async fn submit(
        &mut self,
        scripts: &mut impl Scripts,
        hook: &Hook,
        verb: &'static str,
        result: VerbResult,
    ) -> Result<Flow, StepError> {
        self.fetches += 1;
        if self.fetches > self.limits.max_fetches {
            return Err(StepError::Program(ProgramError::Limit("too many webhook requests in one call")));
        }
        if hook.replaces {
            self.chain += 1;
            if self.chain > self.limits.max_chain {
                return Err(StepError::Program(ProgramError::Limit(
                    "webhook programs fetched in a loop with nothing played or collected",
                )));
            }
        }
        let report = Report { hook: hook.clone(), verb, result };
        match scripts.submit(report).await {
            Ok(Next::Replace(program)) if hook.replaces => Ok(Flow::Replace(program)),
            Ok(_) => Ok(Flow::Next),
            Err(error) if hook.replaces => Err(StepError::Program(ProgramError::Script { verb, error })),
            Err(_) => Ok(Flow::Next),
        }
    }
}

/// How digits are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigitSpec {
    pub(crate) finish_on_key: Option<char>,
    pub(crate) max_digits: Option<u32>,
}

/// The most digits one input holds, whatever a script asks.
const MAX_DIGITS: usize = 128;

impl DigitSpec {
    /// Adds a digit; `true` when input is complete.
    fn take(&self, d: char, c: &mut Collected) -> bool {
        if Some(d) == self.finish_on_key {
            c.finished_on_key = Some(d);
            return true;
        }
        c.digits.push(d);
        let max = self.max_digits.map_or(MAX_DIGITS, |m| (m as usize).min(MAX_DIGITS));
        c.digits.len() >= max
    }
}

fn say_audio(say: &Say) -> Audio {
    Audio::Say {
        text: say.text.clone(),
        voice: say.voice.clone(),
        language: say.language.clone(),
        engine: None,
    }
}
