//! An answered call whose media is not anchored (`proxy_media` 0): the
//! SDP passed end to end, so RTP flows between the phones and no media of
//! ours is involved. BYE from either side ends it; re-INVITE and UPDATE
//! are relayed with their SDP unchanged (a crossing one gets 491); a late
//! second answer from another fork is ACKed and sent BYE. Commands that
//! need media (play, record) and REFER are not available on such a call.

use sip::transaction::{ClientTxId, ServerTxId, TxId};
use sip::{HeaderName, MediaType, Method, Request, Response, StatusCode};

use super::ring::Fork;
use super::{Call, CallEvent, Ending, Input};
use crate::calls::leg::Leg;
use crate::signalling::core::Cmd;

/// Two legs whose media flows between them.
#[derive(Debug)]
pub(super) struct Direct {
    /// The caller's leg.
    pub a: Leg,
    /// The callee's leg.
    pub b: Leg,
    /// A's INVITE transaction (its ACK may never come).
    pub invite_a: ServerTxId,
    /// Every fork sent to B.
    pub forks: Vec<Fork>,
    /// The one that answered.
    pub winner: usize,
}

/// A re-INVITE or UPDATE being relayed: its transaction, the request,
/// whether A sent it, and the transaction it was forwarded in.
type Pending = (ServerTxId, Request, bool, ClientTxId);

impl Call {
    /// Runs the unanchored call until it ends.
    pub(super) async fn talk_direct(&mut self, s: &mut Direct) -> Ending {
        let mut pending: Option<Pending> = None;
        loop {
            let event = match self.next(None, None).await {
                Input::Sip(e) => e,
                Input::Hangup => {
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Command(env) if env.leg_hangup().is_some_and(|l| l == s.a.uuid || l == s.b.uuid) => {
                    // One leg hung up by its id: as when its phone hangs up.
                    let from_a = env.leg_hangup() == Some(s.a.uuid.as_str());
                    let _ = env.reply.send(Ok(()));
                    let (this, other) = if from_a { (&mut s.a, &mut s.b) } else { (&mut s.b, &mut s.a) };
                    self.bye(this).await;
                    return self.other_side_hung_up(other).await;
                }
                Input::Command(env) => {
                    super::unsupported(env);
                    continue;
                }
                Input::Closed => return Ending::new(200, "NORMAL_CLEARING"),
                Input::Timer | Input::Media(_) => continue,
            };
            match event {
                CallEvent::Request { id, request, .. } => {
                    let from_a = request.head.call_id == s.a.call_id();
                    if !from_a && request.head.call_id != s.b.call_id() {
                        let status = if request.method == Method::Bye {
                            StatusCode::OK
                        } else {
                            StatusCode::CALL_DOES_NOT_EXIST
                        };
                        self.respond(id, Response::for_request(&request, status, None));
                        continue;
                    }
                    let (this, other) = if from_a { (&mut s.a, &mut s.b) } else { (&mut s.b, &mut s.a) };
                    if !self.accepts(&mut this.dialog, id, &request) {
                        continue;
                    }
                    match request.method {
                        Method::Bye => {
                            self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            return self.other_side_hung_up(other).await;
                        }
                        Method::Invite | Method::Update if pending.is_some() => {
                            let status = StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Invite | Method::Update => {
                            let Some(mut forwarded) =
                                other.request(request.method.clone(), self.via(other.peer))
                            else {
                                let status = StatusCode::CALL_DOES_NOT_EXIST;
                                self.respond(id, Response::for_request(&request, status, None));
                                continue;
                            };
                            if forwarded.head.headers.get(&HeaderName::Contact).is_none() {
                                forwarded.head.headers.push(HeaderName::Contact, self.contact());
                            }
                            if !request.body.is_empty() {
                                forwarded = forwarded.with_body(&MediaType::sdp(), request.body.clone());
                            }
                            match self.send(forwarded, other.peer).await {
                                Some(tx) => pending = Some((id, *request, from_a, tx)),
                                None => {
                                    let status = StatusCode::SERVICE_UNAVAILABLE;
                                    self.respond(id, Response::for_request(&request, status, None));
                                }
                            }
                        }
                        Method::Info => {
                            let status = self.info(&request);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Refer => {
                            let status = StatusCode::new(501).unwrap_or(StatusCode::BAD_REQUEST);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        _ => self.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                CallEvent::Response(id, resp) => {
                    if let Some(i) = s.forks.iter().position(|f| f.id == id) {
                        if i != s.winner && resp.status.is_success() {
                            self.refuse_answer(&s.forks[i], &resp).await;
                        }
                        continue;
                    }
                    let Some((sid, request, from_a, tx)) = pending.as_ref() else { continue };
                    if *tx != id || resp.status.code() < 200 {
                        continue;
                    }
                    let other = if *from_a { &mut s.b } else { &mut s.a };
                    let mut answer = Response::for_request(request, resp.status, None);
                    if resp.status.is_success() {
                        let _ = other.dialog.handle_response(&resp);
                        if request.method == Method::Invite {
                            let ack = other.dialog.ack_for_2xx(&resp, self.via(other.peer));
                            let _ = self.cmds.send(Cmd::Ack(id, ack, other.peer));
                        }
                        answer.head.headers.push(HeaderName::Contact, self.contact());
                        if !resp.body.is_empty() {
                            answer = answer.with_body(&MediaType::sdp(), resp.body.clone());
                        }
                    }
                    self.respond(*sid, answer);
                    pending = None;
                }
                CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                    let ours = [&s.a, &s.b].into_iter().find(|l| {
                        l.call_id() == resp.head.call_id
                            && resp.head.to_tag() == Some(l.dialog.id().remote_tag.as_str())
                    });
                    match ours {
                        Some(leg) => {
                            let ack = leg.dialog.ack_for_2xx(&resp, self.via(peer));
                            let _ = self.cmds.send(Cmd::Stateless(ack.into(), peer));
                        }
                        None => {
                            match s.forks.iter().position(|f| f.request.head.call_id == resp.head.call_id) {
                                Some(i) if i != s.winner => self.refuse_answer(&s.forks[i], &resp).await,
                                _ => self.ack_and_bye_stray(&resp, peer).await,
                            }
                        }
                    }
                }
                CallEvent::Timeout(TxId::Server(id)) if id == s.invite_a => {
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Ending::new(408, "RECOVERY_ON_TIMER_EXPIRE");
                }
                _ => {}
            }
        }
    }
}
