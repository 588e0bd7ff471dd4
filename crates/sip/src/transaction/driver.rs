//! The driver: the table of transactions, the timer queue and the output
//! queues, with the polling half of the API. Inputs live in `incoming.rs`
//! (from the network) and `outgoing.rs` (from the TU).

use std::collections::HashMap;
use std::time::Instant;

use super::ack_2xx::Ack2xx;
use super::client_invite::{self, ClientInvite};
use super::client_non_invite::{self, ClientNonInvite};
use super::config::Config;
use super::event::{ClientTxId, Event, ServerTxId, TxId};
use super::finished::{Entry, Finished, Length};
use super::hashed::{ByHash, KeyHasher};
use super::ids::TxIds;
use super::key::AckKey;
use super::last_response::LastResponse;
use super::outbox::Outbox;
use super::peer::{Peer, Transmit};
use super::server_invite::ServerInvite;
use super::server_non_invite::ServerNonInvite;
use super::timers::{earliest, TimerQueue};
use super::Step;
use crate::shrink::Shrink;

/// Every transaction of one endpoint, driven by its caller: feed it
/// messages ([`Transactions::handle_message`]), time
/// ([`Transactions::handle_timeout`]) and the TU's requests and responses;
/// then drain [`Transactions::poll_transmit`] and
/// [`Transactions::poll_event`] and sleep until
/// [`Transactions::poll_timeout`]. See the [module docs](super).
#[derive(Debug)]
pub struct Transactions {
    pub(super) config: Config,
    ids: TxIds,
    pub(super) clients: HashMap<ClientTxId, ClientEntry>,
    pub(super) servers: HashMap<ServerTxId, ServerEntry>,
    /// Hashes the keys of the two indexes below.
    pub(super) keys: KeyHasher,
    /// Client transactions by the keyed hash of their [`super::key::ClientKey`].
    pub(super) client_keys: ByHash<ClientTxId>,
    /// Server transactions, live and finished, by the keyed hash of their
    /// [`super::key::ServerKey`].
    pub(super) server_keys: ByHash<ServerTxId>,
    /// Server INVITE transactions whose 2xx waits for its ACK.
    pub(super) acks: HashMap<AckKey, ServerTxId>,
    timers: TimerQueue,
    pub(super) out: Outbox,
    /// The estimated bytes held by live server transactions.
    pub(super) server_bytes: usize,
    /// Finished server transactions that absorb retransmissions, by the
    /// keyed hash of their key (not in `server_keys`), with their ends.
    pub(super) finished: Finished,
    /// Accepted INVITE client transactions whose 2xx the TU ACKed, by the
    /// keyed hash of their key (not in `client_keys`) and by id (they
    /// still count as live), until timer M.
    pub(super) finished_clients: Finished,
}

/// Stale timer entries left in the queue beyond twice the transactions
/// before they are swept all at once.
const STALE_TIMERS: usize = 1024;

/// What a finished server transaction absorbs retransmissions with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Absorbing {
    /// A non-INVITE: retransmissions get its final response again.
    NonInvite {
        /// That response.
        last: LastResponse,
    },
    /// An INVITE: a CANCEL for it gets 200 with this To tag.
    Invite {
        /// The To tag of its final response.
        tag: Option<Box<str>>,
    },
    /// An accepted INVITE client: the 2xx these ACKs acknowledge get them
    /// again.
    Acked {
        /// The TU's ACKs.
        acks: Box<[Ack2xx]>,
    },
}

/// A client transaction of either kind, boxed: the table then holds a
/// pointer a slot, and its empty slots (half of its room, give or take)
/// cost that much and no more. An accepted INVITE stays 32 s (timer M).
#[derive(Debug)]
pub(super) enum Client {
    Invite(Box<ClientInvite>),
    NonInvite(Box<ClientNonInvite>),
}

