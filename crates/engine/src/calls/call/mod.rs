//! One task per call. A [`Call`] owns its legs, its media and its
//! [`Phase`]; it reads the SIP events the switch loop routes to it and a
//! bounded mailbox of [`CallCommand`]s, each answered through its oneshot
//! (`Err(NotInPhase)` when the phase does not allow it). Calls start from
//! an INVITE ([`start`]: the caller's UAS leg, then UAC legs to the
//! callee's contacts) or from the API ([`originate()`]: a UAC leg first).

mod app;
mod command;
mod connect;
mod control;
mod direct;
mod feature;
mod in_call;
mod inbound;
mod join;
mod listen;
mod media;
mod onward;
mod originate;
mod phase;
mod picked;
mod replace;
mod ring;
mod spy;
mod talk;
mod target;
mod transfer;
mod voicemail;

pub use app::{AppProgram, Apps};
pub use command::{CallCommand, CallHandle, CommandError, CommandResult, Envelope, ProgramSource, MAILBOX};
pub use join::{Join, Joined, Replaces, TRANSFERRED};
pub use listen::{Listen, ListenMode};
pub use onward::dial_string;
pub use originate::{originate, Destination, Originate, OriginateError};
pub use phase::{ring_deadline, ring_expired, Phase, Signal};
pub use replace::replaces_header;
pub use transfer::{refer_target, ReferTarget};

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sip::header::Transport as ViaTransport;
use sip::transaction::{ClientTxId, Peer, Protocol, ServerTxId};
use sip::{HeaderName, HostPort, Request, Response, StatusCode, Via};
use store::Millis;
use tokio::sync::{mpsc, oneshot};

use super::cdr::Cdr;
use super::registry::{Admission, Refusal};
use crate::events::Event;
use crate::media::MediaEvent;
use crate::signalling::auth::Calling;
use crate::signalling::core::{CallEvent, Cmd, Owner};
use crate::signalling::shards::Cores;
use crate::signalling::Switch;

/// How long a callee may ring before the call is given up, by default.
pub const RING_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for the answer to our BYE when a call ends.
const BYE_WAIT: Duration = Duration::from_secs(3);

/// Starts the task of a new call (an INVITE outside any dialog): who
/// calls is settled first (an agent's digest, a trunk's address or
/// credentials; a challenge or 403 otherwise), and only then does the call
/// take a slot, or get 503 with Retry-After when the call limits or a
/// shutdown forbid it.
pub fn start(
    sw: Arc<Switch>,
    id: ServerTxId,
    invite: Request,
    peer: Peer,
    cmds: Cores,
    me: Owner,
    events: mpsc::UnboundedReceiver<CallEvent>,
) {
    // The call's future is large (every state of a call): it is made,
    // and boxed, only once the caller is known and admitted, so the task
    // spawned for each INVITE (a first one without credentials only gets
    // its 407) stays small, and `tokio::spawn`, which moves what it is
    // given through several calls, copies little.
    tokio::spawn(async move {
        let who = match crate::signalling::auth::classify_call(&sw, &invite, peer.addr).await {
            Ok(who) => who,
            Err(resp) => {
                let _ = cmds.send(Cmd::Respond(id, *resp));
                let _ = cmds.send(Cmd::Disown(invite.head.call_id.clone()));
                return;
            }
        };
        let uuid = crate::calls::new_call_id();
        let admission = match sw.calls.admit(&uuid, Some(who.workspace_id())) {
            Ok(a) => a,
            Err(refusal) => {
                tracing::info!(reason = %refusal, "a new call was refused");
                let _ = cmds.send(Cmd::Respond(id, refused(&sw, &invite, refusal)));
                let _ = cmds.send(Cmd::Disown(invite.head.call_id.clone()));
                return;
            }
        };
        let (handle, mailbox) = CallHandle::new(uuid);
        admission.set_handle(handle);
        let call = Call::new(sw, cmds, me, events, mailbox, admission);
        Box::pin(run_inbound(call, invite, id, peer, who)).await;
    });
}

/// The call from `who` that `invite` starts, to its end.
async fn run_inbound(mut call: Call, invite: Request, id: ServerTxId, peer: Peer, who: Calling) {
    call.own(invite.head.call_id.clone());
    let tag = call.sw.tag();
    call.inbound(inbound::Caller { invite, id, peer, tag }, who).await;
    call.close();
}

