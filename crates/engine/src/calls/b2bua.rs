//! A call between agents as a back-to-back user agent: the caller's leg
//! (A) is answered by Calliope, which places its own call to every
//! registered contact of the callee (B, forked; the first to answer wins,
//! the others are cancelled), relays ringing, answers A when B answers,
//! anchors the media in a bridge, relays re-INVITEs (hold, unhold) and
//! BYE from either side, and writes one CDR per leg at the end.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sip::dialog::Dialog;
use sip::header::Transport as ViaTransport;
use sip::sdp::{self, Codec, Direction, SessionDescription};
use sip::transaction::{ClientTxId, Peer, Protocol, ServerTxId, TxId};
use sip::{HeaderName, HostPort, MediaType, Method, NameAddr, Request, Response, StatusCode, Uri, Via};
use tokio::sync::{mpsc, oneshot};

use super::sdp::{answer_preferring, codecs, direction, local, side_media};
use super::{Cdr, Channel, Command};
use crate::accounts::Account;
use crate::events::Event;
use crate::location::Transport;
use crate::relay::Bridge;
use crate::signalling::auth::{authenticate, Challenge};
use crate::signalling::core::{CallEvent, Cmd, Owner};
use crate::signalling::Switch;

/// How long a callee may ring before the call is given up.
const RING_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for the answers to our BYEs when a call ends.
const BYE_WAIT: Duration = Duration::from_secs(3);

/// Starts the task of a new call (an INVITE outside any dialog).
pub fn start(
    sw: Arc<Switch>,
    id: ServerTxId,
    invite: Request,
    peer: Peer,
    cmds: mpsc::UnboundedSender<Cmd>,
    me: Owner,
    events: mpsc::UnboundedReceiver<CallEvent>,
) {
    tokio::spawn(async move {
        let mut call = Call {
            tag_a: sw.tag(),
            sw,
            cmds,
            me,
            events,
            invite_id: id,
            invite,
            peer_a: peer,
            owned: Vec::new(),
        };
        call.own(call.invite.head.call_id.clone());
        call.run().await;
        for call_id in std::mem::take(&mut call.owned) {
            let _ = call.cmds.send(Cmd::Disown(call_id));
        }
    });
}

/// The plumbing of one call task.
struct Call {
    sw: Arc<Switch>,
    cmds: mpsc::UnboundedSender<Cmd>,
    me: Owner,
    events: mpsc::UnboundedReceiver<CallEvent>,
    invite_id: ServerTxId,
    invite: Request,
    peer_a: Peer,
    tag_a: String,
    owned: Vec<String>,
}

/// One INVITE sent to one contact of the callee.
struct Fork {
    id: ClientTxId,
    request: Request,
    peer: Peer,
    failed: Option<u16>,
}

/// A connected side: its dialog, where to send, its media.
struct Side {
    dialog: Dialog,
    peer: Peer,
    offer_version: u64,
}

/// How a call ended, for the records.
struct Ending {
    status: u16,
    cause: &'static str,
}

/// What A and B are in the CDRs and the channel list.
struct Legs {
    caller: Account,
    callee_ext: String,
    callee_id: i64,
    uuid_a: String,
    uuid_b: String,
    start: i64,
    answer: Option<i64>,
    codec: String,
}

impl Call {
    fn own(&mut self, call_id: String) {
        let _ = self.cmds.send(Cmd::Own(call_id.clone(), self.me.clone()));
        self.owned.push(call_id);
    }

    fn respond(&self, id: ServerTxId, resp: Response) {
        let _ = self.cmds.send(Cmd::Respond(id, resp));
    }

