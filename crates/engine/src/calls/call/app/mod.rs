//! A routed call whose target runs a program (an application's webhooks,
//! an IVR menu, a block): A is answered with our media, and the
//! interpreter drives the call through [`AppChannel`], a
//! [`program::Channel`] over A's leg and its media session. The caller's
//! BYE, CANCEL, re-INVITE and INFO are handled while any step runs; a
//! caller gone is [`ChannelError::HungUp`] from the step running, so the
//! interpreter stops. An originated call runs its program the same way
//! over the callee's answered leg ([`originated`]): answering is then a
//! no-op and rejecting impossible. A call forwarded (busy, no answer) to
//! such a target runs it the same way once its ringing ended
//! ([`Call::run_forwarded`]). Commands from the API reach the call
//! while any step runs ([`commands`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sip::sdp::{self, Codec, SessionDescription};
use sip::transaction::TxId;
use sip::{MediaType, Method, Response, StatusCode};
use store::{Key, Millis, Scope};

use self::status::{status_sender, StatusQueue, StatusTarget};
use super::connect::ProgramTarget;
use super::inbound::{warning, Caller, Parties, LEG_A};
use super::media::CallMedia;
use super::{Call, CallEvent, Ending, Input, ProgramSource};
use crate::calls::leg::{dtmf, Leg};
use crate::calls::sdp::{answer_preferring, direction, local, side_media};
use crate::media::{open_player, MediaEvent, PlaybackId, PlayerSource};
use crate::program::{
    self, Audio, Channel, ChannelError, Next, Outcome, Report, ScriptError, Scripts, Sound,
};
use crate::router::Target;
use crate::speech::{Engines, EnginesConfig};
use crate::webhooks::audio::AudioLimits;
use crate::webhooks::shapes::CallTimes;
use crate::webhooks::{
    AppHooks, AudioCache, CallDirection, CallFacts, Client, Secret, SecretKeeper, VonageStatus,
    WebhookScripts,
};

/// Digits typed ahead (before anything listens) kept at most.
const TYPE_AHEAD: usize = 64;
/// How long a stopped recording may take to close its file.
const RECORDING_CLOSE: Duration = Duration::from_secs(3);

/// What every program-running call shares: the webhook client, the
/// applications' signing secrets, the speech engines and the cache of
/// audio fetched by URL. Built once by the SIP side.
#[derive(Debug)]
pub struct Apps {
    client: Option<Arc<Client>>,
    secrets: SecretKeeper,
    engines: Engines,
    audio: Option<AudioCache>,
}

impl Apps {
    /// The pieces, keeping their files under `data_dir`
    /// (`webhook-signing.key`, `tts-cache/`, `stt-work/`); without one, a
    /// signing key for this run only and a temporary folder.
    pub fn new(data_dir: Option<&Path>) -> Apps {
        let client = match Client::new(crate::webhooks::Config::default()) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                tracing::error!(error = %e, "the webhook client cannot start: applications will not be reached");
                None
            }
        };
        let secrets = match data_dir.map(|d| SecretKeeper::open(None, d)) {
            Some(Ok(k)) => k,
            Some(Err(e)) => {
                tracing::error!(error = %e, "the webhook signing key cannot be read: one for this run only is used");
                SecretKeeper::new(rand::random())
            }
            None => SecretKeeper::new(rand::random()),
        };
        let dir = data_dir.map_or_else(|| std::env::temp_dir().join("calliope-speech"), Path::to_path_buf);
        let engines = Engines::local(&EnginesConfig::default(), &dir);
        let audio = client.as_ref().map(|c| AudioCache::new(c.clone(), AudioLimits::default()));
        Apps { client, secrets, engines, audio }
    }
}

/// Whether `target` runs a program rather than ringing someone (a call
/// routed or forwarded there is answered by it).
pub(super) fn runs_program(target: &Target) -> bool {
    matches!(target, Target::Application(_) | Target::Ivr(_) | Target::Block(_) | Target::Conference { .. })
}

/// What a piece of input came as, while a step waits.
enum Got {
    Digit(char),
    Media(MediaEvent),
    Timer,
}

