//! Building requests inside a dialog (RFC 3261 12.2.1.1) and the ACK for a
//! 2xx (13.2.2.4).

use super::{is_target_refresh, Dialog, DialogError, DialogState};
use crate::address::NameAddr;
use crate::header::{CSeq, HeaderName, Via};
use crate::message::{Head, Request, Response};
use crate::method::Method;
use crate::uri::Uri;

/// Largest CSeq number (RFC 3261 8.1.1.5: below 2**31).
const MAX_SEQ: u32 = (1 << 31) - 1;

impl Dialog {
    /// A new request in the dialog: the next local CSeq number, From/To
    /// with both tags, the Call-ID, `via` on top (the caller's, with a
    /// fresh branch), Max-Forwards 70, Request-URI and Route from the
    /// remote target and route set (loose or strict routing), and our
    /// Contact for target refresh requests. A UAS's first request uses
    /// CSeq 1. ACK and CANCEL are refused: see [`Dialog::ack_for_2xx`] and
    /// [`Request::cancel`].
    pub fn request(&mut self, method: Method, via: Via) -> Result<Request, DialogError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(DialogError::Method(method));
        }
        if self.state == DialogState::Terminated {
            return Err(DialogError::Terminated);
        }
        let seq = match self.local_seq {
            None => 1,
            Some(s) if s < MAX_SEQ => s + 1,
            Some(_) => return Err(DialogError::CSeqExhausted),
        };
        self.local_seq = Some(seq);
        let mut request = self.build(method.clone(), seq, via);
        if is_target_refresh(&method) {
            if let Some(contact) = &self.local_contact {
                request.head.headers.push(HeaderName::Contact, contact.to_string());
            }
        }
        Ok(request)
    }

    /// The ACK for a 2xx to an INVITE sent in (or creating) this dialog:
    /// built like any request in the dialog, with the INVITE's CSeq number
    /// and a fresh branch in `via`. Call [`Dialog::handle_response`] with
    /// the 2xx first, so that its Contact and Record-Route are used. The
    /// TU adds any body and the INVITE's credentials.
    pub fn ack_for_2xx(&self, response: &Response, via: Via) -> Request {
        self.build(Method::Ack, response.head.cseq.seq, via)
    }

    fn build(&self, method: Method, seq: u32, via: Via) -> Request {
        let (uri, routes) = self.request_uri_and_routes();
        let cseq = CSeq { seq, method: method.clone() };
        let mut head = Head::new(self.local.clone(), self.remote.clone(), self.id.call_id.clone(), cseq);
        head.via.push(via);
        head.headers.push(HeaderName::MaxForwards, "70");
        for route in routes {
            head.headers.push(HeaderName::Route, route.to_string());
        }
        Request { method, uri, head, body: Vec::new() }
    }

    /// RFC 3261 12.2.1.1: with an empty route set or a loose router first,
    /// the Request-URI is the remote target and Route the route set; with a
    /// strict router first, the Request-URI is that router and the remote
    /// target goes last in Route.
    fn request_uri_and_routes(&self) -> (Uri, Vec<NameAddr>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        let strict = first.uri.as_sip().is_some_and(|u| !u.lr());
        if !strict {
            return (self.remote_target.clone(), self.route_set.clone());
        }
        let mut uri = first.uri.clone();
        if let Uri::Sip(u) = &mut uri {
            // Not allowed in a Request-URI (RFC 3261 19.1.1).
            u.params.remove("method");
            u.headers.clear();
        }
        let mut routes: Vec<NameAddr> = self.route_set.iter().skip(1).cloned().collect();
        routes.push(NameAddr::new(self.remote_target.clone()));
        (uri, routes)
    }
}
