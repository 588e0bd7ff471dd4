//! An answered call with two legs bridged: BYE from either side ends it
//! (as does a hang-up naming either leg: that leg gets BYE first);
//! re-INVITE and UPDATE are relayed to the other side (hold, codec
//! change), a crossing one answered 491; INFO DTMF becomes an event; a
//! late second answer from another fork is ACKed and sent BYE; A's answer
//! to our late offer arrives in its ACK. REFER transfers (blind, or
//! attended with `Replaces`), another call's request to join, and an
//! INVITE with `Replaces` for one of the legs are handled here too.

use sip::sdp::{self, Direction};
use sip::transaction::{ClientTxId, ServerTxId, TxId};
use sip::{HeaderName, MediaType, Method, Request, Response, StatusCode};

use super::inbound::codec_of;
use super::media::CallMedia;
use super::ring::Fork;
use super::{Call, CallEvent, Ending, Input};
use crate::calls::leg::{dtmf, Leg};
use crate::calls::sdp::{answer_preferring, codecs, direction, local, side_media};
use crate::media::{LegId, MediaEvent};
use crate::relay::SideMedia;
use crate::signalling::core::Cmd;

/// Two legs and the bridge between them.
#[derive(Debug)]
pub(super) struct Bridged {
    /// The caller's leg (bridge side 0).
    pub a: Leg,
    /// The callee's leg (bridge side 1).
    pub b: Leg,
    /// The media legs of A and B.
    pub ids: [LegId; 2],
    /// The media.
    pub media: CallMedia,
    /// A's INVITE transaction (its ACK may never come); `None` when A is
    /// a leg we called (an originated call bridged onward).
    pub invite_a: Option<ServerTxId>,
    /// Every fork sent to B.
    pub forks: Vec<Fork>,
    /// The one that answered.
    pub winner: usize,
    /// Whether A's answer is still to come in its ACK.
    pub late_a: bool,
}

/// A re-INVITE or UPDATE being relayed.
#[derive(Debug)]
struct Relayed {
    id: ServerTxId,
    request: Request,
    from_a: bool,
    forwarded: ClientTxId,
}

