//! A call that starts with an INVITE from an agent: the caller's UAS leg
//! (A), then one UAC leg per registered contact of the callee (B, forked:
//! the first to answer wins, the others are cancelled, and a late second
//! answer is ACKed and sent BYE). Provisional responses are relayed, a 183
//! with SDP as early media (the bridge runs before the answer); an INVITE
//! without SDP is relayed as a late offer (B offers in its 200, we answer
//! in the ACK; our 200 to A offers, A answers in its ACK).

use sip::transaction::{Peer, ServerTxId};
use sip::{HeaderName, Request, Response, StatusCode};
use store::Millis;

use super::connect::{contact_destination, Forwards, Outgoing};
use super::{Call, Ending, Signal};
use crate::calls::cdr::Cdr;
use crate::calls::dial::{Attempt, Dial, NextOn};
use crate::calls::registry::Channel;
use crate::media::LegId;
use crate::signalling::auth::{authenticate_from, Challenge};

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

/// Who the call is between, for the records and the channel list.
#[derive(Debug)]
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
    /// The callee's leg id.
    pub uuid_b: String,
    /// When the INVITE came.
    pub start: Millis,
    /// When it was answered.
    pub answer: Option<Millis>,
    /// The codec on A's side.
    pub codec: String,
}

/// A warning header value (RFC 3261 20.43).
pub(super) fn warning(code: u16, text: &str) -> String {
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
        let callee_ext = a.invite.uri.user().unwrap_or_default().to_owned();
        let callee = match self.sw.accounts.by_extension(caller.workspace_id, &callee_ext).await {
            Ok(Some(agent)) => agent,
            Ok(None) => return self.respond(a.id, a.reply(&self.sw, StatusCode::NOT_FOUND)),
            Err(_) => return self.respond(a.id, a.reply(&self.sw, StatusCode::SERVICE_UNAVAILABLE)),
        };
        let mut parties = Parties {
            workspace_id: caller.workspace_id,
            caller: caller.extension.clone(),
            caller_id: Some(caller.agent_id),
            callee: callee_ext.clone(),
            callee_id: Some(callee.id),
            context: caller.context.clone(),
            direction: "INTRA_COMPANY",
            kind: "AGENT",
            uuid_a: self.uuid(),
            uuid_b: uuid::Uuid::new_v4().to_string(),
            start: self.now(),
            answer: None,
            codec: String::new(),
        };
        let dial = Dial { attempts: vec![self.agent_attempt(callee.id, &callee_ext, NextOn::AnyFailure)] };
        let out = Outgoing {
            callee: callee_ext,
            caller: caller.extension.clone(),
            caller_name: None,
            max_forwards: self.max_forwards(&a.invite),
            headers: Vec::new(),
            codecs: Vec::new(),
            ring_timeout: self.sw.config.ring_timeout,
        };
        let ending = self.connect(&a, &mut parties, dial, &out, Forwards::default()).await;
        self.finish(&parties, ending);
    }

    /// Max-Forwards for the B side: A's less one.
    fn max_forwards(&self, invite: &Request) -> u32 {
        invite.head.max_forwards().ok().flatten().unwrap_or(70).saturating_sub(1)
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
        };
        self.admission.put_leg(leg(&p.uuid_a, "inbound", a.peer.addr.ip().to_string()));
        self.admission.put_leg(leg(&p.uuid_b, "outbound", String::new()));
    }

    pub(super) fn finish(&mut self, p: &Parties, ending: Ending) {
        self.signal(Signal::Ended);
        let end = self.now();
        let disposition = ending.disposition(p.answer.is_some());
        let cdr = |leg_ref: &str| Cdr {
            workspace_id: p.workspace_id,
            leg_ref: leg_ref.to_owned(),
            src: p.caller.clone(),
            dst: p.callee.clone(),
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
        };
        self.write_records(vec![cdr(&p.uuid_a), cdr(&p.uuid_b)]);
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
