//! The non-INVITE server transaction (RFC 3261 17.2.2): Trying,
//! Proceeding, Completed.

use std::time::Instant;

use super::config::Config;
use super::error::TransactionError;
use super::last_response::LastResponse;
use super::outbox::Outbox;
use super::peer::Peer;
use super::timers::{after, due};
use super::Step;
use crate::message::Response;

/// Where a non-INVITE server transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// No response yet: retransmissions are absorbed.
    Trying,
    /// A provisional response was sent: retransmissions get it again.
    Proceeding,
    /// A final response was sent: retransmissions get it until timer J.
    Completed,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub(super) struct ServerNonInvite {
    peer: Peer,
    state: State,
    /// The last provisional response.
    last: Option<Vec<u8>>,
    /// The final response, once sent over UDP, for retransmissions.
    kept: Option<LastResponse>,
    /// Timer J.
    timeout: Option<Instant>,
    /// The request had a To tag (which its responses echo).
    tagged: bool,
}

impl ServerNonInvite {
    /// A transaction for a new request (`tagged`: with a To tag), in Trying.
    pub(super) fn new(peer: Peer, tagged: bool) -> ServerNonInvite {
        ServerNonInvite { peer, state: State::Trying, last: None, kept: None, timeout: None, tagged }
    }

    /// The peer the request came from.
    pub(super) fn peer(&self) -> Peer {
        self.peer
    }

    /// The next time [`ServerNonInvite::on_timer`] has work.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.timeout
    }

    /// The request came again: resend the last response, if any.
    pub(super) fn on_retransmission(&mut self, out: &mut Outbox) {
        if let Some(last) = &self.last {
            out.send(self.peer, last);
        }
    }

    /// Once its final response is sent (on UDP): that response and when
    /// timer J ends the transaction; all it has left to do is resend it.
    pub(super) fn finished(&mut self) -> Option<(LastResponse, Instant)> {
        match (self.state, self.timeout) {
            (State::Completed, Some(until)) => Some((self.kept.take()?, until)),
            _ => None,
        }
    }

    /// The TU (or the layer, for CANCEL) sends `response`.
    pub(super) fn respond(
        &mut self,
        now: Instant,
        response: &Response,
        config: &Config,
        out: &mut Outbox,
    ) -> Result<Step, TransactionError> {
        if self.state == State::Completed {
            return Err(TransactionError::AlreadyFinal);
        }
        let bytes = response.to_bytes();
        out.send(self.peer, &bytes);
        if response.status.is_provisional() {
            self.last = Some(bytes);
            self.state = State::Proceeding;
            return Ok(Step::Continue);
        }
        self.state = State::Completed;
        if self.peer.is_reliable() {
            return Ok(Step::Terminated);
        }
        self.last = None;
        self.kept = Some(LastResponse::new(response, &bytes, self.tagged));
        self.timeout = after(now, config.long());
        Ok(Step::Continue)
    }

    /// Runs the timers due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant) -> Step {
        if due(self.timeout, now) {
            Step::Terminated
        } else {
            Step::Continue
        }
    }
}
