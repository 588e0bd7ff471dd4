//! Ringing a [`Dial`] for a caller's INVITE: the attempts one after
//! another, each attempt's destinations forked together (the first to
//! answer wins, the others are cancelled, a late second answer is ACKed
//! and sent BYE). An attempt that fails moves on to the next when its
//! [`NextOn`](crate::calls::dial::NextOn) allows the failure; a call
//! forwarding (busy, no answer) takes over when the last attempt ends that
//! way. Provisional responses are relayed, a 183 with SDP as early media
//! (the bridge runs before the answer, and follows the next attempt's
//! early media); an INVITE without SDP is relayed as a late offer (B
//! offers in its 200, we answer in the ACK; our 200 to A offers, A answers
//! in its ACK).

use std::time::Duration;

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction, SessionDescription};
use sip::transaction::Peer;
use sip::{HeaderName, MediaType, Method, NameAddr, Request, StatusCode};
use store::Millis;

use super::direct::Direct;
use super::inbound::{warning, Caller, Parties, CONGESTION, LEG_A, LEG_B};
use super::media::CallMedia;
use super::picked::Pickable;
use super::ring::{Fork, Ring, REFUSED};
use super::talk::Bridged;
use super::{cause_of, Call, Ending, Signal};
use crate::calls::dial::{Destination, Dial, NextOn};
use crate::calls::leg::{Leg, Role};
use crate::calls::sdp::{answer_preferring, codecs, local, other, side_media};
use crate::media::{RecordMode, RecordSpec};
use crate::relay::SideMedia;
use crate::signalling::core::Cmd;

/// How long a trunk or gateway may stay silent (no 180 or 183) before the
/// attempt is given up as unreachable (408) and the next one is tried.
pub(super) const PROGRESS_TIMEOUT: Millis = 8_000;

/// How the B side's INVITEs look and how the call is carried, from the
/// routing decision.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    /// The called number: the To user (and the Request-URI user where the
    /// destination does not name one).
    pub callee: String,
    /// The caller number: the From user.
    pub caller: String,
    /// The caller name: the From display name (`None`: A's).
    pub caller_name: Option<String>,
    /// Max-Forwards of the B side's INVITEs.
    pub max_forwards: u32,
    /// Headers added to every INVITE (route params), before the
    /// destination's own.
    pub headers: Vec<(String, String)>,
    /// The codecs offered to B, most preferred first (empty: A's order).
    pub codecs: Vec<Codec>,
    /// How long an attempt rings when it says nothing.
    pub ring_timeout: Duration,
    /// Anchor the media (`false`: A's offer goes to B unchanged and B's
    /// answer to A; a late offer is anchored anyway).
    pub proxy_media: bool,
    /// Record the answered call into this WAV file.
    pub record: Option<std::path::PathBuf>,
}

/// When a call forwarding takes over: the Dial rung instead once the last
/// attempt ended busy or unanswered.
#[derive(Debug, Clone, Default)]
pub(super) struct Forwards {
    /// On busy (486, 600).
    pub busy: Option<Forward>,
    /// On no answer (the ring timeout, 408, 480).
    pub no_answer: Option<Forward>,
}

/// A forwarding target, already resolved.
#[derive(Debug, Clone)]
pub(super) struct Forward {
    /// What to ring.
    pub dial: Dial,
    /// The number forwarded to (the To user of its INVITEs).
    pub callee: String,
    /// The agent it reaches, if one (for the records).
    pub callee_id: Option<i64>,
    /// A destination that runs a program instead of a dial (IVR menu,
    /// block, application, conference room): the caller is answered by it.
    pub program: Option<ProgramTarget>,
}

/// A routed destination that runs a program: its target and the route's
/// free text (a conference room's settings).
#[derive(Debug, Clone)]
pub(super) struct ProgramTarget {
    /// What runs.
    pub target: crate::router::Target,
    /// The route's `body`.
    pub body: String,
}

