//! Blind transfer (REFER, RFC 3515) from a phone in an answered call: the
//! transferor's leg is replaced by a new UAC leg to the Refer-To target
//! (an agent's extension); the transferee keeps its leg and media port and
//! hears the target once it answers. The transferor learns the progress
//! in NOTIFYs (`message/sipfrag`) and is sent BYE once it succeeded; when
//! the target cannot be reached the final NOTIFY says why and the call
//! goes on as before.

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction};
use sip::transaction::{Peer, Protocol, ServerTxId};
use sip::{HeaderName, MediaType, Method, NameAddr, Request, Response, StatusCode, Uri};
use store::Millis;

use super::join::Replaces;
use super::ring::{not_now, Fork, Ring, REFUSED};
use super::talk::Bridged;
use super::{Call, Ending};
use crate::calls::leg::{Leg, Role};
use crate::calls::sdp::{local, side_media};
use crate::location::Transport;
use crate::signalling::core::Cmd;

/// What a REFER asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferTarget {
    /// A blind transfer to this extension.
    Extension(String),
    /// An attended transfer: join the other side with the far end of
    /// the dialog `Replaces` names.
    Replaces(Replaces),
    /// A `Replaces` that cannot be read.
    BadReplaces,
}

/// The target of a REFER, from its Refer-To header.
pub fn refer_target(request: &Request) -> Option<ReferTarget> {
    let value = request.head.headers.get(&HeaderName::ReferTo)?;
    if value.to_ascii_lowercase().contains("replaces=") {
        return Some(Replaces::from_refer_to(value).map_or(ReferTarget::BadReplaces, ReferTarget::Replaces));
    }
    let addr = NameAddr::parse(value).ok()?;
    let user = addr.uri.user()?.trim();
    (!user.is_empty()).then(|| ReferTarget::Extension(user.to_owned()))
}

impl Call {
    /// Carries out a REFER that leg A (`from_a`) or B sent; `Some` when
    /// the whole call ended meanwhile.
    pub(super) async fn transfer(
        &mut self,
        s: &mut Bridged,
        from_a: bool,
        id: ServerTxId,
        request: &Request,
    ) -> Option<Ending> {
        let extension = match refer_target(request) {
            Some(ReferTarget::Extension(e)) => e,
            Some(ReferTarget::Replaces(replaces)) => {
                return self.attended(s, from_a, id, request, replaces).await;
            }
            Some(ReferTarget::BadReplaces) => {
                let mut resp = Response::for_request(request, StatusCode::BAD_REQUEST, None);
                resp.head
                    .headers
                    .push(HeaderName::Warning, "399 calliope \"the Replaces in Refer-To cannot be read\"");
                self.respond(id, resp);
                return None;
            }
            None => {
                let mut resp = Response::for_request(request, StatusCode::BAD_REQUEST, None);
                resp.head
                    .headers
                    .push(HeaderName::Warning, "399 calliope \"Refer-To is missing or names no user\"");
                self.respond(id, resp);
                return None;
            }
        };
        self.respond(
            id,
            Response::for_request(request, StatusCode::new(202).unwrap_or(StatusCode::OK), None),
        );
        self.notify_refer(if from_a { &mut s.a } else { &mut s.b }, "100 Trying", false).await;
        self.publish("call.transfer", serde_json::json!({"to": extension, "status": "trying"}));
        let side = if from_a { 0 } else { 1 };
        match self.reach(s, side, &extension).await {
            Reached::Connected(c, forks, winner) => {
                let mut old = std::mem::replace(if from_a { &mut s.a } else { &mut s.b }, *c);
                s.forks = forks;
                s.winner = winner;
                self.notify_refer(&mut old, "200 OK", true).await;
                // The transferor is done: BYE it without waiting.
                if let Some(bye) = old.request(Method::Bye, self.via(old.peer)) {
                    let _ = self.send(bye, old.peer).await;
                }
                let ext = extension.clone();
                let uuid = if from_a { s.a.uuid.clone() } else { s.b.uuid.clone() };
                self.admission.update_legs(|l| {
                    if l.uuid == uuid {
                        l.dest = ext.clone();
                        l.callee_num = ext.clone();
                    }
                });
                self.publish("call.transfer", serde_json::json!({"to": extension, "status": "completed"}));
                None
            }
            Reached::Failed(status, reason) => {
                let line = format!("{status} {reason}");
                self.notify_refer(if from_a { &mut s.a } else { &mut s.b }, &line, true).await;
                self.publish(
                    "call.transfer",
                    serde_json::json!({"to": extension, "status": "failed", "code": status}),
                );
                None
            }
            Reached::Ended(ending) => Some(ending),
        }
    }

