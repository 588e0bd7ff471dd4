//! The registrar (RFC 3261 section 10.3): REGISTER binds an agent's
//! address of record to contacts, with digest authentication, expiry,
//! several contacts, `*` to remove all, and events when an agent comes and
//! goes.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use sip::{Contact, HeaderName, Request, Response, StatusCode};

use super::auth::{authenticate_cached, authenticate_pending, Cached, Challenge, Pending};
use super::Switch;
use crate::accounts::Account;
use crate::events::Event;
use crate::location::{Binding, Transport};
use sip::transaction::{Peer, Protocol};

/// Answers a REGISTER from `peer` that [`register_now`] left for a lookup
/// of its digest user's accounts, going on from its admitted credentials
/// (`pending`). At most `limits.registers_in_flight` are worked on at
/// once; past that the answer is 503 with Retry-After.
pub async fn register(sw: &Arc<Switch>, req: &Request, peer: Peer, pending: Pending) -> Response {
    let Ok(_slot) = sw.registers.try_acquire() else {
        return too_busy(sw, req, peer);
    };
    let Some(extension) = req.head.to.uri.user() else {
        return Response::for_request(req, StatusCode::NOT_FOUND, Some(&sw.tag()));
    };
    match authenticate_pending(sw, req, Challenge::Www, Some(extension), peer.addr.ip(), pending).await {
        Ok(account) => bind(sw, req, peer, extension, &account),
        Err(resp) => *resp,
    }
}

/// A REGISTER answered when that needs no wait, as the switch loop can
/// afford; `Err` with its admitted credentials when the digest user's
/// accounts are not cached (then call [`register`] with them). A REGISTER
/// without credentials is answered here.
///
/// It takes no room among the REGISTERs in flight: it holds nothing once
/// it returns, so a burst of lookups (phones re-registering after a
/// restart) does not turn cached users' REGISTERs, or the first 401 of
/// anyone's, into 503s.
pub fn register_now(sw: &Switch, req: &Request, peer: Peer) -> Result<Response, Pending> {
    let Some(extension) = req.head.to.uri.user() else {
        return Ok(Response::for_request(req, StatusCode::NOT_FOUND, Some(&sw.tag())));
    };
    Ok(match authenticate_cached(sw, req, Challenge::Www, Some(extension), peer.addr.ip()) {
        Cached::Verdict(Ok(account)) => bind(sw, req, peer, extension, &account),
        Cached::Verdict(Err(resp)) => *resp,
        Cached::Lookup(pending) => return Err(pending),
    })
}

/// 503 with Retry-After: too many REGISTERs in flight.
fn too_busy(sw: &Switch, req: &Request, peer: Peer) -> Response {
    tracing::debug!(peer = %peer.addr, "too many REGISTERs in flight: 503");
    let mut resp = Response::for_request(req, StatusCode::SERVICE_UNAVAILABLE, Some(&sw.tag()));
    resp.head.headers.push(HeaderName::RetryAfter, "5");
    resp
}