/// The 503 for a call the registry refused.
fn refused(sw: &Switch, request: &Request, refusal: Refusal) -> Response {
    let mut resp = Response::for_request(request, StatusCode::SERVICE_UNAVAILABLE, Some(&sw.tag()));
    resp.head.headers.push(HeaderName::RetryAfter, refusal.retry_after().to_string());
    resp.head.headers.push(HeaderName::Warning, format!("399 calliope \"{refusal}\""));
    resp
}

/// What a call task waits for, as it comes.
#[derive(Debug)]
enum Input {
    /// A SIP event from the switch loop.
    Sip(CallEvent),
    /// A hang-up command for the whole call (already answered).
    Hangup,
    /// Another command the phase allows, to carry out and answer (a
    /// hang-up naming one leg among them: see [`Envelope::leg_hangup`]).
    Command(Envelope),
    /// The phase's timer (ring timeout) fired.
    Timer,
    /// Something happened to the media (a digit, the end of a playback,
    /// no RTP for the timeout...).
    Media(MediaEvent),
    /// The switch loop went away.
    Closed,
}

/// How a call ended, for the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    /// The SIP status that ended it (200 for a BYE after an answer).
    pub status: u16,
    /// The hangup cause.
    pub cause: &'static str,
}

impl Ending {
    fn new(status: u16, cause: &'static str) -> Ending {
        Ending { status, cause }
    }

    /// The CDR disposition, given whether the call was answered.
    pub fn disposition(self, answered: bool) -> &'static str {
        match (answered, self.status) {
            (true, _) => "ANSWERED",
            (false, 486 | 600) => "BUSY",
            (false, 480 | 408 | 487) => "NO ANSWER",
            _ => "FAILED",
        }
    }
}

/// The plumbing of one call task.
#[derive(Debug)]
pub(crate) struct Call {
    sw: Arc<Switch>,
    cmds: Cores,
    me: Owner,
    events: mpsc::UnboundedReceiver<CallEvent>,
    mailbox: mpsc::Receiver<Envelope>,
    owned: Vec<String>,
    phase: Phase,
    admission: Admission,
    /// The workspace, once the caller is known (0 before).
    workspace_id: i64,
    /// A call placed through the Voice API: its status events, queued
    /// from the start (the program it runs takes them over).
    placed_status: Option<app::status::StatusQueue>,
    /// The player of what another call hands over while this one listens
    /// to it (eavesdrop, three-way, intercept): its end is that call's.
    listening: Option<crate::media::PlaybackId>,
}

impl Call {
    fn new(
        sw: Arc<Switch>,
        cmds: Cores,
        me: Owner,
        events: mpsc::UnboundedReceiver<CallEvent>,
        mailbox: mpsc::Receiver<Envelope>,
        admission: Admission,
    ) -> Call {
        Call {
            sw,
            cmds,
            me,
            events,
            mailbox,
            owned: Vec::new(),
            phase: Phase::Routing,
            admission,
            workspace_id: 0,
            placed_status: None,
            listening: None,
        }
    }

    /// The call's id.
    fn uuid(&self) -> String {
        self.admission.uuid().to_owned()
    }

    /// Gives up the Call-IDs it owned; the registry entry goes when the
    /// call is dropped.
    fn close(&mut self) {
        self.phase = Phase::Ending;
        for call_id in std::mem::take(&mut self.owned) {
            let _ = self.cmds.send(Cmd::Disown(call_id));
        }
    }

    fn own(&mut self, call_id: String) {
        let _ = self.cmds.send(Cmd::Own(call_id.clone(), self.me.clone()));
        self.owned.push(call_id);
    }

    fn respond(&self, id: ServerTxId, resp: Response) {
        let _ = self.cmds.send(Cmd::Respond(id, resp));
    }

    /// Feeds an in-dialog request to its dialog; when the dialog refuses it
    /// (bad CSeq, wrong tags), answers the refusal and returns false.
    fn accepts(&self, dialog: &mut sip::dialog::Dialog, id: ServerTxId, request: &Request) -> bool {
        match dialog.handle_request(request) {
            Ok(_) => true,
            Err(e) => {
                let status = e.status().unwrap_or(StatusCode::BAD_REQUEST);
                self.respond(id, Response::for_request(request, status, None));
                false
            }
        }
    }