/// The codecs to offer B: A's, then the other law (to transcode), in the
/// route's preference order when it has one.
pub(super) fn offer_codecs(offer_a: Option<&SessionDescription>, preference: &[Codec]) -> Vec<Codec> {
    let mut offer = offer_a.map(codecs).unwrap_or_else(|| vec![Codec::Pcmu, Codec::Pcma]);
    for c in [Codec::Pcmu, Codec::Pcma] {
        if !offer.contains(&c) {
            offer.push(c);
        }
    }
    if !preference.is_empty() {
        offer.sort_by_key(|c| preference.iter().position(|p| p == c).unwrap_or(usize::MAX));
    }
    offer
}

/// Whether a failed attempt's `status` is a busy callee / a callee that
/// did not answer (for call forwarding).
fn busy(status: u16) -> bool {
    matches!(status, 486 | 600)
}

fn unanswered(status: u16) -> bool {
    matches!(status, 408 | 480)
}

impl Call {
    /// Publishes `call.forwarded`: who was called (`from`), the number
    /// forwarded to, why (`busy`, `no_answer`) and whether a program (IVR
    /// menu, block, application, room) takes the call.
    fn forwarded(&self, p: &Parties, f: &Forward, status: u16) {
        let reason = if busy(status) { "busy" } else { "no_answer" };
        let program = f.program.is_some();
        self.publish(
            "call.forwarded",
            serde_json::json!({"from": p.callee, "to": f.callee, "reason": reason, "program": program}),
        );
    }