impl Call {
    /// Runs the answered call until it ends.
    pub(super) async fn talk(&mut self, s: &mut Bridged) -> Ending {
        let mut pending: Option<Relayed> = None;
        let mut keys = super::in_call::Keys::default();
        loop {
            let event = match self.next(None, Some(&mut s.media.events)).await {
                Input::Sip(e) => e,
                Input::Hangup => {
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Media(MediaEvent::Inactive) => {
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Ending::new(200, "MEDIA_TIMEOUT");
                }
                Input::Media(e) => {
                    self.media_event(&e);
                    if let MediaEvent::Dtmf { digit, .. } = &e {
                        self.in_call_key(s, &mut keys, digit.as_char()).await;
                    }
                    continue;
                }
                Input::Command(env) if env.leg_hangup().is_some_and(|l| l == s.a.uuid || l == s.b.uuid) => {
                    // One leg hung up by its id: it gets BYE, then the call
                    // goes on as when that leg's phone hangs up.
                    let from_a = env.leg_hangup() == Some(s.a.uuid.as_str());
                    let _ = env.reply.send(Ok(()));
                    let (this, other) = if from_a { (&mut s.a, &mut s.b) } else { (&mut s.b, &mut s.a) };
                    self.bye(this).await;
                    return self.other_side_hung_up(other).await;
                }
                Input::Command(mut env) => {
                    // The leg a command or a listener names is the one
                    // acted on (muted, made deaf, played to, listened to).
                    let named = match &env.command {
                        super::CallCommand::Listened(l) => Some(l.leg.as_str()),
                        _ => env.leg.as_deref(),
                    };
                    let ids = match named {
                        Some(leg) if leg == s.b.uuid => [s.ids[1], s.ids[0]],
                        _ => s.ids,
                    };
                    if env.leg.as_deref().is_some_and(|leg| leg == s.a.uuid || leg == s.b.uuid) {
                        env.leg = None;
                    }
                    self.command(env, &mut s.media, &ids).await;
                    continue;
                }
                Input::Closed => return Ending::new(200, "NORMAL_CLEARING"),
                Input::Timer => continue,
            };
            match event {
                CallEvent::Request { id, request, peer } => {
                    let from_a = request.head.call_id == s.a.call_id();
                    let ours = from_a || request.head.call_id == s.b.call_id();
                    if !ours && request.method == Method::Invite && request.head.to_tag().is_none() {
                        // An INVITE with Replaces that the switch routed here.
                        self.replace_here(s, id, &request, peer).await;
                        continue;
                    }
                    if !ours {
                        // A fork that lost, still talking to us.
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
                            // Glare: one offer at a time (RFC 3261 14.2).
                            let status = StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Invite | Method::Update => {
                            match self
                                .relay_offer(
                                    &request,
                                    this.peer.addr.ip(),
                                    other,
                                    &mut s.media,
                                    s.ids,
                                    from_a,
                                )
                                .await
                            {
                                Ok(forwarded) => {
                                    pending = Some(Relayed { id, request: *request, from_a, forwarded })
                                }
                                Err(reason) => {
                                    let mut resp = Response::for_request(
                                        &request,
                                        StatusCode::NOT_ACCEPTABLE_HERE,
                                        None,
                                    );
                                    resp.head
                                        .headers
                                        .push(HeaderName::Warning, format!("305 calliope \"{reason}\""));
                                    self.respond(id, resp);
                                }
                            }
                        }
                        Method::Info => {
                            let status = self.info(&request);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Refer if pending.is_some() => {
                            let status = StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Refer => {
                            if let Some(ending) = self.transfer(s, from_a, id, &request).await {
                                return ending;
                            }
                        }
                        _ => self.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                CallEvent::Ack(ack)
                    if s.late_a && ack.head.call_id == s.a.call_id() && !ack.body.is_empty() =>
                {
                    s.late_a = false;
                    match sdp::parse_bytes(&ack.body).ok().as_ref().and_then(side_media) {
                        Some(media) => {
                            let ip = s.a.peer.addr.ip();
                            s.media.set(s.ids[0], media, ip, sdp::Direction::SendRecv).await
                        }
                        None => tracing::debug!("the caller's answer in its ACK is not usable"),
                    }
                }
                CallEvent::Response(id, resp) => {
                    if let Some(i) = s.forks.iter().position(|f| f.id == id) {
                        if i != s.winner && resp.status.is_success() {
                            self.refuse_answer(&s.forks[i], &resp).await;
                        }
                        continue;
                    }
                    let Some(r) = pending.as_ref().filter(|r| r.forwarded == id) else { continue };
                    let code = resp.status.code();
                    if code < 200 {
                        continue;
                    }
                    let (this, other) = if r.from_a { (&mut s.a, &mut s.b) } else { (&mut s.b, &mut s.a) };
                    if code < 300 {
                        let _ = other.dialog.handle_response(&resp);
                        if r.request.method == Method::Invite {
                            let ack = other.dialog.ack_for_2xx(&resp, self.via(other.peer));
                            let _ = self.cmds.send(Cmd::Ack(id, ack, other.peer));
                        }
                        let answered = self
                            .relay_answer(r, &resp, this, other.peer.addr.ip(), &mut s.media, s.ids)
                            .await;
                        self.respond(r.id, answered);
                    } else {
                        self.respond(r.id, Response::for_request(&r.request, resp.status, None));
                    }
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
                CallEvent::Join(join) => {
                    if let Some(ending) = self.join_here(s, *join).await {
                        return ending;
                    }
                }
                CallEvent::Timeout(TxId::Server(id)) if Some(id) == s.invite_a => {
                    // A never acknowledged our 200.
                    self.bye(&mut s.a).await;
                    self.bye(&mut s.b).await;
                    return Ending::new(408, "RECOVERY_ON_TIMER_EXPIRE");
                }
                _ => {}
            }
        }
    }

    /// One leg of a two-leg call hung up (its BYE, or a hang-up naming
    /// it): the `other` gets BYE and the call ends normally.
    pub(super) async fn other_side_hung_up(&mut self, other: &mut Leg) -> Ending {
        self.bye(other).await;
        Ending::new(200, "NORMAL_CLEARING")
    }

    /// Turns an INFO carrying DTMF into a `call.dtmf` event; the status to
    /// answer with.
    pub(super) fn info(&self, request: &Request) -> StatusCode {
        let content_type = request.head.content_type().ok().flatten();
        match dtmf::parse(content_type.as_ref(), &request.body) {
            Ok(d) => {
                self.publish(
                    "call.dtmf",
                    serde_json::json!({"digit": d.digit.to_string(), "durationMs": d.duration_ms, "source": "info"}),
                );
                StatusCode::OK
            }
            Err(dtmf::DtmfError::Malformed) => StatusCode::BAD_REQUEST,
            // Other INFO packages (and empty keep-alive INFOs) are accepted.
            Err(dtmf::DtmfError::NotDtmf) if request.body.is_empty() => StatusCode::OK,
            Err(dtmf::DtmfError::NotDtmf) => StatusCode::new(415).unwrap_or(StatusCode::BAD_REQUEST),
        }
    }

    /// Forwards a re-INVITE's or UPDATE's offer to the other side with our
    /// address, keeping the direction it asks for (hold, unhold).
    async fn relay_offer(
        &mut self,
        request: &Request,
        this_ip: std::net::IpAddr,
        other: &mut Leg,
        media: &mut CallMedia,
        ids: [LegId; 2],
        from_a: bool,
    ) -> Result<ClientTxId, &'static str> {
        let offer = sdp::parse_bytes(&request.body).map_err(|_| "the offer is missing or malformed")?;
        let theirs = side_media(&offer)
            .or_else(|| {
                let codec = codecs(&offer).first()?.payload_type();
                Some(SideMedia { remote: None, codec, dtmf: None })
            })
            .ok_or("the offer has neither PCMU nor PCMA")?;
        let (this_id, other_id) = if from_a { (ids[0], ids[1]) } else { (ids[1], ids[0]) };
        media.set(this_id, theirs, this_ip, direction(&offer)).await;
        let ip = self.media_ip(other.peer.addr);
        let version = other.next_version();
        let port = media.port(other_id);
        let codec = codec_of(media.codec(other_id));
        let ours = sdp::offer(&local(ip, port, vec![codec], direction(&offer), version));
        let mut forwarded =
            other.request(request.method.clone(), self.via(other.peer)).ok_or("the other side hung up")?;
        if forwarded.head.headers.get(&HeaderName::Contact).is_none() {
            forwarded.head.headers.push(HeaderName::Contact, self.contact());
        }
        forwarded = forwarded.with_body(&MediaType::sdp(), ours.to_bytes());
        self.send(forwarded, other.peer).await.ok_or("the other side cannot be reached")
    }

    /// Answers the originator of a relayed offer from the other side's
    /// answer, and points the bridge at the other side's new media.
    async fn relay_answer(
        &self,
        r: &Relayed,
        answer: &Response,
        this: &mut Leg,
        other_ip: std::net::IpAddr,
        media: &mut CallMedia,
        ids: [LegId; 2],
    ) -> Response {
        let theirs = sdp::parse_bytes(&answer.body).ok();
        let (this_id, other_id) = if r.from_a { (ids[0], ids[1]) } else { (ids[1], ids[0]) };
        let wanted = theirs.as_ref().map_or(Direction::SendRecv, direction);
        if let Some(m) = theirs.as_ref().and_then(side_media) {
            media.set(other_id, m, other_ip, wanted).await;
        }
        let ip = self.media_ip(this.peer.addr);
        let version = this.next_version();
        let offer = sdp::parse_bytes(&r.request.body).ok();
        let mut resp = Response::for_request(&r.request, StatusCode::OK, None);
        resp.head.headers.push(HeaderName::Contact, self.contact());
        if let Some(offer) = offer {
            let codec = codec_of(media.codec(this_id));
            if let Ok((sdp, _)) = answer_preferring(&offer, ip, media.port(this_id), codec, wanted, version) {
                resp = resp.with_body(&MediaType::sdp(), sdp.to_bytes());
            }
        }
        resp
    }
}
