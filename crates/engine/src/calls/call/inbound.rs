//! A call that starts with an INVITE from an agent: the caller's UAS leg
//! (A), then one UAC leg per registered contact of the callee (B, forked:
//! the first to answer wins, the others are cancelled, and a late second
//! answer is ACKed and sent BYE). Provisional responses are relayed, a 183
//! with SDP as early media (the bridge runs before the answer); an INVITE
//! without SDP is relayed as a late offer (B offers in its 200, we answer
//! in the ACK; our 200 to A offers, A answers in its ACK).

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction, SessionDescription};
use sip::transaction::{Peer, Protocol, ServerTxId};
use sip::{HeaderName, MediaType, Method, NameAddr, Request, Response, StatusCode, Uri};
use store::Millis;

use super::media::CallMedia;
use super::ring::Ring;
use super::talk::Bridged;
use super::{cause_of, Call, Ending, Signal};
use crate::accounts::Account;
use crate::calls::cdr::Cdr;
use crate::calls::leg::{Leg, Role};
use crate::calls::registry::Channel;
use crate::calls::sdp::{answer_preferring, codecs, local, other, side_media};
use crate::location::Transport;
use crate::media::LegId;
use crate::relay::SideMedia;
use crate::router::{Plan, Target};
use crate::signalling::auth::{authenticate_from, Challenge};
use crate::signalling::core::Cmd;

/// The caller's leg in the media session.
const LEG_A: LegId = LegId(1);
/// The callee's leg.
const LEG_B: LegId = LegId(2);

/// The caller's INVITE.
#[derive(Debug)]
pub(super) struct Caller {
    /// The INVITE.
    pub invite: Request,
    /// Its server transaction.
    pub id: ServerTxId,
    /// Who sent it.
    pub peer: Peer,
    /// Our To tag.
    pub tag: String,
}

impl Caller {
    /// A response to the INVITE, with our tag (and Contact, for 1xx/2xx).
    pub(super) fn reply(&self, sw: &crate::signalling::Switch, status: StatusCode) -> Response {
        let mut resp = Response::for_request(&self.invite, status, Some(&self.tag));
        if status.code() < 300 && status.code() > 100 {
            resp.head.headers.push(HeaderName::Contact, format!("<sip:calliope@{}>", sw.advertised()));
            sip::dialog::copy_record_route(&self.invite, &mut resp);
        }
        resp
    }
}

/// Who the call is between, for the records and the channel list.
#[derive(Debug)]
struct Parties {
    caller: Account,
    callee_ext: String,
    callee_id: i64,
    uuid_a: String,
    uuid_b: String,
    start: Millis,
    answer: Option<Millis>,
    codec: String,
}

/// A warning header value (RFC 3261 20.43).
fn warning(code: u16, text: &str) -> String {
    format!("{code} calliope \"{}\"", text.replace('"', "'"))
}

impl Call {
    pub(super) async fn inbound(&mut self, a: Caller) {
        let from_user = a.invite.head.from.uri.user().map(str::to_owned);
        let source = a.peer.addr.ip();
        let caller = match authenticate_from(
            &self.sw,
            &a.invite,
            Challenge::Proxy,
            from_user.as_deref(),
            source,
        )
        .await
        {
            Ok(acc) => acc,
            Err(resp) => return self.respond(a.id, *resp),
        };
        self.workspace_id = caller.workspace_id;
        if let Err(refusal) = self.admission.set_workspace(caller.workspace_id) {
            return self.respond(a.id, super::refused(&self.sw, &a.invite, refusal));
        }
        let mut callee_ext = a.invite.uri.user().unwrap_or_default().to_owned();
        // Feature codes, forwarding always and do-not-disturb (a hook until
        // every call follows the router's plan).
        let mut busy = None;
        match self.feature_plan(&caller, &callee_ext).await {
            Some(Plan::Feature(feature)) => return self.feature(&a, &caller, &feature).await,
            Some(Plan::Route(r)) => {
                if let Target::Agent { extension, .. } = r.target {
                    callee_ext = extension;
                }
            }
            Some(Plan::Reject(r)) if r.status == 486 => busy = Some(r.reason),
            _ => {}
        }
        let callee = match self.sw.accounts.by_extension(caller.workspace_id, &callee_ext).await {
            Ok(Some(agent)) => agent,
            Ok(None) => return self.respond(a.id, a.reply(&self.sw, StatusCode::NOT_FOUND)),
            Err(_) => return self.respond(a.id, a.reply(&self.sw, StatusCode::SERVICE_UNAVAILABLE)),
        };
        let mut parties = Parties {
            caller,
            callee_ext,
            callee_id: callee.id,
            uuid_a: self.uuid(),
            uuid_b: uuid::Uuid::new_v4().to_string(),
            start: self.now(),
            answer: None,
            codec: String::new(),
        };
        if let Some(reason) = busy {
            tracing::info!(%reason, "call refused");
            self.refuse(&a, StatusCode::BUSY_HERE, Some(warning(399, &reason)));
            return self.finish(&parties, Ending::new(486, "USER_BUSY"));
        }
        let ending = self.connect(&a, &mut parties).await;
        self.finish(&parties, ending);
    }