    fn reply_a(&self, status: StatusCode) -> Response {
        let mut resp = Response::for_request(&self.invite, status, Some(&self.tag_a));
        if status.code() < 300 && status.code() > 100 {
            resp.head.headers.push(HeaderName::Contact, self.contact());
            sip::dialog::copy_record_route(&self.invite, &mut resp);
        }
        resp
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

    async fn send(&self, request: Request, peer: Peer) -> Option<ClientTxId> {
        let (reply, rx) = oneshot::channel();
        let _ = self.cmds.send(Cmd::Send { request, peer, owner: self.me.clone(), reply });
        rx.await.ok()?.ok()
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

    fn now(&self) -> i64 {
        self.sw.now_ms() as i64
    }

    async fn run(&mut self) {
        let from_user = self.invite.head.from.uri.user().map(str::to_owned);
        let caller = match authenticate(&self.sw, &self.invite, Challenge::Proxy, from_user.as_deref()).await
        {
            Ok(a) => a,
            Err(resp) => return self.respond(self.invite_id, *resp),
        };
        let callee_ext = self.invite.uri.user().unwrap_or_default().to_owned();
        let callee = match self.sw.accounts.by_extension(caller.workspace_id, &callee_ext).await {
            Ok(Some(agent)) => agent,
            Ok(None) => return self.respond(self.invite_id, self.reply_a(StatusCode::NOT_FOUND)),
            Err(_) => return self.respond(self.invite_id, self.reply_a(StatusCode::SERVICE_UNAVAILABLE)),
        };
        let mut legs = Legs {
            caller,
            callee_ext,
            callee_id: callee.id,
            uuid_a: uuid::Uuid::new_v4().to_string(),
            uuid_b: uuid::Uuid::new_v4().to_string(),
            start: self.now(),
            answer: None,
            codec: String::new(),
        };
        let ending = self.connect(&mut legs).await;
        self.finish(&legs, ending).await;
    }

    /// Everything from the authenticated INVITE to the end of the call.
    async fn connect(&mut self, legs: &mut Legs) -> Ending {
        let fail = |status: u16, cause| Ending { status, cause };
        let bindings = self.sw.location.lookup(legs.callee_id, self.now());
        tracing::debug!(callee = %legs.callee_ext, contacts = bindings.len(), "routing a call");
        if bindings.is_empty() {
            self.respond(self.invite_id, self.reply_a(StatusCode::TEMPORARILY_UNAVAILABLE));
            return fail(480, "USER_NOT_REGISTERED");
        }
        let offer_a = match sdp::parse_bytes(&self.invite.body) {
            Ok(o) if !codecs(&o).is_empty() => o,
            _ => {
                self.respond(self.invite_id, self.reply_a(StatusCode::NOT_ACCEPTABLE_HERE));
                return fail(488, "INCOMPATIBLE_DESTINATION");
            }
        };
        let ip_a = self.media_ip(self.peer_a.addr);
        let bind_ip = if self.sw.transports.local_addr().ip().is_unspecified() {
            self.sw.transports.local_addr().ip()
        } else {
            ip_a
        };
        let (Some(ports_a), Some(ports_b)) =
            (self.sw.ports.bind(bind_ip).await, self.sw.ports.bind(bind_ip).await)
        else {
            self.respond(self.invite_id, self.reply_a(StatusCode::SERVICE_UNAVAILABLE));
            return fail(503, "NORMAL_TEMPORARY_FAILURE");
        };
        tracing::debug!(a = ports_a.port(), b = ports_b.port(), "media ports");
        self.publish(legs, "call.created", json!({"from": legs.caller.extension, "to": legs.callee_ext}));
        let (control_tx, mut control) = mpsc::channel(4);
        self.put_channels(legs, "RINGING", &control_tx);

        // Offer B every codec A offered, then the other law (to transcode).
        let mut offer_codecs = codecs(&offer_a);
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
            let ip_b = self.media_ip(b.source);
            let offer_b =
                sdp::offer(&local(ip_b, ports_b.port(), offer_codecs.clone(), Direction::SendRecv, 1));
            let Some(request) = self.fork_invite(legs, &b.contact, peer, &offer_b) else {
                tracing::debug!(contact = %b.contact, "cannot call this contact");
                continue;
            };
            self.own(request.head.call_id.clone());
            tracing::debug!(contact = %b.contact, peer = %peer, "forking");
            if let Some(id) = self.send(request.clone(), peer).await {
                forks.push(Fork { id, request, peer, failed: None });
            }
        }
        if forks.is_empty() {
            self.respond(self.invite_id, self.reply_a(StatusCode::TEMPORARILY_UNAVAILABLE));
            return fail(480, "USER_NOT_REGISTERED");
        }

        // Ringing until one fork answers, all fail, A cancels or time runs out.
        let ring_deadline = tokio::time::Instant::now() + RING_TIMEOUT;
        let mut rang = false;
        let (winner, answer_b) = loop {
            let event = tokio::select! {
                e = self.events.recv() => e,
                c = control.recv() => {
                    if c == Some(Command::Hangup) {
                        self.cancel_forks(&forks, None);
                        self.respond(self.invite_id, self.reply_a(StatusCode::REQUEST_TERMINATED));
                        return fail(487, "NORMAL_CLEARING");
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(ring_deadline) => {
                    self.cancel_forks(&forks, None);
                    self.respond(self.invite_id, self.reply_a(StatusCode::TEMPORARILY_UNAVAILABLE));
                    return fail(480, "NO_ANSWER");
                }
            };
            let Some(event) = event else { return fail(500, "NORMAL_TEMPORARY_FAILURE") };
            match event {
                CallEvent::Cancel(_) => {
                    self.cancel_forks(&forks, None);
                    self.respond(self.invite_id, self.reply_a(StatusCode::REQUEST_TERMINATED));
                    return fail(487, "ORIGINATOR_CANCEL");
                }
                CallEvent::Response(id, resp) => {
                    let Some(i) = forks.iter().position(|f| f.id == id) else { continue };
                    let code = resp.status.code();
                    if (180..200).contains(&code) && !rang {
                        rang = true;
                        self.respond(self.invite_id, self.reply_a(StatusCode::RINGING));
                        self.publish(legs, "call.ringing", json!({}));
                    } else if (200..300).contains(&code) {
                        break (i, resp);
                    } else if code >= 300 {
                        forks[i].failed = Some(code);
                    }
                }
                CallEvent::Timeout(TxId::Client(id)) => {
                    if let Some(f) = forks.iter_mut().find(|f| f.id == id) {
                        f.failed = Some(408);
                    }
                }
                CallEvent::Request { id, request, .. } => {
                    let resp = Response::for_request(
                        &request,
                        StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE),
                        Some(&self.tag_a),
                    );
                    self.respond(id, resp);
                }
                _ => {}
            }
            if forks.iter().all(|f| f.failed.is_some()) {
                let status = best_failure(forks.iter().filter_map(|f| f.failed));
                let code = StatusCode::new(status).unwrap_or(StatusCode::TEMPORARILY_UNAVAILABLE);
                self.respond(self.invite_id, self.reply_a(code));
                return fail(status, cause_of(status));
            }
        };

        // B answered: ACK it, cancel the rest, answer A, bridge the media.
        let fork = &forks[winner];
        let Ok(dialog_b) = Dialog::from_uac(&fork.request, &answer_b) else {
            return fail(500, "PROTOCOL_ERROR");
        };
        let ack = dialog_b.ack_for_2xx(&answer_b, self.via(fork.peer));
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        self.cancel_forks(&forks, Some(winner));
        let mut side_b = Side { dialog: dialog_b, peer: fork.peer, offer_version: 1 };
        let Some(media_b) = sdp::parse_bytes(&answer_b.body).ok().as_ref().and_then(side_media) else {
            self.bye(&mut side_b).await;
            self.respond(self.invite_id, self.reply_a(StatusCode::NOT_ACCEPTABLE_HERE));
            return fail(488, "INCOMPATIBLE_DESTINATION");
        };
        let codec_b = codec_of(media_b.codec);
        let Ok((answer_a, negotiated)) =
            answer_preferring(&offer_a, ip_a, ports_a.port(), codec_b, Direction::SendRecv, 1)
        else {
            self.bye(&mut side_b).await;
            self.respond(self.invite_id, self.reply_a(StatusCode::NOT_ACCEPTABLE_HERE));
            return fail(488, "INCOMPATIBLE_DESTINATION");
        };
        let Some(mut media_a) = side_media(&offer_a) else { return fail(488, "INCOMPATIBLE_DESTINATION") };
        media_a.codec = negotiated.payload_type;
        media_a.dtmf = negotiated.telephone_event;
        let Ok(dialog_a) = Dialog::from_uas(&self.invite, &self.tag_a) else {
            self.bye(&mut side_b).await;
            self.respond(self.invite_id, self.reply_a(StatusCode::BAD_REQUEST));
            return fail(400, "PROTOCOL_ERROR");
        };
        let mut side_a = Side { dialog: dialog_a, peer: self.peer_a, offer_version: 1 };
        let mut ok = self.reply_a(StatusCode::OK);
        ok = ok.with_body(&MediaType::sdp(), answer_a.to_string().into_bytes());
        side_a.dialog.handle_sent_response(&ok);
        let (bridge, mut ended) =
            Bridge::start(ports_a, media_a, ports_b, media_b, self.sw.config.rtp_timeout);
        self.respond(self.invite_id, ok);
        legs.answer = Some(self.now());
        legs.codec = negotiated.codec.encoding().to_owned();
        self.put_channels(legs, "ACTIVE", &control_tx);
        self.publish(legs, "call.answered", json!({"codec": legs.codec}));

        // Talking, until BYE, a failed ACK, silence or the API hangs up.
        let call_id_a = self.invite.head.call_id.clone();
        let mut reinvite: Option<Reinvite> = None;
        loop {
            let event = tokio::select! {
                e = self.events.recv() => e,
                _ = &mut ended => {
                    self.bye(&mut side_a).await;
                    self.bye(&mut side_b).await;
                    return Ending { status: 200, cause: "MEDIA_TIMEOUT" };
                }
                c = control.recv() => {
                    if c == Some(Command::Hangup) {
                        self.bye(&mut side_a).await;
                        self.bye(&mut side_b).await;
                        return Ending { status: 200, cause: "NORMAL_CLEARING" };
                    }
                    continue;
                }
            };
            let Some(event) = event else { return Ending { status: 200, cause: "NORMAL_CLEARING" } };
            match event {
                CallEvent::Request { id, request, .. } => {
                    let from_a = request.head.call_id == call_id_a;
                    let (this, other) =
                        if from_a { (&mut side_a, &mut side_b) } else { (&mut side_b, &mut side_a) };
                    if let Err(e) = this.dialog.handle_request(&request) {
                        let status = e.status().unwrap_or(StatusCode::BAD_REQUEST);
                        self.respond(id, Response::for_request(&request, status, None));
                        continue;
                    }
                    match request.method {
                        Method::Bye => {
                            self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            self.bye(other).await;
                            return Ending { status: 200, cause: "NORMAL_CLEARING" };
                        }
                        Method::Invite if reinvite.is_some() => {
                            let pending = StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE);
                            self.respond(id, Response::for_request(&request, pending, None));
                        }
                        Method::Invite => match self.relay_offer(&request, other, &bridge, from_a).await {
                            Some(forwarded) => {
                                reinvite = Some(Reinvite { id, request: *request, from_a, forwarded })
                            }
                            None => self.respond(
                                id,
                                Response::for_request(&request, StatusCode::NOT_ACCEPTABLE_HERE, None),
                            ),
                        },
                        _ => self.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                CallEvent::Response(id, resp) => {
                    let Some(r) = reinvite.as_ref().filter(|r| r.forwarded == id) else { continue };
                    let code = resp.status.code();
                    if code < 200 {
                        continue;
                    }
                    let (this, other) =
                        if r.from_a { (&mut side_a, &mut side_b) } else { (&mut side_b, &mut side_a) };
                    if code < 300 {
                        let _ = other.dialog.handle_response(&resp);
                        let ack = other.dialog.ack_for_2xx(&resp, self.via(other.peer));
                        let _ = self.cmds.send(Cmd::Ack(id, ack, other.peer));
                        let answered = self.relay_answer(r, &resp, this, &bridge).await;
                        self.respond(r.id, answered);
                    } else {
                        let status = resp.status;
                        self.respond(r.id, Response::for_request(&r.request, status, None));
                    }
                    reinvite = None;
                }
                CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                    let side = if resp.head.call_id == call_id_a { &side_a } else { &side_b };
                    let ack = side.dialog.ack_for_2xx(&resp, self.via(peer));
                    let _ = self.cmds.send(Cmd::Stateless(ack.into(), peer));
                }
                CallEvent::Timeout(TxId::Server(id)) if id == self.invite_id => {
                    // A never acknowledged our 200.
                    self.bye(&mut side_a).await;
                    self.bye(&mut side_b).await;
                    return Ending { status: 408, cause: "RECOVERY_ON_TIMER_EXPIRE" };
                }
                _ => {}
            }
        }
    }

    /// Forwards a re-INVITE's offer to the other side with our address,
    /// keeping the direction it asks for (hold, unhold).
    async fn relay_offer(
        &mut self,
        request: &Request,
        other: &mut Side,
        bridge: &Bridge,
        from_a: bool,
    ) -> Option<ClientTxId> {
        let offer = sdp::parse_bytes(&request.body).ok()?;
        let media = side_media(&offer).or_else(|| {
            let codec = codecs(&offer).first()?.payload_type();
            Some(crate::relay::SideMedia { remote: None, codec, dtmf: None })
        })?;
        bridge.update(if from_a { 0 } else { 1 }, media).await;
        let ip = self.media_ip(other.peer.addr);
        other.offer_version += 1;
        let port = bridge.port(if from_a { 1 } else { 0 });
        let codec = codec_of(bridge.codec(if from_a { 1 } else { 0 }));
        let ours = sdp::offer(&local(ip, port, vec![codec], direction(&offer), other.offer_version));
        let mut forwarded = other.dialog.request(Method::Invite, self.via(other.peer)).ok()?;
        forwarded.head.headers.push(HeaderName::Contact, self.contact());
        forwarded = forwarded.with_body(&MediaType::sdp(), ours.to_string().into_bytes());
        self.send(forwarded, other.peer).await
    }

    /// Answers the originator of a relayed re-INVITE from the other side's
    /// answer, and points the bridge at the other side's new media.
    async fn relay_answer(
        &self,
        r: &Reinvite,
        answer: &Response,
        this: &mut Side,
        bridge: &Bridge,
    ) -> Response {
        let theirs = sdp::parse_bytes(&answer.body).ok();
        let other_index = if r.from_a { 1 } else { 0 };
        if let Some(media) = theirs.as_ref().and_then(side_media) {
            bridge.update(other_index, media).await;
        }
        let wanted = theirs.as_ref().map_or(Direction::SendRecv, direction);
        let this_index = 1 - other_index;
        let ip = self.media_ip(this.peer.addr);
        this.offer_version += 1;
        let offer = sdp::parse_bytes(&r.request.body).ok();
        let mut resp = Response::for_request(&r.request, StatusCode::OK, None);
        resp.head.headers.push(HeaderName::Contact, self.contact());
        if let Some(offer) = offer {
            let codec = codec_of(bridge.codec(this_index));
            if let Ok((sdp, _)) =
                answer_preferring(&offer, ip, bridge.port(this_index), codec, wanted, this.offer_version)
            {
                resp = resp.with_body(&MediaType::sdp(), sdp.to_string().into_bytes());
            }
        }
        resp
    }

    fn cancel_forks(&self, forks: &[Fork], except: Option<usize>) {
        for (i, f) in forks.iter().enumerate() {
            if Some(i) != except && f.failed.is_none() {
                let _ = self.cmds.send(Cmd::Cancel(f.id));
            }
        }
    }

    /// Sends BYE on a side's dialog and waits a little for its answer.
    async fn bye(&mut self, side: &mut Side) {
        let Ok(bye) = side.dialog.request(Method::Bye, self.via(side.peer)) else { return };
        side.dialog.terminate();
        let Some(id) = self.send(bye, side.peer).await else { return };
        let deadline = tokio::time::Instant::now() + BYE_WAIT;
        loop {
            let event = tokio::select! {
                e = self.events.recv() => e,
                _ = tokio::time::sleep_until(deadline) => return,
            };
            match event {
                Some(CallEvent::Response(rid, r)) if rid == id && r.status.is_final() => return,
                Some(CallEvent::Timeout(TxId::Client(rid))) if rid == id => return,
                Some(CallEvent::Request { id: sid, request, .. }) => {
                    // The other side's BYE crossing ours.
                    self.respond(sid, Response::for_request(&request, StatusCode::OK, None));
                }
                None => return,
                _ => {}
            }
        }
    }

    fn fork_invite(
        &self,
        legs: &Legs,
        contact: &str,
        peer: Peer,
        offer: &SessionDescription,
    ) -> Option<Request> {
        let uri = Uri::parse(contact).ok()?;
        let realm = &self.sw.config.realm;
        let mut from = NameAddr::new(Uri::parse(&format!("sip:{}@{realm}", legs.caller.extension)).ok()?);
        from.display = self.invite.head.from.display.clone();
        from.set_tag(&self.sw.tag());
        let to = NameAddr::new(Uri::parse(&format!("sip:{}@{realm}", legs.callee_ext)).ok()?);
        let call_id = format!("{}@calliope", self.sw.tag());
        let hops = self.invite.head.max_forwards().ok().flatten().unwrap_or(70).saturating_sub(1);
        let mut request = Request::new(Method::Invite, uri, from, to, call_id, 1).with_via(self.via(peer));
        request.head.headers.set(HeaderName::MaxForwards, hops.to_string());
        request.head.headers.push(HeaderName::Contact, self.contact());
        request.head.headers.push(HeaderName::Allow, crate::signalling::ALLOW);
        Some(request.with_body(&MediaType::sdp(), offer.to_string().into_bytes()))
    }

    fn put_channels(&self, legs: &Legs, state: &'static str, control: &mpsc::Sender<Command>) {
        let caller = &legs.caller;
        let leg = |uuid: &str, direction: &'static str, ip: String| Channel {
            uuid: uuid.to_owned(),
            call_uuid: legs.uuid_a.clone(),
            workspace_id: caller.workspace_id,
            direction,
            created_ms: legs.start,
            name: format!(
                "sip/{}@{}",
                if direction == "inbound" { &caller.extension } else { &legs.callee_ext },
                ip
            ),
            callstate: state,
            cid_name: caller.extension.clone(),
            cid_num: caller.extension.clone(),
            ip_addr: ip,
            dest: legs.callee_ext.clone(),
            context: caller.context.clone(),
            codec: legs.codec.clone(),
            callee_num: legs.callee_ext.clone(),
            control: control.clone(),
        };
        self.sw.channels.put(leg(&legs.uuid_a, "inbound", self.peer_a.addr.ip().to_string()));
        self.sw.channels.put(leg(&legs.uuid_b, "outbound", String::new()));
    }

    fn publish(&self, legs: &Legs, name: &'static str, mut data: serde_json::Value) {
        data["ref"] = json!(legs.uuid_a);
        data["from"] = json!(legs.caller.extension);
        data["to"] = json!(legs.callee_ext);
        self.sw.publish(Event { name, workspace_id: legs.caller.workspace_id, at: self.now(), data });
    }

    async fn finish(&self, legs: &Legs, ending: Ending) {
        self.sw.channels.remove(&legs.uuid_a);
        self.sw.channels.remove(&legs.uuid_b);
        let end = self.now();
        let disposition = match (legs.answer, ending.status) {
            (Some(_), _) => "ANSWERED",
            (None, 486 | 600) => "BUSY",
            (None, 480 | 408 | 487) => "NO ANSWER",
            _ => "FAILED",
        };
        let cdr = |leg_ref: &str, direction_kind: &'static str| Cdr {
            workspace_id: legs.caller.workspace_id,
            leg_ref: leg_ref.to_owned(),
            src: legs.caller.extension.clone(),
            dst: legs.callee_ext.clone(),
            clid: legs.caller.extension.clone(),
            src_id: Some(legs.caller.agent_id),
            dst_id: Some(legs.callee_id),
            direction: "INTRA_COMPANY",
            kind: direction_kind,
            disposition,
            hangup_cause: ending.cause.to_owned(),
            start: legs.start,
            answer: legs.answer,
            end,
            context: legs.caller.context.clone(),
            codec: legs.codec.clone(),
        };
        for record in [cdr(&legs.uuid_a, "AGENT"), cdr(&legs.uuid_b, "AGENT")] {
            if let Err(e) = record.write(&self.sw.db).await {
                tracing::warn!(error = %e, "could not write a call record");
            }
        }
        self.publish(legs, "call.ended", json!({"cause": ending.cause, "status": ending.status}));
    }
}

