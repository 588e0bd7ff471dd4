//! A call's phase and how it moves: a pure state machine, so that what a
//! call may do next is decided in one place and tested without sockets.

use store::Millis;

use super::command::CallCommand;

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Authenticating the caller and finding where the call goes.
    Routing,
    /// The callee was asked (and may be ringing); no media yet.
    Ringing,
    /// Not answered, but media flows (a 183 with SDP).
    Early,
    /// Answered: media both ways.
    Answered,
    /// Hanging up; nothing more can be asked of it.
    Ending,
}

/// What happened to a call, as the phase machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A destination was found and asked (INVITE sent).
    Routed,
    /// A provisional response without media (180, or 183 without SDP).
    Ringing,
    /// A provisional response with media (183 with SDP).
    EarlyMedia,
    /// A 2xx.
    Answered,
    /// A BYE, CANCEL, failure, timeout or hang-up.
    Ended,
}

impl Phase {
    /// The phase after `signal`. Signals never move a call backwards: a
    /// 180 after a 183 leaves it early, and nothing leaves `Ending`.
    pub fn on(self, signal: Signal) -> Phase {
        use Phase::*;
        match (self, signal) {
            (Ending, _) | (_, Signal::Ended) => Ending,
            (Answered, _) => Answered,
            (_, Signal::Answered) => Answered,
            (Early, _) | (_, Signal::EarlyMedia) => Early,
            (Routing | Ringing, Signal::Routed) | (_, Signal::Ringing) => Ringing,
        }
    }

    /// Whether `command` can be carried out in this phase (otherwise the
    /// API answers 409).
    pub fn allows(self, command: &CallCommand) -> bool {
        use Phase::*;
        match command {
            CallCommand::Hangup | CallCommand::Set { .. } => self != Ending,
            // Media needs media: early or answered.
            CallCommand::Play { .. }
            | CallCommand::Record { .. }
            | CallCommand::StopRecord
            | CallCommand::DetectDtmf { .. }
            | CallCommand::Dtmf { .. }
            | CallCommand::Say { .. }
            | CallCommand::PlayUrl { .. }
            | CallCommand::StopPlay => {
                matches!(self, Early | Answered)
            }
            CallCommand::Mute { .. }
            | CallCommand::Deaf { .. }
            | CallCommand::Transfer { .. }
            | CallCommand::Bridge { .. }
            | CallCommand::Connect { .. }
            | CallCommand::ListenTo { .. }
            | CallCommand::Intercept { .. }
            | CallCommand::Listened(_)
            | CallCommand::Program(_) => self == Answered,
            // Only a call still ringing can be picked up.
            CallCommand::PickUp(_) => matches!(self, Ringing | Early),
        }
    }

    /// Whether the call is still being set up (no answer yet).
    pub fn is_setup(self) -> bool {
        matches!(self, Phase::Routing | Phase::Ringing | Phase::Early)
    }

    /// The `callstate` the channel list shows.
    pub fn callstate(self) -> &'static str {
        match self {
            Phase::Routing => "DOWN",
            Phase::Ringing => "RINGING",
            Phase::Early => "EARLY",
            Phase::Answered => "ACTIVE",
            Phase::Ending => "HANGUP",
        }
    }

    /// Its name in events and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Routing => "routing",
            Phase::Ringing => "ringing",
            Phase::Early => "early",
            Phase::Answered => "answered",
            Phase::Ending => "ending",
        }
    }
}

/// When an unanswered call that started ringing at `since` is given up.
pub fn ring_deadline(since: Millis, timeout_ms: Millis) -> Millis {
    since.saturating_add(timeout_ms.max(0))
}

/// Whether an unanswered call in `phase` has rung too long at `now`.
pub fn ring_expired(phase: Phase, since: Millis, timeout_ms: Millis, now: Millis) -> bool {
    phase.is_setup() && now >= ring_deadline(since, timeout_ms)
}

#[cfg(test)]
mod tests {
    use super::Phase::*;
    use super::*;

    #[test]
    fn a_call_moves_forward_only() {
        assert_eq!(Routing.on(Signal::Routed), Ringing);
        assert_eq!(Ringing.on(Signal::EarlyMedia), Early);
        assert_eq!(Early.on(Signal::Ringing), Early, "a 180 after a 183 keeps the early media");
        assert_eq!(Early.on(Signal::Answered), Answered);
        assert_eq!(Answered.on(Signal::EarlyMedia), Answered);
        assert_eq!(Answered.on(Signal::Ringing), Answered);
        assert_eq!(Answered.on(Signal::Ended), Ending);
        assert_eq!(Ending.on(Signal::Answered), Ending, "nothing revives an ending call");
        assert_eq!(Routing.on(Signal::Answered), Answered, "an answer without ringing");
        assert_eq!(Routing.on(Signal::Ended), Ending);
        assert_eq!(Routing.on(Signal::Ringing), Ringing);
    }

    #[test]
    fn commands_fit_phases() {
        let play = CallCommand::Play { uri: "tone_stream://%(100,0,440)".into() };
        assert!(Routing.allows(&CallCommand::Hangup));
        assert!(Answered.allows(&CallCommand::Hangup));
        assert!(!Ending.allows(&CallCommand::Hangup), "hanging up twice is a conflict");
        assert!(!Ringing.allows(&play), "no media to play into yet");
        assert!(Early.allows(&play));
        assert!(Answered.allows(&play));
        let transfer = CallCommand::Transfer { target: "2003".into() };
        assert!(!Early.allows(&transfer));
        assert!(Answered.allows(&transfer));
    }

    #[test]
    fn ringing_times_out_on_the_given_clock() {
        assert!(!ring_expired(Ringing, 1_000, 60_000, 60_999));
        assert!(ring_expired(Ringing, 1_000, 60_000, 61_000));
        assert!(ring_expired(Early, 1_000, 60_000, 61_000));
        assert!(!ring_expired(Answered, 1_000, 60_000, 1_000_000), "answered calls do not ring out");
        assert_eq!(ring_deadline(i64::MAX - 1, 10), i64::MAX);
    }

    #[test]
    fn callstates_for_the_channel_list() {
        assert_eq!(Answered.callstate(), "ACTIVE");
        assert_eq!(Early.callstate(), "EARLY");
        assert_eq!(Ringing.callstate(), "RINGING");
    }
}
