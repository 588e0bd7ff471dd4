//! Calls that start from the API: a UAC leg first (to an agent's
//! registered contacts, or to a SIP URI, with the credentials of the
//! account it leaves through for an upstream challenge). Once answered, a
//! call with a program runs it against the callee (see
//! `app/originated.rs`); any other is parked: its media ports stay open,
//! re-INVITEs are answered, INFO digits become events, and it lasts until
//! either side hangs up.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction};
use sip::transaction::{Peer, Protocol, TxId};
use sip::{HeaderName, MediaType, Method, NameAddr, Request, Response, StatusCode, Uri};
use store::Millis;
use tokio::sync::mpsc;

use super::app::status::{queue_status, unanswered_status};
use super::app::AppProgram;
use super::command::CallHandle;
use super::inbound::{codec_of, Parties, CONGESTION};
use super::media::CallMedia;
use super::ring::{Fork, Ring, REFUSED};
use super::CallCommand;
use super::{cause_of, Call, CallEvent, Ending, Input, Signal};
use crate::calls::cdr::{Cdr, CALLER_SIDE};
use crate::calls::leg::auth::Account as UpstreamAccount;
use crate::calls::leg::{Leg, Role};
use crate::calls::registry::{Channel, Refusal};
use crate::calls::sdp::{answer_preferring, local, side_media};
use crate::location::Transport;
use crate::media::LegId;
use crate::relay::Ports;
use crate::signalling::core::Cmd;
use crate::signalling::Switch;
use crate::webhooks::shapes::CallTimes;
use crate::webhooks::VonageStatus;

/// Where an originated call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Every registered contact of the agent with this extension.
    Agent {
        /// The extension.
        extension: String,
    },
    /// A SIP URI whose host is an IP address (`sip:user@192.0.2.1:5060`),
    /// answering an upstream challenge with `account` when given.
    Uri {
        /// The URI.
        uri: String,
        /// The gateway's or trunk's credentials.
        account: Option<UpstreamAccount>,
    },
    /// A number routed as the workspace routes a call from `caller`
    /// (the agent with that extension, in its context; else a route test
    /// in the `default` context): the first attempt of the route's dial
    /// (an agent, a gateway, a trunk, a URI).
    Routed {
        /// The number dialled.
        number: String,
    },
    /// A number called out through the workspace's gateway of that name
    /// (`sofia/gateway/<name>/<number>`).
    Gateway {
        /// The gateway's name.
        name: String,
        /// The number.
        number: String,
    },
}

/// A call to place.
#[derive(Debug, Clone)]
pub struct Originate {
    /// The workspace it belongs to.
    pub workspace_id: i64,
    /// The caller number shown to the callee.
    pub caller_id: String,
    /// Where it goes.
    pub destination: Destination,
    /// How long it may ring.
    pub ring_timeout: Duration,
    /// What to do once answered, in order (play a file, record...);
    /// then the call is parked until hung up.
    pub then: Vec<CallCommand>,
    /// The program to run against the callee once answered (after
    /// `then`), instead of parking.
    pub program: Option<AppProgram>,
}

/// Why a call could not be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginateError {
    /// The call limits or a shutdown forbid it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No such agent.
    #[error("no agent has that extension")]
    NotFound,
    /// The agent has no registered contact.
    #[error("the agent is not registered")]
    Unreachable,
    /// The destination cannot be called.
    #[error("invalid destination: {0}")]
    BadDestination(String),
    /// No media port is free.
    #[error("no media ports free")]
    NoMedia,
    /// The store failed.
    #[error("the store failed")]
    Store,
    /// The router found no way to the number (its SIP status, its reason).
    #[error("{1}")]
    NoRoute(u16, String),
}

