//! A feature code dialled from a phone (`*72 1003`, `*78`): the change
//! it makes to the calling agent's forwarding or do-not-disturb is stored
//! (and `config.changed` published, so routing sees it at once), then the
//! call is answered, a short confirmation tone played, and hung up. A bad
//! argument is refused with 484 and a feature the router does not know
//! with 501, both before anything is stored.

use sip::dialog::Dialog;
use sip::sdp::{self, Codec, Direction};
use sip::{HeaderName, MediaType, StatusCode};
use store::schema::AGENTS;
use store::{Key, Millis, Scope, Value, Values};

use super::inbound::Caller;
use super::media::CallMedia;
use super::{Call, CallEvent, Ending, Input, Signal};
use crate::accounts::Account;
use crate::calls::cdr::{Cdr, CALLER_SIDE};
use crate::calls::leg::{Leg, Role};
use crate::calls::sdp::{answer_preferring, codecs, local, side_media};
use crate::events::Event;
use crate::media::{open_player, LegId, MediaEvent};
use crate::router::features::*;
use crate::router::Feature;

/// The tone confirming a change: 880 Hz for 600 ms, then a short silence.
pub const CONFIRM_TONE: &str = "tone_stream://%(600,100,880)";
/// How long the confirmation may take before the call is hung up anyway.
const CONFIRM_WAIT: Millis = 5_000;
/// The media leg of the caller.
pub(super) const LEG: LegId = LegId(1);

/// What a feature changes on the calling agent, or why it is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Store these agent columns.
    Set(Values),
    /// Refuse with this SIP status, for this reason.
    Refuse(u16, String),
}

/// The change `feature` makes for the agent with extension `own`: the
/// forwarding types take a phone number (digits, an optional leading
/// `+`, not the agent's own extension); the cancel and do-not-disturb
/// types take nothing. Pure, so that it is tested without a call.
pub fn change(feature: &Feature, own: &str) -> Change {
    let column = match feature.func_type.as_str() {
        CFU_SET | CFU_CANCEL => "forward_always",
        BUSY_SET | BUSY_CANCEL => "forward_busy",
        NO_ANSWER_SET | NO_ANSWER_CANCEL => "forward_no_answer",
        DND_ON => return Change::Set(vec![("dnd", Value::Int(1))]),
        DND_OFF => return Change::Set(vec![("dnd", Value::Int(0))]),
        other => return Change::Refuse(501, format!("feature {other} is not available from a phone")),
    };
    if !takes_argument(&feature.func_type) {
        return Change::Set(vec![(column, Value::from(""))]);
    }
    let arg = feature.arg.trim();
    if arg.is_empty() {
        return Change::Refuse(484, format!("{}: the number to forward to is missing", feature.func_type));
    }
    match crate::router::address::normalise_number(arg) {
        Ok(n) if n == own => {
            Change::Refuse(484, format!("{}: an agent cannot forward to itself", feature.func_type))
        }
        Ok(n) => Change::Set(vec![(column, Value::from(n.as_str()))]),
        Err(e) => {
            Change::Refuse(484, format!("{}: '{arg}' is not a phone number: {}", feature.func_type, e.0))
        }
    }
}

impl Call {
    /// Carries out `feature` for `caller`, whose INVITE `a` dialled it,
    /// and writes the call's record.
    pub(super) async fn feature(&mut self, a: &Caller, caller: &Account, feature: &Feature) {
        if feature.func_type == VOICEMAIL {
            return self.listen_voicemail(a, caller).await;
        }
        let start = self.now();
        let dialled = a.invite.uri.user().unwrap_or_default().to_owned();
        let (ending, answer) = self.apply_feature(a, caller, feature).await;
        self.signal(Signal::Ended);
        let end = self.now();
        let cdr = Cdr {
            workspace_id: caller.workspace_id,
            call_ref: self.uuid(),
            leg_ref: self.uuid(),
            leg: CALLER_SIDE,
            src: caller.extension.clone(),
            dst: dialled.clone(),
            clid: caller.extension.clone(),
            src_id: Some(caller.agent_id),
            dst_id: None,
            direction: "INTRA_COMPANY",
            kind: "AGENT",
            disposition: ending.disposition(answer.is_some()),
            hangup_cause: ending.cause.to_owned(),
            start,
            answer,
            end,
            context: caller.context.clone(),
            codec: String::new(),
            route_id: None,
            recording: None,
            ..Cdr::default()
        };
        self.write_records(vec![cdr]);
        let data = serde_json::json!({"from": caller.extension, "to": dialled, "feature": feature.func_type,
            "cause": ending.cause, "status": ending.status});
        self.publish("call.ended", data);
    }

