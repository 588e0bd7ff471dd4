//! A program's dial on the wire: B's INVITEs forked from the answered
//! caller's call (the attempts one after another, each attempt's
//! destinations together, the first to answer wins and the others are
//! cancelled), ringback to the caller meanwhile, then B joins A's media
//! session and the two are connected until one hangs up. The caller
//! hanging up (or the call being hung up) cancels or ends B and is
//! [`ChannelError::HungUp`]; B hanging up (or being hung up by its leg
//! id), or the dial's time limit, ends the dial with
//! [`DialStatus::Completed`] and the program goes on.

use std::time::Duration;

use serde_json::json;
use sip::dialog::Dialog;
use sip::sdp::{self, Direction};
use sip::{MediaType, Method, Response, StatusCode};
use store::Millis;

use super::{millis, AppChannel, LEG_A, RECORDING_CLOSE};
use crate::calls::call::connect::{Outgoing, PROGRESS_TIMEOUT};
use crate::calls::call::inbound::{codec_of, CONGESTION, LEG_B};
use crate::calls::call::ring::{Fork, Ring, REFUSED};
use crate::calls::call::{CallEvent, Ending, Input};
use crate::calls::cdr::{Cdr, CALLEE_SIDE};
use crate::calls::dial::{Dial, NextOn};
use crate::calls::leg::{Leg, Role};
use crate::calls::registry::Channel as ListedLeg;
use crate::calls::sdp::{answer_preferring, local, other, side_media};
use crate::media::{open_player, MediaEvent, RecordMode, RecordingId};
use crate::program::{ChannelError, DialResult, DialStatus, RecordEnd, Recording};
use crate::signalling::core::Cmd;

/// What the caller hears while B rings (North American ringback).
const RINGBACK: &str = "tone_stream://%(2000,4000,440,480);loops=-1";

/// What a program's dial rings, and how its INVITEs look.
#[derive(Debug)]
pub(super) struct Placing {
    /// The attempts.
    pub dial: Dial,
    /// The INVITEs' parties and headers.
    pub out: Outgoing,
    /// For the dialled leg's record: whether it leaves through a trunk or
    /// gateway, the agent it rings, the route that decided.
    pub record: LegFacts,
    /// The caller and callee as the program dialled them, before routing
    /// translated them (empty: as `out` says).
    pub dialled: (String, String),
}

/// What the dialled leg's CDR says of where it went.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LegFacts {
    /// It leaves through a trunk, gateway or SIP address (`TO_PSTN`).
    pub leaves: bool,
    /// The agent rung, if one.
    pub callee_id: Option<i64>,
    /// The route taken, if one.
    pub route_id: Option<i64>,
}

