//! Creating a dialog: as the UAC from a response, as the UAS from a
//! request (RFC 3261 12.1).

use super::{Dialog, DialogError, DialogId, DialogState};
use crate::address::NameAddr;
use crate::message::{Head, Request, Response};
use crate::uri::Uri;

impl Dialog {
    /// The UAC's dialog for `request` (which we sent) and `response`: a
    /// 101-199 with a To tag makes it early, a 2xx confirmed (RFC 3261
    /// 12.1.2). The route set is the response's Record-Route reversed; the
    /// remote target its Contact (the request's Request-URI when it has
    /// none). Each fork's response (another To tag) makes another dialog.
    pub fn from_uac(request: &Request, response: &Response) -> Result<Dialog, DialogError> {
        let status = response.status.code();
        if !(101..300).contains(&status) {
            return Err(DialogError::NotDialogCreating);
        }
        let remote_tag = response.head.to_tag().ok_or(DialogError::NotDialogCreating)?;
        let local_tag = request.head.from_tag().unwrap_or_default();
        if response.head.call_id != request.head.call_id
            || response.head.from_tag().unwrap_or_default() != local_tag
        {
            return Err(DialogError::NotThisDialog);
        }
        let mut route_set = response.head.record_routes()?;
        route_set.reverse();
        let remote_target = contact(&response.head)?.unwrap_or_else(|| request.uri.clone());
        let local_contact = request.head.contacts()?.into_iter().find_map(|c| c.addr().cloned());
        Ok(Dialog {
            id: DialogId {
                call_id: request.head.call_id.clone(),
                local_tag: local_tag.to_owned(),
                remote_tag: remote_tag.to_owned(),
            },
            local: request.head.from.clone(),
            remote: response.head.to.clone(),
            local_seq: Some(request.head.cseq.seq),
            remote_seq: None,
            remote_target,
            route_set,
            local_contact,
            state: if status < 200 { DialogState::Early } else { DialogState::Confirmed },
        })
    }

    /// The UAS's dialog for a received dialog-creating `request` (no To
    /// tag yet) with the tag we chose (random, from the caller), early
    /// until [`Dialog::handle_sent_response`] sees our 2xx (RFC 3261
    /// 12.1.1). The route set is the request's Record-Route in order; the
    /// remote target its Contact, which must be there.
    pub fn from_uas(request: &Request, local_tag: &str) -> Result<Dialog, DialogError> {
        if request.head.to_tag().is_some() {
            return Err(DialogError::NotDialogCreating);
        }
        let remote_target = contact(&request.head)?.ok_or(DialogError::NoContact)?;
        let route_set = request.head.record_routes()?;
        let mut local = request.head.to.clone();
        local.set_tag(local_tag);
        Ok(Dialog {
            id: DialogId {
                call_id: request.head.call_id.clone(),
                local_tag: local_tag.to_owned(),
                remote_tag: request.head.from_tag().unwrap_or_default().to_owned(),
            },
            local,
            remote: request.head.from.clone(),
            local_seq: None,
            remote_seq: Some(request.head.cseq.seq),
            remote_target,
            route_set,
            local_contact: None,
            state: DialogState::Early,
        })
    }
}

/// The URI of the first Contact that is an address (not `*`).
pub(super) fn contact(head: &Head) -> Result<Option<Uri>, DialogError> {
    Ok(head.contacts()?.into_iter().find_map(|c| c.addr().map(|a: &NameAddr| a.uri.clone())))
}
