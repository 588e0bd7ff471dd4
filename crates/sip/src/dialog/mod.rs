//! Dialogs (RFC 3261 section 12): the state two user agents share for a
//! call: Call-ID and tags, CSeq numbers on both sides, the remote target
//! and the route set.
//!
//! A [`Dialog`] is created by the UAC from its request and a 1xx (with a To
//! tag) or 2xx response ([`Dialog::from_uac`]), or by the UAS from the
//! request and the tag it chose ([`Dialog::from_uas`]). It then builds the
//! requests sent in it ([`Dialog::request`], [`Dialog::ack_for_2xx`]) and
//! checks those received ([`Dialog::handle_request`]: CSeq order, target
//! refresh), and follows the responses ([`Dialog::handle_response`]: early
//! to confirmed, remote target updates, 481/408 ending it).
//!
//! Values that must be random (branches, tags) come from the caller. A UAS
//! copies the request's Record-Route into its dialog-creating responses
//! with [`copy_record_route`]. Find the dialog of an incoming message with
//! [`DialogId::of_request`] and [`DialogId::of_response`].
//!
//! Not covered: the `secure` flag (sips) and authentication headers, which
//! the TU adds to requests itself.

mod create;
mod error;
mod request;
mod update;

pub use error::DialogError;

use crate::address::NameAddr;
use crate::header::HeaderName;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::uri::Uri;

/// What identifies a dialog, as seen from this side: Call-ID, our tag and
/// the peer's tag (empty when an RFC 2543 peer sent none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag (From when we sent the dialog-creating request, To when we
    /// received it).
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog a received request belongs to (we are its UAS: our tag
    /// is in To); `None` when To has no tag, i.e. the request is not inside
    /// a dialog.
    pub fn of_request(request: &Request) -> Option<DialogId> {
        let h = &request.head;
        Some(DialogId {
            call_id: h.call_id.clone(),
            local_tag: h.to_tag()?.to_owned(),
            remote_tag: h.from_tag().unwrap_or_default().to_owned(),
        })
    }

    /// The dialog a received response belongs to (we sent the request: our
    /// tag is in From); `None` when To has no tag.
    pub fn of_response(response: &Response) -> Option<DialogId> {
        let h = &response.head;
        Some(DialogId {
            call_id: h.call_id.clone(),
            local_tag: h.from_tag().unwrap_or_default().to_owned(),
            remote_tag: h.to_tag()?.to_owned(),
        })
    }
}

/// Where a dialog stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response: the call is not answered yet.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
    /// Ended: by a non-2xx final response to the INVITE of an early
    /// dialog, a 481 or 408 to a request inside it, or [`Dialog::terminate`].
    Terminated,
}

/// The state of one dialog (RFC 3261 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    local: NameAddr,
    remote: NameAddr,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    remote_target: Uri,
    route_set: Vec<NameAddr>,
    local_contact: Option<NameAddr>,
    state: DialogState,
}

impl Dialog {
    /// Call-ID and tags.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Early, confirmed or terminated.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Our address with our tag: From of the requests we send.
    pub fn local_uri(&self) -> &NameAddr {
        &self.local
    }

    /// The peer's address with its tag: To of the requests we send.
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote
    }

    /// The CSeq number of the last request we sent (`None` for a UAS that
    /// has sent none yet).
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq number received from the peer (`None` for a UAC
    /// that has received no request yet).
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Where requests in the dialog go: the peer's latest Contact.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The proxies that requests in the dialog traverse, first hop first.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// Our Contact, put into target refresh requests (re-INVITE, UPDATE,
    /// SUBSCRIBE, NOTIFY, REFER) built by [`Dialog::request`].
    pub fn local_contact(&self) -> Option<&NameAddr> {
        self.local_contact.as_ref()
    }

    /// Sets our Contact (a UAS sets the one of its dialog-creating
    /// response; a UAC's comes from its request).
    pub fn set_local_contact(&mut self, contact: NameAddr) {
        self.local_contact = Some(contact);
    }

    /// Ends the dialog (after BYE, say): requests can no longer be built.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// The URI the next request goes to first: the first route, or the
    /// remote target when the route set is empty. The TU resolves it to a
    /// peer (RFC 3263).
    pub fn next_hop(&self) -> &Uri {
        self.route_set.first().map_or(&self.remote_target, |r| &r.uri)
    }
}

/// True for the methods that refresh the remote target (RFC 3261 12.2,
/// RFC 3311, RFC 6665): INVITE, UPDATE, SUBSCRIBE, NOTIFY, REFER.
pub fn is_target_refresh(method: &Method) -> bool {
    matches!(method, Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer)
}

/// Copies the Record-Route values of `request` into `response`, in order
/// (RFC 3261 12.1.1): a UAS does this for every response that creates a
/// dialog (1xx with a To tag, 2xx), so that the UAC learns the route set.
pub fn copy_record_route(request: &Request, response: &mut Response) {
    response.head.headers.remove(&HeaderName::RecordRoute);
    for value in request.head.headers.get_all(&HeaderName::RecordRoute) {
        response.head.headers.push(HeaderName::RecordRoute, value);
    }
}
