//! One SIP leg of a call, as a UAS (it called us) or a UAC (we called it):
//! its dialog, where its requests go, its SDP version; and the pure pieces
//! legs need: DTMF carried in INFO, and answering an upstream digest
//! challenge.

pub mod auth;
pub mod dtmf;

use sip::dialog::Dialog;
use sip::transaction::Peer;
use sip::{Method, Request, Via};

/// Whether a leg called us or we called it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It sent the INVITE: we are its UAS.
    Uas,
    /// We sent the INVITE: we are its UAC.
    Uac,
}

/// A connected leg.
#[derive(Debug)]
pub struct Leg {
    /// Its id, as the channel list shows it.
    pub uuid: String,
    /// UAS or UAC.
    pub role: Role,
    /// Its dialog.
    pub dialog: Dialog,
    /// Where its requests go.
    pub peer: Peer,
    /// The version of the last SDP we sent it.
    pub sdp_version: u64,
}

impl Leg {
    /// A leg in `dialog` at `peer`.
    pub fn new(uuid: String, role: Role, dialog: Dialog, peer: Peer) -> Leg {
        Leg { uuid, role, dialog, peer, sdp_version: 1 }
    }

    /// The Call-ID of its dialog.
    pub fn call_id(&self) -> &str {
        &self.dialog.id().call_id
    }

    /// A request in its dialog, or `None` once the dialog ended.
    pub fn request(&mut self, method: Method, via: Via) -> Option<Request> {
        self.dialog.request(method, via).ok()
    }

    /// The next SDP version for an offer or answer we send it.
    pub fn next_version(&mut self) -> u64 {
        self.sdp_version += 1;
        self.sdp_version
    }
}