/// A server transaction of either kind.
#[derive(Debug)]
pub(super) enum Server {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

/// A client transaction with its matching key and its queued deadline.
#[derive(Debug)]
pub(super) struct ClientEntry {
    pub(super) tx: Client,
    /// The keyed hash of its key.
    pub(super) key: u64,
    pub(super) scheduled: Option<Instant>,
}

/// A server transaction with its keys and its queued deadline.
#[derive(Debug)]
pub(super) struct ServerEntry {
    pub(super) tx: Server,
    /// The keyed hash of its key.
    pub(super) key: u64,
    /// The ACK this transaction's 2xx waits for.
    pub(super) ack_key: Option<AckKey>,
    /// A CANCEL transaction the layer answers itself: the TU never sees
    /// its id, so its end is not reported.
    pub(super) internal: bool,
    /// What it counts against [`Config::max_server_bytes`].
    pub(super) weight: usize,
    pub(super) scheduled: Option<Instant>,
}

impl Client {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Client::Invite(t) => t.deadline(),
            Client::NonInvite(t) => t.deadline(),
        }
    }

    pub(super) fn peer(&self) -> Peer {
        match self {
            Client::Invite(t) => t.peer(),
            Client::NonInvite(t) => t.peer(),
        }
    }
}

impl Server {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Server::Invite(t) => t.deadline(),
            Server::NonInvite(t) => t.deadline(),
        }
    }

    pub(super) fn peer(&self) -> Peer {
        match self {
            Server::Invite(t) => t.peer(),
            Server::NonInvite(t) => t.peer(),
        }
    }
}

impl Default for Transactions {
    fn default() -> Transactions {
        Transactions::new(Config::default())
    }
}

impl Transactions {
    /// No transactions yet.
    pub fn new(config: Config) -> Transactions {
        Transactions::with_ids(config, TxIds::new())
    }

    /// No transactions yet; ids come from `ids`, which the TU may share to
    /// reserve client transaction ids itself
    /// ([`Transactions::send_request_as`]).
    pub fn with_ids(config: Config, ids: TxIds) -> Transactions {
        Transactions {
            config: config.sanitized(),
            ids,
            clients: HashMap::new(),
            servers: HashMap::new(),
            keys: KeyHasher::default(),
            client_keys: ByHash::default(),
            server_keys: ByHash::default(),
            acks: HashMap::new(),
            timers: TimerQueue::default(),
            out: Outbox::default(),
            server_bytes: 0,
            finished: Finished::default(),
            finished_clients: Finished::by_id(),
        }
    }