/// Applies the REGISTER `req` of the authenticated `account` (its address
/// of record's user `extension`) to the location, and answers it.
fn bind(sw: &Switch, req: &Request, peer: Peer, extension: &str, account: &Account) -> Response {
    let tag = sw.tag();
    let reply = |status| Response::for_request(req, status, Some(&tag));
    let Ok(contacts) = req.head.contacts() else {
        return reply(StatusCode::BAD_REQUEST);
    };
    let Ok(header_expires) = req.head.expires() else {
        return reply(StatusCode::BAD_REQUEST);
    };
    let now = sw.now_ms() as i64;
    let agent_id = account.agent_id;
    let before = sw.location.is_registered(agent_id, now);
    let aor = format!("sip:{}@{}", extension, sw.config.realm);
    let wildcard = contacts.iter().any(|c| matches!(c, Contact::Wildcard));
    if wildcard {
        if contacts.len() > 1 || header_expires != Some(0) {
            return reply(StatusCode::BAD_REQUEST);
        }
        for b in sw.location.lookup(agent_id, now) {
            sw.location.remove(b.workspace_id, b.agent_id, &b.contact);
        }
    }
    // Each contact's URI, written once, and its own expiry.
    let asked: Vec<(String, Option<u32>)> =
        contacts.iter().filter_map(Contact::addr).map(|c| (c.uri.to_string(), c.expires())).collect();
    // The valid bindings' contacts, each with whether this REGISTER is
    // older than (or the same as) the one that made it.
    let existing: Vec<(String, bool)> = sw.location.with_bindings(agent_id, now, |bindings| {
        let stale = |b: &Binding| b.call_id == req.head.call_id && b.cseq >= req.head.cseq.seq;
        bindings.iter().map(|b| (b.contact.clone(), stale(b))).collect()
    });
    let max = sw.config.limits.contacts_per_aor;
    if too_many(&asked, &existing, header_expires, max) {
        tracing::debug!(agent = agent_id, max, "REGISTER refused: too many contacts");
        let mut resp = reply(StatusCode::SERVICE_UNAVAILABLE);
        resp.reason = "Too Many Registered Contacts".into();
        return resp;
    }
    for (uri, own_expires) in asked {
        let expires = own_expires.or(header_expires).unwrap_or(sw.config.default_expires);
        if expires != 0 && expires < sw.config.min_expires {
            let mut resp = reply(StatusCode::INTERVAL_TOO_BRIEF);
            resp.head.headers.push(HeaderName::MinExpires, sw.config.min_expires.to_string());
            return resp;
        }
        if existing.iter().find(|(contact, _)| *contact == uri).is_some_and(|(_, stale)| *stale) {
            return reply(StatusCode::SERVER_INTERNAL_ERROR);
        }
        if expires == 0 {
            sw.location.remove(account.workspace_id, agent_id, &uri);
            continue;
        }
        let expires = expires.min(sw.config.max_expires);
        let binding = Binding {
            workspace_id: account.workspace_id,
            agent_id,
            aor: aor.clone(),
            contact: uri,
            source: peer.addr,
            transport: if peer.protocol == Protocol::Udp { Transport::Udp } else { Transport::Tcp },
            registered_at: now,
            expires_at: now + i64::from(expires) * 1000,
            call_id: req.head.call_id.clone(),
            cseq: req.head.cseq.seq,
            user_agent: req.head.user_agent().unwrap_or("").to_owned(),
        };
        // A concurrent REGISTER may have taken the room meanwhile.
        if !sw.location.put_capped(binding, max) {
            let mut resp = reply(StatusCode::SERVICE_UNAVAILABLE);
            resp.reason = "Too Many Registered Contacts".into();
            return resp;
        }
    }
    // The Contact headers of the answer, one per valid binding, and their
    // contacts when the agent has just come (for the event).
    let (lines, came) = sw.location.with_bindings(agent_id, now, |bindings| {
        let lines: Vec<String> = bindings
            .iter()
            .map(|b| {
                let secs = ((b.expires_at - now).max(0) + 999) / 1000;
                format!("<{}>;expires={secs}", b.contact)
            })
            .collect();
        let came = (!before).then(|| bindings.iter().map(|b| b.contact.clone()).collect::<Vec<_>>());
        (lines, came)
    });
    let data = |contacts: Vec<String>| {
        json!({
            "agentRef": account.agent_ref,
            "username": account.extension,
            "contacts": contacts,
        })
    };
    match (before, lines.is_empty(), came) {
        (false, false, Some(contacts)) => sw.publish(Event {
            name: "agent.registered",
            workspace_id: account.workspace_id,
            at: now,
            data: data(contacts),
        }),
        (true, true, _) => sw.publish(Event {
            name: "agent.unregistered",
            workspace_id: account.workspace_id,
            at: now,
            data: data(existing.into_iter().map(|(contact, _)| contact).collect()),
        }),
        _ => {}
    }
    let mut resp = reply(StatusCode::OK);
    for line in lines {
        resp.head.headers.push(HeaderName::Contact, line);
    }
    resp.head.headers.push(HeaderName::Date, httpdate(now));
    resp
}

/// Whether applying the `asked` contacts (URI, own expiry) to the
/// `existing` bindings' contacts would leave more than `max` of them.
fn too_many(
    asked: &[(String, Option<u32>)],
    existing: &[(String, bool)],
    header_expires: Option<u32>,
    max: usize,
) -> bool {
    let mut after: HashSet<&str> = existing.iter().map(|(c, _)| c.as_str()).collect();
    for (uri, own_expires) in asked {
        if own_expires.or(header_expires) == Some(0) {
            after.remove(uri.as_str());
        } else {
            after.insert(uri);
        }
    }
    after.len() > max
}

/// An RFC 1123 date, as the Date header wants. It changes once a second,
/// so each thread keeps the last one written.
fn httpdate(ms: i64) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let secs = ms.div_euclid(1000);
    LAST.with_borrow_mut(|(at, date)| {
        if *at != secs {
            *date = jiff::Timestamp::from_second(secs)
                .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
                .unwrap_or_default();
            *at = secs;
        }
        date.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_written_again_each_second() {
        assert_eq!(httpdate(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(httpdate(784_111_777_999), "Sun, 06 Nov 1994 08:49:37 GMT", "the same second");
        assert_eq!(httpdate(784_111_778_000), "Sun, 06 Nov 1994 08:49:38 GMT", "the next");
        assert_eq!(httpdate(784_111_777_500), "Sun, 06 Nov 1994 08:49:37 GMT", "and back");
    }

    #[test]
    fn contacts_count_once_and_leave_with_expires_zero() {
        let existing = vec![("sip:a".to_owned(), false), ("sip:b".to_owned(), false)];
        let ask = |v: &[(&str, Option<u32>)]| -> Vec<(String, Option<u32>)> {
            v.iter().map(|(u, e)| ((*u).to_owned(), *e)).collect()
        };
        assert!(!too_many(&ask(&[("sip:a", None)]), &existing, Some(60), 2), "a refresh adds none");
        assert!(too_many(&ask(&[("sip:c", None)]), &existing, Some(60), 2), "a third");
        assert!(!too_many(&ask(&[("sip:c", None), ("sip:c", None)]), &[], Some(60), 1), "the same twice");
        assert!(
            !too_many(&ask(&[("sip:a", Some(0)), ("sip:c", None)]), &existing, Some(60), 2),
            "one leaves"
        );
        assert!(!too_many(&ask(&[("sip:c", None)]), &existing, Some(0), 2), "expires 0 adds none");
    }
}
