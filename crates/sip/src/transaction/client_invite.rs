//! The INVITE client transaction (RFC 3261 17.1.1 with RFC 6026 7.2):
//! Calling, Proceeding, Completed, Accepted.

use std::time::Instant;

use super::ack_2xx::{with_ack, Ack2xx};
use super::config::Config;
use super::event::{ClientTxId, Event, TxId};
use super::outbox::Outbox;
use super::peer::Peer;
use super::timers::{after, due, earliest, Retransmit};
use super::Step;
use crate::message::{Request, Response};

/// Where an INVITE client transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Sent, nothing heard: timer A retransmits, timer B gives up.
    Calling,
    /// A provisional response came: no more retransmissions, no timeout.
    Proceeding,
    /// A non-2xx final came and was ACKed: timer D absorbs retransmissions.
    Completed,
    /// A 2xx came: every 2xx is for the TU until timer M.
    Accepted,
}

/// What an INVITE client transaction needs until a final response, in
/// one allocation: Completed and Accepted (32 s each over UDP) need none
/// of it, so they keep a null pointer instead of its room.
#[derive(Debug)]
struct Pending {
    /// The INVITE (for its CANCEL and the ACK of a non-2xx final).
    request: Request,
    /// The INVITE as sent, for timer A (Calling only).
    bytes: Box<[u8]>,
    /// Timer A.
    retransmit: Option<Retransmit>,
}

/// The ACKs an INVITE client transaction resends: those of Completed
/// and Accepted in one field, as they never go together (which keeps an
/// accepted transaction in jemalloc's 112-byte class).
#[derive(Debug, Default)]
enum Acks {
    #[default]
    None,
    /// The ACK of the non-2xx final, resent for each retransmission of it.
    Final(Box<[u8]>),
    /// ACKs the TU gave for 2xx responses (one but for forks), kept for
    /// timer M (32 s over UDP) without what a retransmitted 2xx brings.
    Success(Box<[Ack2xx]>),
}

/// An INVITE client transaction.
#[derive(Debug)]
pub(super) struct ClientInvite {
    id: ClientTxId,
    peer: Peer,
    /// The INVITE and its retransmissions, until a final response.
    pending: Option<Box<Pending>>,
    state: State,
    /// Timer B (Calling), D (Completed) or M (Accepted).
    timeout: Option<Instant>,
    /// The ACKs it resends (Completed or Accepted).
    acks: Acks,
    /// The CANCEL for this INVITE, once the TU asked for one.
    pub(super) cancel: Option<ClientTxId>,
    /// The INVITE was sent in a dialog (a To tag): the route set of its
    /// ACK is not the 2xx's Record-Route.
    in_dialog: bool,
}

impl ClientInvite {
    /// Sends `request` and enters Calling.
    pub(super) fn start(
        now: Instant,
        id: ClientTxId,
        request: Request,
        peer: Peer,
        config: &Config,
        out: &mut Outbox,
    ) -> ClientInvite {
        let bytes = request.to_bytes().into_boxed_slice();
        out.send(peer, &bytes);
        let in_dialog = request.head.to_tag().is_some();
        let retransmit = if peer.is_reliable() { None } else { Retransmit::start(now, config.t1) };
        ClientInvite {
            id,
            peer,
            pending: Some(Box::new(Pending { request, bytes, retransmit })),
            state: State::Calling,
            timeout: after(now, config.long()),
            acks: Acks::None,
            cancel: None,
            in_dialog,
        }
    }

    /// The current state.
    pub(super) fn state(&self) -> State {
        self.state
    }

    /// The peer the INVITE went to.
    pub(super) fn peer(&self) -> Peer {
        self.peer
    }

    /// The INVITE, until a final response came.
    pub(super) fn request(&self) -> Option<&Request> {
        self.pending.as_ref().map(|p| &p.request)
    }

    /// The next time [`ClientInvite::on_timer`] has work.
    pub(super) fn deadline(&self) -> Option<Instant> {
        earliest(self.pending.as_ref().and_then(|p| p.retransmit).map(|r| r.at), self.timeout)
    }

