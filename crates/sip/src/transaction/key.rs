//! Matching messages to transactions (RFC 3261 17.1.3, 17.2.3) and ACKs to
//! the 2xx they acknowledge (13.3.1.4).

use crate::header::Via;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::written_len::WrittenLen;

/// What identifies a server transaction: the top Via's branch and sent-by
/// and the method (ACK counts as INVITE). Requests without an RFC 3261
/// branch get a branch made of the fields that RFC 2543 matching compares.
/// The tables index it by its keyed hash (see `hashed.rs`), so it lives
/// only while a message is matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ServerKey {
    branch: Box<str>,
    sent_by: Box<str>,
    method: Method,
}

impl ServerKey {
    /// The key of the transaction `request` belongs to; an ACK gets the key
    /// of its INVITE. `None` without a Via.
    pub(super) fn of_request(request: &Request) -> Option<ServerKey> {
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        ServerKey::with_method(request, method)
    }

    /// The key of the INVITE transaction that a CANCEL cancels (RFC 3261
    /// 9.2: the same matching, with the method INVITE).
    pub(super) fn invite_of_cancel(cancel: &Request) -> Option<ServerKey> {
        ServerKey::with_method(cancel, Method::Invite)
    }

    fn with_method(request: &Request, method: Method) -> Option<ServerKey> {
        let via = request.head.top_via()?;
        let branch = if via.has_rfc3261_branch() {
            via.branch().unwrap_or_default().into()
        } else {
            legacy_branch(request, via).into_boxed_str()
        };
        Some(ServerKey { branch, sent_by: sent_by(via).into_boxed_str(), method })
    }
}

/// The RFC 2543 fields (17.2.3): Request-URI, From tag, Call-ID, CSeq
/// number and the top Via's branch if any. The To tag is left out so that
/// the ACK of a non-2xx final matches its INVITE.
fn legacy_branch(request: &Request, via: &Via) -> String {
    let h = &request.head;
    format!(
        "2543|{}|{}|{}|{}|{}",
        request.uri,
        h.from_tag().unwrap_or_default(),
        h.call_id,
        h.cseq.seq,
        via.branch().unwrap_or_default()
    )
}

/// sent-by with the host in lower case.
fn sent_by(via: &Via) -> String {
    let mut text = String::with_capacity(via.sent_by.written_len());
    via.sent_by.write_into(&mut text);
    text.make_ascii_lowercase();
    text
}

/// What identifies a client transaction: the branch it put in its top Via
/// and the method (CSeq method for responses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    branch: Box<str>,
    method: Method,
}

impl ClientKey {
    /// The key of a request about to be sent; `None` without an RFC 3261
    /// branch in the top Via.
    pub(super) fn of_request(request: &Request) -> Option<ClientKey> {
        let via = request.head.top_via().filter(|v| v.has_rfc3261_branch())?;
        Some(ClientKey { branch: via.branch()?.into(), method: request.method.clone() })
    }

    /// The key of the client transaction a response belongs to.
    pub(super) fn of_response(response: &Response) -> Option<ClientKey> {
        let branch = response.head.branch()?.into();
        Some(ClientKey { branch, method: response.head.cseq.method.clone() })
    }
}

/// What ties an ACK to the 2xx it acknowledges: the dialog (Call-ID and
/// both tags) and the CSeq number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct AckKey {
    call_id: Box<str>,
    from_tag: Box<str>,
    to_tag: Box<str>,
    seq: u32,
}

impl AckKey {
    /// The key that the ACK for this 2xx will have.
    pub(super) fn of_response(response: &Response) -> AckKey {
        let h = &response.head;
        AckKey {
            call_id: h.call_id.as_str().into(),
            from_tag: h.from_tag().unwrap_or_default().into(),
            to_tag: h.to_tag().unwrap_or_default().into(),
            seq: h.cseq.seq,
        }
    }

    /// The key of an ACK.
    pub(super) fn of_ack(ack: &Request) -> AckKey {
        let h = &ack.head;
        AckKey {
            call_id: h.call_id.as_str().into(),
            from_tag: h.from_tag().unwrap_or_default().into(),
            to_tag: h.to_tag().unwrap_or_default().into(),
            seq: h.cseq.seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse_message;
    use crate::Message;

    fn request(method: &str, via: &str) -> Request {
        let text = format!(
            "{method} sip:bob@b.example SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@a.example>;tag=1\r\n\
To: <sip:bob@b.example>\r\nCall-ID: c\r\nCSeq: 7 {method}\r\n\r\n"
        );
        match parse_message(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_keys_follow_rfc3261_17_2_3() {
        let invite = ServerKey::of_request(&request("INVITE", "SIP/2.0/UDP PC.Example:5060;branch=z9hG4bKx"));
        let ack = ServerKey::of_request(&request("ACK", "SIP/2.0/UDP pc.example:5060;branch=z9hG4bKx"));
        assert_eq!(invite, ack, "ACK matches its INVITE; sent-by host without regard to case");
        let cancel = request("CANCEL", "SIP/2.0/UDP pc.example:5060;branch=z9hG4bKx");
        assert_ne!(ServerKey::of_request(&cancel), invite, "CANCEL is its own transaction");
        assert_eq!(ServerKey::invite_of_cancel(&cancel), invite);
        let other_port =
            ServerKey::of_request(&request("INVITE", "SIP/2.0/UDP pc.example:5070;branch=z9hG4bKx"));
        assert_ne!(other_port, invite, "sent-by is part of the key");
        let other_branch =
            ServerKey::of_request(&request("INVITE", "SIP/2.0/UDP pc.example:5060;branch=z9hG4bKy"));
        assert_ne!(other_branch, invite);
        let bye = ServerKey::of_request(&request("BYE", "SIP/2.0/UDP pc.example:5060;branch=z9hG4bKx"));
        assert_ne!(bye, invite, "the method is part of the key");
    }

    #[test]
    fn client_keys_need_an_rfc3261_branch() {
        assert!(ClientKey::of_request(&request("OPTIONS", "SIP/2.0/UDP h;branch=z9hG4bKq")).is_some());
        assert!(ClientKey::of_request(&request("OPTIONS", "SIP/2.0/UDP h;branch=old")).is_none());
        assert!(ClientKey::of_request(&request("OPTIONS", "SIP/2.0/UDP h")).is_none());
    }
}