    /// Stores the change, answers, confirms, hangs up; the ending and the
    /// time of the answer.
    async fn apply_feature(
        &mut self,
        a: &Caller,
        caller: &Account,
        feature: &Feature,
    ) -> (Ending, Option<Millis>) {
        let refuse = |call: &Call, status: u16, reason: &str| {
            let code = StatusCode::new(status).unwrap_or(StatusCode::SERVER_INTERNAL_ERROR);
            let mut resp = a.reply(&call.sw, code);
            resp.head
                .headers
                .push(HeaderName::Warning, format!("399 calliope \"{}\"", reason.replace('"', "'")));
            call.respond(a.id, resp);
        };
        if super::spy::acts_on_calls(&feature.func_type) {
            return self.act_on_call(a, caller, feature).await;
        }
        let values = match change(feature, &caller.extension) {
            Change::Set(values) => values,
            Change::Refuse(status, reason) => {
                tracing::info!(agent = %caller.extension, %reason, "feature code refused");
                refuse(self, status, &reason);
                return (Ending::new(status, super::cause_of(status)), None);
            }
        };
        let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let scope = Scope::Workspace(caller.workspace_id);
        if let Err(e) = self.sw.db.update(&AGENTS, scope, &Key::Id(caller.agent_id), values, self.now()).await
        {
            tracing::error!(agent = %caller.extension, error = %e, "could not store a feature code's change");
            refuse(self, 500, "the change could not be stored");
            return (Ending::new(500, "NORMAL_TEMPORARY_FAILURE"), None);
        }
        tracing::info!(agent = %caller.extension, feature = %feature.func_type, change = %shown.join(", "), "feature code applied");
        self.sw.publish(Event {
            name: crate::signalling::CONFIG_CHANGED,
            workspace_id: caller.workspace_id,
            at: self.now(),
            data: serde_json::Value::Null,
        });
        match self.confirm(a).await {
            Some(answered) => (Ending::new(200, "NORMAL_CLEARING"), Some(answered)),
            // Stored, but the confirmation could not be played: say so.
            None => (Ending::new(503, "NORMAL_TEMPORARY_FAILURE"), None),
        }
    }