/// A call running a program: the [`Channel`] the interpreter drives.
pub(super) struct AppChannel<'a> {
    pub(super) call: &'a mut Call,
    /// The caller's INVITE; `None` for an originated call, whose leg (the
    /// callee's) is answered before the program starts.
    a: Option<&'a Caller>,
    pub(super) p: &'a mut Parties,
    media: &'a mut CallMedia,
    sdp_a: SessionDescription,
    /// The caller's INVITE had no SDP: its answer comes in the ACK.
    late: bool,
    leg: Option<Leg>,
    digits: VecDeque<char>,
    apps: Arc<Apps>,
    secret: Secret,
    tts: Option<serde_json::Value>,
    /// The application's `speechToText` configuration.
    stt: Option<serde_json::Value>,
    /// The caller's voice since a prompt it interrupted by speaking, for
    /// the speech input that follows.
    ear: Option<speech::Ear>,
    /// How the call ended, once it did.
    ending: Option<Ending>,
    /// Why the program failed before the call was answered (a webhook's
    /// cause): the caller gets 503 with it, and the CDR keeps it.
    cause: Option<&'static str>,
    recordings: usize,
    /// Vonage status events to the application's event_url, in order.
    status: Option<StatusQueue>,
    /// What the API plays over the program (a talk or a stream) until it
    /// ends: the program's own audio waits for it.
    overlay: Option<PlaybackId>,
    /// A program the API sent to replace the running one; the step
    /// running ends as if the caller had gone, then it starts.
    replacement: Option<ProgramSource>,
    /// Whether the running program may be replaced (an application's).
    replaceable: bool,
}

impl Call {
    /// Answers A with our media and runs the program `target` names
    /// until the call ends (`body`: the destination's free text, a
    /// conference room's settings).
    pub(super) async fn run_program(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        target: &Target,
        body: &str,
    ) -> Ending {
        self.answer_with_program(a, p, target, body, true).await
    }

    /// A call forwarded (busy, no answer) to a destination that runs a
    /// program: A, still unanswered (or in early media), is answered by
    /// the program, which runs as if the call had been routed there.
    pub(super) async fn run_forwarded(&mut self, a: &Caller, p: &mut Parties, to: &ProgramTarget) -> Ending {
        self.answer_with_program(a, p, &to.target, &to.body, false).await
    }

    /// [`Call::run_program`]; `fresh` when nothing was rung before (the
    /// call's `call.created` and legs are put now).
    async fn answer_with_program(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        target: &Target,
        body: &str,
        fresh: bool,
    ) -> Ending {
        let Opened { mut media, sdp_a, late } = match self.open_media(a, p, fresh).await {
            Ok(opened) => opened,
            Err(ending) => return ending,
        };
        let workspace = self.workspace_id;
        let mut ch = AppChannel::new(self, Some(a), p, &mut media, sdp_a, late, None);
        let outcome = match target {
            Target::Application(id) => ch.application(workspace, Key::Id(*id), None).await,
            Target::Ivr(id) => ch.ivr(workspace, *id).await,
            Target::Block(id) => ch.block(workspace, *id).await,
            Target::Conference { .. } => ch.conference_route(target, body).await,
            _ => Outcome::Failed(program::ProgramError::Channel {
                verb: "route",
                error: ChannelError::Unsupported("this target runs no program".into()),
            }),
        };
        // An IVR's extension or route action: the caller is dialled on.
        let outcome = match outcome {
            Outcome::Transfer { context, number } => ch.transfer(context.as_deref(), &number).await,
            other => other,
        };
        ch.close(outcome).await
    }

