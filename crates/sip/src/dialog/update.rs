//! Following a dialog: requests received in it (CSeq order, target
//! refresh, RFC 3261 12.2.2) and responses received or sent (early to
//! confirmed, remote target updates, 481/408, 12.1.2 and 12.2.1.2).

use super::create::contact;
use super::{is_target_refresh, Dialog, DialogError, DialogState};
use crate::message::{Request, Response};
use crate::method::Method;
use crate::status::StatusCode;

impl Dialog {
    /// A request arrived in this dialog. Refuses one of another dialog
    /// (answer 481), one whose CSeq is lower than the last (answer 500,
    /// see [`DialogError::status`]) and a target refresh with a bad
    /// Contact (400); otherwise records its CSeq and, for a target refresh
    /// (re-INVITE, UPDATE, ...), takes its Contact as the new remote
    /// target. ACK and CANCEL are not checked against the CSeq order.
    /// Nothing changes when an error is returned.
    pub fn handle_request(&mut self, request: &Request) -> Result<(), DialogError> {
        let h = &request.head;
        if h.call_id != self.id.call_id
            || h.to_tag() != Some(self.id.local_tag.as_str())
            || h.from_tag().unwrap_or_default() != self.id.remote_tag
        {
            return Err(DialogError::NotThisDialog);
        }
        if matches!(request.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let seq = h.cseq.seq;
        if let Some(last) = self.remote_seq.filter(|last| seq < *last) {
            return Err(DialogError::CSeqOutOfOrder { got: seq, last });
        }
        let target = if is_target_refresh(&request.method) { contact(h)? } else { None };
        self.remote_seq = Some(seq);
        if let Some(target) = target {
            self.remote_target = target;
        }
        Ok(())
    }

    /// A response arrived to a request we sent in (or to create) this
    /// dialog. A 1xx to the INVITE of an early dialog updates the remote
    /// target; its 2xx confirms the dialog and recomputes the route set
    /// and remote target (RFC 3261 13.2.2.4); a 2xx to a target refresh
    /// updates the remote target; a non-2xx final to the INVITE of an
    /// early dialog, or a 481 or 408 to anything, terminates it. Refuses a
    /// response of another dialog or with bad headers, changing nothing.
    pub fn handle_response(&mut self, response: &Response) -> Result<(), DialogError> {
        let h = &response.head;
        if h.call_id != self.id.call_id
            || h.from_tag().unwrap_or_default() != self.id.local_tag
            || h.to_tag() != Some(self.id.remote_tag.as_str())
        {
            return Err(DialogError::NotThisDialog);
        }
        let status = response.status;
        let invite = h.cseq.method == Method::Invite;
        if status == StatusCode::CALL_DOES_NOT_EXIST || status == StatusCode::REQUEST_TIMEOUT {
            self.state = DialogState::Terminated;
            return Ok(());
        }
        match self.state {
            DialogState::Early if invite && status.is_success() => {
                let target = contact(h)?;
                let mut route_set = h.record_routes()?;
                route_set.reverse();
                self.route_set = route_set;
                if let Some(target) = target {
                    self.remote_target = target;
                }
                self.state = DialogState::Confirmed;
            }
            DialogState::Early if invite && status.is_final() => self.state = DialogState::Terminated,
            DialogState::Early if invite && status.code() > 100 => {
                if let Some(target) = contact(h)? {
                    self.remote_target = target;
                }
            }
            DialogState::Confirmed if status.is_success() && is_target_refresh(&h.cseq.method) => {
                if let Some(target) = contact(h)? {
                    self.remote_target = target;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A UAS sent `response` to the request that created this dialog: a
    /// 2xx confirms an early dialog, a non-2xx final ends it.
    pub fn handle_sent_response(&mut self, response: &Response) {
        if self.state != DialogState::Early || response.head.cseq.method != Method::Invite {
            return;
        }
        if response.status.is_success() {
            self.state = DialogState::Confirmed;
        } else if response.status.is_final() {
            self.state = DialogState::Terminated;
        }
    }
}