/// How the ringing ended.
enum Rung {
    /// Fork `usize` answered.
    Answered(usize, Box<Response>),
    /// Nobody answered: how the dial ended (its SIP status and cause).
    Not(DialStatus, u16, &'static str),
}

/// How the bridged call ended.
enum Bridge {
    /// B hung up.
    CalleeGone,
    /// The dial's time limit.
    TimeLimit,
}

/// The dial status a failed fork's SIP status stands for.
fn status_of(code: u16) -> DialStatus {
    match code {
        486 | 600 => DialStatus::Busy,
        408 | 480 | 487 => DialStatus::NoAnswer,
        603 | 606 => DialStatus::Rejected,
        _ => DialStatus::Failed,
    }
}

impl AppChannel<'_> {
    /// Rings `placing` for at most `timeout`, then bridges A and the
    /// callee for at most `limit`, recording both when `record`.
    pub(super) async fn ring_and_bridge(
        &mut self,
        placing: Placing,
        timeout: Duration,
        limit: Option<Duration>,
        record: bool,
    ) -> Result<DialResult, ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let nothing = |status| DialResult { status, leg_id: None, duration: Duration::ZERO, recording: None };
        let Some(peer) = self.peer() else { return Ok(nothing(DialStatus::Failed)) };
        let bind_ip = self.call.bind_ip(peer.addr);
        let Some(ports) = self.call.sw.ports.bind(bind_ip).await else {
            tracing::info!(call = %self.p.uuid_a, "a program's dial has no media ports");
            return Ok(nothing(DialStatus::Failed));
        };
        let port_b = match self.media.add(LEG_B, ports).await {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(call = %self.p.uuid_a, error = %e, "the callee's media cannot be added");
                return Ok(nothing(DialStatus::Failed));
            }
        };
        let uuid_b = crate::calls::new_call_id();
        self.list_leg(&uuid_b, &placing.out.callee);
        let mut leg = BLeg {
            uuid: uuid_b.clone(),
            caller: placing.out.caller.clone(),
            callee: placing.out.callee.clone(),
            dialled: placing.dialled.clone(),
            facts: placing.record,
            start: self.now(),
            recording: None,
        };
        self.call.publish("call.dial", json!({"to": placing.out.callee, "leg": uuid_b}));
        if let Ok(tone) = open_player(RINGBACK).await {
            let _ = self.media.handle.play(LEG_A, tone).await;
        }
        let mut forks = Vec::new();
        let rung = self.ring_out(placing, timeout, port_b, &uuid_b, &mut forks).await;
        let _ = self.media.handle.stop_play(LEG_A).await;
        let (winner, answer) = match rung {
            Ok(Rung::Answered(i, resp)) => (i, resp),
            Ok(Rung::Not(status, code, cause)) => {
                self.drop_b(&uuid_b).await;
                self.write_b(&leg, None, Ending::new(code, cause), "");
                self.call.publish("call.dial.ended", json!({"leg": uuid_b, "cause": cause}));
                return Ok(nothing(status));
            }
            Err(e) => {
                self.drop_b(&uuid_b).await;
                self.write_b(&leg, None, Ending::new(487, "ORIGINATOR_CANCEL"), "");
                self.call.publish("call.dial.ended", json!({"leg": uuid_b, "cause": "ORIGINATOR_CANCEL"}));
                return Err(e);
            }
        };

        // B answered: ACK it, join its media to A's.
        self.call.cancel_forks(&forks, Some(winner));
        let fork = &forks[winner];
        let Ok(mut dialog) = Dialog::from_uac(&fork.request, &answer) else {
            self.drop_b(&uuid_b).await;
            self.write_b(&leg, None, Ending::new(500, "PROTOCOL_ERROR"), "");
            self.call.publish("call.dial.ended", json!({"leg": uuid_b, "cause": "PROTOCOL_ERROR"}));
            return Ok(nothing(DialStatus::Failed));
        };
        let _ = dialog.handle_response(&answer);
        let ack = dialog.ack_for_2xx(&answer, self.call.via(fork.peer));
        let _ = self.call.cmds.send(Cmd::Ack(fork.id, ack, fork.peer));
        let mut b = Leg::new(uuid_b.clone(), Role::Uac, dialog, fork.peer);
        let Some(media_b) = sdp::parse_bytes(&answer.body).ok().as_ref().and_then(side_media) else {
            tracing::info!(call = %self.p.uuid_a, "the callee's answer has no usable media");
            self.call.bye(&mut b).await;
            self.drop_b(&uuid_b).await;
            self.write_b(&leg, None, Ending::new(488, "INCOMPATIBLE_DESTINATION"), "");
            self.call.publish("call.dial.ended", json!({"leg": uuid_b, "cause": "INCOMPATIBLE_DESTINATION"}));
            return Ok(nothing(DialStatus::Failed));
        };
        self.media.set(LEG_B, media_b, b.peer.addr.ip(), Direction::SendRecv).await;
        self.media.connect(LEG_A, LEG_B).await;
        let started = self.now();
        let codec = codec_of(media_b.codec).encoding().to_owned();
        self.call.admission.update_legs(|l| {
            if l.uuid == uuid_b {
                l.callstate = "ACTIVE";
                l.codec.clone_from(&codec);
            }
        });
        self.call.publish("call.dial.answered", json!({"leg": uuid_b, "codec": codec}));
        let recording = if record { self.record_both().await } else { None };

        let ended = self.bridged(&mut b, &forks, winner, limit).await;
        let duration = millis_between(started, self.now());
        let recording = match recording {
            Some((id, file, url)) => Some(self.recording_done(id, file, url).await),
            None => None,
        };
        let _ = self.media.handle.disconnect(LEG_A).await;
        self.drop_b(&uuid_b).await;
        let cause = match &ended {
            Ok(Bridge::CalleeGone) => "callee_hangup",
            Ok(Bridge::TimeLimit) => "time_limit",
            Err(_) => "caller_hangup",
        };
        leg.recording = recording.as_ref().map(|r| r.id.clone());
        self.write_b(&leg, Some(started), Ending::new(200, "NORMAL_CLEARING"), &codec);
        self.call.publish(
            "call.dial.ended",
            json!({"leg": uuid_b, "cause": cause, "durationMs": duration.as_millis() as u64}),
        );
        ended?;
        Ok(DialResult { status: DialStatus::Completed, leg_id: Some(uuid_b), duration, recording })
    }

    /// Sends the attempts' INVITEs (offering our B port) and waits for an
    /// answer, every fork failing, the timeout, or the caller leaving.
    async fn ring_out(
        &mut self,
        placing: Placing,
        timeout: Duration,
        port_b: u16,
        uuid_b: &str,
        forks: &mut Vec<Fork>,
    ) -> Result<Rung, ChannelError> {
        let Placing { dial, out, .. } = placing;
        let codec_a = codec_of(self.media.codec(LEG_A));
        let mut codecs = vec![codec_a, other(codec_a)];
        if !out.codecs.is_empty() {
            codecs.sort_by_key(|c| out.codecs.iter().position(|p| p == c).unwrap_or(usize::MAX));
        }
        let until = super::super::ring_deadline(self.now(), millis(timeout));
        let mut failure = (DialStatus::Failed, 480, "NO_ROUTE_DESTINATION");
        for (attempt_no, attempt) in dial.attempts.into_iter().enumerate() {
            let first = forks.len();
            for d in &attempt.destinations {
                let ip = self.call.media_ip(d.peer.addr);
                let offer = sdp::offer(&local(ip, port_b, codecs.clone(), Direction::SendRecv, 1));
                let Some(request) = self.call.fork_invite(self.a, &out, d, Some(offer.to_bytes())) else {
                    tracing::debug!(uri = %d.uri, "cannot call this destination");
                    continue;
                };
                let mut fork = self.call.fork(request, d.peer, d.account.clone());
                fork.attempt = attempt_no;
                forks.push(fork);
            }
            if forks.len() == first {
                tracing::info!(attempt = %attempt.label, "nothing to ring");
                failure = (DialStatus::Failed, 480, "USER_NOT_REGISTERED");
                if attempt.next_on.allows(480) {
                    continue;
                }
                break;
            }
            let deadline = attempt
                .ring_timeout
                .map_or(until, |t| until.min(super::super::ring_deadline(self.now(), millis(t))));
            let silent_until =
                (attempt.next_on == NextOn::Unreachable).then(|| deadline.min(self.now() + PROGRESS_TIMEOUT));
            let mut heard = false;
            let status = loop {
                let event = self
                    .call
                    .ring(forks, if heard { deadline } else { silent_until.unwrap_or(deadline) })
                    .await;
                match event {
                    Ring::Provisional(resp) => {
                        if !heard && resp.status.code() >= 180 {
                            self.call.publish("call.dial.ringing", json!({"to": out.callee, "leg": uuid_b}));
                            // 183 with SDP: the callee's early media too.
                            if resp.status.code() == 183 && !resp.body.is_empty() {
                                self.call
                                    .publish("call.dial.early", json!({"to": out.callee, "leg": uuid_b}));
                            }
                        }
                        heard = true;
                    }
                    Ring::Answered(i, resp) => return Ok(Rung::Answered(i, resp)),
                    Ring::Failed(code) => {
                        failure = (status_of(code), code, super::super::cause_of(code));
                        break code;
                    }
                    Ring::Overloaded => {
                        failure = (DialStatus::Failed, REFUSED, CONGESTION);
                        break REFUSED;
                    }
                    Ring::TimedOut => {
                        self.call.cancel_forks(forks, None);
                        for f in forks.iter_mut().filter(|f| f.failed.is_none()) {
                            f.failed = Some(487);
                        }
                        if heard || silent_until.is_none() {
                            failure = (DialStatus::NoAnswer, 480, "NO_ANSWER");
                            break 480;
                        }
                        tracing::info!(attempt = %attempt.label, "no response in time: unreachable");
                        failure = (DialStatus::Failed, 408, "RECOVERY_ON_TIMER_EXPIRE");
                        break 408;
                    }
                    // The caller's INVITE was answered: its CANCEL is late.
                    Ring::Cancelled => {}
                    // The program's caller is answered: nothing to pick up.
                    Ring::PickUp(env) => super::super::unsupported(env),
                    Ring::Hangup => {
                        self.call.cancel_forks(forks, None);
                        let _ = program_hangup(self).await;
                        return Err(ChannelError::HungUp);
                    }
                    Ring::Closed => {
                        self.call.cancel_forks(forks, None);
                        self.ending = Some(Ending::new(500, "NORMAL_TEMPORARY_FAILURE"));
                        return Err(ChannelError::HungUp);
                    }
                    Ring::Request(id, request) => {
                        let from_a = self.leg.as_ref().is_some_and(|l| l.call_id() == request.head.call_id);
                        if let (true, Method::Bye, Some(peer)) = (from_a, &request.method, self.peer()) {
                            self.call.cancel_forks(forks, None);
                            let event = CallEvent::Request { id, request, peer };
                            // A's dialog checks it and answers 200.
                            if self.sip(event).await.is_err() || self.ending.is_some() {
                                return Err(ChannelError::HungUp);
                            }
                        } else {
                            self.call.respond(id, crate::calls::call::ring::not_now(&request));
                        }
                    }
                }
            };
            tracing::debug!(attempt = %attempt.label, status, "an attempt of a program's dial failed");
            if !attempt.next_on.allows(status) || self.now() >= until {
                break;
            }
        }
        Ok(Rung::Not(failure.0, failure.1, failure.2))
    }

    /// A and B talk until one hangs up or `limit` passes.
    async fn bridged(
        &mut self,
        b: &mut Leg,
        forks: &[Fork],
        winner: usize,
        limit: Option<Duration>,
    ) -> Result<Bridge, ChannelError> {
        let deadline = limit.map(|l| self.now() + millis(l));
        loop {
            let input = self.call.next(deadline, Some(&mut self.media.events)).await;
            match input {
                Input::Sip(CallEvent::Request { id, request, .. }) if request.head.call_id == b.call_id() => {
                    if !self.call.accepts(&mut b.dialog, id, &request) {
                        continue;
                    }
                    match request.method {
                        Method::Bye => {
                            self.call.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            return Ok(Bridge::CalleeGone);
                        }
                        Method::Invite | Method::Update => {
                            let resp = self.answer_b(&request, b).await;
                            self.call.respond(id, resp);
                        }
                        Method::Info => {
                            let status = self.call.info(&request);
                            self.call.respond(id, Response::for_request(&request, status, None));
                        }
                        _ => self.call.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                Input::Sip(CallEvent::Response(id, resp)) if resp.status.is_success() => {
                    if let Some(i) = forks.iter().position(|f| f.id == id).filter(|i| *i != winner) {
                        self.call.refuse_answer(&forks[i], &resp).await;
                    }
                }
                Input::Sip(CallEvent::Stray(resp, peer)) if resp.status.is_success() => {
                    if resp.head.call_id == b.call_id() {
                        // B's 200 again: our ACK was lost.
                        let ack = b.dialog.ack_for_2xx(&resp, self.call.via(peer));
                        let _ = self.call.cmds.send(Cmd::Stateless(ack.into(), peer));
                    } else if let Some(i) =
                        forks.iter().position(|f| f.request.head.call_id == resp.head.call_id)
                    {
                        self.call.refuse_answer(&forks[i], &resp).await;
                    }
                }
                Input::Sip(e) => {
                    if self.sip(e).await.is_err() {
                        self.call.bye(b).await;
                        return Err(ChannelError::HungUp);
                    }
                }
                Input::Hangup => {
                    self.call.bye(b).await;
                    let _ = program_hangup(self).await;
                    return Err(ChannelError::HungUp);
                }
                Input::Timer => {
                    self.call.bye(b).await;
                    return Ok(Bridge::TimeLimit);
                }
                Input::Command(env) if env.leg_hangup() == Some(b.uuid.as_str()) => {
                    // B hung up by its id: it gets BYE, and the dial ends as
                    // when B's phone hangs up (the program goes on).
                    let _ = env.reply.send(Ok(()));
                    self.call.bye(b).await;
                    return Ok(Bridge::CalleeGone);
                }
                Input::Command(mut env) => {
                    // Media commands act on the leg they name: B's, else A's.
                    let named = match &env.command {
                        crate::calls::call::CallCommand::Listened(l) => Some(l.leg.as_str()),
                        _ => env.leg.as_deref(),
                    };
                    let ids = if named == Some(b.uuid.as_str()) { [LEG_B, LEG_A] } else { [LEG_A, LEG_B] };
                    if env.leg.as_deref() == Some(b.uuid.as_str()) {
                        env.leg = None;
                    }
                    self.call.command(env, self.media, &ids).await;
                }
                Input::Media(MediaEvent::Inactive) => {
                    tracing::info!(call = %self.p.uuid_a, "no RTP in the dialled call: it ends");
                    self.call.bye(b).await;
                    let _ = program_hangup(self).await;
                    self.ending = Some(Ending::new(408, "MEDIA_TIMEOUT"));
                    return Err(ChannelError::HungUp);
                }
                Input::Media(e) => self.call.media_event(&e),
                Input::Closed => {
                    self.ending = Some(Ending::new(200, "NORMAL_CLEARING"));
                    return Err(ChannelError::HungUp);
                }
            }
        }
    }

    /// Answers B's in-dialog offer with our B port.
    async fn answer_b(&mut self, request: &sip::Request, b: &mut Leg) -> Response {
        let Ok(offer) = sdp::parse_bytes(&request.body) else {
            return Response::for_request(request, StatusCode::NOT_ACCEPTABLE_HERE, None);
        };
        if let Some(theirs) = side_media(&offer) {
            self.media.set(LEG_B, theirs, b.peer.addr.ip(), crate::calls::sdp::direction(&offer)).await;
        }
        let version = b.next_version();
        let ip = self.call.media_ip(b.peer.addr);
        let codec = codec_of(self.media.codec(LEG_B));
        match answer_preferring(&offer, ip, self.media.port(LEG_B), codec, Direction::SendRecv, version) {
            Ok((answer, _)) => {
                let mut resp = Response::for_request(request, StatusCode::OK, None);
                resp.head.headers.push(sip::HeaderName::Contact, self.call.contact());
                resp.with_body(&MediaType::sdp(), answer.to_bytes())
            }
            Err(_) => Response::for_request(request, StatusCode::NOT_ACCEPTABLE_HERE, None),
        }
    }

    /// Starts recording A and B (stereo); a failure is logged, the call
    /// goes on unrecorded.
    async fn record_both(&mut self) -> Option<(RecordingId, String, String)> {
        let path = match self.recording_path() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(call = %self.p.uuid_a, "the dialled call cannot be recorded: {e}");
                return None;
            }
        };
        let spec = crate::media::RecordSpec {
            legs: vec![LEG_A, LEG_B],
            mode: RecordMode::Stereo,
            path: path.clone(),
        };
        match self.media.handle.record(spec).await {
            Ok(id) => {
                let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                self.p.recording = Some(file.clone());
                self.call.publish("call.recording.started", json!({"path": path.display().to_string()}));
                Some((id, file.clone(), crate::calls::cdr::recording_url(&file)))
            }
            Err(e) => {
                tracing::warn!(call = %self.p.uuid_a, error = %e, "the dialled call's recording did not start");
                None
            }
        }
    }

    /// Stops recording `id` and waits (a little) for its file to close.
    async fn recording_done(&mut self, id: RecordingId, file: String, url: String) -> Recording {
        let _ = self.media.handle.stop_record(id).await;
        let mut duration = Duration::ZERO;
        let close_by = tokio::time::Instant::now() + RECORDING_CLOSE;
        while let Ok(Some(e)) = tokio::time::timeout_at(close_by, self.media.events.recv()).await {
            if let MediaEvent::RecordingFinished { id: done, duration_ms, .. } = e {
                if done == id {
                    duration = Duration::from_millis(duration_ms);
                    break;
                }
            }
        }
        let size = self
            .call
            .sw
            .config
            .recordings
            .as_ref()
            .map(|d| d.join(self.p.workspace_id.to_string()).join(&file))
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        self.call.publish(
            "call.recording.finished",
            json!({"file": file, "durationMs": duration.as_millis() as u64}),
        );
        Recording { url, id: file, duration, size, ended_by: RecordEnd::HungUp }
    }

    /// The dialled leg's CDR: answered at `answer` (or not), ended so.
    fn write_b(&self, leg: &BLeg, answer: Option<Millis>, ending: Ending, codec: &str) {
        let facts = leg.facts;
        let direction = match (facts.leaves, self.p.direction) {
            (true, _) => "TO_PSTN",
            (false, "FROM_PSTN") => "FROM_PSTN",
            (false, _) => "INTRA_COMPANY",
        };
        self.call.write_records(vec![Cdr {
            workspace_id: self.p.workspace_id,
            call_ref: self.p.uuid_a.clone(),
            leg_ref: leg.uuid.clone(),
            leg: CALLEE_SIDE,
            src: leg.caller.clone(),
            dst: leg.callee.clone(),
            src_dialled: leg.dialled.0.clone(),
            dst_dialled: leg.dialled.1.clone(),
            clid: leg.caller.clone(),
            src_id: self.p.caller_id,
            dst_id: facts.callee_id,
            direction,
            kind: if facts.leaves { "SIP_TRUNK" } else { "AGENT" },
            disposition: ending.disposition(answer.is_some()),
            hangup_cause: ending.cause.to_owned(),
            start: leg.start,
            answer,
            end: self.now(),
            context: self.p.context.clone(),
            codec: codec.to_owned(),
            route_id: facts.route_id,
            recording: leg.recording.clone(),
            application_id: self.p.application_id,
            application_ref: self.p.application_ref.clone(),
        }]);
    }

    /// B leaves the media session and the channel list.
    async fn drop_b(&mut self, uuid_b: &str) {
        let _ = self.media.handle.remove_leg(LEG_B).await;
        self.call.admission.remove_leg(uuid_b);
    }

    /// Shows the dialled leg in the channel list while it lasts.
    fn list_leg(&self, uuid_b: &str, callee: &str) {
        self.call.admission.put_leg(ListedLeg {
            uuid: uuid_b.to_owned(),
            call_uuid: self.p.uuid_a.clone(),
            workspace_id: self.p.workspace_id,
            direction: "outbound",
            created_ms: self.now(),
            name: format!("sip/{callee}"),
            callstate: "RINGING",
            cid_name: self.p.caller.clone(),
            cid_num: self.p.caller.clone(),
            ip_addr: String::new(),
            dest: callee.to_owned(),
            context: self.p.context.clone(),
            codec: String::new(),
            callee_num: callee.to_owned(),
            application: String::new(),
            application_data: String::new(),
            variables: Vec::new(),
        });
    }
}

/// The dialled leg, for its record.
struct BLeg {
    uuid: String,
    caller: String,
    callee: String,
    dialled: (String, String),
    facts: LegFacts,
    start: Millis,
    /// The recording's file name, when the dial recorded.
    recording: Option<String>,
}

/// Hangs up A through the channel (BYE, the ending recorded).
async fn program_hangup(ch: &mut AppChannel<'_>) -> Result<(), ChannelError> {
    crate::program::Channel::hangup(ch).await
}

fn millis_between(from: Millis, to: Millis) -> Duration {
    Duration::from_millis(u64::try_from(to.saturating_sub(from)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_failures_as_dial_statuses() {
        assert_eq!(status_of(486), DialStatus::Busy);
        assert_eq!(status_of(600), DialStatus::Busy);
        assert_eq!(status_of(480), DialStatus::NoAnswer);
        assert_eq!(status_of(408), DialStatus::NoAnswer);
        assert_eq!(status_of(603), DialStatus::Rejected);
        assert_eq!(status_of(404), DialStatus::Failed);
        assert_eq!(status_of(503), DialStatus::Failed);
    }
}
