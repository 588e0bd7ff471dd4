//! Message waiting indication (RFC 3842): the `message-summary` event
//! package. A phone SUBSCRIBEs to its mailbox; the server answers and
//! NOTIFYs a [`MessageSummary`] (`application/simple-message-summary`)
//! at once and whenever the mailbox changes.

use crate::address::NameAddr;
use crate::error::ParseError;
use crate::header::{HeaderName, MediaType};
use crate::message::Request;
use crate::method::Method;
use crate::params::Params;
use crate::uri::Uri;

/// The event package name (the `Event` header's value).
pub const EVENT: &str = "message-summary";

/// What a mailbox holds, for the phone's message-waiting light.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageSummary {
    /// Voice messages not heard yet.
    pub new: u32,
    /// Voice messages heard and kept.
    pub old: u32,
    /// The mailbox's address (`Message-Account`), when known.
    pub account: Option<String>,
}

impl MessageSummary {
    /// `application/simple-message-summary`.
    pub fn media_type() -> MediaType {
        MediaType {
            kind: "application".into(),
            subtype: "simple-message-summary".into(),
            params: Params::new(),
        }
    }

    /// Whether a message waits (a new one).
    pub fn waiting(&self) -> bool {
        self.new > 0
    }

    /// The body: `Messages-Waiting`, the account, and the voice message
    /// counts (`new/old (urgent new/urgent old)`).
    pub fn to_body(&self) -> String {
        let mut body = format!("Messages-Waiting: {}\r\n", if self.waiting() { "yes" } else { "no" });
        if let Some(account) = &self.account {
            body.push_str(&format!("Message-Account: {account}\r\n"));
        }
        body.push_str(&format!("Voice-Message: {}/{} (0/0)\r\n", self.new, self.old));
        body
    }

    /// Reads a body: `Messages-Waiting` is required, the voice counts are
    /// 0/0 when absent.
    pub fn parse(body: &[u8]) -> Result<MessageSummary, ParseError> {
        let text = std::str::from_utf8(body).map_err(|_| ParseError::Value("message summary"))?;
        let mut waiting = None;
        let mut summary = MessageSummary::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "messages-waiting" => {
                    waiting = Some(match value.to_ascii_lowercase().as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(ParseError::Value("Messages-Waiting")),
                    })
                }
                "message-account" => summary.account = Some(value.to_owned()),
                "voice-message" => {
                    let counts = value.split_whitespace().next().unwrap_or("");
                    let (new, old) = counts.split_once('/').ok_or(ParseError::Value("Voice-Message"))?;
                    summary.new = new.trim().parse().map_err(|_| ParseError::Value("Voice-Message"))?;
                    summary.old = old.trim().parse().map_err(|_| ParseError::Value("Voice-Message"))?;
                }
                _ => {}
            }
        }
        waiting.ok_or(ParseError::Value("Messages-Waiting"))?;
        Ok(summary)
    }
}

/// Whether `request`'s `Event` header names the `message-summary` package.
pub fn is_message_summary(request: &Request) -> bool {
    request
        .head
        .headers
        .get(&HeaderName::Event)
        .and_then(|v| v.split(';').next())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case(EVENT))
}

/// The `Subscription-State` of a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    /// The subscription runs for this many more seconds.
    Active(u32),
    /// It ended (expired or withdrawn); the last NOTIFY.
    Terminated,
    /// No subscription: an unsolicited NOTIFY to a registered phone.
    Unsolicited,
}

/// What a NOTIFY is sent in: the subscription's dialog, or nothing
/// (unsolicited).
#[derive(Debug, Clone)]
pub struct NotifyTo {
    /// The Request-URI: the subscriber's Contact.
    pub target: Uri,
    /// Our side (From), with our tag.
    pub from: NameAddr,
    /// The subscriber (To), with its tag when in a dialog.
    pub to: NameAddr,
    /// The dialog's Call-ID (a fresh one when unsolicited).
    pub call_id: String,
    /// The CSeq number.
    pub seq: u32,
    /// Our Contact header value.
    pub contact: String,
}

