//! A call that starts with an INVITE from an agent: the caller's UAS leg
//! (A), then one UAC leg per registered contact of the callee (B, forked:
//! the first to answer wins, the others are cancelled, and a late second
//! answer is ACKed and sent BYE). Provisional responses are relayed, a 183
//! with SDP as early media (the bridge runs before the answer); an INVITE
//! without SDP is relayed as a late offer (B offers in its 200, we answer
//! in the ACK; our 200 to A offers, A answers in its ACK).

use std::time::Duration;

use sip::sdp::{self, Codec, SessionDescription};
use sip::transaction::{Peer, ServerTxId};
use sip::{HeaderName, Request, Response, StatusCode};
use store::Millis;

use super::connect::{contact_destination, Forward, Forwards, Outgoing, ProgramTarget};
use super::{target, Call, Ending, Signal};
use crate::calls::cdr::{Cdr, CALLEE_SIDE, CALLER_SIDE};
use crate::calls::dial::{Attempt, Dial, NextOn};
use crate::calls::registry::Channel;
use crate::calls::sdp::codecs;
use crate::media::LegId;
use crate::router::{Inbound, Plan, Reject, Routed, Snapshot, Source, Target};
use crate::signalling::auth::Calling;

/// The caller's leg in the media session.
pub(super) const LEG_A: LegId = LegId(1);
/// The callee's leg.
pub(super) const LEG_B: LegId = LegId(2);

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
    pub(super) fn reply(&self, sw: &crate::signalling::Switch, status: StatusCode) -> Response {
        let mut resp = Response::for_request(&self.invite, status, Some(&self.tag));
        if status.code() < 300 && status.code() > 100 {
            resp.head.headers.push(HeaderName::Contact, format!("<sip:calliope@{}>", sw.advertised()));
            sip::dialog::copy_record_route(&self.invite, &mut resp);
        }
        resp
    }
}

/// The hangup cause of a call ended by our own overload: the transaction
/// layer refused to send its INVITE onward.
pub(super) const CONGESTION: &str = "SWITCH_CONGESTION";

/// The final answer to `invite` (our To tag `tag`) when `failure` ended
/// the call before an answer: its status (480 when it is none); for our
/// own overload ([`CONGESTION`]) 503 with Retry-After and a Warning, as a
/// call the registry refuses gets.
pub(super) fn failure_reply(invite: &Request, tag: &str, failure: Ending) -> Response {
    let status = StatusCode::new(failure.status).unwrap_or(StatusCode::TEMPORARILY_UNAVAILABLE);
    let mut resp = Response::for_request(invite, status, Some(tag));
    if failure.cause == CONGESTION {
        let retry = crate::calls::registry::Refusal::Overload.retry_after();
        resp.head.headers.push(HeaderName::RetryAfter, retry.to_string());
        resp.head.headers.push(HeaderName::Warning, warning(399, "overloaded: too many transactions"));
    }
    resp
}

/// Who the call is between, for the records and the channel list.
#[derive(Debug, Default)]
pub(super) struct Parties {
    /// The workspace.
    pub workspace_id: i64,
    /// The caller number (after rewriting).
    pub caller: String,
    /// The calling agent, when an agent calls.
    pub caller_id: Option<i64>,
    /// The called number (after rewriting).
    pub callee: String,
    /// The called agent, when an agent is called.
    pub callee_id: Option<i64>,
    /// The context the call was routed in.
    pub context: String,
    /// `FROM_PSTN`, `TO_PSTN` or `INTRA_COMPANY`.
    pub direction: &'static str,
    /// `AGENT` or `SIP_TRUNK`.
    pub kind: &'static str,
    /// The caller's leg id (the call's id).
    pub uuid_a: String,
    /// The callee's leg id: empty until the callee is dialled (a call
    /// refused before has no callee leg, nor its record).
    pub uuid_b: String,
    /// When the INVITE came.
    pub start: Millis,
    /// When it was answered.
    pub answer: Option<Millis>,
    /// The codec on A's side.
    pub codec: String,
    /// The route taken, if one decided.
    pub route_id: Option<i64>,
    /// The recording's file name, when the call is recorded.
    pub recording: Option<String>,
    /// The caller number as it came (before translation).
    pub caller_dialled: String,
    /// The called number as dialled (before translation).
    pub callee_dialled: String,
    /// The voice application that runs the call, if one.
    pub application_id: Option<i64>,
    /// That application's ref.
    pub application_ref: String,
}

