//! The INVITE server transaction (RFC 3261 17.2.1 with RFC 6026 7.1):
//! Proceeding, Completed, Confirmed, Accepted.

use std::time::Instant;

use super::config::Config;
use super::error::TransactionError;
use super::event::{Event, ServerTxId, TxId};
use super::outbox::Outbox;
use super::peer::Peer;
use super::timers::{after, due, earliest, Retransmit};
use super::Step;
use crate::message::{Request, Response};
use crate::status::StatusCode;

/// Where an INVITE server transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Waiting for the TU's final response; 100 Trying goes out after
    /// [`Config::trying_delay`] unless the TU answers first.
    Proceeding,
    /// A non-2xx final was sent: timer G retransmits it, timer H waits
    /// for the ACK.
    Completed,
    /// The ACK came: timer I absorbs ACK retransmissions.
    Confirmed,
    /// A 2xx was sent: INVITE retransmissions are absorbed until timer L;
    /// the 2xx is retransmitted until its ACK when the layer does that.
    Accepted,
}

/// An INVITE server transaction.
#[derive(Debug)]
pub(super) struct ServerInvite {
    id: ServerTxId,
    peer: Peer,
    state: State,
    /// The 100 Trying not sent yet, and when it is due.
    trying: Option<(Instant, Vec<u8>)>,
    /// The last response sent, resent for each INVITE retransmission.
    last: Option<Vec<u8>>,
    /// The To tag of the latest response that had one.
    local_tag: Option<String>,
    /// Timer G, or the 2xx retransmission.
    retransmit: Option<Retransmit>,
    /// Timer H (Completed), I (Confirmed) or L (Accepted).
    timeout: Option<Instant>,
    /// A 2xx was sent and its ACK has not come yet (2xx helper on).
    awaiting_ack: bool,
}

impl ServerInvite {
    /// A transaction for a new INVITE: the 100 Trying goes out now when
    /// [`Config::trying_delay`] is zero, else later.
    pub(super) fn new(
        now: Instant,
        id: ServerTxId,
        request: &Request,
        peer: Peer,
        config: &Config,
        out: &mut Outbox,
    ) -> ServerInvite {
        let trying = Response::for_request(request, StatusCode::TRYING, None).to_bytes();
        let mut tx = ServerInvite {
            id,
            peer,
            state: State::Proceeding,
            trying: None,
            last: None,
            local_tag: None,
            retransmit: None,
            timeout: None,
            awaiting_ack: false,
        };
        match after(now, config.trying_delay).filter(|_| !config.trying_delay.is_zero()) {
            Some(at) => tx.trying = Some((at, trying)),
            None => tx.send(trying, out),
        }
        tx
    }

    /// The current state.
    pub(super) fn state(&self) -> State {
        self.state
    }

    /// The peer the INVITE came from.
    pub(super) fn peer(&self) -> Peer {
        self.peer
    }

    /// The To tag of the latest response that had one.
    pub(super) fn local_tag(&self) -> Option<&str> {
        self.local_tag.as_deref()
    }