/// Places a call and returns its handle at once; the call rings, and
/// once answered is parked until hung up (by command, or by the callee).
pub async fn originate(sw: &Arc<Switch>, o: Originate) -> Result<CallHandle, OriginateError> {
    let uuid = crate::calls::new_call_id();
    let admission = sw.calls.admit(&uuid, Some(o.workspace_id))?;
    let (handle, mailbox) = CallHandle::new(uuid);
    let (me, events) = mpsc::unbounded_channel();
    let mut call = Call::new(sw.clone(), sw.core.clone(), me, events, mailbox, admission);
    call.workspace_id = o.workspace_id;
    let targets = resolve(&call, o.workspace_id, &o.caller_id, &o.destination).await?;
    let source = targets.first().map(|t| t.1.addr).ok_or(OriginateError::Unreachable)?;
    let local_ip = sw.transports.local_addr().ip();
    let bind_ip = if local_ip.is_unspecified() { local_ip } else { media_ip(sw, source) };
    let ports = sw.ports.bind(bind_ip).await.ok_or(OriginateError::NoMedia)?;
    call.admission.set_handle(handle.clone());
    tokio::spawn(async move {
        call.originated(o, targets, ports).await;
        call.close();
    });
    Ok(handle)
}

/// The one leg of an originated call in its media session.
pub(super) const LEG: LegId = LegId(1);

/// A contact to call: its URI, where to send, and the account for a
/// challenge.
pub(super) type Target = (Uri, Peer, Option<UpstreamAccount>);

/// What `destination` rings, for a call of `workspace_id` from `caller`
/// (whose context routes a `Routed` number).
pub(super) async fn resolve(
    call: &Call,
    workspace_id: i64,
    caller: &str,
    destination: &Destination,
) -> Result<Vec<Target>, OriginateError> {
    match destination {
        Destination::Routed { number } => call.routed_targets(caller, number).await,
        Destination::Gateway { name, number } => call.gateway_targets(caller, name, number).await,
        _ => targets(&call.sw, workspace_id, destination).await,
    }
}

async fn targets(
    sw: &Arc<Switch>,
    workspace_id: i64,
    destination: &Destination,
) -> Result<Vec<Target>, OriginateError> {
    match destination {
        Destination::Agent { extension } => {
            let agent = sw
                .accounts
                .by_extension(workspace_id, extension)
                .await
                .map_err(|_| OriginateError::Store)?
                .ok_or(OriginateError::NotFound)?;
            let targets: Vec<Target> = sw
                .location
                .lookup(agent.id, sw.clock.now())
                .into_iter()
                .filter_map(|b| {
                    let protocol = if b.transport == Transport::Tcp { Protocol::Tcp } else { Protocol::Udp };
                    Some((Uri::parse(&b.contact).ok()?, Peer { addr: b.target(), protocol }, None))
                })
                .collect();
            if targets.is_empty() {
                return Err(OriginateError::Unreachable);
            }
            Ok(targets)
        }
        Destination::Uri { uri, account } => {
            let parsed = Uri::parse(uri).map_err(|e| OriginateError::BadDestination(e.to_string()))?;
            let sip_uri =
                parsed.as_sip().ok_or_else(|| OriginateError::BadDestination("not a SIP URI".into()))?;
            let ip: IpAddr = sip_uri
                .host
                .to_string()
                .trim_matches(['[', ']'])
                .parse()
                .map_err(|_| OriginateError::BadDestination("the host must be an IP address".into()))?;
            let addr = SocketAddr::new(ip, sip_uri.port.unwrap_or(5060));
            let tcp = sip_uri.transport().is_some_and(|t| t.eq_ignore_ascii_case("tcp"));
            let peer = Peer { addr, protocol: if tcp { Protocol::Tcp } else { Protocol::Udp } };
            Ok(vec![(parsed.clone(), peer, account.clone())])
        }
        Destination::Routed { .. } | Destination::Gateway { .. } => {
            Err(OriginateError::BadDestination("routed elsewhere".into()))
        }
    }
}