/// A call forwarding to `fwd`, a destination that runs a program (IVR
/// menu, block, application, conference room): nothing to ring, the
/// program answers. A conference destination whose room or settings are
/// unusable is refused here, before anyone rings.
fn program_forward(fwd: &Routed) -> Result<Forward, String> {
    if matches!(fwd.target, Target::Conference { .. }) {
        super::app::route_program(&fwd.target, &fwd.body, &fwd.callee)?;
    }
    Ok(Forward {
        dial: Dial { attempts: Vec::new() },
        callee: fwd.callee.clone(),
        callee_id: None,
        program: Some(ProgramTarget { target: fwd.target.clone(), body: fwd.body.clone() }),
    })
}

/// The Max-Forwards a request starts with (RFC 3261 8.1.1.6).
pub(super) const MAX_FORWARDS: u32 = 70;

/// The header that carries a call's routing hop count from one of our
/// hops to the next (a loop through another system that keeps headers
/// comes back with it).
pub(super) const HOPS_HEADER: &str = "X-Calliope-Hops";

/// How many times a call was routed already: its [`HOPS_HEADER`] (a
/// route that leads back to us counts up to [`crate::router::MAX_HOPS`]
/// and stops with 483), 0 without one. Max-Forwards is not used for this:
/// carriers start it at very different values.
pub(super) fn hops_of(invite: &Request) -> u32 {
    let name = HeaderName::parse(HOPS_HEADER).ok();
    name.and_then(|n| invite.head.headers.get(&n).and_then(|v| v.trim().parse::<u32>().ok()))
        .unwrap_or(0)
        .min(crate::router::MAX_HOPS)
}

/// Max-Forwards left in A's INVITE (70 without one).
pub(super) fn forwards_left(invite: &Request) -> u32 {
    invite.head.max_forwards().ok().flatten().map_or(MAX_FORWARDS, u32::from)
}

/// The route's headers and the hop count for the next hop.
pub(super) fn with_hops(headers: &[(String, String)], hops: u32) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> =
        headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case(HOPS_HEADER)).cloned().collect();
    all.push((HOPS_HEADER.to_owned(), hops.to_string()));
    all
}

/// The codec a route names (`PCMU`, `PCMA`; others are not offered).
pub(super) fn codec_named(name: &str) -> Option<Codec> {
    match name.trim().to_ascii_uppercase().as_str() {
        "PCMU" | "G711U" => Some(Codec::Pcmu),
        "PCMA" | "G711A" => Some(Codec::Pcma),
        _ => None,
    }
}

/// A warning header value (RFC 3261 20.43).
pub(super) fn warning(code: u16, text: &str) -> String {
    format!("{code} calliope \"{}\"", text.replace('"', "'"))
}

impl Call {
    /// The caller's SDP offer: `None` for a late offer (no body). An offer
    /// without PCMU or PCMA is answered 488, a malformed one 400, each with
    /// a Warning; the ending is returned.
    pub(super) fn caller_offer(&self, a: &Caller) -> Result<Option<SessionDescription>, Ending> {
        if a.invite.body.is_empty() {
            return Ok(None);
        }
        match sdp::parse_bytes(&a.invite.body) {
            Ok(o) if !codecs(&o).is_empty() => Ok(Some(o)),
            Ok(_) => {
                let w = warning(305, "Incompatible media format: the offer has neither PCMU nor PCMA");
                self.refuse(a, StatusCode::NOT_ACCEPTABLE_HERE, Some(w));
                Err(Ending::new(488, "INCOMPATIBLE_DESTINATION"))
            }
            Err(e) => {
                let w = warning(399, &format!("malformed session description: {e}"));
                self.refuse(a, StatusCode::BAD_REQUEST, Some(w));
                Err(Ending::new(400, "INVALID_MSG_UNSPECIFIED"))
            }
        }
    }
}