    /// The next time [`ServerInvite::on_timer`] has work.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let t = earliest(self.retransmit.map(|r| r.at), self.timeout);
        earliest(t, self.trying.as_ref().map(|(at, _)| *at))
    }

    fn send(&mut self, bytes: Vec<u8>, out: &mut Outbox) {
        out.send(self.peer, &bytes);
        self.last = Some(bytes);
    }

    /// The INVITE came again: resend the last response (or the pending 100
    /// at once); absorbed once the ACK came or a 2xx was sent.
    pub(super) fn on_retransmission(&mut self, out: &mut Outbox) {
        match self.state {
            State::Proceeding => {
                if let Some((_, trying)) = self.trying.take() {
                    self.send(trying, out);
                } else if let Some(last) = &self.last {
                    out.send(self.peer, last);
                }
            }
            State::Completed => {
                if let Some(last) = &self.last {
                    out.send(self.peer, last);
                }
            }
            State::Confirmed | State::Accepted => {}
        }
    }

    /// An ACK matched this transaction (by branch: the ACK of a non-2xx
    /// final). Returns true when the ACK is for the TU (in Accepted, RFC
    /// 6026 7.1).
    pub(super) fn on_ack(&mut self, now: Instant, config: &Config) -> (Step, bool) {
        match self.state {
            State::Completed => {
                self.retransmit = None;
                self.state = State::Confirmed;
                if self.peer.is_reliable() {
                    return (Step::Terminated, false);
                }
                self.timeout = after(now, config.t4);
                (Step::Continue, false)
            }
            State::Accepted => {
                self.on_2xx_ack();
                (Step::Continue, true)
            }
            State::Proceeding | State::Confirmed => (Step::Continue, false),
        }
    }

    /// When nothing is left but absorbing retransmissions until the end
    /// (timer I in Confirmed; timer L in Accepted once the ACK came, when
    /// the layer retransmits 2xx): that end, and whether the ACK of a
    /// non-2xx came (later ACKs are absorbed; in Accepted they go to the TU).
    pub(super) fn finished(&self, config: &Config) -> Option<(Instant, bool)> {
        let until = self.timeout?;
        match self.state {
            State::Confirmed => Some((until, true)),
            State::Accepted
                if config.retransmit_2xx
                    && !self.awaiting_ack
                    && self.retransmit.is_none()
                    && self.trying.is_none() =>
            {
                Some((until, false))
            }
            _ => None,
        }
    }

    /// The ACK for the 2xx came: stop retransmitting it.
    pub(super) fn on_2xx_ack(&mut self) {
        self.awaiting_ack = false;
        if self.state == State::Accepted {
            self.retransmit = None;
        }
    }

    /// The TU sends `response`. Returns whether this was the first 2xx,
    /// whose ACK the driver then watches for.
    pub(super) fn respond(
        &mut self,
        now: Instant,
        response: &Response,
        config: &Config,
        out: &mut Outbox,
    ) -> Result<bool, TransactionError> {
        let status = response.status;
        match self.state {
            State::Proceeding => {}
            State::Accepted if status.is_success() => {
                // The TU's own retransmission, or another 2xx.
                out.send(self.peer, &response.to_bytes());
                return Ok(false);
            }
            _ => return Err(TransactionError::AlreadyFinal),
        }
        if let Some(tag) = response.head.to_tag() {
            self.local_tag = Some(tag.to_owned());
        }
        self.trying = None;
        self.send(response.to_bytes(), out);
        let unreliable = !self.peer.is_reliable();
        if status.is_success() {
            self.state = State::Accepted;
            self.timeout = after(now, config.long());
            self.awaiting_ack = config.retransmit_2xx;
            self.retransmit =
                if config.retransmit_2xx && unreliable { Retransmit::start(now, config.t1) } else { None };
            return Ok(config.retransmit_2xx);
        }
        if status.is_final() {
            self.state = State::Completed;
            self.timeout = after(now, config.long());
            self.retransmit = if unreliable { Retransmit::start(now, config.t1) } else { None };
        }
        Ok(false)
    }

    /// Runs the timers due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant, config: &Config, out: &mut Outbox) -> Step {
        if due(self.timeout, now) {
            let no_ack = match self.state {
                State::Completed => true,
                State::Accepted => self.awaiting_ack,
                State::Proceeding | State::Confirmed => false,
            };
            if no_ack {
                out.event(Event::Timeout { id: TxId::Server(self.id) });
            }
            return Step::Terminated;
        }
        if self.trying.as_ref().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, trying)) = self.trying.take() {
                self.send(trying, out);
            }
        }
        if let Some(r) = self.retransmit.filter(|r| r.at <= now) {
            if let Some(last) = &self.last {
                out.send(self.peer, last);
            }
            self.retransmit = r.backoff(now, Some(config.t2));
        }
        Step::Continue
    }
}