/// The number or URI a destination dials, as the records show it.
fn dest_of(destination: &Destination) -> String {
    match destination {
        Destination::Agent { extension } => extension.clone(),
        Destination::Uri { uri, .. } => uri.clone(),
        Destination::Routed { number } => number.clone(),
        Destination::Gateway { number, .. } => number.clone(),
    }
}

fn media_ip(sw: &Switch, peer: SocketAddr) -> IpAddr {
    if let Some(ip) = sw.config.public_ip {
        return ip;
    }
    let bound = sw.transports.local_addr().ip();
    if !bound.is_unspecified() {
        return bound;
    }
    std::net::UdpSocket::bind((bound, 0))
        .and_then(|s| s.connect(peer).and_then(|_| s.local_addr()))
        .map_or(bound, |a| a.ip())
}

impl Call {
    /// The contacts a routed number rings: the router's plan for a call
    /// from `caller` to `number`, its first attempt.
    async fn routed_targets(&self, caller: &str, number: &str) -> Result<Vec<Target>, OriginateError> {
        use crate::router::{Inbound, Plan, Source};
        let snapshot =
            self.sw.routing.get(&self.sw.db, self.workspace_id).await.map_err(|_| OriginateError::Store)?;
        let (source, context) = match snapshot.agent_by_extension(caller) {
            Some(agent) => (Source::Agent(agent.id), agent.context.clone()),
            None => (Source::Test, "default".to_owned()),
        };
        let plan =
            crate::router::route(&snapshot, &Inbound::new(source, &context, caller, number), self.now());
        let routed = match plan {
            Plan::Route(r) => r,
            Plan::Reject(r) => return Err(OriginateError::NoRoute(r.status, r.reason)),
            Plan::Feature(_) => {
                return Err(OriginateError::NoRoute(403, format!("{number} is a feature code, not a number")))
            }
        };
        let dial = self
            .dial_for(&routed, &snapshot)
            .await
            .map_err(|r| OriginateError::NoRoute(r.status, r.reason))?;
        let targets: Vec<Target> = dial
            .attempts
            .into_iter()
            .next()
            .map(|a| a.destinations.into_iter().map(|d| (d.uri, d.peer, d.account)).collect())
            .unwrap_or_default();
        if targets.is_empty() {
            return Err(OriginateError::NoRoute(480, format!("nothing to ring for {number}")));
        }
        Ok(targets)
    }

    /// The targets of `number` through the workspace's gateway `name`.
    async fn gateway_targets(
        &self,
        caller: &str,
        name: &str,
        number: &str,
    ) -> Result<Vec<Target>, OriginateError> {
        use crate::router::{Routed, Target as RouterTarget};
        let snapshot =
            self.sw.routing.get(&self.sw.db, self.workspace_id).await.map_err(|_| OriginateError::Store)?;
        let gateway = snapshot
            .gateways
            .values()
            .find(|g| g.name == name)
            .ok_or_else(|| OriginateError::NoRoute(404, format!("no gateway is called `{name}`")))?;
        let routed = Routed {
            route_id: None,
            number_id: None,
            window_id: None,
            target: RouterTarget::Gateway {
                gateway_id: gateway.id,
                name: gateway.name.clone(),
                realm: gateway.realm.clone(),
            },
            body: String::new(),
            callee: number.to_owned(),
            caller: caller.to_owned(),
            caller_name: String::new(),
            record: false,
            proxy_media: true,
            codecs: Vec::new(),
            ring_timeout: None,
            headers: Vec::new(),
            hops: 0,
            forward_busy: None,
            forward_no_answer: None,
        };
        let dial = self
            .egress_dial(&routed, &snapshot)
            .await
            .map_err(|r| OriginateError::NoRoute(r.status, r.reason))?;
        let targets: Vec<Target> = dial
            .attempts
            .into_iter()
            .next()
            .map(|a| a.destinations.into_iter().map(|d| (d.uri, d.peer, d.account)).collect())
            .unwrap_or_default();
        if targets.is_empty() {
            return Err(OriginateError::NoRoute(480, format!("nothing to ring through gateway {name}")));
        }
        Ok(targets)
    }