    /// Our media for A, not answered yet: ports and an answer to A's offer
    /// (ours, when A made none); `fresh` when the call is new (its
    /// `call.created` and its legs are put now; a call that rang someone
    /// first has them). A's refusal is sent and the ending returned when
    /// the media cannot be set up.
    pub(super) async fn open_media(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        fresh: bool,
    ) -> Result<Opened, Ending> {
        let offer = self.caller_offer(a)?;
        let mut media = CallMedia::start(Some(self.sw.config.rtp_timeout));
        let Some(ports) = self.sw.ports.bind(self.bind_ip(a.peer.addr)).await else {
            self.refuse(a, StatusCode::SERVICE_UNAVAILABLE, Some(warning(399, "no media ports free")));
            return Err(Ending::new(503, "NORMAL_TEMPORARY_FAILURE"));
        };
        let Ok(port) = media.add(LEG_A, ports).await else {
            self.refuse(a, StatusCode::SERVICE_UNAVAILABLE, Some(warning(399, "the media session failed")));
            return Err(Ending::new(503, "NORMAL_TEMPORARY_FAILURE"));
        };
        let ip = self.media_ip(a.peer.addr);
        let (sdp_a, payload_type) = match &offer {
            Some(offer) => {
                let answered = answer_preferring(offer, ip, port, Codec::Pcmu, sdp::Direction::SendRecv, 1);
                let (Ok((sdp_a, negotiated)), Some(mut side)) = (answered, side_media(offer)) else {
                    self.refuse(a, StatusCode::NOT_ACCEPTABLE_HERE, Some(warning(305, "no codec in common")));
                    return Err(Ending::new(488, "INCOMPATIBLE_DESTINATION"));
                };
                side.codec = negotiated.payload_type;
                side.dtmf = negotiated.telephone_event;
                media.set(LEG_A, side, a.peer.addr.ip(), direction(offer)).await;
                (sdp_a, negotiated.payload_type)
            }
            // A late offer: ours goes in the 200, the answer comes in the ACK.
            None => {
                let ours = local(ip, port, vec![Codec::Pcmu, Codec::Pcma], sdp::Direction::SendRecv, 1);
                (sdp::offer(&ours), Codec::Pcmu.payload_type())
            }
        };
        if let Err(e) = media.handle.detect_dtmf(LEG_A, true).await {
            tracing::debug!(error = %e, "in-band DTMF detection could not start");
        }
        p.codec = super::inbound::codec_of(payload_type).encoding().to_owned();
        if fresh {
            self.publish("call.created", json!({"from": p.caller, "to": p.callee}));
            self.put_legs(a, p);
        }
        // One leg: the program is the other side.
        self.admission.remove_leg(&p.uuid_b);
        p.uuid_b.clear();
        Ok(Opened { media, sdp_a, late: offer.is_none() })
    }
}

/// A's media set up for a program: the session, our SDP for A, and
/// whether A made no offer (its answer comes in the ACK).
pub(super) struct Opened {
    pub(super) media: CallMedia,
    pub(super) sdp_a: SessionDescription,
    pub(super) late: bool,
}

impl<'a> AppChannel<'a> {
    /// A channel over the caller `a` (not answered yet: `leg` is `None`),
    /// or over a placed call's answered `leg` (`a` is `None`).
    pub(super) fn new(
        call: &'a mut Call,
        a: Option<&'a Caller>,
        p: &'a mut Parties,
        media: &'a mut CallMedia,
        sdp_a: SessionDescription,
        late: bool,
        leg: Option<Leg>,
    ) -> AppChannel<'a> {
        let apps = call.sw.apps.clone();
        AppChannel {
            call,
            a,
            p,
            media,
            sdp_a,
            late,
            leg,
            digits: VecDeque::new(),
            apps,
            secret: Secret::from_text(""),
            tts: None,
            stt: None,
            ear: None,
            ending: None,
            cause: None,
            recordings: 0,
            status: None,
            overlay: None,
            replacement: None,
            replaceable: false,
        }
    }
}

