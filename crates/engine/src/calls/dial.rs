//! What a call's B side tries, decided before any INVITE leaves: attempts
//! one after another (sequential ringing, trunk failover), each a set of
//! destinations rung together (an agent's registered contacts, extensions
//! rung at once). The router says where a call goes ([`crate::router::Target`]);
//! resolving that into a [`Dial`] (agents' bindings, trunks' and gateways'
//! addresses and credentials) is the only step between the two, and the
//! call task only ever rings a `Dial`.

use std::time::Duration;

use sip::transaction::Peer;
use sip::Uri;

use crate::calls::leg::auth::Account;

/// Where a call's B side goes: attempts in order until one answers.
#[derive(Debug, Clone, Default)]
pub struct Dial {
    /// Tried one after another.
    pub attempts: Vec<Attempt>,
}

/// Destinations rung together; the first to answer takes the call.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// One INVITE each.
    pub destinations: Vec<Destination>,
    /// When this attempt's failure moves on to the next attempt.
    pub next_on: NextOn,
    /// How long this attempt rings (`None`: the call's ring timeout).
    pub ring_timeout: Option<Duration>,
    /// What it is, for the log and the CDR ("agent 1001", "trunk 3").
    pub label: String,
}

/// Which failures of an attempt give way to the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextOn {
    /// Any failure, no answer included (sequential ringing).
    AnyFailure,
    /// The route's trouble, not the callee's answer: no response (408),
    /// 5xx and 503; never 486, 404 or 603 (trunk failover).
    Unreachable,
}

impl NextOn {
    /// Whether a failed attempt (`status`; 408 when nothing answered) moves
    /// on to the next one.
    pub fn allows(self, status: u16) -> bool {
        match self {
            NextOn::AnyFailure => true,
            NextOn::Unreachable => status == 408 || (500..600).contains(&status),
        }
    }
}

/// One INVITE to send.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The Request-URI.
    pub uri: Uri,
    /// Where it is sent (resolved).
    pub peer: Peer,
    /// The host of the From and To URIs (a gateway's or trunk's domain);
    /// `None`: our realm.
    pub host: Option<String>,
    /// Credentials for an upstream challenge (401/407).
    pub account: Option<Account>,
    /// Headers added to the INVITE (`sip_h_X-Name` route params).
    pub headers: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_failover_is_for_the_routes_trouble_only() {
        for status in [408, 500, 502, 503, 504] {
            assert!(NextOn::Unreachable.allows(status), "{status} fails over");
        }
        for status in [404, 480, 486, 603] {
            assert!(!NextOn::Unreachable.allows(status), "{status} is the callee's answer");
        }
        assert!(NextOn::AnyFailure.allows(486));
    }
}