    async fn originated(&mut self, o: Originate, targets: Vec<Target>, ports: Ports) {
        let start = self.now();
        let leg_uuid = self.uuid();
        let dest = dest_of(&o.destination);
        // A routed number leaves as the route translated it: the user
        // part of what is rung.
        let sent = match o.destination {
            Destination::Routed { .. } | Destination::Gateway { .. } => {
                targets.first().and_then(|t| t.0.user()).filter(|u| !u.is_empty()).map(str::to_owned)
            }
            _ => None,
        };
        self.admission.put_leg(Channel {
            uuid: leg_uuid.clone(),
            call_uuid: leg_uuid.clone(),
            workspace_id: o.workspace_id,
            direction: "outbound",
            created_ms: start,
            name: format!("sip/{dest}"),
            callstate: self.phase.callstate(),
            cid_name: o.caller_id.clone(),
            cid_num: o.caller_id.clone(),
            ip_addr: targets.first().map(|t| t.1.addr.ip().to_string()).unwrap_or_default(),
            dest: dest.clone(),
            context: String::new(),
            codec: String::new(),
            callee_num: dest.clone(),
            application: String::new(),
            application_data: String::new(),
            variables: Vec::new(),
        });
        // Channel variables hold from the start, whatever the apps' order.
        for command in &o.then {
            if let CallCommand::Set { name, value } = command {
                self.set_variable(name, value);
            }
        }
        self.publish(
            "call.created",
            serde_json::json!({"from": o.caller_id, "to": dest, "direction": "outbound"}),
        );
        if let Some(program) = &o.program {
            self.placed_status = self.start_placed_status(program, &o.caller_id, &dest).await;
        }
        let mut answered_at = None;
        let mut codec = String::new();
        // The parties of the program the call ran, if it ran one.
        let mut ran: Option<Parties> = None;
        let mut media = CallMedia::start(Some(self.sw.config.rtp_timeout));
        let ending = match media.add(LEG, ports).await {
            Ok(port) => self.place(&o, targets, port, media, &mut answered_at, &mut codec, &mut ran).await,
            Err(_) => Ending::new(503, "NORMAL_TEMPORARY_FAILURE"),
        };
        // Statuses no program took over: how the placed call ended.
        if let Some(queue) = self.placed_status.take() {
            let (status, times) = match answered_at {
                Some(start) => (VonageStatus::Completed, Some(CallTimes { start, end: self.now() })),
                None => (unanswered_status(ending), None),
            };
            queue_status(Some(&queue), status, self.now(), times);
        }
        self.signal(Signal::Ended);
        let to_agent = matches!(o.destination, Destination::Agent { .. });
        // The call's own leg, the one it placed first, is its A leg.
        let ran = ran.unwrap_or_else(|| {
            let application_ref = o.program.as_ref().map(|p| p.application.clone()).unwrap_or_default();
            Parties { application_ref, ..Parties::default() }
        });
        self.write_records(vec![Cdr {
            workspace_id: o.workspace_id,
            call_ref: leg_uuid.clone(),
            leg_ref: leg_uuid,
            leg: CALLER_SIDE,
            src: o.caller_id.clone(),
            dst: sent.unwrap_or_else(|| dest.clone()),
            dst_dialled: dest.clone(),
            clid: o.caller_id.clone(),
            direction: if to_agent { "INTRA_COMPANY" } else { "TO_PSTN" },
            kind: "API_ORIGINATED",
            disposition: ending.disposition(answered_at.is_some()),
            hangup_cause: ending.cause.to_owned(),
            start,
            answer: answered_at,
            end: self.now(),
            codec,
            recording: ran.recording,
            application_id: ran.application_id,
            application_ref: ran.application_ref,
            ..Cdr::default()
        }]);
        self.publish("call.ended", serde_json::json!({"cause": ending.cause, "status": ending.status}));
    }