impl Call {
    /// A call from `who` (already classified): routed, then rung.
    pub(super) async fn inbound(&mut self, a: Caller, who: Calling) {
        let workspace_id = who.workspace_id();
        self.workspace_id = workspace_id;
        let snapshot = match self.sw.routing.get(&self.sw.db, workspace_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, workspace = workspace_id, "cannot read the routing configuration");
                let w = warning(399, "the routing configuration cannot be read");
                return self.refuse(&a, StatusCode::SERVICE_UNAVAILABLE, Some(w));
            }
        };
        let from_user = a.invite.head.from.uri.user().unwrap_or_default().to_owned();
        let (source, context, caller, caller_id, from_trunk) = match &who {
            Calling::Agent(acc) => (
                Source::Agent(acc.agent_id),
                acc.context.clone(),
                acc.extension.clone(),
                Some(acc.agent_id),
                false,
            ),
            Calling::Trunk { trunk_id, .. } => {
                let context =
                    snapshot.trunk(*trunk_id).map_or_else(|| "context-2".to_owned(), |t| t.context.clone());
                (Source::Trunk(*trunk_id), context, from_user, None, true)
            }
        };
        let callee = a.invite.uri.user().unwrap_or_default().to_owned();
        let mut call = Inbound::new(source, &context, &caller, &callee);
        call.caller_name = a.invite.head.from.display.clone().unwrap_or_default();
        call.hops = hops_of(&a.invite);
        let plan = if forwards_left(&a.invite) == 0 {
            // RFC 3261 16.3: no forwarding left.
            let reason = format!("call to {callee} arrived with Max-Forwards 0");
            Plan::Reject(Reject { status: 483, cause: "EXCHANGE_ROUTING_ERROR", reason, route_id: None })
        } else {
            crate::router::route(&snapshot, &call, self.now())
        };
        let mut parties = Parties {
            workspace_id,
            caller: caller.clone(),
            caller_id,
            callee: callee.clone(),
            callee_id: None,
            context,
            direction: if from_trunk { "FROM_PSTN" } else { "INTRA_COMPANY" },
            kind: if from_trunk { "SIP_TRUNK" } else { "AGENT" },
            route_id: plan.route_id(),
            uuid_a: self.uuid(),
            // Given once the callee is dialled (a refused call has no B leg).
            uuid_b: String::new(),
            start: self.now(),
            answer: None,
            codec: String::new(),
            recording: None,
            caller_dialled: caller.clone(),
            callee_dialled: callee.clone(),
            application_id: None,
            application_ref: String::new(),
        };
        let routed = match plan {
            Plan::Route(routed) => routed,
            Plan::Reject(r) => return self.rejected(&a, &mut parties, &r),
            Plan::Feature(f) => match &who {
                Calling::Agent(acc) => return self.feature(&a, acc, &f).await,
                Calling::Trunk { .. } => {
                    let reason = format!("a trunk dialled feature code {callee}");
                    let r = Reject { status: 403, cause: "CALL_REJECTED", reason, route_id: None };
                    return self.rejected(&a, &mut parties, &r);
                }
            },
        };
        parties.caller.clone_from(&routed.caller);
        parties.callee.clone_from(&routed.callee);
        if let Target::Agent { agent_id, .. } = &routed.target {
            parties.callee_id = Some(*agent_id);
        }
        if target::leaves(&routed.target) {
            parties.direction = if from_trunk { "FROM_PSTN" } else { "TO_PSTN" };
            parties.kind = "SIP_TRUNK";
        }
        if super::app::runs_program(&routed.target) {
            let ending = self.run_program(&a, &mut parties, &routed.target, &routed.body).await;
            return self.finish(&parties, ending);
        }
        let dial = match self.dial_for(&routed, &snapshot).await {
            Ok(d) => d,
            Err(r) => return self.rejected(&a, &mut parties, &r),
        };
        tracing::info!(
            call = %parties.uuid_a,
            caller = %routed.caller,
            callee = %routed.callee,
            route = ?routed.route_id,
            number = ?routed.number_id,
            window = ?routed.window_id,
            attempts = dial.attempts.len(),
            "routing a call"
        );
        let forwards = self.forwards(&routed, &snapshot, &call).await;
        let out = Outgoing {
            callee: routed.callee.clone(),
            caller: routed.caller.clone(),
            caller_name: (routed.caller_name != call.caller_name).then(|| routed.caller_name.clone()),
            max_forwards: forwards_left(&a.invite).saturating_sub(1),
            headers: with_hops(&routed.headers, routed.hops),
            codecs: routed.codecs.iter().filter_map(|c| codec_named(c)).collect(),
            ring_timeout: routed
                .ring_timeout
                .map_or(self.sw.config.ring_timeout, |s| Duration::from_secs(u64::from(s.clamp(1, 3600)))),
            proxy_media: routed.proxy_media,
            record: self.recording_path(routed.record, workspace_id),
        };
        let ending = self.connect(&a, &mut parties, dial, &out, forwards).await;
        self.finish(&parties, ending);
    }

    /// Where the call is recorded when `record` (the route's
    /// `auto_record`): `<recordings>/<workspace>/<call id>.wav`, where
    /// `record_session` recordings go too.
    fn recording_path(&self, record: bool, workspace_id: i64) -> Option<std::path::PathBuf> {
        if !record {
            return None;
        }
        let Some(dir) = self.sw.config.recordings.as_ref() else {
            tracing::warn!("the route asks for a recording, but no recordings folder is configured");
            return None;
        };
        Some(dir.join(workspace_id.to_string()).join(format!("{}.wav", self.uuid())))
    }

    /// A refused call: its status with a Warning, the log line, the
    /// records with the cause.
    fn rejected(&mut self, a: &Caller, p: &mut Parties, r: &Reject) {
        tracing::info!(
            call = %p.uuid_a,
            status = r.status,
            cause = r.cause,
            route = ?r.route_id,
            "call refused: {}",
            r.reason
        );
        let status = StatusCode::new(r.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let text = match r.route_id {
            Some(id) if !r.reason.contains(&format!("route {id}")) => format!("{} (route {id})", r.reason),
            _ => r.reason.clone(),
        };
        self.refuse(a, status, Some(warning(399, &text)));
        p.route_id = r.route_id.or(p.route_id);
        self.finish(p, Ending { status: r.status, cause: r.cause });
    }

    /// The call forwardings of `routed` (busy, no answer), each routed
    /// again as the forwarding agent dialling the number, one hop more.
    async fn forwards(&self, routed: &Routed, snapshot: &Snapshot, call: &Inbound) -> Forwards {
        let Target::Agent { agent_id, .. } = &routed.target else { return Forwards::default() };
        let Some(agent) = snapshot.agent(*agent_id) else { return Forwards::default() };
        let mut forwards = Forwards::default();
        for (number, slot) in
            [(&routed.forward_busy, &mut forwards.busy), (&routed.forward_no_answer, &mut forwards.no_answer)]
        {
            let Some(number) = number.as_deref().filter(|n| !n.is_empty()) else { continue };
            let mut again = Inbound::new(Source::Agent(agent.id), &agent.context, &routed.caller, number);
            again.caller_name.clone_from(&call.caller_name);
            again.hops = routed.hops;
            match crate::router::route(snapshot, &again, self.now()) {
                Plan::Route(fwd) if super::app::runs_program(&fwd.target) => match program_forward(&fwd) {
                    Ok(f) => *slot = Some(f),
                    Err(e) => tracing::info!(to = %number, "the call forwarding is refused: {e}"),
                },
                Plan::Route(fwd) => match self.dial_for(&fwd, snapshot).await {
                    Ok(dial) => {
                        let callee_id = match fwd.target {
                            Target::Agent { agent_id, .. } => Some(agent_id),
                            _ => None,
                        };
                        *slot = Some(Forward { dial, callee: fwd.callee.clone(), callee_id, program: None });
                    }
                    Err(r) => {
                        tracing::info!(to = %number, "the call forwarding cannot be rung: {}", r.reason)
                    }
                },
                Plan::Reject(r) if r.status == 404 && r.route_id.is_none() => {
                    if let Some(to) = snapshot.agent_by_extension(number) {
                        let dial = Dial {
                            attempts: vec![self.agent_attempt(to.id, &to.username, NextOn::AnyFailure)],
                        };
                        *slot = Some(Forward {
                            dial,
                            callee: number.to_owned(),
                            callee_id: Some(to.id),
                            program: None,
                        });
                    } else {
                        tracing::info!(to = %number, "the call forwarding has no route: {}", r.reason);
                    }
                }
                Plan::Reject(r) => {
                    tracing::info!(to = %number, "the call forwarding is refused: {}", r.reason)
                }
                Plan::Feature(_) => {
                    tracing::info!(to = %number, "a call forwarding to a feature code is ignored")
                }
            }
        }
        forwards
    }

    /// One attempt ringing every registered contact of agent `agent_id`.
    pub(super) fn agent_attempt(&self, agent_id: i64, extension: &str, next_on: NextOn) -> Attempt {
        let bindings = self.sw.location.lookup(agent_id, self.now());
        Attempt {
            destinations: bindings.iter().filter_map(contact_destination).collect(),
            next_on,
            ring_timeout: None,
            label: format!("agent {extension}"),
        }
    }

    /// Answers A with `status` and a Warning saying why.
    pub(super) fn refuse(&self, a: &Caller, status: StatusCode, warn: Option<String>) {
        let mut resp = a.reply(&self.sw, status);
        if let Some(w) = warn {
            resp.head.headers.push(HeaderName::Warning, w);
        }
        self.respond(a.id, resp);
    }

    pub(super) fn put_legs(&self, a: &Caller, p: &Parties) {
        let state = self.phase.callstate();
        let leg = |uuid: &str, direction: &'static str, ip: String| Channel {
            uuid: uuid.to_owned(),
            call_uuid: p.uuid_a.clone(),
            workspace_id: p.workspace_id,
            direction,
            created_ms: p.start,
            name: format!("sip/{}@{}", if direction == "inbound" { &p.caller } else { &p.callee }, ip),
            callstate: state,
            cid_name: p.caller.clone(),
            cid_num: p.caller.clone(),
            ip_addr: ip,
            dest: p.callee.clone(),
            context: p.context.clone(),
            codec: String::new(),
            callee_num: p.callee.clone(),
            // The seed shows the caller's leg running the bridge.
            application: if direction == "inbound" { "bridge".to_owned() } else { String::new() },
            application_data: if direction == "inbound" {
                format!("user/{}", p.callee)
            } else {
                String::new()
            },
            variables: Vec::new(),
        };
        self.admission.put_leg(leg(&p.uuid_a, "inbound", a.peer.addr.ip().to_string()));
        if !p.uuid_b.is_empty() {
            self.admission.put_leg(leg(&p.uuid_b, "outbound", String::new()));
        }
    }

    pub(super) fn finish(&mut self, p: &Parties, ending: Ending) {
        self.signal(Signal::Ended);
        let end = self.now();
        let disposition = ending.disposition(p.answer.is_some());
        let cdr = |leg_ref: &str, leg: &'static str| Cdr {
            workspace_id: p.workspace_id,
            call_ref: p.uuid_a.clone(),
            leg_ref: leg_ref.to_owned(),
            leg,
            src: p.caller.clone(),
            dst: p.callee.clone(),
            src_dialled: p.caller_dialled.clone(),
            dst_dialled: p.callee_dialled.clone(),
            clid: p.caller.clone(),
            src_id: p.caller_id,
            dst_id: p.callee_id,
            direction: p.direction,
            kind: p.kind,
            disposition,
            hangup_cause: ending.cause.to_owned(),
            start: p.start,
            answer: p.answer,
            end,
            context: p.context.clone(),
            codec: p.codec.clone(),
            route_id: p.route_id,
            recording: p.recording.clone(),
            application_id: p.application_id,
            application_ref: p.application_ref.clone(),
        };
        // A call without a callee leg (refused before it was dialled, or one
        // that ran a program) has one record.
        let legs = if p.uuid_b.is_empty() {
            vec![cdr(&p.uuid_a, CALLER_SIDE)]
        } else {
            vec![cdr(&p.uuid_a, CALLER_SIDE), cdr(&p.uuid_b, CALLEE_SIDE)]
        };
        self.write_records(legs);
        self.publish(
            "call.ended",
            serde_json::json!({"from": p.caller, "to": p.callee, "cause": ending.cause, "status": ending.status}),
        );
    }
}