    /// A response matched this transaction.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        response: Response,
        config: &Config,
        out: &mut Outbox,
    ) -> Step {
        let status = response.status;
        match self.state {
            State::Calling | State::Proceeding if status.is_provisional() => {
                self.state = State::Proceeding;
                if let Some(p) = &mut self.pending {
                    p.retransmit = None;
                    p.bytes = Box::default();
                }
                self.timeout = None;
                out.event(Event::Response { id: self.id, response });
            }
            State::Calling | State::Proceeding if status.is_success() => {
                self.state = State::Accepted;
                self.forget_request();
                self.timeout = after(now, config.long());
                out.event(Event::Response { id: self.id, response });
            }
            State::Calling | State::Proceeding => {
                let ack = self.request().map(|r| r.ack_for(&response).to_bytes().into_boxed_slice());
                self.forget_request();
                if let Some(ack) = &ack {
                    out.send(self.peer, ack);
                }
                out.event(Event::Response { id: self.id, response });
                self.state = State::Completed;
                if self.peer.is_reliable() {
                    return Step::Terminated;
                }
                self.acks = ack.map_or(Acks::None, Acks::Final);
                self.timeout = after(now, config.timer_d());
            }
            State::Completed => {
                if status.is_final() && !status.is_success() {
                    if let Acks::Final(ack) = &self.acks {
                        out.send(self.peer, ack);
                    }
                }
            }
            State::Accepted if status.is_success() => {
                let tag = response.head.to_tag().unwrap_or_default();
                let acks: &[Ack2xx] = match &self.acks {
                    Acks::Success(acks) => acks,
                    _ => &[],
                };
                let ack = acks.iter().find(|a| a.acknowledges(tag));
                match ack.and_then(|a| Some((a.peer, a.for_retransmission(&response)?))) {
                    Some((peer, ack)) => out.send(peer, &ack),
                    None => out.event(Event::Response { id: self.id, response }),
                }
            }
            State::Accepted => {}
        }
        Step::Continue
    }

    /// After a final response: no more retransmissions of the INVITE, and
    /// neither it nor its bytes are needed again.
    fn forget_request(&mut self) {
        self.pending = None;
    }

    /// Remembers and sends the TU's ACK for the 2xx with To tag `to_tag`.
    pub(super) fn ack_2xx(&mut self, to_tag: &str, ack: &Request, peer: Peer, out: &mut Outbox) {
        let written = ack.to_bytes();
        out.send(peer, &written);
        let entry = Ack2xx::new(to_tag, ack, &written, peer, !self.in_dialog);
        let acks = match std::mem::take(&mut self.acks) {
            Acks::Success(acks) => acks.into_vec(),
            _ => Vec::new(),
        };
        self.acks = Acks::Success(with_ack(acks, entry));
    }

    /// Once the TU ACKed a 2xx: its ACKs and the end of timer M, taken out
    /// for a compact record, when nothing else is left (no CANCEL of its own).
    pub(super) fn take_acked(&mut self) -> Option<(Instant, Box<[Ack2xx]>)> {
        let ready = self.state == State::Accepted && self.cancel.is_none() && self.timeout.is_some();
        if !ready || !matches!(self.acks, Acks::Success(_)) {
            return None;
        }
        let Acks::Success(acks) = std::mem::take(&mut self.acks) else { return None };
        Some((self.timeout?, acks))
    }

    /// Runs the timers due at `now`.
    pub(super) fn on_timer(&mut self, now: Instant, out: &mut Outbox) -> Step {
        if due(self.timeout, now) {
            if self.state == State::Calling {
                out.event(Event::Timeout { id: TxId::Client(self.id) });
            }
            return Step::Terminated;
        }
        if let Some(p) = &mut self.pending {
            if let Some(r) = p.retransmit.filter(|r| r.at <= now) {
                out.send(self.peer, &p.bytes);
                // Timer A doubles without a cap; timer B ends it.
                p.retransmit = r.backoff(now, None);
            }
        }
        Step::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An accepted INVITE stays 32 s (timer M) with nothing pending: what
    /// it keeps inline must fit jemalloc's 112-byte class.
    #[test]
    fn an_invite_without_its_request_is_small() {
        assert!(std::mem::size_of::<ClientInvite>() <= 112, "{}", std::mem::size_of::<ClientInvite>());
    }
}
