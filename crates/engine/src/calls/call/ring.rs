//! UAC legs being set up: one INVITE per destination contact ("forks"),
//! and what comes back while they ring, reduced to what the call needs to
//! decide (a provisional response, an answer, every fork failed, the
//! caller gave up, a hang-up, the ring timer). A fork challenged by
//! upstream (401/407) is sent again with its account's credentials once.

use sip::dialog::Dialog;
use sip::transaction::{ClientTxId, Peer, TxId};
use sip::{Method, Request, Response};
use store::Millis;

use super::{best_failure, Call, CallEvent, Input};
use crate::calls::leg::auth::{authorize, Account};

/// One INVITE sent to one contact.
#[derive(Debug)]
pub(super) struct Fork {
    /// Its transaction.
    pub id: ClientTxId,
    /// The request as last sent.
    pub request: Request,
    /// Where to.
    pub peer: Peer,
    /// Its final failure status, once it failed.
    pub failed: Option<u16>,
    /// Credentials for an upstream challenge.
    pub account: Option<Account>,
    /// Whether it was already sent again with credentials.
    pub authorized: bool,
    /// The attempt of the call's Dial it belongs to (0 for a single set
    /// of forks); only the latest attempt's forks decide that all failed.
    pub attempt: usize,
    /// Whether our own transaction layer refused to send it (too many
    /// transactions live): it failed with [`REFUSED`], our overload.
    pub refused: bool,
}

/// The status a fork our transaction layer refused fails with.
pub(super) const REFUSED: u16 = 503;

impl Fork {
    fn live(&self) -> bool {
        self.failed.is_none()
    }
}

/// What happened while ringing.
#[derive(Debug)]
pub(super) enum Ring {
    /// A fork sent a provisional response (not 100).
    Provisional(Box<Response>),
    /// Fork `0` answered.
    Answered(usize, Box<Response>),
    /// Every fork failed; the best status to report.
    Failed(u16),
    /// Every fork failed, and the best failure is our own: the transaction
    /// layer refused to send a fork (overload). The caller gets 503 with
    /// Retry-After ([`super::inbound::failure_reply`]).
    Overloaded,
    /// The caller cancelled (CANCEL on the UAS leg).
    Cancelled,
    /// A hang-up command.
    Hangup,
    /// The ring timer fired.
    TimedOut,
    /// A request in one of the call's dialogs (other than INFO, which is
    /// handled here): the caller answers it.
    Request(sip::transaction::ServerTxId, Box<Request>),
    /// The switch loop went away.
    Closed,
    /// Another agent picks the call up ([`super::CallCommand::PickUp`]),
    /// to be answered or refused by the caller.
    PickUp(super::Envelope),
}

/// How an attempt ends whose forks all failed, given each fork's status
/// and whether our transaction layer refused it: the best failure (RFC
/// 3261 16.7), or [`Ring::Overloaded`] when that is a refusal of ours.
fn all_failed(failures: impl Iterator<Item = (u16, bool)>) -> Ring {
    let mut ours = false;
    let best = best_failure(failures.map(|(code, refused)| {
        ours |= refused;
        code
    }));
    if best == REFUSED && ours {
        Ring::Overloaded
    } else {
        Ring::Failed(best)
    }
}

impl Call {
    /// Sends `request` to `peer` as a new fork, without waiting for the
    /// switch loop: if it refuses the INVITE, [`Call::ring`] fails the fork.
    pub(super) fn fork(&mut self, request: Request, peer: Peer, account: Option<Account>) -> Fork {
        self.own(request.head.call_id.clone());
        let id = self.send_now(request.clone(), peer);
        Fork { id, request, peer, failed: None, account, authorized: false, attempt: 0, refused: false }
    }