    /// Everything from the routed INVITE to the end of the call: rings
    /// `dial` as `out` says (then `forwards`), anchoring the media.
    pub(super) async fn connect(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        dial: Dial,
        out: &Outgoing,
        mut forwards: Forwards,
    ) -> Ending {
        // No SDP: a late offer, relayed as one.
        let offer_a = match self.caller_offer(a) {
            Ok(offer) => offer,
            Err(ending) => return ending,
        };
        if dial.attempts.iter().all(|at| at.destinations.is_empty()) {
            tracing::debug!(callee = %p.callee, "nothing to ring");
            self.refuse(a, StatusCode::TEMPORARILY_UNAVAILABLE, None);
            return Ending::new(480, "USER_NOT_REGISTERED");
        }
        let late = offer_a.is_none();
        // Unanchored media: A's SDP goes to B as it is, no ports of ours.
        let direct = !out.proxy_media && !late;
        let ip_a = self.media_ip(a.peer.addr);
        let bind_ip = self.bind_ip(a.peer.addr);
        let mut media = CallMedia::start((!direct).then_some(self.sw.config.rtp_timeout));
        let (port_a, port_b) = if direct {
            (0, 0)
        } else {
            let (Some(ports_a), Some(ports_b)) =
                (self.sw.ports.bind(bind_ip).await, self.sw.ports.bind(bind_ip).await)
            else {
                self.refuse(a, StatusCode::SERVICE_UNAVAILABLE, Some(warning(399, "no media ports free")));
                return Ending::new(503, "NORMAL_TEMPORARY_FAILURE");
            };
            let (Ok(port_a), Ok(port_b)) = (media.add(LEG_A, ports_a).await, media.add(LEG_B, ports_b).await)
            else {
                self.refuse(
                    a,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some(warning(399, "the media session failed")),
                );
                return Ending::new(503, "NORMAL_TEMPORARY_FAILURE");
            };
            (port_a, port_b)
        };
        self.publish("call.created", serde_json::json!({"from": p.caller, "to": p.callee}));
        p.uuid_b = crate::calls::new_call_id();
        self.put_legs(a, p);
        self.publish("call.dial", serde_json::json!({"leg": p.uuid_b, "to": p.callee, "from": out.caller}));

        let offer_codecs = offer_codecs(offer_a.as_ref(), &out.codecs);
        let mut out = out.clone();
        let mut dial = dial;
        let mut forks: Vec<Fork> = Vec::new();
        let mut rang = false;
        // The early media: whether it flows, A's answer SDP and its media.
        let mut early = false;
        let mut answer_a: Option<(SessionDescription, SideMedia)> = None;
        // How the last attempt failed.
        let mut failure = Ending::new(480, "NO_ROUTE_DESTINATION");
        let mut attempt_no = 0usize;
        let mut answered = None;
        let mut program = None;
        'dial: loop {
            let mut attempts = std::mem::take(&mut dial.attempts).into_iter();
            for attempt in attempts.by_ref() {
                let first = forks.len();
                for d in &attempt.destinations {
                    let offer_b = if direct {
                        Some(a.invite.body.clone())
                    } else {
                        (!late).then(|| {
                            let ip = self.media_ip(d.peer.addr);
                            let ours = local(ip, port_b, offer_codecs.clone(), Direction::SendRecv, 1);
                            sdp::offer(&ours).to_bytes()
                        })
                    };
                    let Some(request) = self.fork_invite(Some(a), &out, d, offer_b) else {
                        tracing::debug!(uri = %d.uri, "cannot call this destination");
                        continue;
                    };
                    tracing::debug!(uri = %d.uri, peer = %d.peer, attempt = %attempt.label, "forking");
                    let mut fork = self.fork(request, d.peer, d.account.clone());
                    fork.attempt = attempt_no;
                    forks.push(fork);
                }
                attempt_no += 1;
                if forks.len() == first {
                    tracing::info!(attempt = %attempt.label, "nothing to ring");
                    failure = Ending::new(480, "USER_NOT_REGISTERED");
                    if attempt.next_on.allows(480) {
                        continue;
                    }
                    break;
                }
                self.signal(Signal::Routed);
                let timeout = attempt.ring_timeout.unwrap_or(out.ring_timeout);
                let deadline = super::ring_deadline(self.now(), timeout.as_millis() as Millis);
                // A trunk that says nothing at all (no 180/183) within
                // PROGRESS_TIMEOUT is given up as unreachable (408).
                let silent_until = (attempt.next_on == NextOn::Unreachable)
                    .then(|| deadline.min(self.now() + PROGRESS_TIMEOUT));
                let mut heard = false;
                loop {
                    let until = if heard { deadline } else { silent_until.unwrap_or(deadline) };
                    let event = self.ring(&mut forks, until).await;
                    heard |= matches!(event, Ring::Provisional(_));
                    match event {
                        Ring::Provisional(resp) if direct && !resp.body.is_empty() => {
                            // B's early media SDP, to A as it is.
                            let progress = a
                                .reply(&self.sw, StatusCode::SESSION_PROGRESS)
                                .with_body(&MediaType::sdp(), resp.body.clone());
                            self.respond(a.id, progress);
                            if !early {
                                early = true;
                                self.signal(Signal::EarlyMedia);
                                self.publish("call.dial.early", serde_json::json!({"leg": p.uuid_b}));
                                self.publish("call.early", serde_json::json!({}));
                            }
                        }
                        Ring::Provisional(resp) => {
                            let from = forks.iter().find(|f| f.request.head.call_id == resp.head.call_id);
                            let peer_b = from.map_or(a.peer.addr.ip(), |f| f.peer.addr.ip());
                            let early_b = (!late && !resp.body.is_empty())
                                .then(|| sdp::parse_bytes(&resp.body).ok())
                                .flatten()
                                .and_then(|d| side_media(&d));
                            if let (Some(media_b), Some(offer)) = (early_b, offer_a.as_ref()) {
                                if early {
                                    // The next attempt's early media: the
                                    // bridge follows it; A keeps its answer.
                                    media.set(LEG_B, media_b, peer_b, Direction::SendRecv).await;
                                    continue;
                                }
                                let Some((sdp_a, media_a)) = self.answer_a(offer, ip_a, port_a, media_b)
                                else {
                                    continue;
                                };
                                let dir_a = crate::calls::sdp::direction(offer);
                                media.set(LEG_A, media_a, a.peer.addr.ip(), dir_a).await;
                                media.set(LEG_B, media_b, peer_b, Direction::SendRecv).await;
                                media.connect(LEG_A, LEG_B).await;
                                early = true;
                                let progress = a
                                    .reply(&self.sw, StatusCode::SESSION_PROGRESS)
                                    .with_body(&MediaType::sdp(), sdp_a.to_bytes());
                                self.respond(a.id, progress);
                                answer_a = Some((sdp_a, media_a));
                                self.signal(Signal::EarlyMedia);
                                self.publish("call.dial.early", serde_json::json!({"leg": p.uuid_b}));
                                self.publish("call.early", serde_json::json!({}));
                            } else if !rang && !early {
                                rang = true;
                                self.respond(a.id, a.reply(&self.sw, StatusCode::RINGING));
                                self.signal(Signal::Ringing);
                                self.publish("call.dial.ringing", serde_json::json!({"leg": p.uuid_b}));
                                self.publish("call.ringing", serde_json::json!({}));
                            }
                        }
                        Ring::Answered(i, resp) => {
                            answered = Some((i, resp));
                            break 'dial;
                        }
                        Ring::Failed(status) => {
                            failure = Ending::new(status, cause_of(status));
                            break;
                        }
                        Ring::Overloaded => {
                            failure = Ending::new(REFUSED, CONGESTION);
                            break;
                        }
                        Ring::Cancelled => {
                            self.cancel_forks(&forks, None);
                            self.respond(a.id, a.reply(&self.sw, StatusCode::REQUEST_TERMINATED));
                            return Ending::new(487, "ORIGINATOR_CANCEL");
                        }
                        Ring::Hangup => {
                            self.cancel_forks(&forks, None);
                            self.respond(a.id, a.reply(&self.sw, StatusCode::REQUEST_TERMINATED));
                            return Ending::new(487, "NORMAL_CLEARING");
                        }
                        Ring::TimedOut => {
                            self.cancel_forks(&forks, None);
                            for f in forks.iter_mut().filter(|f| f.failed.is_none()) {
                                f.failed = Some(487);
                            }
                            failure = if heard || silent_until.is_none() {
                                Ending::new(480, "NO_ANSWER")
                            } else {
                                tracing::info!(attempt = %attempt.label, "no response in time: unreachable");
                                Ending::new(408, "RECOVERY_ON_TIMER_EXPIRE")
                            };
                            break;
                        }
                        Ring::Request(id, request) => self.respond(id, super::ring::not_now(&request)),
                        Ring::Closed => return Ending::new(500, "NORMAL_TEMPORARY_FAILURE"),
                        Ring::PickUp(env) => {
                            let how = Pickable {
                                offer: offer_a.as_ref(),
                                early: answer_a.clone(),
                                ip: ip_a,
                                port: port_a,
                                direct,
                            };
                            if let Some(ending) = self.picked_up(a, p, env, &forks, &mut media, how).await {
                                return ending;
                            }
                        }
                    }
                }
                tracing::debug!(attempt = %attempt.label, status = failure.status, "an attempt failed");
                if !attempt.next_on.allows(failure.status) {
                    break;
                }
            }
            // Every attempt tried (or one that may not fail over): a call
            // forwarding may take over.
            let forward = if busy(failure.status) {
                forwards.busy.take()
            } else if unanswered(failure.status) {
                forwards.no_answer.take()
            } else {
                None
            };
            match forward {
                Some(f) if f.program.is_some() => {
                    tracing::info!(to = %f.callee, status = failure.status, "the call is forwarded to a program");
                    self.forwarded(p, &f, failure.status);
                    out.callee = f.callee.clone();
                    p.callee = f.callee;
                    p.callee_id = None;
                    program = f.program;
                    break 'dial;
                }
                Some(f) if !f.dial.attempts.is_empty() => {
                    tracing::info!(to = %f.callee, status = failure.status, "the call is forwarded");
                    self.forwarded(p, &f, failure.status);
                    out.callee = f.callee.clone();
                    p.callee = f.callee;
                    p.callee_id = f.callee_id;
                    dial = f.dial;
                }
                _ => break 'dial,
            }
        }
        let Some((winner, answer_b)) = answered else {
            if forks.is_empty() {
                // No INVITE left: the callee leg was never dialled.
                self.admission.remove_leg(&p.uuid_b);
                p.uuid_b.clear();
            }
            if let Some(to) = program {
                return self.run_forwarded(a, p, &to).await;
            }
            if let Some(ending) = self.leave_voicemail(a, p, failure).await {
                return ending;
            }
            self.respond(a.id, super::inbound::failure_reply(&a.invite, &a.tag, failure));
            return failure;
        };

