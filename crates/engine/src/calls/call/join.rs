//! Attended transfer (REFER with `Replaces`, RFC 3515 and 3891): the
//! transferor (Alice) talks to Bob in one call and to Carol in another,
//! then asks to replace her leg in Carol's call by Bob. The call that got
//! the REFER finds the other call through the switch by the Call-ID the
//! `Replaces` names ([`Cmd::Deliver`]), which checks the tags against its
//! leg, sends that leg BYE and answers with its media endpoint for it.
//! The first call then re-INVITEs Bob towards that endpoint and points
//! the endpoint at Bob's media: Bob and Carol hear each other through the
//! second call's media session. Each call keeps the one dialog left to it
//! and tells its partner when it ends, so a BYE from either reaches both.

use std::net::IpAddr;

use sip::sdp::{self, Codec, Direction};
use sip::transaction::{ServerTxId, TxId};
use sip::{HeaderName, MediaType, Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::inbound::codec_of;
use super::talk::Bridged;
use super::{unsupported, Call, Ending, Input};
use crate::calls::leg::Leg;
use crate::calls::sdp::{local, side_media};
use crate::media::{LegId, MediaEvent, MediaHandle, RemoteMedia};
use crate::relay::SideMedia;
use crate::signalling::core::{CallEvent, Cmd, Owner};

/// The hangup cause of calls that ended in an attended transfer.
pub const TRANSFERRED: &str = "ATTENDED_TRANSFER";

/// The dialog a `Replaces` names (RFC 3891 section 6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// Its Call-ID.
    pub call_id: String,
    /// Its `to-tag`.
    pub to_tag: String,
    /// Its `from-tag`.
    pub from_tag: String,
}