    /// Answers A with `status` and a Warning saying why.
    fn refuse(&self, a: &Caller, status: StatusCode, warn: Option<String>) {
        let mut resp = a.reply(&self.sw, status);
        if let Some(w) = warn {
            resp.head.headers.push(HeaderName::Warning, w);
        }
        self.respond(a.id, resp);
    }

    /// Everything from the authenticated INVITE to the end of the call.
    async fn connect(&mut self, a: &Caller, p: &mut Parties) -> Ending {
        let bindings = self.sw.location.lookup(p.callee_id, self.now());
        tracing::debug!(callee = %p.callee_ext, contacts = bindings.len(), "routing a call");
        if bindings.is_empty() {
            self.refuse(a, StatusCode::TEMPORARILY_UNAVAILABLE, None);
            return Ending::new(480, "USER_NOT_REGISTERED");
        }
        // No SDP: a late offer, relayed as one.
        let offer_a: Option<SessionDescription> = if a.invite.body.is_empty() {
            None
        } else {
            match sdp::parse_bytes(&a.invite.body) {
                Ok(o) if !codecs(&o).is_empty() => Some(o),
                Ok(_) => {
                    let w = warning(305, "Incompatible media format: the offer has neither PCMU nor PCMA");
                    self.refuse(a, StatusCode::NOT_ACCEPTABLE_HERE, Some(w));
                    return Ending::new(488, "INCOMPATIBLE_DESTINATION");
                }
                Err(e) => {
                    let w = warning(399, &format!("malformed session description: {e}"));
                    self.refuse(a, StatusCode::BAD_REQUEST, Some(w));
                    return Ending::new(400, "INVALID_MSG_UNSPECIFIED");
                }
            }
        };
        let late = offer_a.is_none();
        let ip_a = self.media_ip(a.peer.addr);
        let bind_ip = self.bind_ip(a.peer.addr);
        let (Some(ports_a), Some(ports_b)) =
            (self.sw.ports.bind(bind_ip).await, self.sw.ports.bind(bind_ip).await)
        else {
            self.refuse(a, StatusCode::SERVICE_UNAVAILABLE, Some(warning(399, "no media ports free")));
            return Ending::new(503, "NORMAL_TEMPORARY_FAILURE");
        };
        let mut media = CallMedia::start(Some(self.sw.config.rtp_timeout));
        let (Ok(port_a), Ok(port_b)) = (media.add(LEG_A, ports_a).await, media.add(LEG_B, ports_b).await)
        else {
            self.refuse(a, StatusCode::SERVICE_UNAVAILABLE, Some(warning(399, "the media session failed")));
            return Ending::new(503, "NORMAL_TEMPORARY_FAILURE");
        };
        self.publish("call.created", serde_json::json!({"from": p.caller.extension, "to": p.callee_ext}));
        self.put_legs(a, p);

        // Offer B every codec A offered, then the other law (to transcode).
        let mut offer_codecs = offer_a.as_ref().map(codecs).unwrap_or_else(|| vec![Codec::Pcmu, Codec::Pcma]);
        for c in [Codec::Pcmu, Codec::Pcma] {
            if !offer_codecs.contains(&c) {
                offer_codecs.push(c);
            }
        }
        let mut forks = Vec::new();
        for b in &bindings {
            let peer = Peer {
                addr: b.target(),
                protocol: if b.transport == Transport::Tcp { Protocol::Tcp } else { Protocol::Udp },
            };
            let offer_b = (!late).then(|| {
                sdp::offer(&local(
                    self.media_ip(b.source),
                    port_b,
                    offer_codecs.clone(),
                    Direction::SendRecv,
                    1,
                ))
            });
            let Some(request) = self.fork_invite(a, p, &b.contact, peer, offer_b.as_ref()) else {
                tracing::debug!(contact = %b.contact, "cannot call this contact");
                continue;
            };
            tracing::debug!(contact = %b.contact, peer = %peer, "forking");
            if let Some(fork) = self.fork(request, peer, None).await {
                forks.push(fork);
            }
        }
        if forks.is_empty() {
            self.refuse(a, StatusCode::TEMPORARILY_UNAVAILABLE, None);
            return Ending::new(480, "USER_NOT_REGISTERED");
        }
        self.signal(Signal::Routed);

        // Ringing until one fork answers, all fail, A cancels or time runs out.
        let deadline = super::ring_deadline(self.now(), self.sw.config.ring_timeout.as_millis() as Millis);
        let mut rang = false;
        // The early media: whether it flows, A's answer SDP and its media.
        let mut early = false;
        let mut answer_a: Option<(SessionDescription, SideMedia)> = None;
        let (winner, answer_b) = loop {
            match self.ring(&mut forks, deadline).await {
                Ring::Provisional(resp) => {
                    let early_b = (!late && !early && !resp.body.is_empty())
                        .then(|| sdp::parse_bytes(&resp.body).ok())
                        .flatten()
                        .and_then(|d| side_media(&d));
                    if let (Some(media_b), Some(offer)) = (early_b, offer_a.as_ref()) {
                        let Some((sdp_a, media_a)) = self.answer_a(offer, ip_a, port_a, media_b) else {
                            continue;
                        };
                        let dir_a = crate::calls::sdp::direction(offer);
                        media.set(LEG_A, media_a, a.peer.addr.ip(), dir_a).await;
                        let peer_b = forks.first().map_or(a.peer.addr.ip(), |f| f.peer.addr.ip());
                        media.set(LEG_B, media_b, peer_b, Direction::SendRecv).await;
                        media.connect(LEG_A, LEG_B).await;
                        early = true;
                        let progress = a
                            .reply(&self.sw, StatusCode::SESSION_PROGRESS)
                            .with_body(&MediaType::sdp(), sdp_a.to_string().into_bytes());
                        self.respond(a.id, progress);
                        answer_a = Some((sdp_a, media_a));
                        self.signal(Signal::EarlyMedia);
                        self.publish("call.early", serde_json::json!({}));
                    } else if !rang && !early {
                        rang = true;
                        self.respond(a.id, a.reply(&self.sw, StatusCode::RINGING));
                        self.signal(Signal::Ringing);
                        self.publish("call.ringing", serde_json::json!({}));
                    }
                }
                Ring::Answered(i, resp) => break (i, resp),
                Ring::Failed(status) => {
                    let code = StatusCode::new(status).unwrap_or(StatusCode::TEMPORARILY_UNAVAILABLE);
                    self.respond(a.id, a.reply(&self.sw, code));
                    return Ending::new(status, cause_of(status));
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
                    self.respond(a.id, a.reply(&self.sw, StatusCode::TEMPORARILY_UNAVAILABLE));
                    return Ending::new(480, "NO_ANSWER");
                }
                Ring::Request(id, request) => self.respond(id, super::ring::not_now(&request)),
                Ring::Closed => return Ending::new(500, "NORMAL_TEMPORARY_FAILURE"),
            }
        };

        // B answered: ACK it (with our answer when it offered), cancel the
        // rest, answer A, bridge the media.
        self.cancel_forks(&forks, Some(winner));
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
                    ack = ack.with_body(&MediaType::sdp(), answer.to_string().into_bytes());
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
        let codec_b = codec_of(media_b.codec);

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
        let ok =
            a.reply(&self.sw, StatusCode::OK).with_body(&MediaType::sdp(), sdp_a.to_string().into_bytes());
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
        p.codec = codec_of(media_a.codec).encoding().to_owned();
        let codec = p.codec.clone();
        self.admission.update_legs(|l| l.codec = codec.clone());
        self.signal(Signal::Answered);
        self.publish("call.answered", serde_json::json!({"codec": p.codec}));

        let mut bridged =
            Bridged { a: leg_a, b, ids: [LEG_A, LEG_B], media, invite_a: a.id, forks, winner, late_a: late };
        self.talk(&mut bridged).await
    }

