//! An INVITE with a `Replaces` header (RFC 3891) for a leg of a talking
//! call: the switch routes it to the call that owns the named dialog
//! (481 when none does); the call authenticates the sender as an agent
//! of its workspace, checks the tags, answers the new caller
//! with the replaced leg's media endpoint and sends the old leg BYE.

use sip::sdp::{self, Direction};
use sip::transaction::{Peer, ServerTxId};
use sip::{HeaderName, MediaType, Request, Response, StatusCode};

use super::inbound::codec_of;
use super::join::Replaces;
use super::talk::Bridged;
use super::Call;
use crate::calls::leg::{Leg, Role};
use crate::calls::sdp::{answer_preferring, side_media};
use crate::signalling::auth::{authenticate_from, Challenge};

impl Call {
    /// Answers an INVITE with a `Replaces` header (RFC 3891) that reached
    /// this talking call: when it names leg A or B, the new caller takes
    /// that leg's place and media endpoint and the old leg is sent BYE;
    /// else 481 and nothing changes.
    pub(super) async fn replace_here(
        &mut self,
        s: &mut Bridged,
        id: ServerTxId,
        invite: &Request,
        peer: Peer,
    ) {
        // Only an agent of the call's workspace may take a leg over.
        let from_user = invite.head.from.uri.user().map(str::to_owned);
        let source = peer.addr.ip();
        match authenticate_from(&self.sw, invite, Challenge::Proxy, from_user.as_deref(), source).await {
            Ok(account) if account.workspace_id == self.workspace_id => {}
            Ok(_) => {
                self.respond(id, Response::for_request(invite, StatusCode::FORBIDDEN, None));
                return;
            }
            Err(resp) => {
                self.respond(id, *resp);
                return;
            }
        }
        let replaces = invite.head.headers.get(&replaces_header()).and_then(Replaces::parse);
        let matches = |leg: &Leg| {
            let d = leg.dialog.id();
            replaces.as_ref().is_some_and(|r| r.names(&d.call_id, &d.local_tag, &d.remote_tag))
        };
        let side = if matches(&s.a) {
            0
        } else if matches(&s.b) {
            1
        } else {
            self.respond(id, Response::for_request(invite, StatusCode::CALL_DOES_NOT_EXIST, None));
            return;
        };
        let (port, codec) = (s.media.port(s.ids[side]), s.media.codec(s.ids[1 - side]));
        let ip = self.media_ip(peer.addr);
        let offer = sdp::parse_bytes(&invite.body).ok();
        let answered = offer.as_ref().and_then(|o| {
            let (sdp, negotiated) =
                answer_preferring(o, ip, port, codec_of(codec), Direction::SendRecv, 1).ok()?;
            let mut media = side_media(o)?;
            media.codec = negotiated.payload_type;
            media.dtmf = negotiated.telephone_event;
            Some((sdp, media))
        });
        let Some((answer, media)) = answered else {
            let mut resp = Response::for_request(invite, StatusCode::NOT_ACCEPTABLE_HERE, None);
            resp.head
                .headers
                .push(HeaderName::Warning, "305 calliope \"an offer with PCMU or PCMA is required\"");
            self.respond(id, resp);
            return;
        };
        let tag = self.sw.tag();
        let Ok(dialog) = sip::dialog::Dialog::from_uas(invite, &tag) else {
            self.respond(id, Response::for_request(invite, StatusCode::BAD_REQUEST, None));
            return;
        };
        let old = if side == 0 { &s.a } else { &s.b };
        let mut leg = Leg::new(old.uuid.clone(), Role::Uas, dialog, peer);
        let mut ok = Response::for_request(invite, StatusCode::OK, Some(&tag));
        ok.head.headers.push(HeaderName::Contact, self.contact());
        sip::dialog::copy_record_route(invite, &mut ok);
        let ok = ok.with_body(&MediaType::sdp(), answer.to_bytes());
        leg.dialog.handle_sent_response(&ok);
        self.own(invite.head.call_id.clone());
        self.respond(id, ok);
        s.media.set(s.ids[side], media, peer.addr.ip(), Direction::SendRecv).await;
        let mut old = std::mem::replace(if side == 0 { &mut s.a } else { &mut s.b }, leg);
        self.bye(&mut old).await;
        self.publish("call.replaced", serde_json::json!({"leg": old.uuid}));
    }
}

/// The `Replaces` header's name.
pub fn replaces_header() -> HeaderName {
    HeaderName::Other("Replaces".to_owned())
}
