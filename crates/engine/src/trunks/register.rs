//! One gateway's upstream registration as a sans-IO state machine: the
//! driver tells it what happened (`handle_*`, with the time as an
//! argument) and asks what to send (`poll_send`) and when to wake it
//! (`poll_timeout`). It knows nothing of SIP messages or sockets.
//!
//! The states are those `sofia status gateway` shows: `NOREG` (the
//! gateway does not register), `UNREGED` (it should register but is not:
//! before the first attempt or after `unregister`), `TRYING` (a REGISTER
//! is out and no binding holds), `REGED` (also while a refresh is out),
//! `FAIL_WAIT` (the last attempt failed; another is scheduled) and
//! `FAILED` (it will not retry by itself: unusable settings, or challenged
//! without a password).

use store::Millis;

/// A gateway's registration state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegState {
    /// Does not register.
    NoReg,
    /// Should register but is not registered.
    Unreged,
    /// A REGISTER is waiting for its answer.
    Trying,
    /// Registered.
    Reged,
    /// Failed; will not retry until told to.
    Failed,
    /// Failed; retries at the scheduled time.
    FailWait,
}

impl RegState {
    /// The name FreeSWITCH users know.
    pub fn as_str(self) -> &'static str {
        match self {
            RegState::NoReg => "NOREG",
            RegState::Unreged => "UNREGED",
            RegState::Trying => "TRYING",
            RegState::Reged => "REGED",
            RegState::Failed => "FAILED",
            RegState::FailWait => "FAIL_WAIT",
        }
    }
}

/// The timers of one registration, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// The lifetime asked for (`expire-seconds`).
    pub expires: u32,
    /// The first wait after a failure (`retry-seconds`); doubled after
    /// each further failure in a row.
    pub retry: u32,
    /// The longest wait between attempts.
    pub retry_max: u32,
    /// How long to wait for the answer to a REGISTER (`timeout-seconds`).
    pub timeout: u32,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers { expires: 3600, retry: 30, retry_max: 600, timeout: 32 }
    }
}

/// What the driver should send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    /// A REGISTER asking for `expires` seconds (a new attempt: a new CSeq,
    /// no credentials until challenged).
    Register {
        /// The lifetime to ask for.
        expires: u32,
    },
    /// A REGISTER with `Expires: 0`, removing our binding.
    Unregister,
}

/// One gateway's registration.
#[derive(Debug, Clone)]
pub struct Registration {
    timers: Timers,
    state: RegState,
    /// Failures in a row since the last success.
    failures: u32,
    /// When to act next (refresh, retry or give up waiting).
    wake: Option<Millis>,
    /// When the current binding lapses.
    expires_at: Option<Millis>,
    last_error: Option<String>,
    /// When the REGISTER out now was sent (`None`: none is out). A refresh
    /// is out while the state stays `REGED`.
    sent_at: Option<Millis>,
    /// When the last success came.
    registered_at: Option<Millis>,
    out: Vec<Send>,
}

impl Registration {
    /// A registration with `timers`; `register` says whether it should
    /// register at all (else it stays `NOREG`). Nothing is sent until
    /// [`Registration::handle_start`].
    pub fn new(timers: Timers, register: bool) -> Registration {
        Registration {
            timers,
            state: if register { RegState::Unreged } else { RegState::NoReg },
            failures: 0,
            wake: None,
            expires_at: None,
            last_error: None,
            sent_at: None,
            registered_at: None,
            out: Vec::new(),
        }
    }

    /// The state.
    pub fn state(&self) -> RegState {
        self.state
    }

    /// The timers.
    pub fn timers(&self) -> Timers {
        self.timers
    }

    /// Why the last attempt failed, if it did.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// When the current binding lapses (while registered).
    pub fn expires_at(&self) -> Option<Millis> {
        self.expires_at.filter(|_| self.state == RegState::Reged)
    }

    /// When the next attempt (refresh or retry) is due.
    pub fn next_attempt(&self) -> Option<Millis> {
        self.wake.filter(|_| !self.pending() && matches!(self.state, RegState::Reged | RegState::FailWait))
    }

