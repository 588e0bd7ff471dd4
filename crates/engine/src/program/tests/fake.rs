//! A scripted [`Channel`] and [`Scripts`]: the caller's actions are a
//! queue, every step is logged.

use std::collections::VecDeque;
use std::time::Duration;

use crate::program::{
    Audio, BargeIn, Channel, ChannelError, Conversation, Dial, DialResult, DialStatus, Direction, Input,
    LeftRoom, Listen, Next, Played, RecordEnd, RecordSpec, Recording, RejectReason, Report, ScriptError,
    Scripts, Sound, Stream, Target,
};

/// What the caller does, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    /// Presses a key: interrupts a prompt that allows barge-in, else waits
    /// as input.
    Press(char),
    /// Says something (recognised).
    Speak(&'static str),
    /// Stays silent through one input wait.
    Silence,
    /// Hangs up.
    HangUp,
}

#[derive(Default)]
pub struct FakeCall {
    pub events: VecDeque<Ev>,
    pub log: Vec<String>,
    pub listens: Vec<Listen>,
    pub dial_status: Option<DialStatus>,
    /// Make every `say` fail like a missing TTS engine.
    pub no_tts: bool,
}

impl FakeCall {
    pub fn new(events: &[Ev]) -> FakeCall {
        FakeCall { events: events.iter().cloned().collect(), ..FakeCall::default() }
    }

    fn hung_up(&self) -> Result<(), ChannelError> {
        match self.events.front() {
            Some(Ev::HangUp) => Err(ChannelError::HungUp),
            _ => Ok(()),
        }
    }

    /// The log entries that start with `prefix`.
    pub fn entries(&self, prefix: &str) -> Vec<&str> {
        self.log.iter().filter(|l| l.starts_with(prefix)).map(String::as_str).collect()
    }
}

pub fn describe(audio: &Audio) -> String {
    match audio {
        Audio::Say { text, voice, engine, .. } => {
            let engine = engine.as_ref().map(|e| format!("{{{e}}}")).unwrap_or_default();
            match voice {
                Some(v) => format!("say{engine}[{v}]:{text}"),
                None => format!("say{engine}:{text}"),
            }
        }
        Audio::Sound(Sound::Tone(t)) => format!("tone:{t}"),
        Audio::Sound(Sound::Url(u)) => format!("url:{u}"),
        Audio::Sound(Sound::Tts(t)) => format!("tts:{t}"),
        Audio::Sound(Sound::Media(m)) => format!("media:{:?}:{}", m.id, m.path),
        Audio::Silence(d) => format!("silence:{}ms", d.as_millis()),
    }
}