    /// Answers A's `offer` preferring B's codec; `None` when nothing fits.
    fn answer_a(
        &self,
        offer: &SessionDescription,
        ip_a: std::net::IpAddr,
        port_a: u16,
        media_b: SideMedia,
    ) -> Option<(SessionDescription, SideMedia)> {
        let (sdp_a, negotiated) =
            answer_preferring(offer, ip_a, port_a, codec_of(media_b.codec), Direction::SendRecv, 1).ok()?;
        let mut media_a = side_media(offer)?;
        media_a.codec = negotiated.payload_type;
        media_a.dtmf = negotiated.telephone_event;
        Some((sdp_a, media_a))
    }

    fn fork_invite(
        &self,
        a: &Caller,
        p: &Parties,
        contact: &str,
        peer: Peer,
        offer: Option<&SessionDescription>,
    ) -> Option<Request> {
        let uri = Uri::parse(contact).ok()?;
        let realm = &self.sw.config.realm;
        let mut from = NameAddr::new(Uri::parse(&format!("sip:{}@{realm}", p.caller.extension)).ok()?);
        from.display = a.invite.head.from.display.clone();
        from.set_tag(&self.sw.tag());
        let to = NameAddr::new(Uri::parse(&format!("sip:{}@{realm}", p.callee_ext)).ok()?);
        let call_id = format!("{}@calliope", self.sw.tag());
        let hops = a.invite.head.max_forwards().ok().flatten().unwrap_or(70).saturating_sub(1);
        let mut request = Request::new(Method::Invite, uri, from, to, call_id, 1).with_via(self.via(peer));
        request.head.headers.set(HeaderName::MaxForwards, hops.to_string());
        request.head.headers.push(HeaderName::Contact, self.contact());
        request.head.headers.push(HeaderName::Allow, crate::signalling::ALLOW);
        Some(match offer {
            Some(o) => request.with_body(&MediaType::sdp(), o.to_string().into_bytes()),
            None => request,
        })
    }

