//! The switch loop: one task per shard ([`super::shards`]) owns the
//! transaction layer of the Call-IDs of its shard, feeds it what the
//! sockets receive and the timers, sends what it produces, and routes its
//! events to their owners: the registrar, OPTIONS, and call tasks (by
//! transaction and by Call-ID). Everything that waits (the store, a call)
//! runs in its own task and talks to the loop through commands; a
//! REGISTER whose accounts are cached, and the 407 of a new INVITE
//! without credentials, wait for nothing and are answered in the loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use sip::transaction::{
    ClientTxId, Config as TxConfig, Event, Peer, ServerTxId, TransactionError, Transactions, TxId, TxIds,
};
use sip::{HeaderName, Message, Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::datagrams::BATCH;
use super::shards::{CallTables, Cores};
use super::transport::Inbound;
use super::Switch;

/// What a call task is told. Messages are boxed: a call's channel
/// allocates its first block of 32 events when it is made, and the map
/// entries that route to the call keep it until their transactions end
/// (up to 32 s after the call), so events stay small (56 bytes rather than
/// 680 with the messages inline).
#[derive(Debug)]
pub enum CallEvent {
    /// A request in one of its dialogs (or a new transaction for it).
    Request {
        /// Its server transaction.
        id: ServerTxId,
        /// The request.
        request: Box<Request>,
        /// Its sender.
        peer: Peer,
    },
    /// An ACK for a 2xx it sent.
    Ack(Box<Request>),
    /// The INVITE server transaction `0` was cancelled (200 already sent).
    Cancel(ServerTxId),
    /// A response to one of its client transactions.
    Response(ClientTxId, Box<Response>),
    /// A 2xx that came again after its transaction ended: ACK it again.
    Stray(Box<Response>, Peer),
    /// A transaction got no answer in time (or its ACK never came).
    Timeout(TxId),
    /// The loop refused to start client transaction `0` (sent without a
    /// reply channel): as if it timed out at once.
    Unsent(ClientTxId),
    /// Another call asks for the leg a `Replaces` names (attended
    /// transfer).
    Join(Box<crate::calls::call::Join>),
    /// The call this one was joined with ended.
    PartnerLeft,
}

/// Where a call task's events go.
pub type Owner = mpsc::UnboundedSender<CallEvent>;

/// What tasks ask of the loop.
#[derive(Debug)]
pub enum Cmd {
    /// Answer server transaction `id`.
    Respond(ServerTxId, Response),
    /// Send a request in a new client transaction owned by `owner`.
    Send {
        /// Its id, reserved with [`Cores::client_id`].
        id: ClientTxId,
        /// The request, with our Via on top.
        request: Request,
        /// Where to.
        peer: Peer,
        /// Who gets its responses.
        owner: Owner,
        /// Whether it started; without one, a refusal reaches `owner` as
        /// [`CallEvent::Unsent`].
        reply: Option<oneshot::Sender<Result<(), TransactionError>>>,
    },
    /// CANCEL an INVITE client transaction.
    Cancel(ClientTxId),
    /// ACK a 2xx of INVITE client transaction `id`.
    Ack(ClientTxId, Request, Peer),
    /// Send outside any transaction.
    Stateless(Message, Peer),
    /// Route in-dialog requests of Call-ID `0` to `1`.
    Own(String, Owner),
    /// Stop routing Call-ID `0`.
    Disown(String),
    /// Hand `1` to the call task that owns Call-ID `0`, if any.
    Deliver(String, CallEvent),
}

/// How new calls are started: given the switch, the INVITE's transaction,
/// the request, its sender, the loops' commands and the receiving end of
/// the call's own events.
pub type CallStarter =
    fn(Arc<Switch>, ServerTxId, Request, Peer, Cores, Owner, mpsc::UnboundedReceiver<CallEvent>);

struct Core {
    sw: Arc<Switch>,
    /// This loop's shard.
    shard: usize,
    txs: Transactions,
    cmds: Cores,
    clients: HashMap<ClientTxId, Owner>,
    servers: HashMap<ServerTxId, Owner>,
    /// Every shard's calls by Call-ID: this loop writes its own.
    calls: Arc<CallTables>,
    start_call: CallStarter,
    /// Routes dropped (ended calls and transactions) since [`Core::tidy`].
    dropped: usize,
    unparsable: metrics::Counter,
    /// Datagrams to send together at the end of the loop's turn.
    held: Vec<(SocketAddr, Vec<u8>)>,
}

/// Dropped routes that make [`Core::tidy`] look at the tables at all (or a
/// quarter of them, when more: its cost stays constant per call).
const TIDY_EVERY: usize = 1024;

/// What one shard's loop is given.
#[derive(Debug)]
pub struct Shard {
    /// Which shard.
    pub shard: usize,
    /// The messages the sockets received for it.
    pub inbound: mpsc::Receiver<Inbound>,
    /// Its commands ([`Cores::send`]).
    pub cmds: mpsc::UnboundedReceiver<Cmd>,
    /// Its transaction ids, shared with [`Cores::client_id`].
    pub ids: TxIds,
    /// Every shard's calls.
    pub calls: Arc<CallTables>,
}

/// Runs one shard's loop until the sockets close.
pub async fn run(sw: Arc<Switch>, shard: Shard, start_call: CallStarter) {
    let Shard { shard, mut inbound, cmds: mut cmd_rx, ids, calls } = shard;
    // The layer's caps are the switch's: each shard has its share.
    let n = sw.core.picker().count();
    let mut config = TxConfig::default();
    config.max_transactions = (config.max_transactions / n).max(1);
    config.max_server_bytes = (config.max_server_bytes / n).max(1);
    config.max_retained_bytes = (config.max_retained_bytes / n).max(1);
    let txs = Transactions::with_ids(config, ids);
    let mut core = Core {
        cmds: sw.core.clone(),
        sw,
        shard,
        txs,
        clients: HashMap::new(),
        servers: HashMap::new(),
        calls,
        start_call,
        dropped: 0,
        unparsable: metrics::counter!(crate::metrics::SIP_UNPARSABLE),
        held: Vec::with_capacity(BATCH),
    };
    // Summed over the shards: each adds what changed in its own.
    let live_gauge = metrics::gauge!(crate::metrics::TRANSACTIONS_LIVE);
    let retained_gauge = metrics::gauge!(crate::metrics::TRANSACTIONS_RETAINED);
    let (mut live_was, mut retained_was) = (0usize, 0usize);
    loop {
        let deadline = core.txs.poll_timeout();
        tokio::select! {
            // Commands first: a call's last words (its final response, then
            // giving up its Call-ID) must land before the next request.
            biased;
            Some(cmd) = cmd_rx.recv() => core.command(cmd),
            msg = inbound.recv() => match msg {
                Some(msg) => core.receive(msg),
                None => return,
            },
            _ = sleep_until(deadline) => core.txs.handle_timeout(Instant::now()),
        }
        core.flush();
        // What else waits already is taken in the same wake-up, commands
        // first, and the datagrams it answers leave together.
        for _ in 1..BATCH {
            if let Ok(cmd) = cmd_rx.try_recv() {
                core.command(cmd);
            } else if let Ok(msg) = inbound.try_recv() {
                core.receive(msg);
            } else {
                break;
            }
            core.flush();
        }
        core.sw.transports.send_held(&mut core.held);
        core.tidy();
        let live = core.txs.live();
        let retained = core.txs.len().saturating_sub(live);
        if (live, retained) != (live_was, retained_was) {
            live_gauge.increment(live as f64 - live_was as f64);
            retained_gauge.increment(retained as f64 - retained_was as f64);
            (live_was, retained_was) = (live, retained);
        }
    }
}

/// Counts a REGISTER's answer in the metrics.
fn count_registration(response: &Response) {
    crate::metrics::registration(match response.status.code() {
        200..=299 => "ok",
        401 | 407 => "challenged",
        _ => "refused",
    });
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

impl Core {
    /// Now and then, forgets the routes to calls that ended and those of
    /// server transactions that finished (an INVITE's once its ACK came),
    /// and gives the tables' room back. A route holds the call's channel
    /// (and its first block of events); nothing routed to an ended call is
    /// delivered anyway, and a finished transaction reports nothing but
    /// its end. After a burst the tables would keep their peak room for
    /// good.
    fn tidy(&mut self) {
        let mut calls = self.calls.of(self.shard);
        let routes = self.clients.len() + self.servers.len() + calls.len();
        if self.dropped < TIDY_EVERY.max(routes / 4) {
            return;
        }
        self.dropped = 0;
        self.clients.retain(|_, owner| !owner.is_closed());
        let txs = &self.txs;
        self.servers.retain(|id, owner| !owner.is_closed() && txs.is_live(TxId::Server(*id)));
        // Each shrinks only when its entries fill under half of it.
        self.clients.shrink_to(self.clients.len() * 2);
        self.servers.shrink_to(self.servers.len() * 2);
        let n = calls.len();
        calls.shrink_to(n * 2);
    }

    fn command(&mut self, cmd: Cmd) {
        let now = Instant::now();
        match cmd {
            Cmd::Respond(id, response) => {
                // After a final response a non-INVITE transaction tells its
                // owner nothing more: its route goes now.
                let done = response.status.is_final() && response.head.cseq.method != Method::Invite;
                if let Err(e) = self.txs.respond(now, id, response) {
                    tracing::debug!(error = %e, "a response could not be sent");
                }
                if done && self.servers.remove(&id).is_some() {
                    self.dropped += 1;
                }
            }
            Cmd::Send { id, request, peer, owner, reply } => {
                let result = self.txs.send_request_as(now, id, request, peer);
                match (&result, reply) {
                    (Ok(()), reply) => {
                        self.clients.insert(id, owner);
                        if let Some(reply) = reply {
                            let _ = reply.send(result);
                        }
                    }
                    (Err(_), Some(reply)) => {
                        let _ = reply.send(result);
                    }
                    (Err(e), None) => {
                        tracing::debug!(error = %e, "a request could not be sent");
                        let _ = owner.send(CallEvent::Unsent(id));
                    }
                }
            }
            Cmd::Cancel(id) => {
                if let Ok(cancel) = self.txs.cancel(now, id) {
                    if let Some(owner) = self.clients.get(&id).cloned() {
                        self.clients.insert(cancel, owner);
                    }
                }
            }
            Cmd::Ack(id, ack, peer) => {
                if self.txs.ack_2xx(id, ack.clone(), peer).is_err() {
                    self.txs.send_stateless(ack, peer);
                }
                // The layer answers that 2xx's retransmissions; another 2xx
                // (a fork) finds the call by its Call-ID (see `route`).
                if self.clients.remove(&id).is_some() {
                    self.dropped += 1;
                }
            }
            Cmd::Stateless(message, peer) => self.txs.send_stateless(message, peer),
            Cmd::Own(call_id, owner) => {
                self.calls.of(self.shard).insert(call_id, owner);
            }
            Cmd::Disown(call_id) => {
                self.calls.of(self.shard).remove(&call_id);
                self.dropped += 1;
            }
            Cmd::Deliver(call_id, event) => {
                // No owner: the event is dropped, and so is any reply
                // channel in it, which the sender sees.
                if let Some(owner) = self.call(&call_id) {
                    let _ = owner.send(event);
                }
            }
        }
    }

    /// The call task that owns Call-ID `call_id` in this shard.
    fn call(&self, call_id: &str) -> Option<Owner> {
        self.calls.of(self.shard).get(call_id).cloned()
    }

    /// Feeds a received message to the transaction layer, or hands it to
    /// the shard of its Call-ID when the receiver could not tell it.
    fn receive(&mut self, inbound: Inbound) {
        match sip::parse_message(&inbound.bytes) {
            Ok(message) => {
                let shard = self.sw.core.picker().of(&message.head().call_id);
                if shard != self.shard {
                    self.sw.transports.forward(shard, inbound);
                    return;
                }
                self.txs.handle_message(Instant::now(), message, inbound.peer)
            }
            Err(e) => {
                self.unparsable.increment(1);
                tracing::debug!(peer = %inbound.peer.addr, error = %e, "dropped an unparsable SIP message")
            }
        }
    }

    /// Sends (or holds, datagrams) what the layer produced and routes its
    /// events.
    fn flush(&mut self) {
        while let Some(t) = self.txs.poll_transmit() {
            self.sw.transports.send_or_hold(t.peer, t.bytes, &mut self.held);
        }
        while let Some(event) = self.txs.poll_event() {
            self.route(event);
        }
        // Routing may have queued responses (OPTIONS, 481).
        while let Some(t) = self.txs.poll_transmit() {
            self.sw.transports.send_or_hold(t.peer, t.bytes, &mut self.held);
        }
    }

    fn route(&mut self, event: Event) {
        match event {
            Event::Request { id, request, peer } => self.request(id, request, peer),
            Event::Ack { request, .. } => {
                if let Some(owner) = self.call(&request.head.call_id) {
                    let _ = owner.send(CallEvent::Ack(Box::new(request)));
                }
            }
            Event::Cancel { invite, .. } => {
                if let Some(owner) = self.servers.get(&invite) {
                    let _ = owner.send(CallEvent::Cancel(invite));
                }
            }
            Event::Response { id, response } => {
                // A final response but an INVITE's 2xx is the last the
                // transaction reports (the layer ACKs a non-2xx itself).
                let last = response.status.is_final()
                    && !(response.status.is_success() && response.head.cseq.method == Method::Invite);
                let owner = if last {
                    self.clients.remove(&id).inspect(|_| self.dropped += 1)
                } else {
                    self.clients.get(&id).cloned()
                };
                // Its route went when the 2xx it answers was ACKed.
                let owner = owner.or_else(|| self.call(&response.head.call_id));
                if let Some(owner) = owner {
                    let _ = owner.send(CallEvent::Response(id, Box::new(response)));
                }
            }
            Event::StrayResponse { response, peer } => {
                if let Some(owner) = self.call(&response.head.call_id) {
                    let _ = owner.send(CallEvent::Stray(Box::new(response), peer));
                }
            }
            Event::Timeout { id } | Event::TransportError { id } => {
                let owner = match id {
                    TxId::Client(c) => self.clients.get(&c),
                    TxId::Server(s) => self.servers.get(&s),
                };
                if let Some(owner) = owner {
                    let _ = owner.send(CallEvent::Timeout(id));
                }
            }
            Event::Terminated { id } => {
                match id {
                    TxId::Client(c) => self.clients.remove(&c),
                    TxId::Server(s) => self.servers.remove(&s),
                };
                self.dropped += 1;
            }
        }
    }

    fn request(&mut self, id: ServerTxId, request: Request, peer: Peer) {
        let now = Instant::now();
        let request = match self.call(&request.head.call_id) {
            Some(owner) => match owner.send(CallEvent::Request { id, request: Box::new(request), peer }) {
                Ok(()) => {
                    self.servers.insert(id, owner);
                    return;
                }
                // The call ended: its Call-ID is free again.
                Err(mpsc::error::SendError(CallEvent::Request { request, .. })) => {
                    self.calls.of(self.shard).remove(&request.head.call_id);
                    *request
                }
                Err(_) => return,
            },
            None => request,
        };
        let in_dialog = request.head.to_tag().is_some();
        match request.method {
            Method::Register if !in_dialog => {
                // Answered here when nothing need be waited for (no
                // credentials, or the user's accounts cached): no task,
                // no command back.
                let pending = match super::registrar::register_now(&self.sw, &request, peer) {
                    Ok(response) => {
                        count_registration(&response);
                        if let Err(e) = self.txs.respond(now, id, response) {
                            tracing::debug!(error = %e, "a response could not be sent");
                        }
                        return;
                    }
                    Err(pending) => pending,
                };
                let (sw, cmds) = (self.sw.clone(), self.cmds.clone());
                tokio::spawn(async move {
                    let response = super::registrar::register(&sw, &request, peer, pending).await;
                    count_registration(&response);
                    let _ = cmds.send(Cmd::Respond(id, response));
                });
            }
            Method::Subscribe => {
                // RFC 3842 message waiting: new subscriptions and refreshes.
                tokio::spawn(crate::voicemail::mwi::subscribe(self.sw.clone(), id, request, peer));
            }
            Method::Options => {
                let mut resp = Response::for_request(&request, StatusCode::OK, Some(&self.sw.tag()));
                resp.head.headers.push(HeaderName::Allow, super::ALLOW);
                resp.head.headers.push(HeaderName::Accept, "application/sdp");
                let _ = self.txs.respond(now, id, resp);
            }
            Method::Invite
                if !in_dialog
                    && request.head.headers.get(&crate::calls::call::replaces_header()).is_some() =>
            {
                // RFC 3891: the call that owns the named dialog decides
                // (in whichever shard its Call-ID is); none owns it: 481.
                // The INVITE's transaction stays in this shard.
                let named = request
                    .head
                    .headers
                    .get(&crate::calls::call::replaces_header())
                    .and_then(crate::calls::call::Replaces::parse)
                    .and_then(|r| {
                        let shard = self.sw.core.picker().of(&r.call_id);
                        self.calls.of(shard).get(&r.call_id).cloned()
                    });
                let request = match named {
                    Some(owner) => {
                        match owner.send(CallEvent::Request { id, request: Box::new(request), peer }) {
                            Ok(()) => {
                                self.servers.insert(id, owner);
                                return;
                            }
                            Err(mpsc::error::SendError(CallEvent::Request { request, .. })) => *request,
                            Err(_) => return,
                        }
                    }
                    None => request,
                };
                let resp =
                    Response::for_request(&request, StatusCode::CALL_DOES_NOT_EXIST, Some(&self.sw.tag()));
                let _ = self.txs.respond(now, id, resp);
            }
            Method::Invite if !in_dialog => {
                // A first INVITE without credentials: its 407 needs no task.
                if let Some(response) = super::auth::challenge_now(&self.sw, &request, peer.addr) {
                    if let Err(e) = self.txs.respond(now, id, response) {
                        tracing::debug!(error = %e, "a response could not be sent");
                    }
                    return;
                }
                let (tx, rx) = mpsc::unbounded_channel();
                self.calls.of(self.shard).insert(request.head.call_id.clone(), tx.clone());
                self.servers.insert(id, tx.clone());
                (self.start_call)(self.sw.clone(), id, request, peer, self.cmds.clone(), tx, rx);
            }
            _ => {
                let status = if in_dialog || request.method == Method::Bye {
                    StatusCode::CALL_DOES_NOT_EXIST
                } else {
                    StatusCode::new(501).unwrap_or(StatusCode::SERVER_INTERNAL_ERROR)
                };
                let mut resp = Response::for_request(&request, status, Some(&self.sw.tag()));
                resp.head.headers.push(HeaderName::Allow, super::ALLOW);
                let _ = self.txs.respond(now, id, resp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallEvent;

    #[test]
    fn call_events_stay_small() {
        // Each call's channel allocates room for 32 events up front.
        let size = std::mem::size_of::<CallEvent>();
        assert!(size <= 64, "CallEvent is {size} bytes: box what made it grow");
    }
}
