//! The non-INVITE client transaction (RFC 3261 17.1.2): Trying,
//! Proceeding, Completed; plus Held for a CANCEL that waits for its
//! INVITE's first provisional response (RFC 3261 9.1).

use std::time::Instant;

use super::config::Config;
use super::event::{ClientTxId, Event, TxId};
use super::outbox::Outbox;
use super::peer::Peer;
use super::timers::{after, due, earliest, Retransmit};
use super::Step;
use crate::message::{Request, Response};

/// Where a non-INVITE client transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Not sent yet: a CANCEL waiting for a provisional response.
    Held,
    /// Sent: timer E retransmits (doubling up to T2), timer F gives up.
    Trying,
    /// A provisional response came: timer E at T2, timer F still runs.
    Proceeding,
    /// A final response came: timer K absorbs retransmissions of it.
    Completed,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub(super) struct ClientNonInvite {
    id: ClientTxId,
    peer: Peer,
    bytes: Vec<u8>,
    state: State,
    /// Timer E.
    retransmit: Option<Retransmit>,
    /// Timer F (Trying, Proceeding) or K (Completed).
    timeout: Option<Instant>,
}

impl ClientNonInvite {
    /// A transaction for `request` that sends nothing until
    /// [`ClientNonInvite::release`].
    pub(super) fn held(id: ClientTxId, request: &Request, peer: Peer) -> ClientNonInvite {
        ClientNonInvite {
            id,
            peer,
            bytes: request.to_bytes(),
            state: State::Held,
            retransmit: None,
            timeout: None,
        }
    }

    /// Sends `request` and enters Trying.
    pub(super) fn start(
        now: Instant,
        id: ClientTxId,
        request: &Request,
        peer: Peer,
        config: &Config,
        out: &mut Outbox,
    ) -> ClientNonInvite {
        let mut tx = ClientNonInvite::held(id, request, peer);
        tx.release(now, config, out);
        tx
    }

    /// Sends a held request and enters Trying; no-op in other states.
    pub(super) fn release(&mut self, now: Instant, config: &Config, out: &mut Outbox) {
        if self.state != State::Held {
            return;
        }
        out.send(self.peer, &self.bytes);
        self.state = State::Trying;
        self.retransmit = if self.peer.is_reliable() { None } else { Retransmit::start(now, config.t1) };
        self.timeout = after(now, config.long());
    }

    /// The current state.
    pub(super) fn state(&self) -> State {
        self.state
    }

    /// The peer the request goes to.
    pub(super) fn peer(&self) -> Peer {
        self.peer
    }

    /// The next time [`ClientNonInvite::on_timer`] has work.
    pub(super) fn deadline(&self) -> Option<Instant> {
        earliest(self.retransmit.map(|r| r.at), self.timeout)
    }

    /// A response matched this transaction.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        response: Response,
        config: &Config,
        out: &mut Outbox,
    ) -> Step {
        match self.state {
            State::Trying | State::Proceeding if response.status.is_provisional() => {
                self.state = State::Proceeding;
                out.event(Event::Response { id: self.id, response });
            }
            State::Trying | State::Proceeding => {
                out.event(Event::Response { id: self.id, response });
                self.state = State::Completed;
                if self.peer.is_reliable() {
                    return Step::Terminated;
                }
                // Timer K only absorbs retransmitted responses: the
                // request is not sent again.
                self.retransmit = None;
                self.bytes = Vec::new();
                self.timeout = after(now, config.t4);
            }
            // Held: nothing was sent, so the response is not ours to take.
            State::Held | State::Completed => {}
        }
        Step::Continue
    }

    /// Runs the timers due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant, config: &Config, out: &mut Outbox) -> Step {
        if due(self.timeout, now) {
            if self.state != State::Completed {
                out.event(Event::Timeout { id: TxId::Client(self.id) });
            }
            return Step::Terminated;
        }
        if let Some(r) = self.retransmit.filter(|r| r.at <= now) {
            out.send(self.peer, &self.bytes);
            self.retransmit = match self.state {
                State::Proceeding => Retransmit::start(now, config.t2),
                _ => r.backoff(now, Some(config.t2)),
            };
        }
        Step::Continue
    }
}
