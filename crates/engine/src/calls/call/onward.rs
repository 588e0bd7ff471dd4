//! An originated call's callee connected onward once it answered: the PBX
//! `transfer` app (a number re-routed through the router: it gets what
//! that number's route says) and `bridge` app (a dial string: an agent, a
//! gateway and a number, a SIP URI). A second UAC leg rings with our media
//! port; once it answers, the two legs are bridged and the call runs as
//! any two-leg call (re-INVITEs relayed, REFER, recording of both sides)
//! until either side hangs up. When the second leg cannot be reached, the
//! callee is sent BYE and the call ends with the failure's cause.

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction};
use sip::{Method, Response, StatusCode};
use store::Millis;

use super::inbound::{codec_of, CONGESTION};
use super::media::CallMedia;
use super::originate::{resolve, Destination, Originate, OriginateError, Target};
use super::ring::{not_now, Fork, Ring, REFUSED};
use super::talk::Bridged;
use super::{cause_of, Call, CallCommand, Ending};
use crate::calls::cdr::{Cdr, CALLEE_SIDE};
use crate::calls::leg::{Leg, Role};
use crate::calls::registry::Channel;
use crate::calls::sdp::{local, side_media};
use crate::media::LegId;
use crate::signalling::core::Cmd;

/// The onward leg being rung: its id, its dial string, the app.
struct Onward<'a> {
    uuid: &'a str,
    data: &'a str,
    app: &'static str,
}

/// The media leg of the onward side.
const ONWARD: LegId = LegId(2);

/// The dial string a destination is written as in the channel list
/// (`user/2002`, `sofia/gateway/carrier/186...`, a SIP URI, a number).
pub fn dial_string(to: &Destination) -> String {
    match to {
        Destination::Agent { extension } => format!("user/{extension}"),
        Destination::Uri { uri, .. } => uri.clone(),
        Destination::Routed { number } => number.clone(),
        Destination::Gateway { name, number } => format!("sofia/gateway/{name}/{number}"),
    }
}

/// Where `step` connects the callee, and the app's name; `None` for a
/// step that does not.
pub(super) fn onward_of(step: &CallCommand) -> Option<(Destination, &'static str)> {
    match step {
        CallCommand::Transfer { target } => {
            Some((Destination::Routed { number: target.clone() }, "transfer"))
        }
        CallCommand::Connect { to } => Some((to.clone(), "bridge")),
        _ => None,
    }
}