/// The NOTIFY carrying `summary` (no Via: the sender adds its own).
pub fn notify(to: &NotifyTo, state: SubscriptionState, summary: &MessageSummary) -> Request {
    let mut request = Request::new(
        Method::Notify,
        to.target.clone(),
        to.from.clone(),
        to.to.clone(),
        to.call_id.clone(),
        to.seq,
    )
    .with_header(HeaderName::Event, EVENT)
    .with_header(HeaderName::Contact, to.contact.clone());
    match state {
        SubscriptionState::Active(secs) => {
            request.head.headers.push(HeaderName::SubscriptionState, format!("active;expires={secs}"));
        }
        SubscriptionState::Terminated => {
            request.head.headers.push(HeaderName::SubscriptionState, "terminated;reason=timeout");
        }
        SubscriptionState::Unsolicited => {}
    }
    request.with_body(&MessageSummary::media_type(), summary.to_body().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_round_trip() {
        let s = MessageSummary { new: 2, old: 1, account: Some("sip:2002@calliope".into()) };
        let body = s.to_body();
        assert!(body.starts_with("Messages-Waiting: yes\r\n"), "{body}");
        assert!(body.contains("Voice-Message: 2/1 (0/0)\r\n"), "{body}");
        assert_eq!(MessageSummary::parse(body.as_bytes()), Ok(s));
        let none = MessageSummary { new: 0, old: 3, account: None };
        assert!(none.to_body().starts_with("Messages-Waiting: no\r\n"));
        assert_eq!(MessageSummary::parse(none.to_body().as_bytes()), Ok(none));
    }

    #[test]
    fn bad_summaries_are_errors() {
        assert!(MessageSummary::parse(b"Voice-Message: 1/0\r\n").is_err(), "no Messages-Waiting");
        assert!(MessageSummary::parse(b"Messages-Waiting: maybe\r\n").is_err());
        assert!(MessageSummary::parse(b"Messages-Waiting: yes\r\nVoice-Message: x/0\r\n").is_err());
        assert!(MessageSummary::parse(&[0xff, 0xfe]).is_err());
        assert_eq!(MessageSummary::parse(b"Messages-Waiting: no\r\n").map(|s| s.new), Ok(0));
    }

    #[test]
    fn a_notify_carries_the_state_and_the_summary() {
        let uri = |s: &str| Uri::parse(s).expect("uri");
        let mut from = NameAddr::new(uri("sip:2002@calliope"));
        from.set_tag("ours");
        let to = NotifyTo {
            target: uri("sip:2002@127.0.0.1:5099"),
            from,
            to: NameAddr::new(uri("sip:2002@calliope")),
            call_id: "mwi-1".into(),
            seq: 3,
            contact: "<sip:calliope@127.0.0.1:5060>".into(),
        };
        let summary = MessageSummary { new: 1, old: 0, account: None };
        let n = notify(&to, SubscriptionState::Active(3600), &summary);
        let text = String::from_utf8(crate::Message::Request(n).to_bytes()).expect("utf-8");
        assert!(text.starts_with("NOTIFY sip:2002@127.0.0.1:5099 SIP/2.0\r\n"), "{text}");
        assert!(text.contains("Event: message-summary\r\n"), "{text}");
        assert!(text.contains("Subscription-State: active;expires=3600\r\n"), "{text}");
        assert!(text.contains("Content-Type: application/simple-message-summary\r\n"), "{text}");
        assert!(text.ends_with("Messages-Waiting: yes\r\nVoice-Message: 1/0 (0/0)\r\n"), "{text}");
        let unsolicited = notify(&to, SubscriptionState::Unsolicited, &summary);
        assert!(unsolicited.head.headers.get(&HeaderName::SubscriptionState).is_none());
    }
}
