//! Message waiting indication (RFC 3842) for agents' phones: SUBSCRIBEs
//! to `message-summary` are authenticated (an agent watches its own
//! mailbox only), answered 200 and followed by a NOTIFY; when a mailbox
//! changes, every live subscription of the agent gets a NOTIFY, and its
//! registered contacts without a subscription get an unsolicited one.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sip::mwi::{MessageSummary, NotifyTo, SubscriptionState};
use sip::transaction::{Peer, Protocol, ServerTxId};
use sip::{HeaderName, HostPort, NameAddr, Request, Response, StatusCode, Uri, Via};
use store::Millis;

use crate::signalling::auth::{authenticate_from, Challenge};
use crate::signalling::core::Cmd;
use crate::signalling::Switch;

/// Subscription lifetime when the SUBSCRIBE names none, and the longest
/// granted, in seconds.
const DEFAULT_EXPIRES: u32 = 3600;
/// The shortest subscription granted (423 below it, but for 0).
const MIN_EXPIRES: u32 = 60;
/// Subscriptions kept at most (all agents).
const MAX_SUBSCRIPTIONS: usize = 10_000;

/// One phone watching a mailbox.
#[derive(Debug, Clone)]
struct Subscription {
    workspace_id: i64,
    agent_id: i64,
    call_id: String,
    /// The subscriber (its From), with its tag: the To of our NOTIFYs.
    subscriber: NameAddr,
    /// Our side (the To of its SUBSCRIBE) with our tag.
    ours: NameAddr,
    target: Uri,
    peer: Peer,
    seq: u32,
    expires_at: Millis,
}

/// The live subscriptions.
#[derive(Debug, Default)]
pub struct Mwi {
    subs: Mutex<Vec<Subscription>>,
}

/// Answers SUBSCRIBE `request` (transaction `id`, from `peer`) and sends
/// the first NOTIFY.
pub async fn subscribe(sw: Arc<Switch>, id: ServerTxId, request: Request, peer: Peer) {
    let respond = |resp: Response| {
        let _ = sw.core.send(Cmd::Respond(id, resp));
    };
    if !sip::mwi::is_message_summary(&request) {
        let status = StatusCode::new(489).unwrap_or(StatusCode::BAD_REQUEST);
        respond(
            Response::for_request(&request, status, Some(&sw.tag()))
                .with_header(HeaderName::AllowEvents, sip::mwi::EVENT),
        );
        return;
    }
    let account = match authenticate_from(&sw, &request, Challenge::Proxy, None, peer.addr.ip()).await {
        Ok(a) => a,
        Err(resp) => return respond(*resp),
    };
    let mailbox = request.head.to.uri.user().unwrap_or_default();
    if mailbox != account.extension {
        tracing::info!(agent = %account.extension, mailbox, "a phone asked for another agent's mailbox");
        return respond(Response::for_request(&request, StatusCode::FORBIDDEN, Some(&sw.tag())));
    }
    let asked = request.head.expires().ok().flatten().unwrap_or(DEFAULT_EXPIRES);
    if asked != 0 && asked < MIN_EXPIRES {
        let status = StatusCode::new(423).unwrap_or(StatusCode::BAD_REQUEST);
        let resp = Response::for_request(&request, status, Some(&sw.tag()))
            .with_header(HeaderName::MinExpires, MIN_EXPIRES.to_string());
        return respond(resp);
    }
    let expires = asked.min(DEFAULT_EXPIRES);
    let tag = request.head.to_tag().map_or_else(|| sw.tag(), str::to_owned);
    let target = request
        .head
        .contacts()
        .ok()
        .and_then(|c| {
            c.into_iter().find_map(|c| match c {
                sip::Contact::Addr(a) => Some(a.uri),
                sip::Contact::Wildcard => None,
            })
        })
        .unwrap_or_else(|| request.head.from.uri.clone());
    let mut ours = request.head.to.clone();
    ours.set_tag(&tag);
    let now = sw.clock.now();
    let sub = Subscription {
        workspace_id: account.workspace_id,
        agent_id: account.agent_id,
        call_id: request.head.call_id.clone(),
        subscriber: request.head.from.clone(),
        ours,
        target,
        peer,
        seq: 0,
        expires_at: now + Millis::from(expires) * 1000,
    };
    let ok = Response::for_request(&request, StatusCode::OK, Some(&tag))
        .with_header(HeaderName::Expires, expires.to_string())
        .with_header(HeaderName::Contact, format!("<sip:calliope@{}>", sw.advertised()));
    respond(ok);
    let summary = summary_of(&sw, account.workspace_id, account.agent_id, &account.extension).await;
    let sent = {
        let Ok(mut subs) = sw.mwi.subs.lock() else { return };
        subs.retain(|s| s.call_id != sub.call_id && s.expires_at > now);
        let mut sub = sub;
        sub.seq = 1;
        let state =
            if expires == 0 { SubscriptionState::Terminated } else { SubscriptionState::Active(expires) };
        let notify = notify_in(&sub, state, &summary, &sw);
        if expires != 0 && subs.len() < MAX_SUBSCRIPTIONS {
            subs.push(sub.clone());
        }
        (notify, sub.peer)
    };
    send(&sw, sent.0, sent.1);
}