/// The G.711 law of payload type `pt`.
pub(super) fn codec_of(pt: u8) -> sip::sdp::Codec {
    if pt == 8 {
        sip::sdp::Codec::Pcma
    } else {
        sip::sdp::Codec::Pcmu
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn invite(extra: &str) -> Request {
        let text = format!(
            "INVITE sip:7000@calliope SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:1@calliope>;tag=a\r\nTo: <sip:7000@calliope>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        );
        match sip::parse_message(text.as_bytes()).unwrap() {
            sip::Message::Request(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn hops_come_from_our_header_and_forwards_from_max_forwards() {
        assert_eq!(hops_of(&invite("Max-Forwards: 20\r\n")), 0, "a low Max-Forwards is no loop");
        assert_eq!(hops_of(&invite("X-Calliope-Hops: 3\r\n")), 3);
        assert_eq!(hops_of(&invite("X-Calliope-Hops: 9999\r\n")), crate::router::MAX_HOPS);
        assert_eq!(hops_of(&invite("X-Calliope-Hops: lots\r\n")), 0);
        assert_eq!(forwards_left(&invite("")), 70);
        assert_eq!(forwards_left(&invite("Max-Forwards: 0\r\n")), 0);
        let next = with_hops(&[("X-Calliope-Hops".into(), "1".into()), ("X-Acct".into(), "7".into())], 4);
        assert_eq!(next, [("X-Acct".to_owned(), "7".to_owned()), (HOPS_HEADER.to_owned(), "4".to_owned())]);
    }

    #[test]
    fn our_overload_is_a_503_with_retry_after() {
        let a = invite("");
        let resp = failure_reply(&a, "t", Ending::new(503, CONGESTION));
        assert_eq!(resp.status.code(), 503);
        assert_eq!(resp.head.headers.get(&HeaderName::RetryAfter), Some("5"));
        assert!(resp.head.headers.get(&HeaderName::Warning).is_some_and(|w| w.contains("overloaded")));
        let theirs = failure_reply(&a, "t", Ending::new(503, "NORMAL_TEMPORARY_FAILURE"));
        assert_eq!(
            theirs.head.headers.get(&HeaderName::RetryAfter),
            None,
            "a callee's 503 is relayed as it is"
        );
        assert_eq!(failure_reply(&a, "t", Ending::new(486, "USER_BUSY")).status.code(), 486);
    }

    #[test]
    fn route_codecs_by_name() {
        assert_eq!(codec_named(" pcma "), Some(Codec::Pcma));
        assert_eq!(codec_named("PCMU"), Some(Codec::Pcmu));
        assert_eq!(codec_named("G729"), None);
    }
}