        // B answered: ACK it (with our answer when it offered), cancel the
        // rest, answer A, bridge the media.
        self.cancel_forks(&forks, Some(winner));
        if direct {
            return self.answer_direct(a, p, forks, winner, &answer_b).await;
        }
        let fork = &forks[winner];
        let Ok(mut dialog_b) = Dialog::from_uac(&fork.request, &answer_b) else {
            return Ending::new(500, "PROTOCOL_ERROR");
        };
        let _ = dialog_b.handle_response(&answer_b);
        let mut ack = dialog_b.ack_for_2xx(&answer_b, self.via(fork.peer));
        let sdp_b = sdp::parse_bytes(&answer_b.body).ok();
        let media_b = if late {
            // B's 200 is its offer: answer it in the ACK.
            let ours = local(
                self.media_ip(fork.peer.addr),
                port_b,
                vec![Codec::Pcmu, Codec::Pcma],
                Direction::SendRecv,
                1,
            );
            match sdp_b.as_ref().map(|o| sdp::answer(o, &ours)) {
                Some(Ok((answer, n))) => {
                    ack = ack.with_body(&MediaType::sdp(), answer.to_bytes());
                    Some(SideMedia { remote: n.remote, codec: n.payload_type, dtmf: n.telephone_event })
                }
                _ => None,
            }
        } else {
            sdp_b.as_ref().and_then(side_media)
        };
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let mut b = Leg::new(p.uuid_b.clone(), Role::Uac, dialog_b, fork.peer);
        let Some(media_b) = media_b else {
            self.bye(&mut b).await;
            self.refuse(
                a,
                StatusCode::NOT_ACCEPTABLE_HERE,
                Some(warning(305, "the callee's media is not usable")),
            );
            return Ending::new(488, "INCOMPATIBLE_DESTINATION");
        };
        let codec_b = super::inbound::codec_of(media_b.codec);
        self.publish("call.dial.answered", serde_json::json!({"leg": p.uuid_b, "codec": codec_b.encoding()}));