    fn now(&self) -> Millis {
        self.sw.clock.now()
    }

    /// Moves the phase on `signal`, showing it in the channel list.
    fn signal(&mut self, signal: Signal) -> Phase {
        let next = self.phase.on(signal);
        if next != self.phase {
            self.phase = next;
            let state = next.callstate();
            self.admission.update_legs(|l| l.callstate = state);
        }
        next
    }

    fn contact(&self) -> String {
        format!("<sip:calliope@{}>", self.sw.advertised())
    }

    fn via(&self, peer: Peer) -> Via {
        let transport = if peer.protocol == Protocol::Udp { ViaTransport::Udp } else { ViaTransport::Tcp };
        let addr = self.sw.advertised();
        let host = match addr.ip() {
            IpAddr::V4(ip) => sip::Host::V4(ip),
            IpAddr::V6(ip) => sip::Host::V6(ip),
        };
        let sent_by = HostPort { host, port: Some(addr.port()) };
        let mut via = Via::new(transport, sent_by, &format!("z9hG4bK{}", self.sw.tag()));
        via.params.set("rport", None);
        via
    }

    /// Sends `request` in a new client transaction and waits for the loop
    /// to say whether it started.
    async fn send(&self, request: Request, peer: Peer) -> Option<ClientTxId> {
        let (reply, rx) = oneshot::channel();
        let id = self.sw.core.client_id(&request.head.call_id);
        let _ = self.cmds.send(Cmd::Send { id, request, peer, owner: self.me.clone(), reply: Some(reply) });
        rx.await.ok()?.ok().map(|()| id)
    }

    /// Sends `request` in a new client transaction without waiting: its
    /// id at once; if the loop refuses it, [`CallEvent::Unsent`] follows.
    fn send_now(&self, request: Request, peer: Peer) -> ClientTxId {
        let id = self.sw.core.client_id(&request.head.call_id);
        let _ = self.cmds.send(Cmd::Send { id, request, peer, owner: self.me.clone(), reply: None });
        id
    }

    /// The address RTP should reach us at, seen from `peer`.
    fn media_ip(&self, peer: SocketAddr) -> IpAddr {
        if let Some(ip) = self.sw.config.public_ip {
            return ip;
        }
        let bound = self.sw.transports.local_addr().ip();
        if !bound.is_unspecified() {
            return bound;
        }
        std::net::UdpSocket::bind((bound, 0))
            .and_then(|s| s.connect(peer).and_then(|_| s.local_addr()))
            .map_or(bound, |a| a.ip())
    }

    /// The address media sockets bind to.
    fn bind_ip(&self, peer: SocketAddr) -> IpAddr {
        let local = self.sw.transports.local_addr().ip();
        if local.is_unspecified() {
            local
        } else {
            self.media_ip(peer)
        }
    }