    /// Rings `extension` for the bridge side `side`, answering what the
    /// two current legs send meanwhile.
    async fn reach(&mut self, s: &mut Bridged, side: usize, extension: &str) -> Reached {
        let agent = match self.sw.accounts.by_extension(self.workspace_id, extension).await {
            Ok(Some(a)) => a,
            Ok(None) => return Reached::Failed(404, "Not Found"),
            Err(_) => return Reached::Failed(503, "Service Unavailable"),
        };
        let bindings = self.sw.location.lookup(agent.id, self.now());
        let from_user = {
            let other = if side == 0 { &s.b } else { &s.a };
            other.dialog.remote_uri().uri.user().unwrap_or("calliope").to_owned()
        };
        let port = s.media.port(s.ids[side]);
        let mut forks: Vec<Fork> = Vec::new();
        for b in &bindings {
            let peer = Peer {
                addr: b.target(),
                protocol: if b.transport == Transport::Tcp { Protocol::Tcp } else { Protocol::Udp },
            };
            let offer = sdp::offer(&local(
                self.media_ip(b.source),
                port,
                vec![Codec::Pcmu, Codec::Pcma],
                Direction::SendRecv,
                1,
            ));
            let Some(request) = self.transfer_invite(&from_user, extension, &b.contact, peer, &offer) else {
                continue;
            };
            forks.push(self.fork(request, peer, None));
        }
        if forks.is_empty() {
            return Reached::Failed(480, "Temporarily Unavailable");
        }
        let deadline = super::ring_deadline(self.now(), self.sw.config.ring_timeout.as_millis() as Millis);
        let (winner, answer) = loop {
            match self.ring(&mut forks, deadline).await {
                Ring::Provisional(_) => {}
                Ring::Answered(i, resp) => break (i, resp),
                Ring::Failed(code) => {
                    let reason = StatusCode::new(code).map_or("Failed", |c| c.reason());
                    return Reached::Failed(code, reason);
                }
                Ring::Overloaded => return Reached::Failed(REFUSED, "Service Unavailable"),
                Ring::TimedOut => {
                    self.cancel_forks(&forks, None);
                    return Reached::Failed(408, "Request Timeout");
                }
                Ring::Hangup | Ring::Cancelled | Ring::Closed => {
                    self.cancel_forks(&forks, None);
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Reached::Ended(Ending::new(200, "NORMAL_CLEARING"));
                }
                Ring::Request(id, request) if request.method == Method::Bye => {
                    self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                    let transferee_left = (request.head.call_id == s.a.call_id()) == (side == 1);
                    if transferee_left {
                        // The one being transferred hung up: the call is over.
                        self.cancel_forks(&forks, None);
                        let transferor = if side == 0 { &mut s.a } else { &mut s.b };
                        self.bye(transferor).await;
                        return Reached::Ended(Ending::new(200, "NORMAL_CLEARING"));
                    }
                    // The transferor left early, as phones may: carry on.
                    let transferor = if side == 0 { &mut s.a } else { &mut s.b };
                    transferor.dialog.terminate();
                }
                Ring::Request(id, request) => self.respond(id, not_now(&request)),
                Ring::PickUp(env) => super::unsupported(env),
            }
        };
        self.cancel_forks(&forks, Some(winner));
        let fork = &forks[winner];
        let Ok(mut dialog) = Dialog::from_uac(&fork.request, &answer) else {
            return Reached::Failed(500, "Server Internal Error");
        };
        let _ = dialog.handle_response(&answer);
        let ack = dialog.ack_for_2xx(&answer, self.via(fork.peer));
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let old_uuid = if side == 0 { s.a.uuid.clone() } else { s.b.uuid.clone() };
        let mut leg = Leg::new(old_uuid, Role::Uac, dialog, fork.peer);
        let Some(media) = sdp::parse_bytes(&answer.body).ok().as_ref().and_then(side_media) else {
            self.bye(&mut leg).await;
            return Reached::Failed(488, "Not Acceptable Here");
        };
        let ip = fork.peer.addr.ip();
        s.media.set(s.ids[side], media, ip, Direction::SendRecv).await;
        Reached::Connected(Box::new(leg), forks, winner)
    }