    /// When it last registered successfully.
    pub fn registered_at(&self) -> Option<Millis> {
        self.registered_at
    }

    /// Failures in a row since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether a REGISTER is out, waiting for its answer (`TRYING`, or a
    /// refresh while `REGED`).
    pub fn pending(&self) -> bool {
        self.sent_at.is_some()
    }

    /// Starts registering now (the gateway was started, or told to
    /// `register`). A REGISTER already out is left to finish.
    pub fn handle_start(&mut self, now: Millis) {
        if self.pending() {
            return;
        }
        self.attempt(now);
    }

    /// Sends `Expires: 0` if a binding may exist, and stops registering
    /// until started again.
    pub fn handle_unregister(&mut self, _now: Millis) {
        if self.state == RegState::Reged || self.pending() {
            self.out.push(Send::Unregister);
        }
        self.sent_at = None;
        if self.state != RegState::NoReg {
            self.state = RegState::Unreged;
        }
        self.wake = None;
        self.expires_at = None;
        self.failures = 0;
    }

    /// The upstream accepted the REGISTER for `granted` seconds.
    pub fn handle_registered(&mut self, now: Millis, granted: u32) {
        if self.sent_at.take().is_none() {
            return;
        }
        let granted = granted.max(1);
        self.state = RegState::Reged;
        self.failures = 0;
        self.last_error = None;
        self.registered_at = Some(now);
        self.expires_at = Some(now + secs(granted));
        self.wake = Some(now + secs(refresh_after(granted)));
    }

    /// The attempt failed for `reason`; `retry` false means it should not
    /// be tried again by itself (FAILED).
    pub fn handle_failed(&mut self, now: Millis, reason: impl Into<String>, retry: bool) {
        if self.sent_at.take().is_none() {
            return;
        }
        self.last_error = Some(reason.into());
        self.failures = self.failures.saturating_add(1);
        self.expires_at = None;
        if retry {
            self.state = RegState::FailWait;
            self.wake = Some(now + secs(self.backoff()));
        } else {
            self.state = RegState::Failed;
            self.wake = None;
        }
    }

    /// The upstream wants a longer lifetime (423 with `Min-Expires: min`):
    /// from now on `min` is asked for, and a new attempt goes out at once.
    /// A `min` no longer than what was asked counts as a failure (no loop).
    pub fn handle_too_brief(&mut self, now: Millis, min: u32) {
        if !self.pending() {
            return;
        }
        if min <= self.timers.expires {
            self.handle_failed(now, format!("423 Interval Too Brief (Min-Expires {min})"), true);
            return;
        }
        self.timers.expires = min;
        self.sent_at = None;
        self.attempt(now);
    }

    /// The gateway cannot register at all (its settings are unusable):
    /// `FAILED` with `reason`, nothing scheduled.
    pub fn handle_refused(&mut self, reason: impl Into<String>) {
        self.state = RegState::Failed;
        self.last_error = Some(reason.into());
        self.wake = None;
        self.expires_at = None;
        self.sent_at = None;
    }

    /// Acts on the time: refreshes a binding that is due, retries after a
    /// failure, gives up waiting for an answer, and shows `TRYING` once a
    /// binding lapses while its refresh is still unanswered.
    pub fn handle_timeout(&mut self, now: Millis) {
        let Some(wake) = self.wake else { return };
        if now < wake {
            return;
        }
        if let Some(sent) = self.sent_at {
            let give_up = sent + secs(self.timers.timeout.max(1));
            if now >= give_up {
                let reason = format!("no answer in {} s", self.timers.timeout);
                self.handle_failed(now, reason, true);
            } else {
                self.state = RegState::Trying;
                self.expires_at = None;
                self.wake = Some(give_up);
            }
            return;
        }
        match self.state {
            RegState::Reged | RegState::FailWait => self.attempt(now),
            _ => self.wake = None,
        }
    }