    /// The next input: a SIP event, a hang-up, the timer at `deadline`
    /// (on the switch's clock), or the end of the media. Other commands
    /// are answered here: `NotInPhase` when the phase forbids them,
    /// `Unsupported` for those this engine cannot do yet.
    async fn next(
        &mut self,
        deadline: Option<Millis>,
        media: Option<&mut mpsc::Receiver<MediaEvent>>,
    ) -> Input {
        let mut timer = match deadline {
            Some(at) => self.sw.clock.sleep_until(at),
            None => Box::pin(std::future::pending()),
        };
        let mut media = media;
        loop {
            let media_event = async {
                match media.as_deref_mut() {
                    Some(rx) => match rx.recv().await {
                        Some(e) => e,
                        // The session ended: as if the media stopped.
                        None => MediaEvent::Inactive,
                    },
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                e = self.events.recv() => return e.map_or(Input::Closed, Input::Sip),
                Some(env) = self.mailbox.recv() => {
                    if !self.phase.allows(&env.command) {
                        let _ = env.reply.send(Err(CommandError::NotInPhase(self.phase)));
                        continue;
                    }
                    match env.command {
                        // A hang-up naming one leg is the phase's to carry out.
                        CallCommand::Hangup if env.leg.is_none() => {
                            let _ = env.reply.send(Ok(()));
                            return Input::Hangup;
                        }
                        _ => return Input::Command(env),
                    }
                }
                _ = &mut timer => return Input::Timer,
                e = media_event => return Input::Media(e),
            }
        }
    }

    /// Publishes a call event in the call's workspace with the call's id
    /// (nothing when nobody follows the bus).
    fn publish(&self, name: &'static str, mut data: serde_json::Value) {
        if !self.sw.bus.followed() {
            return;
        }
        data["ref"] = json!(self.admission.uuid());
        self.sw.publish(Event { name, workspace_id: self.workspace_id, at: self.now(), data });
    }

    /// Queues the call's records for the writer.
    fn write_records(&self, records: Vec<Cdr>) {
        if self.sw.cdrs.submit(records).is_err() {
            tracing::error!(call = %self.admission.uuid(), "the call's records were lost: the writer refused them");
        }
    }

    /// Sends BYE on `leg`'s dialog and waits a little for its answer,
    /// answering the other side's crossing requests meanwhile.
    async fn bye(&mut self, leg: &mut crate::calls::leg::Leg) {
        let via = self.via(leg.peer);
        let Some(bye) = leg.request(sip::Method::Bye, via) else { return };
        leg.dialog.terminate();
        let id = self.send_now(bye, leg.peer);
        let deadline = tokio::time::Instant::now() + BYE_WAIT;
        loop {
            let event = tokio::select! {
                e = self.events.recv() => e,
                _ = tokio::time::sleep_until(deadline) => return,
            };
            match event {
                Some(CallEvent::Response(rid, r)) if rid == id && r.status.is_final() => return,
                Some(CallEvent::Timeout(sip::transaction::TxId::Client(rid))) if rid == id => return,
                Some(CallEvent::Unsent(rid)) if rid == id => return,
                Some(CallEvent::Request { id: sid, request, .. }) => {
                    // The other side's BYE crossing ours.
                    self.respond(sid, Response::for_request(&request, StatusCode::OK, None));
                }
                None => return,
                _ => {}
            }
        }
    }
}

/// Answers a command that cannot be carried out where the call is.
fn unsupported(env: Envelope) {
    tracing::debug!(command = env.command.name(), "a command this call cannot do here");
    let _ = env.reply.send(Err(CommandError::Unsupported));
}

/// The hangup cause a SIP failure status stands for.
pub fn cause_of(status: u16) -> &'static str {
    match status {
        404 | 484 => "UNALLOCATED_NUMBER",
        408 => "RECOVERY_ON_TIMER_EXPIRE",
        480 => "NO_USER_RESPONSE",
        482 | 483 => "EXCHANGE_ROUTING_ERROR",
        486 | 600 => "USER_BUSY",
        487 => "ORIGINATOR_CANCEL",
        488 | 606 => "INCOMPATIBLE_DESTINATION",
        603 => "CALL_REJECTED",
        _ => "NORMAL_TEMPORARY_FAILURE",
    }
}

/// The failure to give the caller when every fork failed (RFC 3261 16.7,
/// simplified): a 6xx, else busy, else the lowest code.
pub fn best_failure(codes: impl Iterator<Item = u16>) -> u16 {
    let codes: Vec<u16> = codes.collect();
    if let Some(c) = codes.iter().copied().find(|c| *c >= 600) {
        return c;
    }
    if codes.contains(&486) {
        return 486;
    }
    codes.into_iter().min().unwrap_or(480)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_causes() {
        assert_eq!(best_failure([480, 603, 486].into_iter()), 603);
        assert_eq!(best_failure([480, 486].into_iter()), 486);
        assert_eq!(best_failure([503, 404].into_iter()), 404);
        assert_eq!(best_failure(std::iter::empty()), 480);
        assert_eq!(cause_of(486), "USER_BUSY");
        assert_eq!(cause_of(482), "EXCHANGE_ROUTING_ERROR");
        assert_eq!(Ending::new(487, "ORIGINATOR_CANCEL").disposition(false), "NO ANSWER");
        assert_eq!(Ending::new(200, "NORMAL_CLEARING").disposition(true), "ANSWERED");
    }
}
