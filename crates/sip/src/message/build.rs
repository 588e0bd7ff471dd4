//! Building requests and responses.

use super::{Head, Request, Response};
use crate::address::NameAddr;
use crate::header::{CSeq, HeaderName, Headers, MediaType};
use crate::method::Method;
use crate::status::StatusCode;
use crate::uri::Uri;

impl Head {
    /// A head with no Via and no other headers.
    pub fn new(from: NameAddr, to: NameAddr, call_id: impl Into<String>, cseq: CSeq) -> Head {
        Head { via: Vec::new(), from, to, call_id: call_id.into(), cseq, headers: Headers::new() }
    }
}

impl Request {
    /// A new request (RFC 3261 8.1.1) with `Max-Forwards: 70` and no Via:
    /// whoever sends it puts its Via on top with [`Request::with_via`].
    pub fn new(
        method: Method,
        uri: Uri,
        from: NameAddr,
        to: NameAddr,
        call_id: impl Into<String>,
        seq: u32,
    ) -> Request {
        let cseq = CSeq { seq, method: method.clone() };
        let mut head = Head::new(from, to, call_id, cseq);
        head.headers.push(HeaderName::MaxForwards, "70");
        Request { method, uri, head, body: Vec::new() }
    }

    /// Puts `via` on top of the Via list.
    pub fn with_via(mut self, via: crate::header::Via) -> Request {
        self.head.via.insert(0, via);
        self
    }

    /// Appends a header.
    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Request {
        self.head.headers.push(name, value);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn with_body(mut self, content_type: &MediaType, body: impl Into<Vec<u8>>) -> Request {
        self.head.headers.set(HeaderName::ContentType, content_type.to_string());
        self.body = body.into();
        self
    }

    /// The CANCEL for this (INVITE) request (RFC 3261 9.1): same
    /// Request-URI, Call-ID, From, To and CSeq number, only the top Via,
    /// the same Route set.
    pub fn cancel(&self) -> Request {
        self.hop_by_hop_copy(Method::Cancel, self.head.to.clone())
    }

    /// The ACK for a non-2xx final `response` to this INVITE (RFC 3261
    /// 17.1.1.3): like CANCEL, but To comes from the response (with its tag).
    pub fn ack_for(&self, response: &Response) -> Request {
        self.hop_by_hop_copy(Method::Ack, response.head.to.clone())
    }

    fn hop_by_hop_copy(&self, method: Method, to: NameAddr) -> Request {
        let cseq = CSeq { seq: self.head.cseq.seq, method: method.clone() };
        let mut head = Head::new(self.head.from.clone(), to, self.head.call_id.clone(), cseq);
        head.via = self.head.via.first().cloned().into_iter().collect();
        head.headers.push(HeaderName::MaxForwards, "70");
        for route in self.head.headers.get_all(&HeaderName::Route) {
            head.headers.push(HeaderName::Route, route);
        }
        Request { method, uri: self.uri.clone(), head, body: Vec::new() }
    }
}

impl Response {
    /// A response with the standard reason phrase.
    pub fn new(status: StatusCode, head: Head) -> Response {
        Response { status, reason: status.reason().to_owned(), head, body: Vec::new() }
    }

    /// A response to `request` (RFC 3261 8.2.6): Via, From, To, Call-ID and
    /// CSeq copied; `to_tag` added to To when To has no tag yet and the
    /// status is not 100; Timestamp copied into a 100.
    pub fn for_request(request: &Request, status: StatusCode, to_tag: Option<&str>) -> Response {
        let r = &request.head;
        let mut head = Head::new(r.from.clone(), r.to.clone(), r.call_id.clone(), r.cseq.clone());
        head.via = r.via.clone();
        if let Some(tag) = to_tag {
            if head.to.tag().is_none() && status != StatusCode::TRYING {
                head.to.set_tag(tag);
            }
        }
        if status == StatusCode::TRYING {
            if let Some(ts) = r.headers.get(&HeaderName::Timestamp) {
                head.headers.push(HeaderName::Timestamp, ts);
            }
        }
        Response::new(status, head)
    }

    /// Appends a header.
    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Response {
        self.head.headers.push(name, value);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn with_body(mut self, content_type: &MediaType, body: impl Into<Vec<u8>>) -> Response {
        self.head.headers.set(HeaderName::ContentType, content_type.to_string());
        self.body = body.into();
        self
    }
}