impl Channel for FakeCall {
    async fn answer(&mut self) -> Result<(), ChannelError> {
        self.hung_up()?;
        self.log.push("answer".into());
        Ok(())
    }
    async fn ring(&mut self) -> Result<(), ChannelError> {
        self.log.push("ring".into());
        Ok(())
    }
    async fn play(&mut self, audio: &Audio, barge_in: BargeIn) -> Result<Played, ChannelError> {
        self.hung_up()?;
        if self.no_tts && matches!(audio, Audio::Say { .. }) {
            return Err(ChannelError::Tts("espeak-ng is not installed".into()));
        }
        let what = describe(audio);
        match self.events.front() {
            Some(Ev::Press(d)) if barge_in.dtmf => {
                let d = *d;
                self.events.pop_front();
                self.log.push(format!("{what} (stopped by {d})"));
                Ok(Played::Digit(d))
            }
            Some(Ev::Speak(_)) if barge_in.speech => {
                self.log.push(format!("{what} (stopped by speech)"));
                Ok(Played::Speech)
            }
            _ => {
                self.log.push(what);
                Ok(Played::Finished)
            }
        }
    }
    async fn play_dtmf(&mut self, digits: &str) -> Result<(), ChannelError> {
        self.log.push(format!("dtmf:{digits}"));
        Ok(())
    }
    async fn input(&mut self, listen: &Listen) -> Result<Input, ChannelError> {
        self.hung_up()?;
        self.listens.push(listen.clone());
        Ok(match self.events.pop_front() {
            Some(Ev::Press(d)) => Input::Digit(d),
            Some(Ev::Speak(t)) => Input::Speech { text: t.into(), confidence: 0.9 },
            Some(Ev::Silence) | None => Input::Timeout,
            Some(Ev::HangUp) => unreachable!("checked above"),
        })
    }
    async fn record(&mut self, spec: &RecordSpec) -> Result<Recording, ChannelError> {
        self.hung_up()?;
        let ended_by = match self.events.front() {
            Some(Ev::Press(d)) if spec.finish_on_key.contains(*d) => {
                let d = *d;
                self.events.pop_front();
                RecordEnd::Key(d)
            }
            _ if spec.background => RecordEnd::Background,
            _ => RecordEnd::Silence,
        };
        self.log.push(format!("record:{}s", spec.max_duration.as_secs()));
        Ok(Recording {
            url: "http://127.0.0.1/recordings/r1".into(),
            id: "r1".into(),
            duration: Duration::from_secs(4),
            size: 64_000,
            ended_by,
        })
    }
    async fn dial(&mut self, dial: &Dial) -> Result<DialResult, ChannelError> {
        self.hung_up()?;
        let who: Vec<String> = dial
            .targets
            .iter()
            .map(|t| match t {
                Target::Number(n) => n.clone(),
                Target::Sip { uri, .. } => uri.clone(),
                Target::Agent(a) => format!("agent {a}"),
            })
            .collect();
        self.log.push(format!("dial:{}", who.join(",")));
        Ok(DialResult {
            status: self.dial_status.unwrap_or(DialStatus::Completed),
            leg_id: Some("leg-b".into()),
            duration: Duration::from_secs(12),
            recording: None,
        })
    }
    async fn stream(&mut self, stream: &Stream) -> Result<(), ChannelError> {
        self.log.push(format!("stream:{}", stream.url));
        Ok(())
    }
    async fn mute(&mut self, direction: Direction, on: bool) -> Result<(), ChannelError> {
        self.log.push(format!("{}:{direction:?}", if on { "mute" } else { "unmute" }));
        Ok(())
    }
    async fn conference(&mut self, conversation: &Conversation) -> Result<LeftRoom, ChannelError> {
        self.hung_up()?;
        let c = conversation;
        let mut flags = Vec::new();
        for (on, name) in [
            (c.end_on_exit, "endOnExit"),
            (!c.start_on_enter, "waits"),
            (c.mute, "mute"),
            (!c.can_speak, "silent"),
            (!c.can_hear, "unhearing"),
            (c.record, "record"),
        ] {
            if on {
                flags.push(name);
            }
        }
        self.log.push(format!(
            "conference:{}{}",
            c.name,
            flags.iter().map(|f| format!(" {f}")).collect::<String>()
        ));
        Ok(LeftRoom::RoomEnded)
    }
    async fn reject(&mut self, reason: RejectReason) -> Result<(), ChannelError> {
        self.log.push(format!("reject:{reason:?}"));
        Ok(())
    }
    async fn hangup(&mut self) -> Result<(), ChannelError> {
        self.hung_up()?;
        self.log.push("hangup".into());
        Ok(())
    }
}

/// Answers submits in order; records every report.
#[derive(Default)]
pub struct FakeScripts {
    pub answers: VecDeque<Result<Next, ScriptError>>,
    pub reports: Vec<Report>,
    /// Answer every submit with this (after `answers` run out).
    pub forever: Option<Next>,
}

impl FakeScripts {
    pub fn new(answers: Vec<Result<Next, ScriptError>>) -> FakeScripts {
        FakeScripts { answers: answers.into(), ..FakeScripts::default() }
    }
}

impl Scripts for FakeScripts {
    async fn submit(&mut self, report: Report) -> Result<Next, ScriptError> {
        self.reports.push(report);
        match self.answers.pop_front() {
            Some(a) => a,
            None => Ok(self.forever.clone().unwrap_or(Next::Continue)),
        }
    }
}