    /// Rings `targets`; once one answers, runs the order's commands or
    /// program (its parties left in `ran`) or parks.
    #[allow(clippy::too_many_arguments)]
    async fn place(
        &mut self,
        o: &Originate,
        targets: Vec<Target>,
        port: u16,
        mut media: CallMedia,
        answered_at: &mut Option<Millis>,
        codec: &mut String,
        ran: &mut Option<Parties>,
    ) -> Ending {
        let mut forks: Vec<Fork> = Vec::new();
        for (uri, peer, account) in targets {
            let ip = self.media_ip(peer.addr);
            let offer = sdp::offer(&local(ip, port, vec![Codec::Pcmu, Codec::Pcma], Direction::SendRecv, 1));
            let Some(request) = self.originate_invite(&o.caller_id, uri, peer, &offer) else { continue };
            forks.push(self.fork(request, peer, account));
        }
        if forks.is_empty() {
            return Ending::new(480, "NO_ROUTE_DESTINATION");
        }
        self.signal(Signal::Routed);
        let deadline = super::ring_deadline(self.now(), o.ring_timeout.as_millis() as Millis);
        // Routed already counts as ringing: the first 18x is what says the
        // callee rings, so it is published once whatever the phase.
        let mut rang = false;
        let (winner, answer) = loop {
            match self.ring(&mut forks, deadline).await {
                Ring::Provisional(resp) => {
                    let early = !resp.body.is_empty() && resp.status.code() == 183;
                    let before = self.phase;
                    let now = self.signal(if early { Signal::EarlyMedia } else { Signal::Ringing });
                    if now != before || (!rang && resp.status.code() >= 180) {
                        if !rang {
                            queue_status(
                                self.placed_status.as_ref(),
                                VonageStatus::Ringing,
                                self.now(),
                                None,
                            );
                        }
                        rang = true;
                        self.publish(
                            if early { "call.early" } else { "call.ringing" },
                            serde_json::json!({}),
                        );
                    }
                }
                Ring::Answered(i, resp) => break (i, resp),
                Ring::Failed(status) => return Ending::new(status, cause_of(status)),
                Ring::Overloaded => return Ending::new(REFUSED, CONGESTION),
                Ring::Hangup | Ring::Cancelled => {
                    self.cancel_forks(&forks, None);
                    return Ending::new(487, "ORIGINATOR_CANCEL");
                }
                Ring::TimedOut => {
                    self.cancel_forks(&forks, None);
                    return Ending::new(480, "NO_ANSWER");
                }
                Ring::Request(id, request) => self.respond(id, super::ring::not_now(&request)),
                Ring::PickUp(env) => super::unsupported(env),
                Ring::Closed => return Ending::new(500, "NORMAL_TEMPORARY_FAILURE"),
            }
        };
        self.cancel_forks(&forks, Some(winner));
        let fork = &forks[winner];
        let Ok(mut dialog) = Dialog::from_uac(&fork.request, &answer) else {
            return Ending::new(500, "PROTOCOL_ERROR");
        };
        let _ = dialog.handle_response(&answer);
        let ack = dialog.ack_for_2xx(&answer, self.via(fork.peer));
        let _ = self.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let mut leg = Leg::new(self.uuid(), Role::Uac, dialog, fork.peer);
        let Some(theirs) = sdp::parse_bytes(&answer.body).ok().as_ref().and_then(side_media) else {
            self.bye(&mut leg).await;
            return Ending::new(488, "INCOMPATIBLE_DESTINATION");
        };
        media.set(LEG, theirs, fork.peer.addr.ip(), Direction::SendRecv).await;
        *answered_at = Some(self.now());
        *codec = codec_of(theirs.codec).encoding().to_owned();
        let shown = codec.clone();
        self.admission.update_legs(|l| l.codec = shown.clone());
        self.signal(Signal::Answered);
        self.publish("call.answered", serde_json::json!({"codec": codec}));
        queue_status(self.placed_status.as_ref(), VonageStatus::Answered, self.now(), None);
        for command in &o.then {
            if matches!(command, CallCommand::Set { .. }) {
                continue;
            }
            if let Some((to, app)) = super::onward::onward_of(command) {
                // Transfer and bridge hand the callee over: the last app.
                return self.onward(o, leg, media, codec_of(theirs.codec), to, app).await;
            }
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.command(super::Envelope::new(command.clone(), reply), &mut media, &[LEG]).await;
            if let Ok(Err(e)) = answer.await {
                tracing::warn!(command = command.name(), error = %e, "an originated call's command failed");
            }
        }
        if let Some(program) = &o.program {
            let ours = sdp::parse_bytes(&fork.request.body).ok();
            let ours = ours.unwrap_or_else(|| {
                sdp::offer(&local(
                    self.media_ip(fork.peer.addr),
                    media.port(LEG),
                    vec![Codec::Pcmu, Codec::Pcma],
                    Direction::SendRecv,
                    1,
                ))
            });
            let to_agent = matches!(o.destination, Destination::Agent { .. });
            let mut parties = Parties {
                workspace_id: o.workspace_id,
                caller: o.caller_id.clone(),
                caller_id: None,
                callee: dest_of(&o.destination),
                callee_id: None,
                context: String::new(),
                direction: if to_agent { "INTRA_COMPANY" } else { "TO_PSTN" },
                kind: "API_ORIGINATED",
                uuid_a: self.uuid(),
                uuid_b: String::new(),
                start: self.now(),
                answer: *answered_at,
                codec: codec.clone(),
                route_id: None,
                recording: None,
                caller_dialled: o.caller_id.clone(),
                callee_dialled: dest_of(&o.destination),
                application_id: None,
                application_ref: String::new(),
            };
            let ending = self.run_originated(leg, ours, &mut media, &mut parties, program).await;
            *ran = Some(parties);
            return ending;
        }
        self.park(&mut leg, &forks, winner, &mut media, codec_of(theirs.codec)).await
    }