        // A's SDP: the answer already sent with the early media, a fresh
        // answer, or (late offer) our offer, answered in A's ACK.
        let (sdp_a, media_a) = match (&offer_a, answer_a.take()) {
            (Some(_), Some(done)) => done,
            (Some(offer), None) => match self.answer_a(offer, ip_a, port_a, media_b) {
                Some(x) => x,
                None => {
                    self.bye(&mut b).await;
                    self.refuse(a, StatusCode::NOT_ACCEPTABLE_HERE, Some(warning(305, "no codec in common")));
                    return Ending::new(488, "INCOMPATIBLE_DESTINATION");
                }
            },
            (None, _) => {
                let offer =
                    sdp::offer(&local(ip_a, port_a, vec![codec_b, other(codec_b)], Direction::SendRecv, 1));
                let media = SideMedia {
                    remote: None,
                    codec: codec_b.payload_type(),
                    dtmf: Some(crate::calls::sdp::DTMF_PT),
                };
                (offer, media)
            }
        };
        let Ok(dialog_a) = Dialog::from_uas(&a.invite, &a.tag) else {
            self.bye(&mut b).await;
            self.refuse(a, StatusCode::BAD_REQUEST, None);
            return Ending::new(400, "PROTOCOL_ERROR");
        };
        let mut leg_a = Leg::new(p.uuid_a.clone(), Role::Uas, dialog_a, a.peer);
        let ok = a.reply(&self.sw, StatusCode::OK).with_body(&MediaType::sdp(), sdp_a.to_bytes());
        leg_a.dialog.handle_sent_response(&ok);
        let dir_a = offer_a.as_ref().map_or(Direction::SendRecv, crate::calls::sdp::direction);
        media.set(LEG_A, media_a, a.peer.addr.ip(), dir_a).await;
        media.set(LEG_B, media_b, b.peer.addr.ip(), Direction::SendRecv).await;
        media.connect(LEG_A, LEG_B).await;
        // What the media said while ringing: digits still count; a quiet
        // early phase is not a reason to end the answered call.
        while let Ok(e) = media.events.try_recv() {
            if e != crate::media::MediaEvent::Inactive {
                self.media_event(&e);
            }
        }
        self.respond(a.id, ok);
        p.answer = Some(self.now());
        p.codec = super::inbound::codec_of(media_a.codec).encoding().to_owned();
        let codec = p.codec.clone();
        self.admission.update_legs(|l| l.codec = codec.clone());
        self.signal(Signal::Answered);
        self.publish("call.answered", serde_json::json!({"codec": p.codec}));
        if let Some(path) = &out.record {
            self.record_call(&mut media, path, p).await;
        }