    /// The configuration in force (T1 and T2 raised to at least 1 ms).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next message to send, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let next = self.out.transmits.pop_front();
        if next.is_none() {
            self.out.transmits.shrink_when_sparse();
        }
        next
    }

    /// The next event for the TU, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        let next = self.out.events.pop_front();
        if next.is_none() {
            self.out.events.shrink_when_sparse();
        }
        next
    }

    /// When [`Transactions::handle_timeout`] should be called next: the
    /// earliest deadline of a live transaction.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(earliest(self.timers.next(), self.finished.next()), self.finished_clients.next())
    }

    /// Runs every timer due at `now`: retransmissions, 100 Trying,
    /// timeouts and the ends of transactions.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Take the due entries first, so that a timer re-armed at `now`
        // waits for the next call instead of looping here.
        // (The flag: the end of a finished server transaction, whose end
        // is reported, already gone.)
        let mut due = Vec::new();
        while let Some((at, id)) = self.timers.pop_due(now) {
            due.push((at, id, None));
        }
        while let Some((at, ended)) = self.finished.pop_due(now) {
            due.push((at, TxId::Server(ServerTxId(ended.id)), Some(!ended.internal)));
        }
        while let Some((at, ended)) = self.finished_clients.pop_due(now) {
            due.push((at, TxId::Client(ClientTxId(ended.id)), Some(true)));
        }
        // In deadline order, as one queue would give them.
        due.sort_unstable();
        for (at, id, end) in due {
            if let Some(reported) = end {
                if reported {
                    self.out.event(Event::Terminated { id });
                }
                continue;
            }
            match id {
                TxId::Client(id) => {
                    let Some(e) = self.clients.get_mut(&id).filter(|e| e.scheduled == Some(at)) else {
                        continue;
                    };
                    e.scheduled = None;
                    let step = match &mut e.tx {
                        Client::Invite(t) => t.on_timer(now, &mut self.out),
                        Client::NonInvite(t) => t.on_timer(now, &self.config, &mut self.out),
                    };
                    self.after_client(id, step);
                }
                TxId::Server(id) => {
                    let Some(e) = self.servers.get_mut(&id).filter(|e| e.scheduled == Some(at)) else {
                        continue;
                    };
                    e.scheduled = None;
                    let step = match &mut e.tx {
                        Server::Invite(t) => t.on_timer(now, &self.config, &mut self.out),
                        Server::NonInvite(t) => t.on_timer(now),
                    };
                    self.after_server(id, step);
                }
            }
        }
    }

    /// Estimated bytes held by live server transactions (see
    /// [`Config::max_server_bytes`]).
    pub fn server_bytes(&self) -> usize {
        self.server_bytes
    }

    /// Number of transactions, client and server, finished server ones
    /// that still absorb retransmissions included.
    pub fn len(&self) -> usize {
        self.live() + self.finished.len()
    }

    /// True when no transaction is left, not even a finished one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of live transactions (what [`Config::max_transactions`]
    /// limits): client transactions and server ones not yet finished.
    pub fn live(&self) -> usize {
        self.clients.len() + self.finished_clients.len() + self.servers.len()
    }

    /// Whether transaction `id` is live: it may still report more than
    /// its end (a finished server transaction reports nothing else, but
    /// for the ACKs of an accepted INVITE, which go by their Call-ID).
    pub fn is_live(&self, id: TxId) -> bool {
        match id {
            TxId::Client(c) => self.clients.contains_key(&c) || self.finished_clients.key_of(c.0).is_some(),
            TxId::Server(s) => self.servers.contains_key(&s),
        }
    }

    /// Number of finished server transactions that absorb retransmissions.
    pub fn retained(&self) -> usize {
        self.finished.len()
    }

    /// Estimated bytes they hold (see [`Config::max_retained_bytes`]).
    pub fn retained_bytes(&self) -> usize {
        self.finished.bytes()
    }

    /// Queued deadlines, stale ones included (for tests of boundedness).
    #[doc(hidden)]
    pub fn queued_timers(&self) -> usize {
        self.timers.len() + self.finished.len() + self.finished_clients.len()
    }

    /// The source of this layer's ids (shared, not copied).
    pub fn ids(&self) -> TxIds {
        self.ids.clone()
    }

    pub(super) fn next_client_id(&mut self) -> ClientTxId {
        self.ids.client()
    }

    pub(super) fn next_server_id(&mut self) -> ServerTxId {
        self.ids.server()
    }

    /// After a client transaction moved: end it, or queue its deadline.
    pub(super) fn after_client(&mut self, id: ClientTxId, step: Step) {
        if step == Step::Terminated {
            self.remove_client(id);
            return;
        }
        let Some(e) = self.clients.get_mut(&id) else { return };
        let deadline = e.tx.deadline();
        if deadline != e.scheduled {
            e.scheduled = deadline;
            if let Some(at) = deadline {
                self.timers.push(at, TxId::Client(id));
            }
        }
        self.purge_timers();
    }

    /// After a server transaction moved: end it, or queue its deadline.
    pub(super) fn after_server(&mut self, id: ServerTxId, step: Step) {
        if step == Step::Terminated {
            self.remove_server(id);
            return;
        }
        let Some(e) = self.servers.get_mut(&id) else { return };
        let finished = match &mut e.tx {
            Server::NonInvite(t) => {
                t.finished().map(|(last, until)| (Absorbing::NonInvite { last }, until, false))
            }
            Server::Invite(t) => t.finished(&self.config).map(|(until, confirmed)| {
                let tag = t.local_tag().map(Box::from);
                (Absorbing::Invite { tag }, until, confirmed)
            }),
        };
        if let Some((kind, until, confirmed)) = finished {
            self.retain(id, kind, until, confirmed);
            return;
        }
        let deadline = e.tx.deadline();
        if deadline != e.scheduled {
            e.scheduled = deadline;
            if let Some(at) = deadline {
                self.timers.push(at, TxId::Server(id));
            }
        }
        self.purge_timers();
    }

    /// Replaces live server transaction `id` by what absorbing
    /// retransmissions needs until `until`; forgets those nearest their
    /// end past [`Config::max_retained_bytes`].
    fn retain(&mut self, id: ServerTxId, kind: Absorbing, until: Instant, confirmed: bool) {
        let Some(e) = self.servers.remove(&id) else { return };
        self.server_bytes = self.server_bytes.saturating_sub(e.weight);
        if let Some(k) = &e.ack_key {
            if self.acks.get(k) == Some(&id) {
                self.acks.remove(k);
            }
        }
        if self.server_keys.get(&e.key) == Some(&id) {
            self.server_keys.remove(&e.key);
        }
        let length = if confirmed { Length::Short } else { Length::Long };
        let entry =
            Entry { key: e.key, id: id.0, peer: e.tx.peer(), kind: &kind, internal: e.internal, confirmed };
        self.finished.insert(entry, length, until);
        self.keep_within_budget();
        self.purge_timers();
        self.shrink_servers();
    }

    /// Replaces INVITE client transaction `id`, once its 2xx ACKed and
    /// nothing else left, by a record of its ACKs until timer M.
    pub(super) fn finish_client(&mut self, id: ClientTxId) {
        let Some(e) = self.clients.get_mut(&id) else { return };
        let Client::Invite(t) = &mut e.tx else { return };
        let Some((until, acks)) = t.take_acked() else { return };
        let (key, peer) = (e.key, t.peer());
        self.clients.remove(&id);
        self.client_keys.remove(&key);
        let kind = Absorbing::Acked { acks };
        let entry = Entry { key, id: id.0, peer, kind: &kind, internal: false, confirmed: false };
        self.finished_clients.insert(entry, Length::Long, until);
        self.keep_within_budget();
        self.purge_timers();
        self.clients.shrink_when_sparse();
        self.client_keys.shrink_when_sparse();
    }

    /// Forgets the finished transactions nearest their end while they hold
    /// more than [`Config::max_retained_bytes`].
    fn keep_within_budget(&mut self) {
        while self.finished.bytes() + self.finished_clients.bytes() > self.config.max_retained_bytes {
            let server_first = match (self.finished.next(), self.finished_clients.next()) {
                (Some(s), Some(c)) => s <= c,
                (s, _) => s.is_some(),
            };
            if server_first {
                let Some(first) = self.finished.pop_first() else { break };
                if !first.internal {
                    self.out.event(Event::Terminated { id: TxId::Server(ServerTxId(first.id)) });
                }
            } else {
                let Some(first) = self.finished_clients.pop_first() else { break };
                self.out.event(Event::Terminated { id: TxId::Client(ClientTxId(first.id)) });
            }
        }
    }

    /// Ends the finished server transaction of key `key` before its end.
    pub(super) fn remove_finished(&mut self, key: u64) {
        let Some(ended) = self.finished.remove(key) else { return };
        if !ended.internal {
            self.out.event(Event::Terminated { id: TxId::Server(ServerTxId(ended.id)) });
        }
    }

    /// Ends the finished client transaction of key `key` before its end.
    pub(super) fn remove_finished_client(&mut self, key: u64) {
        let Some(ended) = self.finished_clients.remove(key) else { return };
        self.out.event(Event::Terminated { id: TxId::Client(ClientTxId(ended.id)) });
    }

    /// Pops stale entries off the top of the timer queue.
    fn purge_timers(&mut self) {
        let (clients, servers) = (&self.clients, &self.servers);
        let live = |at: Instant, id: TxId| match id {
            TxId::Client(c) => clients.get(&c).is_some_and(|e| e.scheduled == Some(at)),
            TxId::Server(s) => servers.get(&s).is_some_and(|e| e.scheduled == Some(at)),
        };
        while let Some((at, id)) = self.timers.peek() {
            if live(at, id) {
                break;
            }
            self.timers.pop();
        }
        // A transaction that finished or moved its deadline leaves its
        // entry behind, 32 s for timers B, F and H: once the entries are
        // more than twice the transactions, the stale ones all go (a
        // pass over the queue, after at least as many new entries).
        if self.timers.len() > 2 * (clients.len() + servers.len()) + STALE_TIMERS {
            self.timers.retain(live);
        }
    }

    /// Ends a client transaction (and a CANCEL still held for it).
    pub(super) fn remove_client(&mut self, id: ClientTxId) {
        let Some(e) = self.clients.remove(&id) else { return };
        self.client_keys.remove(&e.key);
        self.out.event(Event::Terminated { id: TxId::Client(id) });
        self.purge_timers();
        self.clients.shrink_when_sparse();
        self.client_keys.shrink_when_sparse();
        if let Client::Invite(t) = &e.tx {
            if let Some(cancel) = t.cancel {
                self.drop_held_cancel(cancel);
            }
        }
    }

    /// Ends a CANCEL transaction that was never sent.
    pub(super) fn drop_held_cancel(&mut self, cancel: ClientTxId) {
        let held = self.clients.get(&cancel).is_some_and(
            |e| matches!(&e.tx, Client::NonInvite(c) if c.state() == client_non_invite::State::Held),
        );
        if held {
            self.remove_client(cancel);
        }
    }

    /// Sends a held CANCEL, or drops it, once its INVITE has heard a
    /// provisional response, or a final one.
    pub(super) fn settle_cancel(&mut self, now: Instant, invite: ClientTxId) {
        let Some(e) = self.clients.get(&invite) else { return };
        let Client::Invite(t) = &e.tx else { return };
        let Some(cancel) = t.cancel else { return };
        match t.state() {
            client_invite::State::Calling => {}
            client_invite::State::Proceeding => {
                if let Some(Client::NonInvite(c)) = self.clients.get_mut(&cancel).map(|e| &mut e.tx) {
                    c.release(now, &self.config, &mut self.out);
                }
                self.after_client(cancel, Step::Continue);
            }
            client_invite::State::Completed | client_invite::State::Accepted => {
                self.drop_held_cancel(cancel);
            }
        }
    }

    /// Ends a server transaction.
    pub(super) fn remove_server(&mut self, id: ServerTxId) {
        let Some(e) = self.servers.remove(&id) else { return };
        self.server_bytes = self.server_bytes.saturating_sub(e.weight);
        self.server_keys.remove(&e.key);
        if let Some(k) = &e.ack_key {
            if self.acks.get(k) == Some(&id) {
                self.acks.remove(k);
            }
        }
        if !e.internal {
            self.out.event(Event::Terminated { id: TxId::Server(id) });
        }
        self.purge_timers();
        self.shrink_servers();
    }

    /// Gives back the room of the live server tables when they emptied out.
    fn shrink_servers(&mut self) {
        self.servers.shrink_when_sparse();
        self.server_keys.shrink_when_sparse();
        self.acks.shrink_when_sparse();
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    /// The tables keep their entries inline, empty slots included: what
    /// stays 32 s (finished server transactions, accepted INVITE clients)
    /// must be small there.
    #[test]
    fn table_entries_are_small() {
        assert!(size_of::<ClientEntry>() <= 40, "{}", size_of::<ClientEntry>());
    }

    fn parse(text: &str) -> crate::Message {
        crate::parse_message(text.replace('\n', "\r\n").as_bytes()).expect("parses")
    }

    fn message(method: &str, to_tag: &str, branch: &str) -> crate::Message {
        parse(&format!(
            "{method} sip:bob@192.0.2.2 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}\n\
From: <sip:alice@example.com>;tag=f1\nTo: <sip:bob@example.com>{to_tag}\nCall-ID: c1\n\
CSeq: 1 {method}\nContent-Length: 0\n\n"
        ))
    }

    fn ok(tag: &str) -> crate::Message {
        parse(&format!(
            "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv\n\
From: <sip:alice@example.com>;tag=f1\nTo: <sip:bob@example.com>;tag={tag}\nCall-ID: c1\n\
CSeq: 1 INVITE\nContact: <sip:bob@192.0.2.2>\nContent-Length: 0\n\n"
        ))
    }

    /// An ACKed INVITE client is a record: a fork's 2xx still reaches the
    /// TU and its ACK joins the record; both 2xx get their ACK again.
    #[test]
    fn an_acked_invite_client_takes_a_fork_and_answers_both() {
        use crate::message::{Message, Request};
        let now = Instant::now();
        let peer = Peer::udp("192.0.2.2:5060".parse().expect("addr"));
        let mut layer = Transactions::default();
        let Message::Request(invite) = message("INVITE", "", "z9hG4bKinv") else { panic!() };
        let id = layer.send_request(now, invite, peer).expect("send");
        let ack = |tag: &str| -> Request {
            let Message::Request(r) = message("ACK", &format!(";tag={tag}"), "z9hG4bKack") else { panic!() };
            r
        };
        layer.handle_message(now, ok("b1"), peer);
        layer.ack_2xx(id, ack("b1"), peer).expect("ack");
        assert!(layer.clients.is_empty() && layer.finished_clients.len() == 1, "a record now");
        assert_eq!((layer.live(), layer.is_live(TxId::Client(id))), (1, true));
        assert_eq!(layer.cancel(now, id), Err(crate::transaction::TransactionError::AlreadyFinal));
        while layer.poll_event().is_some() {}
        while layer.poll_transmit().is_some() {}
        // A fork: to the TU, then ACKed into the record.
        layer.handle_message(now, ok("b2"), peer);
        assert!(matches!(layer.poll_event(), Some(Event::Response { id: i, .. }) if i == id));
        layer.ack_2xx(id, ack("b2"), peer).expect("ack the fork");
        while layer.poll_transmit().is_some() {}
        for tag in ["b1", "b2"] {
            layer.handle_message(now, ok(tag), peer);
            assert!(layer.poll_event().is_none(), "an ACKed 2xx is not reported again");
            let again = layer.poll_transmit().expect("the ACK again");
            assert_eq!(again.bytes, ack(tag).to_bytes());
        }
        // Timer M ends it, reported.
        layer.handle_timeout(now + 64 * layer.config().t1);
        assert_eq!(layer.poll_event(), Some(Event::Terminated { id: TxId::Client(id) }));
        assert!(layer.is_empty() && layer.finished_clients.len() == 0);
        // A transport error ends a record at once.
        let Message::Request(invite) = message("INVITE", "", "z9hG4bKinv") else { panic!() };
        let id = layer.send_request(now, invite, peer).expect("send");
        layer.handle_message(now, ok("b1"), peer);
        layer.ack_2xx(id, ack("b1"), peer).expect("ack");
        while layer.poll_event().is_some() {}
        layer.handle_transport_error(peer);
        let events: Vec<_> = std::iter::from_fn(|| layer.poll_event()).collect();
        let id = TxId::Client(id);
        assert_eq!(events, [Event::TransportError { id }, Event::Terminated { id }]);
        assert!(layer.is_empty());
    }
}