    /// An answered call with one leg and nothing to do: wait for the end.
    async fn park(
        &mut self,
        leg: &mut Leg,
        forks: &[Fork],
        winner: usize,
        media: &mut CallMedia,
        codec: Codec,
    ) -> Ending {
        loop {
            let event = match self.next(None, Some(&mut media.events)).await {
                Input::Sip(e) => e,
                Input::Hangup => {
                    self.bye(leg).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Closed => return Ending::new(200, "NORMAL_CLEARING"),
                Input::Media(crate::media::MediaEvent::Inactive) => {
                    self.bye(leg).await;
                    return Ending::new(200, "MEDIA_TIMEOUT");
                }
                // The call it joined (three-way, eavesdrop, intercept)
                // ended: what it handed over stopped, and so does this
                // call, as FreeSWITCH clears the joining leg.
                Input::Media(crate::media::MediaEvent::PlaybackFinished { id, stopped: false, .. })
                    if self.listening == Some(id) =>
                {
                    self.listening = None;
                    self.publish("call.listen.ended", serde_json::json!({}));
                    self.bye(leg).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Media(e) => {
                    self.media_event(&e);
                    continue;
                }
                Input::Command(env) => {
                    self.command(env, media, &[LEG]).await;
                    continue;
                }
                Input::Timer => continue,
            };
            match event {
                CallEvent::Request { id, request, .. } if request.head.call_id == leg.call_id() => {
                    if !self.accepts(&mut leg.dialog, id, &request) {
                        continue;
                    }
                    match request.method {
                        Method::Bye => {
                            self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            return Ending::new(200, "NORMAL_CLEARING");
                        }
                        Method::Invite | Method::Update => {
                            let resp = self.answer_offer(&request, leg, media, codec).await;
                            self.respond(id, resp);
                        }
                        Method::Info => {
                            let status = self.info(&request);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        _ => self.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                CallEvent::Request { id, request, .. } => {
                    let status = if request.method == Method::Bye {
                        StatusCode::OK
                    } else {
                        StatusCode::CALL_DOES_NOT_EXIST
                    };
                    self.respond(id, Response::for_request(&request, status, None));
                }
                CallEvent::Response(id, resp) if resp.status.is_success() => {
                    if let Some(i) = forks.iter().position(|f| f.id == id).filter(|i| *i != winner) {
                        self.refuse_answer(&forks[i], &resp).await;
                    }
                }
                CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                    if resp.head.call_id == leg.call_id() {
                        let ack = leg.dialog.ack_for_2xx(&resp, self.via(peer));
                        let _ = self.cmds.send(Cmd::Stateless(ack.into(), peer));
                    } else if let Some(i) =
                        forks.iter().position(|f| f.request.head.call_id == resp.head.call_id)
                    {
                        self.refuse_answer(&forks[i], &resp).await;
                    }
                }
                CallEvent::Timeout(TxId::Client(_)) | CallEvent::Timeout(TxId::Server(_)) => {}
                _ => {}
            }
        }
    }

    /// Answers an in-dialog offer on a parked leg with our own media.
    async fn answer_offer(
        &self,
        request: &Request,
        leg: &mut Leg,
        media: &mut CallMedia,
        codec: Codec,
    ) -> Response {
        let Ok(offer) = sdp::parse_bytes(&request.body) else {
            let mut resp = Response::for_request(request, StatusCode::NOT_ACCEPTABLE_HERE, None);
            resp.head.headers.push(HeaderName::Warning, "305 calliope \"the offer is missing or malformed\"");
            return resp;
        };
        let version = leg.next_version();
        let ip = self.media_ip(leg.peer.addr);
        if let Some(theirs) = side_media(&offer) {
            media.set(LEG, theirs, leg.peer.addr.ip(), crate::calls::sdp::direction(&offer)).await;
        }
        match answer_preferring(&offer, ip, media.port(LEG), codec, Direction::SendRecv, version) {
            Ok((answer, _)) => {
                let mut resp = Response::for_request(request, StatusCode::OK, None);
                resp.head.headers.push(HeaderName::Contact, self.contact());
                resp.with_body(&MediaType::sdp(), answer.to_bytes())
            }
            Err(e) => {
                let mut resp = Response::for_request(request, StatusCode::NOT_ACCEPTABLE_HERE, None);
                resp.head.headers.push(HeaderName::Warning, format!("305 calliope \"{e}\""));
                resp
            }
        }
    }

    pub(super) fn originate_invite(
        &self,
        caller_id: &str,
        uri: Uri,
        peer: Peer,
        offer: &sdp::SessionDescription,
    ) -> Option<Request> {
        let realm = &self.sw.config.realm;
        let user: String =
            caller_id.chars().filter(|c| c.is_ascii_alphanumeric() || "+-_.*#".contains(*c)).collect();
        let user = if user.is_empty() { "calliope".to_owned() } else { user };
        let mut from = NameAddr::new(Uri::parse(&format!("sip:{user}@{realm}")).ok()?);
        from.set_tag(&self.sw.tag());
        let to = NameAddr::new(uri.clone());
        let call_id = format!("{}@calliope", self.sw.tag());
        let mut request = Request::new(Method::Invite, uri, from, to, call_id, 1).with_via(self.via(peer));
        request.head.headers.push(HeaderName::Contact, self.contact());
        request.head.headers.push(HeaderName::Allow, crate::signalling::ALLOW);
        Some(request.with_body(&MediaType::sdp(), offer.to_bytes()))
    }
}