    /// Waits for the next thing that matters while `forks` ring, until
    /// `deadline` on the switch's clock. Only the forks of the latest
    /// attempt count for "all failed"; an earlier attempt's fork that
    /// answers late (its CANCEL crossed the 200) still takes the call.
    pub(super) async fn ring(&mut self, forks: &mut [Fork], deadline: Millis) -> Ring {
        let current = forks.iter().map(|f| f.attempt).max().unwrap_or(0);
        loop {
            let mut latest = forks.iter().filter(|f| f.attempt == current);
            if latest.all(|f| !f.live()) {
                let failed = forks.iter().filter(|f| f.attempt == current);
                return all_failed(failed.filter_map(|f| f.failed.map(|c| (c, f.refused))));
            }
            let event = match self.next(Some(deadline), None).await {
                Input::Sip(e) => e,
                Input::Hangup => return Ring::Hangup,
                Input::Timer => return Ring::TimedOut,
                Input::Closed => return Ring::Closed,
                Input::Media(_) => continue,
                Input::Command(env) if matches!(env.command, super::CallCommand::PickUp(_)) => {
                    return Ring::PickUp(env)
                }
                Input::Command(env) if env.leg_hangup().is_some() => {
                    // The ringing leg hung up by its id: its INVITEs are
                    // cancelled, and their 487s fail it as any failure.
                    let _ = env.reply.send(Ok(()));
                    self.cancel_forks(forks, None);
                    continue;
                }
                Input::Command(env) => {
                    super::unsupported(env);
                    continue;
                }
            };
            match event {
                CallEvent::Cancel(_) => return Ring::Cancelled,
                CallEvent::Response(id, resp) => {
                    let Some(i) = forks.iter().position(|f| f.id == id) else { continue };
                    let code = resp.status.code();
                    match code {
                        100 => {}
                        101..=199 => return Ring::Provisional(resp),
                        200..=299 => return Ring::Answered(i, resp),
                        401 | 407 if self.authorize(&mut forks[i], &resp).await => {}
                        _ => forks[i].failed = Some(code),
                    }
                }
                CallEvent::Timeout(TxId::Client(id)) => {
                    if let Some(f) = forks.iter_mut().find(|f| f.id == id && f.live()) {
                        f.failed = Some(408);
                    }
                }
                CallEvent::Unsent(id) => {
                    // Refused by the loop (too many transactions): our own
                    // overload, not the callee's absence.
                    if let Some(f) = forks.iter_mut().find(|f| f.id == id && f.live()) {
                        f.failed = Some(REFUSED);
                        f.refused = true;
                    }
                }
                CallEvent::Request { id, request, .. } if request.method == Method::Info => {
                    let status = self.info(&request);
                    self.respond(id, Response::for_request(&request, status, None));
                }
                CallEvent::Request { id, request, .. }
                    if request.method == Method::Invite
                        && request.head.to_tag().is_none()
                        && forks.iter().any(|f| f.request.head.call_id == request.head.call_id) =>
                {
                    // One of our own INVITEs came back: the route loops
                    // (RFC 3261 16.3). Its fork fails with the 482.
                    tracing::info!(call_id = %request.head.call_id, "a routing loop: our INVITE came back");
                    let status = sip::StatusCode::new(482).unwrap_or(sip::StatusCode::BAD_REQUEST);
                    self.respond(id, Response::for_request(&request, status, None));
                }
                CallEvent::Request { id, request, .. } => return Ring::Request(id, request),
                CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                    // A 2xx after its transaction ended: take it as the answer
                    // of its fork if it still rings, else end it.
                    if let Some(i) =
                        forks.iter().position(|f| f.live() && f.request.head.call_id == resp.head.call_id)
                    {
                        return Ring::Answered(i, resp);
                    }
                    self.ack_and_bye_stray(&resp, peer).await;
                }
                _ => {}
            }
        }
    }

    /// Sends fork `fork` again with credentials for the challenge in
    /// `resp`; false when it has none or already tried.
    async fn authorize(&mut self, fork: &mut Fork, resp: &Response) -> bool {
        let Some(account) = fork.account.clone().filter(|_| !fork.authorized) else { return false };
        let cnonce = self.sw.tag();
        let Some(again) = authorize(&fork.request, resp, &account, self.via(fork.peer), &cnonce) else {
            return false;
        };
        match self.send(again.clone(), fork.peer).await {
            Some(id) => {
                tracing::debug!(status = resp.status.code(), "answering an upstream challenge");
                fork.id = id;
                fork.request = again;
                fork.authorized = true;
                true
            }
            None => false,
        }
    }

    /// CANCELs every fork still ringing but `except`.
    pub(super) fn cancel_forks(&self, forks: &[Fork], except: Option<usize>) {
        for (i, f) in forks.iter().enumerate() {
            if Some(i) != except && f.live() {
                let _ = self.cmds.send(crate::signalling::core::Cmd::Cancel(f.id));
            }
        }
    }

    /// A 2xx from `fork` that lost the race (another fork answered
    /// first): ACK it, as RFC 3261 requires, then BYE its dialog.
    pub(super) async fn refuse_answer(&mut self, fork: &Fork, resp: &Response) {
        let Ok(mut dialog) = Dialog::from_uac(&fork.request, resp) else { return };
        let ack = dialog.ack_for_2xx(resp, self.via(fork.peer));
        let _ = self.cmds.send(crate::signalling::core::Cmd::Ack(fork.id, ack, fork.peer));
        if let Ok(bye) = dialog.request(Method::Bye, self.via(fork.peer)) {
            tracing::debug!(call_id = %resp.head.call_id, "a second answer was ACKed and sent BYE");
            let _ = self.send(bye, fork.peer).await;
        }
    }

    /// A 2xx we cannot match to a fork's request: build the dialog from
    /// the response alone.
    pub(super) async fn ack_and_bye_stray(&mut self, resp: &Response, peer: Peer) {
        let mut request = Request::new(
            Method::Invite,
            resp.head.to.uri.clone(),
            resp.head.from.clone(),
            sip::NameAddr::new(resp.head.to.uri.clone()),
            resp.head.call_id.clone(),
            resp.head.cseq.seq,
        );
        request.head.via = resp.head.via.clone();
        let Ok(mut dialog) = Dialog::from_uac(&request, resp) else { return };
        let ack = dialog.ack_for_2xx(resp, self.via(peer));
        let _ = self.cmds.send(crate::signalling::core::Cmd::Stateless(ack.into(), peer));
        if let Ok(bye) = dialog.request(Method::Bye, self.via(peer)) {
            let _ = self.send(bye, peer).await;
        }
    }
}

/// The answer to a request that comes while a call is being set up and
/// that there is nothing to relay to yet: 491 (try again later).
pub(super) fn not_now(request: &Request) -> Response {
    Response::for_request(request, sip::StatusCode::new(491).unwrap_or(sip::StatusCode::BUSY_HERE), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Ring) -> Option<u16> {
        match r {
            Ring::Failed(c) => Some(c),
            Ring::Overloaded => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_fork_we_refused_is_our_overload_unless_a_callee_said_better() {
        assert_eq!(code(all_failed([(REFUSED, true)].into_iter())), None, "503 with Retry-After, not 480");
        assert_eq!(code(all_failed([(REFUSED, true), (503, false)].into_iter())), None);
        assert_eq!(code(all_failed([(REFUSED, true), (486, false)].into_iter())), Some(486));
        assert_eq!(code(all_failed([(REFUSED, true), (404, false)].into_iter())), Some(404));
        assert_eq!(code(all_failed([(503, false)].into_iter())), Some(503), "a callee's 503 is its own");
        assert_eq!(code(all_failed([(480, false), (487, false)].into_iter())), Some(480));
    }
}