impl AppChannel<'_> {
    /// Runs the application `key`: its first script from the webhooks
    /// (or the one `given` inline), then the interpreter, then each
    /// program the API sends in its place.
    async fn application(&mut self, workspace: i64, key: Key, given: Option<&AppProgram>) -> Outcome {
        let scope = Scope::Workspace(workspace);
        let record = match self.call.sw.db.get(&store::schema::APPLICATIONS, scope, &key).await {
            Ok(r) => r,
            Err(e) => {
                return failed("application", ChannelError::Failed(format!("application {key:?}: {e}")))
            }
        };
        let id = record.id;
        let json_of = |name: &str| record.get(name).as_str().and_then(|t| serde_json::from_str(t).ok());
        let capabilities: Option<serde_json::Value> = json_of("capabilities");
        self.tts = json_of("text_to_speech");
        self.stt = json_of("speech_to_text");
        let stored = AppHooks::from_application(record.text("endpoint"), capabilities.as_ref());
        let hooks = match given {
            Some(program) => program.hooks(stored),
            None => stored,
        };
        let hooks = match hooks {
            Ok(h) => h,
            Err(e) => return self.webhook_failed(e.cause(), e.to_string()),
        };
        let Some(client) = self.apps.client.clone() else {
            return self.webhook_failed("WEBHOOK_UNAVAILABLE", "the webhook client did not start".into());
        };
        self.secret = self.apps.secrets.for_application(&record.r#ref);
        let facts = CallFacts {
            call_ref: self.p.uuid_a.clone(),
            conversation_ref: crate::webhooks::shapes::conversation_uuid(&self.p.uuid_a),
            app_ref: record.r#ref.clone(),
            workspace_ref: workspace.to_string(),
            caller: self.p.caller.clone(),
            callee: self.p.callee.clone(),
            direction: match self.a {
                None => CallDirection::ToPstn,
                Some(_) if self.p.direction == "INTRA_COMPANY" => CallDirection::IntraCompany,
                Some(_) => CallDirection::FromPstn,
            },
            domain: match self.a.map(|a| &a.invite.uri) {
                Some(sip::Uri::Sip(u)) => Some(u.host.to_string()),
                _ => None,
            },
        };
        self.p.application_id = Some(id);
        self.p.application_ref.clone_from(&record.r#ref);
        self.call.publish("call.application", json!({"applicationId": id, "appRef": record.r#ref}));
        // A call placed through the Voice API has had its queue (and its
        // started, ringing and answered) since it was placed.
        if hooks.vonage && hooks.event.is_some() && self.status.is_none() {
            self.status = Some(status_sender(StatusTarget {
                client: client.clone(),
                secret: self.secret.clone(),
                hooks: hooks.clone(),
                facts: facts.clone(),
                bus: self.call.sw.bus.clone(),
                workspace_id: workspace,
            }));
            self.status_event(VonageStatus::Started, None);
            if self.leg.is_some() {
                self.status_event(VonageStatus::Answered, None);
            } else {
                // An inbound call rings the application until a verb
                // answers it, as Vonage reports it.
                self.status_event(VonageStatus::Ringing, None);
            }
        }
        let clock = self.call.sw.clock.clone();
        let mut scripts = WebhookScripts::new(
            client.clone(),
            self.secret.clone(),
            hooks.clone(),
            facts.clone(),
            clock.clone(),
        );
        let mut verbs = match given.and_then(|g| g.script.clone()) {
            Some(inline) => inline,
            None => match self.first_script(&mut scripts).await {
                Ok(v) => v,
                Err(outcome) => return outcome,
            },
        };
        self.replaceable = true;
        loop {
            let outcome = program::run(verbs, self, &mut scripts).await;
            self.publish_failures(&mut scripts);
            let next = match self.replacement.take() {
                Some(next) if self.ending.is_none() => next,
                _ => return outcome,
            };
            self.call.publish("call.transferred", json!({"to": "ncco"}));
            verbs = match next {
                ProgramSource::Ncco(ncco) => match program::ncco::parse_value(&ncco) {
                    Ok(v) => v,
                    Err(e) => return failed("transfer", ChannelError::Failed(format!("the new NCCO: {e}"))),
                },
                ProgramSource::Url(url) => {
                    let mut to = hooks.clone();
                    to.answer = crate::webhooks::AppUrl { url, ..to.answer };
                    to.fallback = None;
                    scripts = WebhookScripts::new(
                        client.clone(),
                        self.secret.clone(),
                        to,
                        facts.clone(),
                        clock.clone(),
                    );
                    match self.first_script(&mut scripts).await {
                        Ok(v) => v,
                        Err(outcome) => return outcome,
                    }
                }
            };
        }
    }

    /// The first program from the webhooks (while the caller may hang up;
    /// no other program may replace it meanwhile).
    async fn first_script(&mut self, scripts: &mut WebhookScripts) -> Result<Vec<program::Verb>, Outcome> {
        let replaceable = std::mem::replace(&mut self.replaceable, false);
        let first = tokio::select! {
            first = scripts.first() => first,
            gone = self.until_gone() => return Err(gone),
        };
        self.replaceable = replaceable;
        self.publish_failures(scripts);
        first.map_err(|e| self.webhook_failed(e.cause(), e.to_string()))
    }

    fn publish_failures(&mut self, scripts: &mut WebhookScripts) {
        for f in scripts.take_failures() {
            self.call.publish("call.webhook.failed", json!({"cause": f.cause, "detail": f.detail}));
        }
    }

    /// The workspace's IVR menus, compiled.
    async fn menus(&self, workspace: i64) -> Result<program::ivr::Menus, Outcome> {
        let scope = Scope::Workspace(workspace);
        let all = store::Query::default();
        let db = &self.call.sw.db;
        let ivrs = db.list(&store::schema::IVRS, scope, &all).await;
        let actions = db.list(&store::schema::IVR_ACTIONS, scope, &all).await;
        let (ivrs, actions) = match (ivrs, actions) {
            (Ok(i), Ok(a)) => (i.records, a.records),
            (Err(e), _) | (_, Err(e)) => {
                return Err(failed("ivr", ChannelError::Failed(format!("the IVR menus cannot be read: {e}"))))
            }
        };
        program::ivr::Menus::compile(&ivrs, &actions)
            .map_err(|e| failed("ivr", ChannelError::Failed(format!("the IVR menus: {e}"))))
    }

    /// Runs the IVR menu `id` of the workspace.
    async fn ivr(&mut self, workspace: i64, id: i64) -> Outcome {
        match self.menus(workspace).await {
            Ok(menus) => program::ivr::run(&menus, id, self).await,
            Err(outcome) => outcome,
        }
    }

    /// Runs the block (call flow) `id` of the workspace.
    async fn block(&mut self, workspace: i64, id: i64) -> Outcome {
        let scope = Scope::Workspace(workspace);
        let record = match self.call.sw.db.get(&store::schema::BLOCKS, scope, &Key::Id(id)).await {
            Ok(r) => r,
            Err(e) => return failed("block", ChannelError::Failed(format!("block {id}: {e}"))),
        };
        let compiled = match program::block::compile(&record) {
            Ok(b) => b,
            Err(e) => return failed("block", ChannelError::Failed(format!("block {id}: {e}"))),
        };
        let menus = match self.menus(workspace).await {
            Ok(m) => m,
            Err(outcome) => return outcome,
        };
        program::block::run(&compiled, &menus, self, &mut NoWebhooks, &program::Limits::default()).await
    }

    /// Joins the conference room a route names (its PIN asked first).
    async fn conference_route(&mut self, target: &Target, body: &str) -> Outcome {
        let callee = self.p.callee.clone();
        match conference::route_program(target, body, &callee) {
            Ok(c) => {
                let verbs = vec![program::Verb::Conversation(c)];
                program::run(verbs, self, &mut NoWebhooks).await
            }
            Err(e) => failed("conversation", ChannelError::Failed(e)),
        }
    }

    /// A webhook that gave no program: the event, then a failure whose
    /// cause the CDR keeps.
    fn webhook_failed(&mut self, cause: &'static str, detail: String) -> Outcome {
        tracing::info!(call = %self.p.uuid_a, cause, "the application gave no program: {detail}");
        self.call.publish("call.webhook.failed", json!({"cause": cause, "detail": detail}));
        self.cause = Some(cause);
        Outcome::Failed(program::ProgramError::Channel {
            verb: "answer_url",
            error: ChannelError::Failed(detail),
        })
    }

    /// Queues a Vonage status event (dropped, and logged, when the queue
    /// is full).
    fn status_event(&self, status: VonageStatus, times: Option<CallTimes>) {
        if let Some(tx) = &self.status {
            if tx.try_send((status, self.now(), times)).is_err() {
                tracing::info!(call = %self.p.uuid_a, status = status.as_str(), "a status event was dropped");
            }
        }
    }

    /// Waits for the caller to go (CANCEL, BYE) while something else runs.
    async fn until_gone(&mut self) -> Outcome {
        loop {
            match self.wait(None).await {
                Err(_) => return Outcome::CallerHungUp,
                Ok(Got::Digit(d)) if self.digits.len() < TYPE_AHEAD => self.digits.push_back(d),
                Ok(_) => {}
            }
        }
    }

    /// Ends the call after its program: whatever is still up is hung up,
    /// and the ending is what ended it first.
    pub(super) async fn close(mut self, outcome: Outcome) -> Ending {
        if self.ending.is_none() {
            let _ = self.hangup().await;
        }
        let ending = match (&outcome, self.ending) {
            (Outcome::Failed(_), Some(end)) if self.cause.is_some() => end,
            (Outcome::Failed(e), Some(end)) if matches!(end.status, 200 | 480) => {
                Ending::new(end.status, e.cause())
            }
            (_, Some(end)) => end,
            (Outcome::Failed(e), None) => Ending::new(500, e.cause()),
            (_, None) => Ending::new(200, "NORMAL_CLEARING"),
        };
        tracing::info!(call = %self.p.uuid_a, outcome = ?outcome, cause = ending.cause, "the program ended");
        // A webhook's failure has had its event already.
        if let (Outcome::Failed(e), None) = (&outcome, self.cause) {
            self.call.publish("call.program.failed", json!({"cause": e.cause(), "detail": e.to_string()}));
        }
        let end = self.now();
        let status = match (self.p.answer, ending.status) {
            (Some(start), _) => {
                self.status_event(VonageStatus::Completed, Some(CallTimes { start, end }));
                None
            }
            (None, 487) => Some(VonageStatus::Cancelled),
            (None, 486) => Some(VonageStatus::Busy),
            (None, 603) => Some(VonageStatus::Rejected),
            (None, _) => Some(VonageStatus::Failed),
        };
        if let Some(s) = status {
            self.status_event(s, None);
        }
        self.status = None;
        let _ = self.media.handle.remove_leg(LEG_A).await;
        ending
    }

    /// The next thing that happens on the call; a caller gone is
    /// [`ChannelError::HungUp`].
    async fn wait(&mut self, deadline: Option<Millis>) -> Result<Got, ChannelError> {
        if self.ending.is_some() || self.replacement.is_some() {
            return Err(ChannelError::HungUp);
        }
        loop {
            match self.call.next(deadline, Some(&mut self.media.events)).await {
                Input::Sip(e) => {
                    if let Some(got) = self.sip(e).await? {
                        return Ok(got);
                    }
                }
                Input::Hangup => {
                    self.hangup().await?;
                    return Err(ChannelError::HungUp);
                }
                Input::Command(env) => self.command(env).await?,
                Input::Timer => return Ok(Got::Timer),
                Input::Media(MediaEvent::Inactive) => {
                    tracing::info!(call = %self.p.uuid_a, "no RTP from the caller: the call ends");
                    self.hangup().await?;
                    self.ending = Some(Ending::new(408, "MEDIA_TIMEOUT"));
                    return Err(ChannelError::HungUp);
                }
                Input::Media(e @ MediaEvent::Dtmf { .. }) => {
                    self.call.media_event(&e);
                    if let MediaEvent::Dtmf { digit, .. } = e {
                        return Ok(Got::Digit(digit.as_char()));
                    }
                }
                Input::Media(e) => {
                    self.call.media_event(&e);
                    if let MediaEvent::PlaybackFinished { id, .. } = &e {
                        if self.overlay == Some(*id) {
                            self.overlay = None;
                        }
                    }
                    return Ok(Got::Media(e));
                }
                Input::Closed => {
                    self.ending = Some(Ending::new(200, "NORMAL_CLEARING"));
                    return Err(ChannelError::HungUp);
                }
            }
        }
    }

    /// Handles a SIP event from the caller; a digit (INFO) is returned.
    async fn sip(&mut self, e: CallEvent) -> Result<Option<Got>, ChannelError> {
        match e {
            CallEvent::Cancel(id) if self.a.is_some_and(|a| a.id == id) && self.leg.is_none() => {
                let Some(a) = self.a else { return Ok(None) };
                let resp = a.reply(&self.call.sw, StatusCode::REQUEST_TERMINATED);
                self.call.respond(a.id, resp);
                self.ending = Some(Ending::new(487, "ORIGINATOR_CANCEL"));
                Err(ChannelError::HungUp)
            }
            CallEvent::Timeout(TxId::Server(id))
                if self.a.is_some_and(|a| a.id == id) && self.leg.is_some() =>
            {
                // Our 200 was never ACKed.
                self.hangup().await?;
                self.ending = Some(Ending::new(408, "RECOVERY_ON_TIMER_EXPIRE"));
                Err(ChannelError::HungUp)
            }
            CallEvent::Ack(ack) if self.late && self.leg.is_some() => {
                self.late = false;
                let answer = sdp::parse_bytes(&ack.body).ok();
                match answer.as_ref().and_then(|d| side_media(d).map(|m| (m, direction(d)))) {
                    Some((side, dir)) => {
                        self.p.codec = super::inbound::codec_of(side.codec).encoding().to_owned();
                        let peer = self.leg.as_ref().map(|l| l.peer.addr.ip());
                        if let Some(ip) = peer {
                            self.media.set(LEG_A, side, ip, dir).await;
                        }
                        Ok(None)
                    }
                    None => {
                        // No usable answer to our offer: the call cannot go on.
                        tracing::info!(call = %self.p.uuid_a, "the ACK carries no usable SDP answer");
                        self.hangup().await?;
                        self.ending = Some(Ending::new(488, "INCOMPATIBLE_DESTINATION"));
                        Err(ChannelError::HungUp)
                    }
                }
            }
            CallEvent::Request { id, request, .. } => {
                let Some(leg) = self.leg.as_mut().filter(|l| l.call_id() == request.head.call_id) else {
                    let status = if request.method == Method::Bye {
                        StatusCode::OK
                    } else {
                        StatusCode::CALL_DOES_NOT_EXIST
                    };
                    self.call.respond(id, Response::for_request(&request, status, None));
                    return Ok(None);
                };
                if !self.call.accepts(&mut leg.dialog, id, &request) {
                    return Ok(None);
                }
                match request.method {
                    Method::Bye => {
                        self.call.respond(id, Response::for_request(&request, StatusCode::OK, None));
                        self.ending = Some(Ending::new(200, "NORMAL_CLEARING"));
                        Err(ChannelError::HungUp)
                    }
                    Method::Invite => {
                        // A re-INVITE: its new address (and direction) for
                        // our media; our answer stays the same.
                        if let Ok(offer) = sdp::parse_bytes(&request.body) {
                            if let Some(mut side) = side_media(&offer) {
                                let codec = self.media.codec(LEG_A);
                                side.codec = codec;
                                self.media.set(LEG_A, side, leg.peer.addr.ip(), direction(&offer)).await;
                            }
                        }
                        let mut ok = Response::for_request(&request, StatusCode::OK, None);
                        ok.head.headers.push(sip::HeaderName::Contact, self.call.contact());
                        ok = ok.with_body(&MediaType::sdp(), self.sdp_a.to_string().into_bytes());
                        self.call.respond(id, ok);
                        Ok(None)
                    }
                    Method::Info => {
                        let content_type = request.head.content_type().ok().flatten();
                        match dtmf::parse(content_type.as_ref(), &request.body) {
                            Ok(d) => {
                                self.call.respond(id, Response::for_request(&request, StatusCode::OK, None));
                                self.call.publish(
                                    "call.dtmf",
                                    json!({"digit": d.digit.to_string(), "source": "info", "leg": LEG_A.0}),
                                );
                                Ok(Some(Got::Digit(d.digit)))
                            }
                            Err(_) => {
                                let status = self.call.info(&request);
                                self.call.respond(id, Response::for_request(&request, status, None));
                                Ok(None)
                            }
                        }
                    }
                    Method::Refer => {
                        let status = StatusCode::new(501).unwrap_or(StatusCode::BAD_REQUEST);
                        self.call.respond(id, Response::for_request(&request, status, None));
                        Ok(None)
                    }
                    _ => {
                        self.call.respond(id, Response::for_request(&request, StatusCode::OK, None));
                        Ok(None)
                    }
                }
            }
            CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                // The callee's 200 again (our ACK was lost): ACK it again.
                if let Some(leg) = self.leg.as_mut().filter(|l| l.call_id() == resp.head.call_id) {
                    let ack = leg.dialog.ack_for_2xx(&resp, self.call.via(peer));
                    let _ = self.call.cmds.send(crate::signalling::core::Cmd::Stateless(ack.into(), peer));
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// A player for `audio`.
    async fn source(&self, audio: &Audio) -> Result<PlayerSource, ChannelError> {
        let media_err = |e: crate::media::MediaError| ChannelError::Media(e.to_string());
        match audio {
            Audio::Say { text, voice, language, engine } => {
                self.speak(text, engine.as_deref(), voice.as_deref(), language.as_deref()).await
            }
            Audio::Sound(Sound::Tts(text)) => self.speak(text, None, None, None).await,
            Audio::Sound(Sound::Tone(spec)) => open_player(spec).await.map_err(media_err),
            Audio::Sound(Sound::Media(m)) if !m.path.is_empty() => {
                open_player(&m.path).await.map_err(media_err)
            }
            Audio::Sound(Sound::Media(m)) => {
                Err(ChannelError::Media(format!("media {:?} has no file path", m.id)))
            }
            Audio::Sound(Sound::Url(url)) => {
                let Some(cache) = self.apps.audio.as_ref() else {
                    return Err(ChannelError::Media("the webhook client did not start".into()));
                };
                let pcm =
                    cache.source(url, &self.secret).await.map_err(|e| ChannelError::Media(e.to_string()))?;
                Ok(Box::new(pcm))
            }
            Audio::Silence(d) => {
                open_player(&format!("silence_stream://{}", d.as_millis())).await.map_err(media_err)
            }
        }
    }

    async fn speak(
        &self,
        text: &str,
        engine: Option<&str>,
        voice: Option<&str>,
        language: Option<&str>,
    ) -> Result<PlayerSource, ChannelError> {
        let tts_err = |e: crate::speech::SpeechError| ChannelError::Tts(e.to_string());
        let (tts, voice) =
            self.apps.engines.for_say(self.tts.as_ref(), engine, voice, language).map_err(tts_err)?;
        let pcm = tts.synthesize(text, voice.as_deref(), 8000).await.map_err(tts_err)?;
        Ok(Box::new(pcm.to_source().map_err(tts_err)?))
    }

    /// Where the program's party is: the caller, or the answered callee
    /// of a placed call.
    fn peer(&self) -> Option<sip::transaction::Peer> {
        self.a.map(|a| a.peer).or_else(|| self.leg.as_ref().map(|l| l.peer))
    }

    /// The caller's display name (none for a placed call).
    pub(super) fn caller_display(&self) -> String {
        self.a.and_then(|a| a.invite.head.from.display.clone()).unwrap_or_default()
    }

    /// The hops the call has made so far.
    fn hops_in(&self) -> u32 {
        self.a.map_or(0, |a| super::inbound::hops_of(&a.invite))
    }

    /// The Max-Forwards the call came with.
    fn forwards_in(&self) -> u32 {
        self.a.map_or(super::inbound::MAX_FORWARDS, |a| super::inbound::forwards_left(&a.invite))
    }

    fn keep(&mut self, digit: char) {
        if self.digits.len() < TYPE_AHEAD {
            self.digits.push_back(digit);
        }
    }

    fn now(&self) -> Millis {
        self.call.now()
    }

    fn recording_path(&mut self) -> Result<PathBuf, ChannelError> {
        let Some(dir) = self.call.sw.config.recordings.as_ref() else {
            return Err(ChannelError::Unsupported("no recordings folder is configured".into()));
        };
        self.recordings += 1;
        let dir = dir.join(self.p.workspace_id.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| ChannelError::Failed(format!("recordings folder: {e}")))?;
        Ok(dir.join(format!("{}-{}.wav", self.p.uuid_a, self.recordings)))
    }
}

/// The [`Scripts`] of a block: it has no application, so a result with
/// nowhere to go is an error.
struct NoWebhooks;

impl Scripts for NoWebhooks {
    async fn submit(&mut self, report: Report) -> Result<Next, ScriptError> {
        Err(ScriptError::Fetch(format!("a block has no application to send the {} result to", report.verb)))
    }
}

fn failed(verb: &'static str, error: ChannelError) -> Outcome {
    Outcome::Failed(program::ProgramError::Channel { verb, error })
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX / 2)
}

mod bridge;
mod channel;
mod commands;
mod conference;
pub(in crate::calls::call) use conference::route_program;
mod dial;
mod live;
mod originated;
mod speech;
pub(in crate::calls::call) mod status;
mod stream;

pub use originated::AppProgram;