impl Call {
    /// Rings `to` for the answered callee `a` and bridges the two; returns
    /// how the call ended.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn onward(
        &mut self,
        o: &Originate,
        mut a: Leg,
        mut media: CallMedia,
        codec_a: Codec,
        to: Destination,
        app: &'static str,
    ) -> Ending {
        let data = dial_string(&to);
        let a_uuid = a.uuid.clone();
        self.admission.update_legs(|l| {
            if l.uuid == a_uuid {
                l.application = app.to_owned();
                l.application_data = data.clone();
            }
        });
        self.publish("call.transfer", serde_json::json!({"to": data, "app": app, "status": "trying"}));
        // The callee's context routes a transfer (an agent's own routes).
        let router_caller = match &o.destination {
            Destination::Agent { extension } => extension.clone(),
            _ => o.caller_id.clone(),
        };
        let targets = match resolve(self, o.workspace_id, &router_caller, &to).await {
            Ok(t) => t,
            Err(e) => {
                let status = match &e {
                    OriginateError::NoRoute(status, _) => *status,
                    OriginateError::NotFound => 404,
                    OriginateError::BadDestination(_) => 400,
                    _ => 480,
                };
                return self.onward_failed(&mut a, &data, status, &e.to_string()).await;
            }
        };
        let Some(first) = targets.first().map(|t| t.1.addr) else {
            return self.onward_failed(&mut a, &data, 480, "nothing to ring").await;
        };
        let Some(ports) = self.sw.ports.bind(self.bind_ip(first)).await else {
            return self.onward_failed(&mut a, &data, 503, "no media ports free").await;
        };
        let Ok(port) = media.add(ONWARD, ports).await else {
            return self.onward_failed(&mut a, &data, 503, "the media session failed").await;
        };
        let other = if codec_a == Codec::Pcma { Codec::Pcmu } else { Codec::Pcma };
        let b_uuid = crate::calls::new_call_id();
        let mut forks: Vec<Fork> = Vec::new();
        for (uri, peer, account) in targets.clone() {
            let ip = self.media_ip(peer.addr);
            let offer = sdp::offer(&local(ip, port, vec![codec_a, other], Direction::SendRecv, 1));
            let Some(request) = self.originate_invite(&o.caller_id, uri, peer, &offer) else { continue };
            forks.push(self.fork(request, peer, account));
        }
        if forks.is_empty() {
            return self.onward_failed(&mut a, &data, 480, "no destination could be called").await;
        }
        self.put_onward_leg(o, &b_uuid, &targets, &data);
        self.publish("call.dial", serde_json::json!({"leg": b_uuid, "to": data, "from": o.caller_id}));
        let start = self.now();
        let mut answered = None;
        let mut codec = String::new();
        let ending = self
            .ring_onward(
                o,
                a,
                media,
                forks,
                Onward { uuid: &b_uuid, data: &data, app },
                &mut answered,
                &mut codec,
            )
            .await;
        self.write_records(vec![Cdr {
            workspace_id: o.workspace_id,
            call_ref: self.uuid(),
            leg_ref: b_uuid.clone(),
            leg: CALLEE_SIDE,
            src: o.caller_id.clone(),
            dst: data.clone(),
            clid: o.caller_id.clone(),
            direction: if matches!(to, Destination::Agent { .. }) { "INTRA_COMPANY" } else { "TO_PSTN" },
            kind: "API_ORIGINATED",
            disposition: ending.disposition(answered.is_some()),
            hangup_cause: ending.cause.to_owned(),
            start,
            answer: answered,
            end: self.now(),
            codec,
            ..Cdr::default()
        }]);
        ending
    }

    /// Rings the onward leg's forks and, once one answers, bridges it to
    /// the callee `a` until the call ends.
    #[allow(clippy::too_many_arguments)]
    async fn ring_onward(
        &mut self,
        o: &Originate,
        mut a: Leg,
        mut media: CallMedia,
        mut forks: Vec<Fork>,
        onward: Onward<'_>,
        answered: &mut Option<Millis>,
        codec: &mut String,
    ) -> Ending {
        let Onward { uuid: b_uuid, data, app } = onward;
        let b_uuid = b_uuid.to_owned();
        let data = data.to_owned();
        let deadline = super::ring_deadline(self.now(), o.ring_timeout.as_millis() as Millis);
        let ended = |cause: &str| serde_json::json!({"leg": b_uuid, "cause": cause});
        let mut heard = (false, false);
        let (winner, answer) = loop {
            match self.ring(&mut forks, deadline).await {
                Ring::Provisional(resp) => {
                    self.admission.update_legs(|l| {
                        if l.uuid == b_uuid {
                            l.callstate = "RINGING";
                        }
                    });
                    let early = resp.status.code() == 183 && !resp.body.is_empty();
                    if !heard.0 && resp.status.code() >= 180 {
                        heard.0 = true;
                        self.publish("call.dial.ringing", serde_json::json!({"leg": b_uuid, "to": data}));
                    }
                    if early && !heard.1 {
                        heard.1 = true;
                        self.publish("call.dial.early", serde_json::json!({"leg": b_uuid, "to": data}));
                    }
                }
                Ring::Answered(i, resp) => break (i, resp),
                Ring::PickUp(env) => super::unsupported(env),
                Ring::Overloaded => {
                    self.admission.remove_leg(&b_uuid);
                    self.publish("call.dial.ended", ended(CONGESTION));
                    return self.onward_failed(&mut a, &data, REFUSED, "overloaded").await;
                }
                Ring::Failed(status) => {
                    self.admission.remove_leg(&b_uuid);
                    self.publish("call.dial.ended", ended(cause_of(status)));
                    let reason = StatusCode::new(status).map_or("failed", |c| c.reason());
                    return self.onward_failed(&mut a, &data, status, reason).await;
                }
                Ring::TimedOut => {
                    self.cancel_forks(&forks, None);
                    self.admission.remove_leg(&b_uuid);
                    self.publish("call.dial.ended", ended("NO_ANSWER"));
                    return self.onward_failed(&mut a, &data, 480, "no answer").await;
                }
                Ring::Hangup | Ring::Cancelled | Ring::Closed => {
                    self.cancel_forks(&forks, None);
                    self.bye(&mut a).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Ring::Request(id, request) if request.head.call_id == a.call_id() => {
                    if request.method == Method::Bye {
                        // The callee hung up while the other side rang.
                        self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                        self.cancel_forks(&forks, None);
                        return Ending::new(200, "NORMAL_CLEARING");
                    }
                    self.respond(id, not_now(&request));
                }
                Ring::Request(id, request) => self.respond(id, not_now(&request)),
            }
        };
        self.cancel_forks(&forks, Some(winner));
        let fork = &forks[winner];
        let Ok(mut dialog) = Dialog::from_uac(&fork.request, &answer) else {
            return self.onward_failed(&mut a, &data, 500, "the answer cannot be read").await;
        };
        let _ = dialog.handle_response(&answer);
        let ack = dialog.ack_for_2xx(&answer, self.via(fork.peer));
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let mut b = Leg::new(b_uuid.clone(), Role::Uac, dialog, fork.peer);
        let Some(theirs) = sdp::parse_bytes(&answer.body).ok().as_ref().and_then(side_media) else {
            self.bye(&mut b).await;
            return self.onward_failed(&mut a, &data, 488, "no usable media in the answer").await;
        };
        media.set(ONWARD, theirs, fork.peer.addr.ip(), Direction::SendRecv).await;
        media.connect(super::originate::LEG, ONWARD).await;
        *answered = Some(self.now());
        *codec = codec_of(theirs.codec).encoding().to_owned();
        let shown = codec.clone();
        self.admission.update_legs(|l| {
            if l.uuid == b_uuid {
                l.callstate = "ACTIVE";
                l.codec = shown.clone();
            }
        });
        self.publish("call.dial.answered", serde_json::json!({"leg": b_uuid, "codec": codec}));
        self.publish(
            "call.transfer",
            serde_json::json!({"to": data, "app": app, "status": "completed", "leg": b_uuid}),
        );
        let mut bridged = Bridged {
            a,
            b,
            ids: [super::originate::LEG, ONWARD],
            media,
            invite_a: None,
            forks,
            winner,
            late_a: false,
        };
        self.talk(&mut bridged).await
    }

    /// The onward side could not be reached: say so, hang the callee up.
    async fn onward_failed(&mut self, a: &mut Leg, to: &str, status: u16, reason: &str) -> Ending {
        tracing::info!(to, status, reason, "an originated call could not be connected onward");
        self.publish(
            "call.transfer",
            serde_json::json!({"to": to, "status": "failed", "code": status, "reason": reason}),
        );
        self.bye(a).await;
        Ending::new(status, cause_of(status))
    }

    /// Lists the onward leg while it rings.
    fn put_onward_leg(&self, o: &Originate, uuid: &str, targets: &[Target], data: &str) {
        let ip = targets.first().map(|t| t.1.addr.ip().to_string()).unwrap_or_default();
        self.admission.put_leg(Channel {
            uuid: uuid.to_owned(),
            call_uuid: self.uuid(),
            workspace_id: o.workspace_id,
            direction: "outbound",
            created_ms: self.now(),
            name: format!("sip/{data}"),
            callstate: "DOWN",
            cid_name: o.caller_id.clone(),
            cid_num: o.caller_id.clone(),
            ip_addr: ip,
            dest: data.to_owned(),
            context: String::new(),
            codec: String::new(),
            callee_num: data.to_owned(),
            application: String::new(),
            application_data: String::new(),
            variables: Vec::new(),
        });
    }
}