    fn transfer_invite(
        &self,
        from_user: &str,
        extension: &str,
        contact: &str,
        peer: Peer,
        offer: &sdp::SessionDescription,
    ) -> Option<Request> {
        let uri = Uri::parse(contact).ok()?;
        let realm = &self.sw.config.realm;
        let mut from = NameAddr::new(Uri::parse(&format!("sip:{from_user}@{realm}")).ok()?);
        from.set_tag(&self.sw.tag());
        let to = NameAddr::new(Uri::parse(&format!("sip:{extension}@{realm}")).ok()?);
        let call_id = format!("{}@calliope", self.sw.tag());
        let mut request = Request::new(Method::Invite, uri, from, to, call_id, 1).with_via(self.via(peer));
        request.head.headers.push(HeaderName::Contact, self.contact());
        request.head.headers.push(HeaderName::Allow, crate::signalling::ALLOW);
        Some(request.with_body(&MediaType::sdp(), offer.to_bytes()))
    }

    /// Tells the transferor how its REFER goes (RFC 3515 section 2.4.4).
    pub(super) async fn notify_refer(&mut self, leg: &mut Leg, status_line: &str, done: bool) {
        let Some(mut notify) = leg.request(Method::Notify, self.via(leg.peer)) else { return };
        notify.head.headers.push(HeaderName::Event, "refer");
        let state = if done { "terminated;reason=noresource" } else { "active;expires=60" };
        notify.head.headers.push(HeaderName::SubscriptionState, state);
        let Ok(kind) = MediaType::parse("message/sipfrag;version=2.0") else { return };
        let notify = notify.with_body(&kind, format!("SIP/2.0 {status_line}\r\n").into_bytes());
        let _ = self.send(notify, leg.peer).await;
    }
}

/// How reaching a transfer target went.
enum Reached {
    /// It answered: its leg, and the forks (for late answers).
    Connected(Box<Leg>, Vec<Fork>, usize),
    /// It could not be reached: the status for the final NOTIFY.
    Failed(u16, &'static str),
    /// The whole call ended meanwhile.
    Ended(Ending),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(refer_to: Option<&str>) -> Request {
        let uri = Uri::parse("sip:calliope@127.0.0.1").expect("uri");
        let from = NameAddr::parse("<sip:2001@calliope>;tag=a").expect("from");
        let mut r = Request::new(Method::Refer, uri.clone(), from, NameAddr::new(uri), "c", 3);
        if let Some(v) = refer_to {
            r.head.headers.push(HeaderName::ReferTo, v);
        }
        r
    }

    #[test]
    fn refer_targets() {
        assert_eq!(
            refer_target(&refer(Some("<sip:2003@calliope>"))),
            Some(ReferTarget::Extension("2003".into()))
        );
        assert_eq!(
            refer_target(&refer(Some("sip:2003@127.0.0.1:5060"))),
            Some(ReferTarget::Extension("2003".into()))
        );
        let attended = "<sip:2003@calliope?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>";
        let replaces = Replaces { call_id: "abc@host".into(), to_tag: "1".into(), from_tag: "2".into() };
        assert_eq!(refer_target(&refer(Some(attended))), Some(ReferTarget::Replaces(replaces)));
        let broken = "<sip:2003@calliope?Replaces=abc%40host>";
        assert_eq!(refer_target(&refer(Some(broken))), Some(ReferTarget::BadReplaces));
        assert_eq!(refer_target(&refer(Some("<sip:calliope>"))), None, "no user");
        assert_eq!(refer_target(&refer(Some("not a uri <"))), None);
        assert_eq!(refer_target(&refer(None)), None);
    }
}