        let mut bridged = Bridged {
            a: leg_a,
            b,
            ids: [LEG_A, LEG_B],
            media,
            invite_a: Some(a.id),
            forks,
            winner,
            late_a: late,
        };
        self.talk(&mut bridged).await
    }

    /// B answered an unanchored call: ACK it, answer A with B's SDP, and
    /// relay until the end.
    async fn answer_direct(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        forks: Vec<Fork>,
        winner: usize,
        answer_b: &sip::Response,
    ) -> Ending {
        let fork = &forks[winner];
        let Ok(mut dialog_b) = Dialog::from_uac(&fork.request, answer_b) else {
            return Ending::new(500, "PROTOCOL_ERROR");
        };
        let _ = dialog_b.handle_response(answer_b);
        let ack = dialog_b.ack_for_2xx(answer_b, self.via(fork.peer));
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let mut b = Leg::new(p.uuid_b.clone(), Role::Uac, dialog_b, fork.peer);
        let Ok(dialog_a) = Dialog::from_uas(&a.invite, &a.tag) else {
            self.bye(&mut b).await;
            self.refuse(a, StatusCode::BAD_REQUEST, None);
            return Ending::new(400, "PROTOCOL_ERROR");
        };
        let mut leg_a = Leg::new(p.uuid_a.clone(), Role::Uas, dialog_a, a.peer);
        let mut ok = a.reply(&self.sw, StatusCode::OK);
        if !answer_b.body.is_empty() {
            ok = ok.with_body(&MediaType::sdp(), answer_b.body.clone());
        }
        leg_a.dialog.handle_sent_response(&ok);
        self.respond(a.id, ok);
        p.answer = Some(self.now());
        p.codec = sdp::parse_bytes(&answer_b.body)
            .ok()
            .and_then(|d| codecs(&d).first().map(|c| c.encoding().to_owned()))
            .unwrap_or_default();
        self.publish("call.dial.answered", serde_json::json!({"leg": p.uuid_b, "codec": p.codec}));
        let codec = p.codec.clone();
        self.admission.update_legs(|l| l.codec = codec.clone());
        self.signal(Signal::Answered);
        self.publish("call.answered", serde_json::json!({"codec": p.codec, "media": "direct"}));
        let mut direct = Direct { a: leg_a, b, invite_a: a.id, forks, winner };
        self.talk_direct(&mut direct).await
    }

    /// Starts recording both sides of the answered call into `path`
    /// (stereo WAV, like `record_session`); a failure is logged, the call
    /// goes on.
    async fn record_call(&mut self, media: &mut CallMedia, path: &std::path::Path, p: &mut Parties) {
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot make the recordings folder");
                return;
            }
        }
        let spec = RecordSpec { legs: vec![LEG_A, LEG_B], mode: RecordMode::Stereo, path: path.to_owned() };
        match media.handle.record(spec).await {
            Ok(id) => {
                media.recording = Some(id);
                p.recording = path.file_name().map(|n| n.to_string_lossy().into_owned());
                self.publish(
                    "call.recording.started",
                    serde_json::json!({"path": path.display().to_string()}),
                );
            }
            Err(e) => tracing::warn!(error = %e, "the route asks for a recording, which could not start"),
        }
    }

    /// Answers A's `offer` preferring B's codec; `None` when nothing fits.
    pub(super) fn answer_a(
        &self,
        offer: &SessionDescription,
        ip_a: std::net::IpAddr,
        port_a: u16,
        media_b: SideMedia,
    ) -> Option<(SessionDescription, SideMedia)> {
        let (sdp_a, negotiated) = answer_preferring(
            offer,
            ip_a,
            port_a,
            super::inbound::codec_of(media_b.codec),
            Direction::SendRecv,
            1,
        )
        .ok()?;
        let mut media_a = side_media(offer)?;
        media_a.codec = negotiated.payload_type;
        media_a.dtmf = negotiated.telephone_event;
        Some((sdp_a, media_a))
    }

    /// The INVITE to destination `d`: its Request-URI, the callee in To
    /// and the caller in From (at the destination's host, else our realm),
    /// the route's headers then the destination's.
    pub(super) fn fork_invite(
        &self,
        a: Option<&Caller>,
        out: &Outgoing,
        d: &Destination,
        offer: Option<Vec<u8>>,
    ) -> Option<Request> {
        let host = d.host.as_deref().unwrap_or(&self.sw.config.realm);
        let mut from = NameAddr::new(sip::Uri::parse(&format!("sip:{}@{host}", out.caller)).ok()?);
        from.display = match &out.caller_name {
            Some(name) if !name.is_empty() => Some(name.clone()),
            Some(_) => None,
            None => a.and_then(|a| a.invite.head.from.display.clone()),
        };
        from.set_tag(&self.sw.tag());
        let to = NameAddr::new(sip::Uri::parse(&format!("sip:{}@{host}", out.callee)).ok()?);
        let call_id = format!("{}@calliope", self.sw.tag());
        let mut request =
            Request::new(Method::Invite, d.uri.clone(), from, to, call_id, 1).with_via(self.via(d.peer));
        request.head.headers.set(HeaderName::MaxForwards, out.max_forwards.to_string());
        request.head.headers.push(HeaderName::Contact, self.contact());
        request.head.headers.push(HeaderName::Allow, crate::signalling::ALLOW);
        // The route's headers, then the destination's (the same header and
        // value once only: a destination may carry the route's too).
        let mut added: Vec<&(String, String)> = Vec::new();
        for pair in out.headers.iter().chain(&d.headers) {
            if pair.1.contains(['\r', '\n'])
                || added.iter().any(|(n, v)| n.eq_ignore_ascii_case(&pair.0) && *v == pair.1)
            {
                continue;
            }
            if let Ok(name) = HeaderName::parse(&pair.0) {
                request.head.headers.push(name, pair.1.clone());
                added.push(pair);
            }
        }
        Some(match offer {
            Some(o) => request.with_body(&MediaType::sdp(), o),
            None => request,
        })
    }
}

/// The destination an agent's registered contact is rung at.
pub(super) fn contact_destination(b: &crate::location::Binding) -> Option<Destination> {
    let protocol = if b.transport == crate::location::Transport::Tcp {
        sip::transaction::Protocol::Tcp
    } else {
        sip::transaction::Protocol::Udp
    };
    Some(Destination {
        uri: sip::Uri::parse(&b.contact).ok()?,
        peer: Peer { addr: b.target(), protocol },
        host: None,
        account: None,
        headers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_offered_to_b_follow_the_route_preference() {
        assert_eq!(offer_codecs(None, &[]), [Codec::Pcmu, Codec::Pcma]);
        assert_eq!(offer_codecs(None, &[Codec::Pcma]), [Codec::Pcma, Codec::Pcmu]);
        assert_eq!(offer_codecs(None, &[Codec::Pcma, Codec::Pcmu]), [Codec::Pcma, Codec::Pcmu]);
    }

    #[test]
    fn forwarding_reasons() {
        assert!(busy(486) && busy(600) && !busy(480));
        assert!(unanswered(480) && unanswered(408) && !unanswered(486) && !unanswered(404));
    }
}
