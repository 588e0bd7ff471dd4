//! A ringing call picked up by another agent (`**<ext>`, `*8`, the PBX
//! `intercept` app): the forks still ringing are cancelled, the caller is
//! answered on its own media endpoint, and that endpoint is linked with
//! the picking call's leg through the hand-over it sent (taps and a
//! channel player, see `listen.rs`). The call lasts until the caller hangs
//! up or the picking call goes (its audio stops: the player ends).

use sip::dialog::Dialog;
use sip::sdp::{Codec, Direction, SessionDescription};
use sip::{MediaType, Method, Response, StatusCode};

use super::inbound::{Caller, Parties, LEG_A};
use super::media::CallMedia;
use super::ring::Fork;
use super::{Call, CallCommand, CallEvent, CommandError, Ending, Envelope, Input, Signal};
use crate::calls::leg::{Leg, Role};
use crate::calls::sdp::{answer_preferring, codecs, side_media};
use crate::media::MediaEvent;
use crate::relay::SideMedia;

/// What the ringing call knows of its caller's media when picked up.
pub(super) struct Pickable<'a> {
    /// The caller's offer (`None`: a late offer, which cannot be picked up).
    pub offer: Option<&'a SessionDescription>,
    /// The answer already sent with early media, if any.
    pub early: Option<(SessionDescription, SideMedia)>,
    /// Our address and port for the caller.
    pub ip: std::net::IpAddr,
    /// Our RTP port for the caller.
    pub port: u16,
    /// Whether the media is not anchored (then there is nothing to link).
    pub direct: bool,
}

impl Call {
    /// Carries out a pickup while ringing: `None` when it was refused (the
    /// call rings on), else how the picked-up call ended.
    pub(super) async fn picked_up(
        &mut self,
        a: &Caller,
        p: &mut Parties,
        env: Envelope,
        forks: &[Fork],
        media: &mut CallMedia,
        how: Pickable<'_>,
    ) -> Option<Ending> {
        let CallCommand::PickUp(listen) = &env.command else {
            let _ = env.reply.send(Err(CommandError::Unsupported));
            return None;
        };
        let (Some(offer), false) = (how.offer, how.direct) else {
            let _ = env.reply.send(Err(CommandError::Unsupported));
            return None;
        };
        let answered = match how.early {
            Some(done) => Some(done),
            None => {
                let first = codecs(offer).first().copied().unwrap_or(Codec::Pcmu);
                answer_preferring(offer, how.ip, how.port, first, Direction::SendRecv, 1).ok().and_then(
                    |(sdp, n)| {
                        let mut m = side_media(offer)?;
                        m.codec = n.payload_type;
                        m.dtmf = n.telephone_event;
                        Some((sdp, m))
                    },
                )
            }
        };
        let Some((sdp_a, media_a)) = answered else {
            let _ = env.reply.send(Err(CommandError::Media("no codec in common with the caller".into())));
            return None;
        };
        let Ok(dialog) = Dialog::from_uas(&a.invite, &a.tag) else {
            let _ = env.reply.send(Err(CommandError::Unsupported));
            return None;
        };
        let _ = media.handle.disconnect(LEG_A).await;
        media.set(LEG_A, media_a, a.peer.addr.ip(), crate::calls::sdp::direction(offer)).await;
        if let Err(e) = self.listened(listen, media, &[LEG_A]).await {
            let _ = env.reply.send(Err(e));
            return None;
        }
        self.cancel_forks(forks, None);
        let mut leg = Leg::new(p.uuid_a.clone(), Role::Uas, dialog, a.peer);
        let ok = a.reply(&self.sw, StatusCode::OK).with_body(&MediaType::sdp(), sdp_a.to_bytes());
        leg.dialog.handle_sent_response(&ok);
        self.respond(a.id, ok);
        p.answer = Some(self.now());
        p.codec = super::inbound::codec_of(media_a.codec).encoding().to_owned();
        // The callee's leg never answered: only the caller's is left.
        self.admission.remove_leg(&p.uuid_b);
        p.uuid_b.clear();
        let codec = p.codec.clone();
        self.admission.update_legs(|l| l.codec = codec.clone());
        self.signal(Signal::Answered);
        self.publish("call.answered", serde_json::json!({"codec": p.codec, "pickedUp": true}));
        let _ = env.reply.send(Ok(()));
        Some(self.stay_picked(&mut leg, forks, media).await)
    }

    /// The picked-up call until it ends.
    async fn stay_picked(&mut self, leg: &mut Leg, forks: &[Fork], media: &mut CallMedia) -> Ending {
        loop {
            let event = match self.next(None, Some(&mut media.events)).await {
                Input::Sip(e) => e,
                Input::Hangup => {
                    self.bye(leg).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Media(MediaEvent::Inactive) => {
                    self.bye(leg).await;
                    return Ending::new(200, "MEDIA_TIMEOUT");
                }
                // The picking call went: its audio stopped.
                Input::Media(MediaEvent::PlaybackFinished { leg: l, .. }) if l == LEG_A => {
                    self.bye(leg).await;
                    return Ending::new(200, "NORMAL_CLEARING");
                }
                Input::Media(e) => {
                    self.media_event(&e);
                    continue;
                }
                Input::Command(env) => {
                    self.command(env, media, &[LEG_A]).await;
                    continue;
                }
                Input::Closed => return Ending::new(200, "NORMAL_CLEARING"),
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
                        Method::Info => {
                            let status = self.info(&request);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Invite | Method::Update => self.respond(id, super::ring::not_now(&request)),
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
                // A callee that answered as its CANCEL crossed: ACK and BYE.
                CallEvent::Response(id, resp) if resp.status.is_success() => {
                    if let Some(f) = forks.iter().find(|f| f.id == id) {
                        self.refuse_answer(f, &resp).await;
                    }
                }
                CallEvent::Stray(resp, peer) if resp.status.is_success() => {
                    match forks.iter().find(|f| f.request.head.call_id == resp.head.call_id) {
                        Some(f) => self.refuse_answer(f, &resp).await,
                        None => self.ack_and_bye_stray(&resp, peer).await,
                    }
                }
                _ => {}
            }
        }
    }
}