    /// Answers A, plays the confirmation tone and hangs up (or stops when
    /// A hangs up first); the time of the answer, `None` when A could not
    /// be answered (503 sent).
    pub(super) async fn confirm(&mut self, a: &Caller) -> Option<Millis> {
        let mut alone = self.answer_alone(a).await?;
        match open_player(CONFIRM_TONE).await {
            Ok(tone) => {
                if let Err(e) = alone.media.handle.play(LEG, tone).await {
                    tracing::warn!(error = %e, "the confirmation tone could not be played");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the confirmation tone is not playable"),
        }
        let deadline = alone.answered + CONFIRM_WAIT;
        self.stay_alone(a, &mut alone, Some(deadline)).await;
        Some(alone.answered)
    }

    /// Answers A alone (its own media endpoint, nothing bridged); `None`
    /// when it could not be (a failure response was sent).
    pub(super) async fn answer_alone(&mut self, a: &Caller) -> Option<Alone> {
        let unavailable = |call: &Call| {
            call.respond(a.id, a.reply(&call.sw, StatusCode::SERVICE_UNAVAILABLE));
        };
        let offer = self.caller_offer(a).ok()?;
        let ip = self.media_ip(a.peer.addr);
        let Some(ports) = self.sw.ports.bind(self.bind_ip(a.peer.addr)).await else {
            unavailable(self);
            return None;
        };
        let mut media = CallMedia::start(Some(self.sw.config.rtp_timeout));
        let Ok(port) = media.add(LEG, ports).await else {
            unavailable(self);
            return None;
        };
        let Ok(dialog) = Dialog::from_uas(&a.invite, &a.tag) else {
            self.respond(a.id, a.reply(&self.sw, StatusCode::BAD_REQUEST));
            return None;
        };
        let mut leg = Leg::new(self.uuid(), Role::Uas, dialog, a.peer);
        let sdp_a = match &offer {
            Some(offer) => {
                let first = codecs(offer).first().copied().unwrap_or(Codec::Pcmu);
                let Ok((answer, negotiated)) =
                    answer_preferring(offer, ip, port, first, Direction::SendRecv, 1)
                else {
                    self.respond(a.id, a.reply(&self.sw, StatusCode::NOT_ACCEPTABLE_HERE));
                    return None;
                };
                if let Some(mut m) = side_media(offer) {
                    m.codec = negotiated.payload_type;
                    m.dtmf = negotiated.telephone_event;
                    media.set(LEG, m, a.peer.addr.ip(), Direction::SendRecv).await;
                }
                answer
            }
            // A late offer: ours now, its answer in the ACK.
            None => sdp::offer(&local(ip, port, vec![Codec::Pcmu, Codec::Pcma], Direction::SendRecv, 1)),
        };
        let ok = a.reply(&self.sw, StatusCode::OK).with_body(&MediaType::sdp(), sdp_a.to_bytes());
        leg.dialog.handle_sent_response(&ok);
        self.respond(a.id, ok);
        let answered = self.now();
        self.signal(Signal::Answered);
        Some(Alone { leg, media, answered, late: offer.is_none() })
    }

    /// Keeps the answered A until its playback ends, `deadline` passes, it
    /// hangs up (then no BYE is sent) or a hang-up command comes; then
    /// sends BYE. Commands the phase allows are carried out on A's leg.
    pub(super) async fn stay_alone(&mut self, a: &Caller, alone: &mut Alone, deadline: Option<Millis>) {
        loop {
            match self.next(deadline, Some(&mut alone.media.events)).await {
                Input::Media(MediaEvent::PlaybackFinished { .. } | MediaEvent::Inactive)
                | Input::Timer
                | Input::Hangup => break,
                Input::Media(_) => {}
                Input::Command(env) => self.command(env, &mut alone.media, &[LEG]).await,
                Input::Closed => return,
                Input::Sip(CallEvent::Ack(ack)) => {
                    let answer = (alone.late && !ack.body.is_empty())
                        .then(|| sdp::parse_bytes(&ack.body).ok())
                        .flatten()
                        .and_then(|d| side_media(&d));
                    if let Some(m) = answer {
                        alone.media.set(LEG, m, a.peer.addr.ip(), Direction::SendRecv).await;
                    }
                }
                Input::Sip(CallEvent::Request { id, request, .. }) => {
                    if !self.accepts(&mut alone.leg.dialog, id, &request) {
                        continue;
                    }
                    if request.method == sip::Method::Bye {
                        self.respond(id, sip::Response::for_request(&request, StatusCode::OK, None));
                        return;
                    }
                    self.respond(id, super::ring::not_now(&request));
                }
                Input::Sip(_) => {}
            }
        }
        self.bye(&mut alone.leg).await;
    }
}

/// A caller answered alone by a feature: its leg and media.
#[derive(Debug)]
pub(super) struct Alone {
    /// Its leg.
    pub leg: Leg,
    /// Its media (leg [`LEG`]).
    pub media: CallMedia,
    /// When it was answered.
    pub answered: Millis,
    /// Whether its answer comes in the ACK.
    pub late: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: &str, arg: &str) -> Feature {
        Feature { func_type: kind.into(), arg: arg.into() }
    }

    #[test]
    fn changes_of_each_routing_feature() {
        let set = |kind, arg| match change(&f(kind, arg), "1001") {
            Change::Set(v) => v,
            other => panic!("{kind} {arg}: {other:?}"),
        };
        assert_eq!(set(CFU_SET, "1003"), vec![("forward_always", Value::from("1003"))]);
        assert_eq!(set(CFU_CANCEL, ""), vec![("forward_always", Value::from(""))]);
        assert_eq!(set(BUSY_SET, "+15551234"), vec![("forward_busy", Value::from("+15551234"))]);
        assert_eq!(set(BUSY_CANCEL, ""), vec![("forward_busy", Value::from(""))]);
        assert_eq!(set(NO_ANSWER_SET, "0044"), vec![("forward_no_answer", Value::from("0044"))]);
        assert_eq!(set(NO_ANSWER_CANCEL, ""), vec![("forward_no_answer", Value::from(""))]);
        assert_eq!(set(DND_ON, ""), vec![("dnd", Value::Int(1))]);
        assert_eq!(set(DND_OFF, ""), vec![("dnd", Value::Int(0))]);
    }

    #[test]
    fn bad_arguments_and_other_features_are_refused() {
        let status = |kind, arg| match change(&f(kind, arg), "1001") {
            Change::Refuse(s, reason) => (s, reason),
            other => panic!("{kind} {arg}: {other:?}"),
        };
        assert_eq!(status(CFU_SET, "").0, 484, "no number");
        assert_eq!(status(BUSY_SET, "12a4").0, 484, "not digits");
        assert_eq!(status(NO_ANSWER_SET, "1001").0, 484, "itself");
        let long = "1".repeat(40);
        assert_eq!(status(CFU_SET, &long).0, 484, "too long");
        let (s, reason) = status("FS_DEST_FUNC_CALL_VOICEMAIL", "");
        assert_eq!(s, 501);
        assert!(reason.contains("FS_DEST_FUNC_CALL_VOICEMAIL"), "{reason}");
    }
}