    /// What to send next.
    pub fn poll_send(&mut self) -> Option<Send> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }

    /// When [`Registration::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.wake
    }

    /// The wait before the next attempt after `failures` failures in a row:
    /// `retry`, doubled for each failure after the first, at most
    /// `retry_max` (and never below `retry`).
    pub fn backoff(&self) -> u32 {
        let doublings = self.failures.saturating_sub(1).min(16);
        let wait = u64::from(self.timers.retry.max(1)) << doublings;
        wait.min(u64::from(self.timers.retry_max.max(self.timers.retry.max(1)))) as u32
    }

    /// Sends a REGISTER. A refresh of a live binding stays `REGED` (the
    /// binding holds) and wakes when it lapses, if that comes before the
    /// answer is given up.
    fn attempt(&mut self, now: Millis) {
        let give_up = now + secs(self.timers.timeout.max(1));
        self.sent_at = Some(now);
        match self.expires_at.filter(|at| self.state == RegState::Reged && *at > now) {
            Some(lapse) => self.wake = Some(give_up.min(lapse)),
            None => {
                self.state = RegState::Trying;
                self.wake = Some(give_up);
            }
        }
        self.out.push(Send::Register { expires: self.timers.expires });
    }
}

/// How long after a success to refresh a binding granted for `granted`
/// seconds: 30 s before it lapses for long bindings, halfway for short
/// ones (under two minutes), at least one second.
pub fn refresh_after(granted: u32) -> u32 {
    if granted >= 120 {
        granted - 30
    } else {
        (granted / 2).max(1)
    }
}