/// Tells agent `agent_id`'s phones what its mailbox holds now.
pub async fn mailbox_changed(sw: &Arc<Switch>, workspace_id: i64, agent_id: i64, extension: &str) {
    let summary = summary_of(sw, workspace_id, agent_id, extension).await;
    let now = sw.clock.now();
    let mut out = Vec::new();
    if let Ok(mut subs) = sw.mwi.subs.lock() {
        subs.retain(|s| s.expires_at > now);
        for s in subs.iter_mut().filter(|s| s.agent_id == agent_id && s.workspace_id == workspace_id) {
            s.seq += 1;
            let left = u32::try_from((s.expires_at - now) / 1000).unwrap_or(0).max(1);
            out.push((notify_in(s, SubscriptionState::Active(left), &summary, sw), s.peer));
        }
    }
    let watched: Vec<std::net::SocketAddr> = out.iter().map(|(_, p)| p.addr).collect();
    for b in sw.location.lookup(agent_id, now) {
        let protocol =
            if b.transport == crate::location::Transport::Tcp { Protocol::Tcp } else { Protocol::Udp };
        let peer = Peer { addr: b.target(), protocol };
        if watched.contains(&peer.addr) {
            continue;
        }
        let Ok(target) = Uri::parse(&b.contact) else { continue };
        let Ok(aor) =
            Uri::parse(&b.aor).or_else(|_| Uri::parse(&format!("sip:{extension}@{}", sw.config.realm)))
        else {
            continue;
        };
        let mut from = NameAddr::new(aor.clone());
        from.set_tag(&sw.tag());
        let to = NotifyTo {
            target,
            from,
            to: NameAddr::new(aor),
            call_id: format!("mwi-{}@calliope", sw.tag()),
            seq: 1,
            contact: format!("<sip:calliope@{}>", sw.advertised()),
        };
        out.push((sip::mwi::notify(&to, SubscriptionState::Unsolicited, &summary), peer));
    }
    for (notify, peer) in out {
        send(sw, notify, peer);
    }
}

/// The summary of agent `agent_id`'s mailbox (empty when the store fails).
async fn summary_of(sw: &Switch, workspace_id: i64, agent_id: i64, extension: &str) -> MessageSummary {
    let (new, old) = match super::messages::counts(&sw.db, workspace_id, agent_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, agent = agent_id, "cannot count the voicemail messages");
            (0, 0)
        }
    };
    MessageSummary {
        new: u32::try_from(new).unwrap_or(u32::MAX),
        old: u32::try_from(old).unwrap_or(u32::MAX),
        account: Some(format!("sip:{extension}@{}", sw.config.realm)),
    }
}

fn notify_in(s: &Subscription, state: SubscriptionState, summary: &MessageSummary, sw: &Switch) -> Request {
    let to = NotifyTo {
        target: s.target.clone(),
        from: s.ours.clone(),
        to: s.subscriber.clone(),
        call_id: s.call_id.clone(),
        seq: s.seq,
        contact: format!("<sip:calliope@{}>", sw.advertised()),
    };
    sip::mwi::notify(&to, state, summary)
}

/// Sends `request` in a transaction of its own; its answer is not awaited.
fn send(sw: &Switch, request: Request, peer: Peer) {
    let request = request.with_via(via(sw, peer));
    let (owner, _) = tokio::sync::mpsc::unbounded_channel();
    let id = sw.core.client_id(&request.head.call_id);
    let _ = sw.core.send(Cmd::Send { id, request, peer, owner, reply: None });
}

fn via(sw: &Switch, peer: Peer) -> Via {
    let transport = if peer.protocol == Protocol::Udp {
        sip::header::Transport::Udp
    } else {
        sip::header::Transport::Tcp
    };
    let addr = sw.advertised();
    let host = match addr.ip() {
        IpAddr::V4(ip) => sip::Host::V4(ip),
        IpAddr::V6(ip) => sip::Host::V6(ip),
    };
    let mut via =
        Via::new(transport, HostPort { host, port: Some(addr.port()) }, &format!("z9hG4bK{}", sw.tag()));
    via.params.set("rport", None);
    via
}