impl Replaces {
    /// Parses a `Replaces` header value (`call-id;to-tag=x;from-tag=y`);
    /// `None` when the Call-ID or a tag is missing.
    pub fn parse(value: &str) -> Option<Replaces> {
        let mut parts = value.split(';').map(str::trim);
        let call_id = parts.next().filter(|c| !c.is_empty())?.to_owned();
        let (mut to_tag, mut from_tag) = (None, None);
        for p in parts {
            let (name, v) = p.split_once('=').unwrap_or((p, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "to-tag" => to_tag = Some(v.trim().to_owned()),
                "from-tag" => from_tag = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        let to_tag = to_tag.filter(|t| !t.is_empty())?;
        let from_tag = from_tag.filter(|t| !t.is_empty())?;
        Some(Replaces { call_id, to_tag, from_tag })
    }

    /// The `Replaces` in a Refer-To URI's headers
    /// (`<sip:carol@host?Replaces=id%3Bto-tag%3Dx%3Bfrom-tag%3Dy>`).
    pub fn from_refer_to(value: &str) -> Option<Replaces> {
        let lower = value.to_ascii_lowercase();
        let at = lower.find("replaces=")? + "replaces=".len();
        let rest = &value[at..];
        let end = rest.find(['&', '>']).unwrap_or(rest.len());
        Replaces::parse(&percent_decode(&rest[..end])?)
    }

    /// Whether it names the dialog with Call-ID `call_id` and these tags,
    /// whichever side each tag was written from (phones differ).
    pub fn names(&self, call_id: &str, local_tag: &str, remote_tag: &str) -> bool {
        self.call_id == call_id
            && ((self.to_tag == local_tag && self.from_tag == remote_tag)
                || (self.to_tag == remote_tag && self.from_tag == local_tag))
    }
}

/// `%XX` escapes decoded; `None` when they are broken or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A request to the call that owns the dialog a `Replaces` names.
#[derive(Debug)]
pub struct Join {
    /// The dialog to replace.
    pub replaces: Replaces,
    /// Where the asking call hears of the end of the joined call.
    pub partner: Owner,
    /// The answer: the media endpoint the replaced leg used, or `None`
    /// when no leg of the call matches.
    pub reply: oneshot::Sender<Option<Joined>>,
}

/// The media endpoint a replaced leg leaves for the one replacing it.
#[derive(Debug)]
pub struct Joined {
    /// The session's handle.
    pub handle: MediaHandle,
    /// The endpoint's leg id in that session.
    pub leg: LegId,
    /// Its RTP port.
    pub port: u16,
    /// The codec the endpoint uses.
    pub codec: u8,
    /// Where the end of the call that answered is told.
    pub partner: Owner,
}

impl Call {
    /// Carries out a REFER with `replaces` that leg A (`from_a`) or B
    /// sent; `Some` when the call ended (joined or not).
    pub(super) async fn attended(
        &mut self,
        s: &mut Bridged,
        from_a: bool,
        id: ServerTxId,
        request: &Request,
        replaces: Replaces,
    ) -> Option<Ending> {
        self.respond(
            id,
            Response::for_request(request, StatusCode::new(202).unwrap_or(StatusCode::OK), None),
        );
        let side = if from_a { 0 } else { 1 };
        self.notify_refer(if from_a { &mut s.a } else { &mut s.b }, "100 Trying", false).await;
        self.publish("call.transfer", serde_json::json!({"replaces": replaces.call_id, "status": "trying"}));
        let own_legs = [s.a.call_id(), s.b.call_id()];
        let joined = if own_legs.contains(&replaces.call_id.as_str()) {
            None
        } else {
            self.ask_join(replaces.clone()).await
        };
        let Some(joined) = joined else {
            return self.attended_failed(s, from_a, 481, "Call/Transaction Does Not Exist").await;
        };
        // The transferee (the other side) is sent to the joined call's
        // endpoint.
        let transferee = if from_a { &mut s.b } else { &mut s.a };
        match self.repoint(transferee, &joined).await {
            Ok(media) => {
                let ip = transferee.peer.addr.ip();
                set_remote(&joined.handle, joined.leg, media, ip).await;
            }
            Err(status) => {
                // The other call gave up its leg already: end it, and
                // this one.
                tracing::info!(status, "the transferee refused to be moved to the joined call");
                let _ = joined.partner.send(CallEvent::PartnerLeft);
                self.notify_refer(if from_a { &mut s.a } else { &mut s.b }, "503 Service Unavailable", true)
                    .await;
                self.bye(&mut s.a).await;
                self.bye(&mut s.b).await;
                return Some(Ending::new(200, TRANSFERRED));
            }
        }
        let transferor = if side == 0 { &mut s.a } else { &mut s.b };
        self.notify_refer(transferor, "200 OK", true).await;
        self.bye(transferor).await;
        self.admission.remove_leg(&transferor.uuid);
        self.publish(
            "call.transfer",
            serde_json::json!({"replaces": replaces.call_id, "status": "completed"}),
        );
        let (leg, events) = if from_a { (&mut s.b, None) } else { (&mut s.a, None) };
        Some(self.linked(leg, joined.partner, events).await)
    }

    /// The final NOTIFY of a failed attended transfer; the call goes on.
    async fn attended_failed(
        &mut self,
        s: &mut Bridged,
        from_a: bool,
        status: u16,
        reason: &str,
    ) -> Option<Ending> {
        let line = format!("{status} {reason}");
        self.notify_refer(if from_a { &mut s.a } else { &mut s.b }, &line, true).await;
        self.publish("call.transfer", serde_json::json!({"status": "failed", "code": status}));
        None
    }

    /// Asks the call owning the named dialog to give up that leg.
    async fn ask_join(&self, replaces: Replaces) -> Option<Joined> {
        let (reply, answer) = oneshot::channel();
        let call_id = replaces.call_id.clone();
        let join = Join { replaces, partner: self.me.clone(), reply };
        let _ = self.cmds.send(Cmd::Deliver(call_id, CallEvent::Join(Box::new(join))));
        tokio::time::timeout(std::time::Duration::from_secs(5), answer).await.ok()?.ok()?
    }

    /// Re-INVITEs `leg` towards the joined endpoint; its media on success,
    /// else the failure status.
    async fn repoint(&mut self, leg: &mut Leg, joined: &Joined) -> Result<SideMedia, u16> {
        self.reinvite(leg, joined.port, joined.codec).await
    }

    /// Re-INVITEs `leg` with a sendrecv offer of `codec` at our `port`
    /// (which also takes it off hold); its media on success, else the
    /// failure status.
    async fn reinvite(&mut self, leg: &mut Leg, port: u16, codec: u8) -> Result<SideMedia, u16> {
        let ip = self.media_ip(leg.peer.addr);
        let version = leg.next_version();
        let codec: Codec = codec_of(codec);
        let offer = sdp::offer(&local(ip, port, vec![codec], Direction::SendRecv, version));
        let mut invite = leg.request(Method::Invite, self.via(leg.peer)).ok_or(481u16)?;
        invite.head.headers.push(HeaderName::Contact, self.contact());
        let invite = invite.with_body(&MediaType::sdp(), offer.to_bytes());
        let tx = self.send(invite, leg.peer).await.ok_or(503u16)?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(32);
        loop {
            let event = tokio::select! {
                e = self.events.recv() => e.ok_or(503u16)?,
                _ = tokio::time::sleep_until(deadline) => return Err(408),
            };
            match event {
                CallEvent::Response(rid, resp) if rid == tx => {
                    let code = resp.status.code();
                    if code < 200 {
                        continue;
                    }
                    if code >= 300 {
                        return Err(code);
                    }
                    let _ = leg.dialog.handle_response(&resp);
                    let ack = leg.dialog.ack_for_2xx(&resp, self.via(leg.peer));
                    let _ = self.cmds.send(Cmd::Ack(tx, ack, leg.peer));
                    return sdp::parse_bytes(&resp.body).ok().as_ref().and_then(side_media).ok_or(488);
                }
                CallEvent::Timeout(TxId::Client(rid)) if rid == tx => return Err(408),
                CallEvent::Request { id, request, .. } => {
                    let status = if request.method == Method::Bye {
                        if request.head.call_id == leg.call_id() {
                            self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            return Err(487);
                        }
                        StatusCode::OK
                    } else {
                        StatusCode::new(491).unwrap_or(StatusCode::BUSY_HERE)
                    };
                    self.respond(id, Response::for_request(&request, status, None));
                }
                _ => {}
            }
        }
    }

    /// Answers a [`Join`] from another call while this one talks: when it
    /// names leg A or B, that leg is sent BYE and the call goes on linked
    /// with the other; `Some` once the linked call ended.
    pub(super) async fn join_here(&mut self, s: &mut Bridged, join: Join) -> Option<Ending> {
        let matches = |leg: &Leg| {
            let d = leg.dialog.id();
            join.replaces.names(&d.call_id, &d.local_tag, &d.remote_tag)
        };
        let side = if matches(&s.a) {
            0
        } else if matches(&s.b) {
            1
        } else {
            let _ = join.reply.send(None);
            return None;
        };
        let leg_id = s.ids[side];
        let joined = Joined {
            handle: s.media.handle.clone(),
            leg: leg_id,
            port: s.media.port(leg_id),
            codec: s.media.codec(s.ids[1 - side]),
            partner: self.me.clone(),
        };
        if join.reply.send(Some(joined)).is_err() {
            return None;
        }
        let (replaced, kept) = if side == 0 { (&mut s.a, &mut s.b) } else { (&mut s.b, &mut s.a) };
        self.bye(replaced).await;
        self.admission.remove_leg(&replaced.uuid);
        // The kept leg may have been held by the transferor: take it off
        // hold (phones hold the consultation call before transferring).
        let kept_id = s.ids[1 - side];
        let (port, codec) = (s.media.port(kept_id), s.media.codec(kept_id));
        match self.reinvite(kept, port, codec).await {
            Ok(media) => s.media.set(kept_id, media, kept.peer.addr.ip(), Direction::SendRecv).await,
            Err(status) => tracing::debug!(status, "the kept leg refused to be taken off hold"),
        }
        Some(self.linked(kept, join.partner, Some(&mut s.media.events)).await)
    }

    /// The call after an attended transfer: one dialog left, its media
    /// elsewhere or here; it ends when either this leg or the partner
    /// call ends.
    async fn linked(
        &mut self,
        leg: &mut Leg,
        partner: Owner,
        mut media: Option<&mut mpsc::Receiver<MediaEvent>>,
    ) -> Ending {
        let ending = Ending::new(200, TRANSFERRED);
        loop {
            match self.next(None, media.as_deref_mut()).await {
                Input::Sip(CallEvent::Request { id, request, .. }) => {
                    if request.head.call_id != leg.call_id() {
                        let status = if request.method == Method::Bye {
                            StatusCode::OK
                        } else {
                            StatusCode::CALL_DOES_NOT_EXIST
                        };
                        self.respond(id, Response::for_request(&request, status, None));
                        continue;
                    }
                    if !self.accepts(&mut leg.dialog, id, &request) {
                        continue;
                    }
                    match request.method {
                        Method::Bye => {
                            self.respond(id, Response::for_request(&request, StatusCode::OK, None));
                            let _ = partner.send(CallEvent::PartnerLeft);
                            return ending;
                        }
                        Method::Info => {
                            let status = self.info(&request);
                            self.respond(id, Response::for_request(&request, status, None));
                        }
                        Method::Invite | Method::Update | Method::Refer => {
                            // Offers are not carried across the two calls.
                            let mut resp =
                                Response::for_request(&request, StatusCode::NOT_ACCEPTABLE_HERE, None);
                            resp.head.headers.push(
                                HeaderName::Warning,
                                "399 calliope \"no changes after an attended transfer\"",
                            );
                            self.respond(id, resp);
                        }
                        _ => self.respond(id, Response::for_request(&request, StatusCode::OK, None)),
                    }
                }
                Input::Sip(CallEvent::PartnerLeft) => {
                    self.bye(leg).await;
                    return ending;
                }
                Input::Sip(CallEvent::Join(j)) => {
                    let _ = j.reply.send(None);
                }
                Input::Sip(_) | Input::Timer => {}
                Input::Media(MediaEvent::Inactive) | Input::Hangup => {
                    self.bye(leg).await;
                    let _ = partner.send(CallEvent::PartnerLeft);
                    return ending;
                }
                Input::Media(e) => self.media_event(&e),
                Input::Command(env) => unsupported(env),
                Input::Closed => return ending,
            }
        }
    }
}

/// Points `leg` of another call's media session at `media`.
async fn set_remote(handle: &MediaHandle, leg: LegId, media: SideMedia, sip_peer: IpAddr) {
    let remote = RemoteMedia {
        dtmf: media.dtmf,
        signalling_ip: Some(sip_peer),
        direction: crate::media::Direction::SendRecv,
        ..RemoteMedia::new(media.remote, media.codec)
    };
    if let Err(e) = handle.set_remote(leg, remote).await {
        tracing::debug!(error = %e, "the joined call's media refused the transferee's SDP");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_from_a_header_and_from_a_refer_to() {
        let r = Replaces::parse("abc@host;to-tag=1;from-tag=2").expect("header");
        assert_eq!(r, Replaces { call_id: "abc@host".into(), to_tag: "1".into(), from_tag: "2".into() });
        let refer_to = "<sip:2003@calliope?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>";
        assert_eq!(Replaces::from_refer_to(refer_to), Some(r.clone()));
        let with_more = "<sip:2003@calliope?Replaces=abc@host%3bfrom-tag%3d2%3bto-tag%3d1&Require=replaces>";
        assert_eq!(Replaces::from_refer_to(with_more), Some(r.clone()));
        assert!(r.names("abc@host", "1", "2") && r.names("abc@host", "2", "1"), "either side's view");
        assert!(!r.names("abc@host", "1", "3") && !r.names("other", "1", "2"));
        assert_eq!(Replaces::parse("abc;to-tag=1"), None, "a tag is missing");
        assert_eq!(Replaces::parse(";to-tag=1;from-tag=2"), None, "no Call-ID");
        assert_eq!(Replaces::from_refer_to("<sip:2003@calliope?Replaces=abc%4>"), None, "broken escape");
        assert_eq!(Replaces::from_refer_to("<sip:2003@calliope>"), None);
    }
}