fn secs(s: u32) -> Millis {
    Millis::from(s) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers() -> Timers {
        Timers { expires: 60, retry: 2, retry_max: 10, timeout: 5 }
    }

    fn started(now: Millis) -> Registration {
        let mut r = Registration::new(timers(), true);
        assert_eq!(r.state(), RegState::Unreged);
        r.handle_start(now);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
        assert_eq!(r.state(), RegState::Trying);
        r
    }

    #[test]
    fn a_gateway_that_does_not_register_sends_nothing() {
        let mut r = Registration::new(timers(), false);
        assert_eq!(r.state(), RegState::NoReg);
        assert_eq!(r.poll_timeout(), None);
        r.handle_timeout(1_000_000);
        assert_eq!(r.poll_send(), None);
        r.handle_unregister(1);
        assert_eq!((r.state(), r.poll_send()), (RegState::NoReg, None));
    }

    #[test]
    fn a_success_is_refreshed_halfway_through_a_short_binding() {
        let mut r = started(0);
        r.handle_registered(100, 6);
        assert_eq!(r.state(), RegState::Reged);
        assert_eq!(r.expires_at(), Some(6_100));
        assert_eq!(r.poll_timeout(), Some(3_100));
        r.handle_timeout(3_099);
        assert_eq!(r.poll_send(), None, "not due yet");
        r.handle_timeout(3_100);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
        assert_eq!(r.state(), RegState::Reged, "the binding holds while it is refreshed");
        assert!(r.pending());
        assert_eq!(r.poll_timeout(), Some(6_100), "wakes when the binding lapses, before the 5 s timeout");
        r.handle_timeout(6_100);
        assert_eq!((r.state(), r.expires_at()), (RegState::Trying, None), "lapsed, still waiting");
        assert_eq!(r.poll_timeout(), Some(8_100), "the answer is awaited timeout seconds");
        r.handle_registered(7_000, 6);
        assert_eq!((r.state(), r.expires_at()), (RegState::Reged, Some(13_000)));
        r.handle_timeout(10_000);
        r.poll_send();
        r.handle_registered(10_050, 6);
        assert_eq!((r.state(), r.expires_at()), (RegState::Reged, Some(16_050)), "a timely refresh");
    }

    #[test]
    fn an_unanswered_refresh_of_a_long_binding_fails_before_it_lapses() {
        let mut r = started(0);
        r.handle_registered(0, 3600);
        r.handle_timeout(3_570_000);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
        assert_eq!(r.poll_timeout(), Some(3_575_000), "timeout (5 s) comes before the lapse (30 s)");
        r.handle_timeout(3_575_000);
        assert_eq!(r.state(), RegState::FailWait);
        assert_eq!(r.expires_at(), None);
    }

    #[test]
    fn a_long_binding_is_refreshed_thirty_seconds_before_it_lapses() {
        assert_eq!(refresh_after(3600), 3570);
        assert_eq!(refresh_after(120), 90);
        assert_eq!(refresh_after(119), 59);
        assert_eq!(refresh_after(1), 1);
        let mut r = started(0);
        r.handle_registered(0, 3600);
        assert_eq!(r.poll_timeout(), Some(3_570_000));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap_and_a_success_resets_it() {
        let mut r = started(0);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..5 {
            r.handle_failed(now, "503 Service Unavailable", true);
            assert_eq!(r.state(), RegState::FailWait);
            assert_eq!(r.last_error(), Some("503 Service Unavailable"));
            let wake = r.poll_timeout().expect("a retry is scheduled");
            waits.push((wake - now) / 1000);
            now = wake;
            r.handle_timeout(now);
            assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
        }
        assert_eq!(waits, vec![2, 4, 8, 10, 10]);
        r.handle_registered(now, 60);
        assert_eq!((r.state(), r.failures(), r.last_error()), (RegState::Reged, 0, None));
        r.handle_timeout(now + 30_000);
        r.poll_send();
        r.handle_failed(now + 30_000, "408", true);
        assert_eq!(r.poll_timeout(), Some(now + 32_000), "the first failure after a success waits `retry`");
    }

    #[test]
    fn an_unanswered_register_fails_after_the_timeout_and_is_retried() {
        let mut r = started(1_000);
        r.handle_timeout(5_999);
        assert_eq!(r.state(), RegState::Trying);
        r.handle_timeout(6_000);
        assert_eq!(r.state(), RegState::FailWait);
        assert_eq!(r.last_error(), Some("no answer in 5 s"));
        assert_eq!(r.poll_timeout(), Some(8_000));
        // A late answer to the abandoned attempt changes nothing.
        r.handle_registered(6_500, 60);
        assert_eq!(r.state(), RegState::FailWait);
        r.handle_timeout(8_000);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
    }

    #[test]
    fn a_failure_without_retry_waits_to_be_told() {
        let mut r = started(0);
        r.handle_failed(10, "cannot resolve gw.invalid", false);
        assert_eq!(r.state(), RegState::Failed);
        assert_eq!(r.poll_timeout(), None);
        r.handle_timeout(1_000_000);
        assert_eq!(r.poll_send(), None);
        r.handle_start(2_000_000);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }));
    }

    #[test]
    fn unregister_sends_expires_zero_only_when_a_binding_may_exist() {
        let mut r = started(0);
        r.handle_registered(0, 60);
        r.handle_unregister(10);
        assert_eq!(r.poll_send(), Some(Send::Unregister));
        assert_eq!((r.state(), r.poll_timeout(), r.expires_at()), (RegState::Unreged, None, None));
        r.handle_timeout(1_000_000);
        assert_eq!(r.poll_send(), None, "no refresh after unregister");
        r.handle_unregister(20);
        assert_eq!(r.poll_send(), None, "nothing to remove any more");
        let mut failed = started(0);
        failed.handle_failed(0, "403 Forbidden", true);
        failed.handle_unregister(1);
        assert_eq!(failed.poll_send(), None);
        assert_eq!(failed.state(), RegState::Unreged);
    }

    #[test]
    fn too_brief_asks_again_for_the_minimum_once() {
        let mut r = started(0);
        r.handle_too_brief(10, 300);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 300 }));
        assert_eq!((r.state(), r.failures()), (RegState::Trying, 0));
        r.handle_too_brief(20, 300);
        assert_eq!(r.state(), RegState::FailWait, "the same minimum again is a failure");
        assert_eq!(r.poll_send(), None);
        assert!(r.last_error().is_some_and(|e| e.starts_with("423")));
    }

    #[test]
    fn start_while_trying_sends_nothing_more() {
        let mut r = started(0);
        r.handle_start(1);
        assert_eq!(r.poll_send(), None);
        r.handle_registered(2, 60);
        r.handle_start(3);
        assert_eq!(r.poll_send(), Some(Send::Register { expires: 60 }), "register re-registers at once");
        assert_eq!(r.state(), RegState::Reged);
        r.handle_start(4);
        assert_eq!(r.poll_send(), None, "one at a time");
    }
}