    fn put_legs(&self, a: &Caller, p: &Parties) {
        let caller = &p.caller;
        let state = self.phase.callstate();
        let leg = |uuid: &str, direction: &'static str, ip: String| Channel {
            uuid: uuid.to_owned(),
            call_uuid: p.uuid_a.clone(),
            workspace_id: caller.workspace_id,
            direction,
            created_ms: p.start,
            name: format!(
                "sip/{}@{}",
                if direction == "inbound" { &caller.extension } else { &p.callee_ext },
                ip
            ),
            callstate: state,
            cid_name: caller.extension.clone(),
            cid_num: caller.extension.clone(),
            ip_addr: ip,
            dest: p.callee_ext.clone(),
            context: caller.context.clone(),
            codec: String::new(),
            callee_num: p.callee_ext.clone(),
        };
        self.admission.put_leg(leg(&p.uuid_a, "inbound", a.peer.addr.ip().to_string()));
        self.admission.put_leg(leg(&p.uuid_b, "outbound", String::new()));
    }

    fn finish(&mut self, p: &Parties, ending: Ending) {
        self.signal(Signal::Ended);
        let end = self.now();
        let disposition = ending.disposition(p.answer.is_some());
        let cdr = |leg_ref: &str| Cdr {
            workspace_id: p.caller.workspace_id,
            leg_ref: leg_ref.to_owned(),
            src: p.caller.extension.clone(),
            dst: p.callee_ext.clone(),
            clid: p.caller.extension.clone(),
            src_id: Some(p.caller.agent_id),
            dst_id: Some(p.callee_id),
            direction: "INTRA_COMPANY",
            kind: "AGENT",
            disposition,
            hangup_cause: ending.cause.to_owned(),
            start: p.start,
            answer: p.answer,
            end,
            context: p.caller.context.clone(),
            codec: p.codec.clone(),
        };
        self.write_records(vec![cdr(&p.uuid_a), cdr(&p.uuid_b)]);
        self.publish(
            "call.ended",
            serde_json::json!({"from": p.caller.extension, "to": p.callee_ext, "cause": ending.cause, "status": ending.status}),
        );
    }
}

/// The G.711 law of payload type `pt`.
pub(super) fn codec_of(pt: u8) -> Codec {
    if pt == 8 {
        Codec::Pcma
    } else {
        Codec::Pcmu
    }
}