/// The G.711 law of payload type `pt`.
fn codec_of(pt: u8) -> Codec {
    if pt == 8 {
        Codec::Pcma
    } else {
        Codec::Pcmu
    }
}

/// A re-INVITE being relayed.
struct Reinvite {
    id: ServerTxId,
    request: Request,
    from_a: bool,
    forwarded: ClientTxId,
}

/// The failure to give the caller when every fork failed (RFC 3261 16.7,
/// simplified): a 6xx, else busy, else the lowest code.
fn best_failure(codes: impl Iterator<Item = u16>) -> u16 {
    let codes: Vec<u16> = codes.collect();
    if let Some(c) = codes.iter().copied().find(|c| *c >= 600) {
        return c;
    }
    if codes.contains(&486) {
        return 486;
    }
    codes.into_iter().min().unwrap_or(480)
}

/// The hangup cause a SIP failure status stands for.
fn cause_of(status: u16) -> &'static str {
    match status {
        404 | 484 => "UNALLOCATED_NUMBER",
        408 => "RECOVERY_ON_TIMER_EXPIRE",
        480 => "NO_USER_RESPONSE",
        486 | 600 => "USER_BUSY",
        487 => "ORIGINATOR_CANCEL",
        488 | 606 => "INCOMPATIBLE_DESTINATION",
        603 => "CALL_REJECTED",
        _ => "NORMAL_TEMPORARY_FAILURE",
    }
}
