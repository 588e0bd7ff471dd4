//! Calls from the TU: sending requests, responding, cancelling, ACKing
//! 2xx responses, stateless sends and transport errors.

use std::time::Instant;

use super::ack_2xx::{with_ack, Ack2xx, KeptAck};
use super::client_invite::{self, ClientInvite};
use super::client_non_invite::ClientNonInvite;
use super::driver::{Absorbing, Client, ClientEntry, Server, Transactions};
use super::error::TransactionError;
use super::event::{ClientTxId, Event, ServerTxId, TxId};
use super::finished::{Entry, Kind, Length};
use super::key::{AckKey, ClientKey};
use super::peer::Peer;
use super::Step;
use crate::message::{Message, Request, Response};
use crate::method::Method;

impl Transactions {
    /// Starts a client transaction: sends `request` to `peer` and
    /// retransmits it (on UDP) until a response or a timeout.
    ///
    /// The caller puts its own Via on top, with a fresh random RFC 3261
    /// branch (`z9hG4bK` + at least 32 random bits): the branch is the
    /// transaction's key. ACK is not a transaction: see
    /// [`Transactions::ack_2xx`] and [`Transactions::send_stateless`].
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        peer: Peer,
    ) -> Result<ClientTxId, TransactionError> {
        let id = self.next_client_id();
        self.send_request_as(now, id, request, peer).map(|()| id)
    }

    /// [`Transactions::send_request`] under id `id`, which the TU reserved
    /// from [`Transactions::ids`] (each once): it knows the id without
    /// waiting for the layer, and learns of a refusal here.
    pub fn send_request_as(
        &mut self,
        now: Instant,
        id: ClientTxId,
        request: Request,
        peer: Peer,
    ) -> Result<(), TransactionError> {
        if self.is_live(TxId::Client(id)) {
            return Err(TransactionError::IdInUse);
        }
        if request.method == Method::Ack {
            return Err(TransactionError::Ack);
        }
        let key = ClientKey::of_request(&request).ok_or(TransactionError::NoBranch)?;
        let key = self.keys.of(&key);
        if self.client_keys.contains_key(&key) {
            return Err(TransactionError::DuplicateBranch);
        }
        if self.live() >= self.config.max_transactions {
            return Err(TransactionError::TooManyTransactions);
        }
        let tx = if request.method == Method::Invite {
            Client::Invite(Box::new(ClientInvite::start(now, id, request, peer, &self.config, &mut self.out)))
        } else {
            Client::NonInvite(Box::new(ClientNonInvite::start(
                now,
                id,
                &request,
                peer,
                &self.config,
                &mut self.out,
            )))
        };
        self.insert_client(id, key, tx);
        Ok(())
    }

    fn insert_client(&mut self, id: ClientTxId, key: u64, tx: Client) {
        self.client_keys.insert(key, id);
        self.clients.insert(id, ClientEntry { tx, key, scheduled: None });
        self.after_client(id, Step::Continue);
    }

    /// Sends `response` on server transaction `id` (built with
    /// [`Response::for_request`] from the request of [`Event::Request`]).
    /// Provisional responses may repeat; after a final one only more 2xx
    /// to an INVITE are accepted (the TU's own 2xx retransmissions).
    pub fn respond(
        &mut self,
        now: Instant,
        id: ServerTxId,
        response: Response,
    ) -> Result<(), TransactionError> {
        if !self.servers.contains_key(&id) && self.finished.records().any(|r| r.id == id.0 && !r.internal) {
            // Finished: only retransmissions are absorbed now. (A scan, but
            // only for a TU that answers twice.)
            return Err(TransactionError::AlreadyFinal);
        }
        let e =
            self.servers.get_mut(&id).filter(|e| !e.internal).ok_or(TransactionError::UnknownTransaction)?;
        let is_invite = matches!(e.tx, Server::Invite(_));
        let method = &response.head.cseq.method;
        if is_invite != (*method == Method::Invite) || *method == Method::Ack {
            return Err(TransactionError::WrongMethod);
        }
        let step = match &mut e.tx {
            Server::Invite(t) => {
                if t.respond(now, &response, &self.config, &mut self.out)? {
                    let key = AckKey::of_response(&response);
                    self.acks.insert(key.clone(), id);
                    e.ack_key = Some(key);
                }
                Step::Continue
            }
            Server::NonInvite(t) => t.respond(now, &response, &self.config, &mut self.out)?,
        };
        self.after_server(id, step);
        Ok(())
    }

    /// Cancels INVITE client transaction `invite` (RFC 3261 9.1): builds
    /// the CANCEL from the INVITE and sends it to the same peer in its own
    /// client transaction, whose id is returned. Before any provisional
    /// response the CANCEL is held and goes out with the first one; if a
    /// final response comes first, the held CANCEL ends unsent. Asking
    /// twice returns the same CANCEL.
    pub fn cancel(&mut self, now: Instant, invite: ClientTxId) -> Result<ClientTxId, TransactionError> {
        if self.finished_clients.key_of(invite.0).is_some() {
            return Err(TransactionError::AlreadyFinal);
        }
        let e = self.clients.get(&invite).ok_or(TransactionError::UnknownTransaction)?;
        let Client::Invite(t) = &e.tx else { return Err(TransactionError::NotInvite) };
        if let Some(cancel) = t.cancel.filter(|c| self.clients.contains_key(c)) {
            return Ok(cancel);
        }
        let state = t.state();
        if matches!(state, client_invite::State::Completed | client_invite::State::Accepted) {
            return Err(TransactionError::AlreadyFinal);
        }
        let Some(request) = t.request().map(Request::cancel) else {
            return Err(TransactionError::AlreadyFinal);
        };
        let peer = t.peer();
        let key = ClientKey::of_request(&request).ok_or(TransactionError::NoBranch)?;
        let key = self.keys.of(&key);
        if self.client_keys.contains_key(&key) {
            return Err(TransactionError::DuplicateBranch);
        }
        let id = self.next_client_id();
        let tx = if state == client_invite::State::Proceeding {
            ClientNonInvite::start(now, id, &request, peer, &self.config, &mut self.out)
        } else {
            ClientNonInvite::held(id, &request, peer)
        };
        if let Some(Client::Invite(t)) = self.clients.get_mut(&invite).map(|e| &mut e.tx) {
            t.cancel = Some(id);
        }
        self.insert_client(id, key, Client::NonInvite(Box::new(tx)));
        Ok(id)
    }

    /// Sends the TU's ACK for a 2xx received on INVITE client transaction
    /// `id` (built with `Dialog::ack_for_2xx`) to `peer` (the next hop of
    /// the dialog), and resends it whenever that 2xx (same To tag) comes
    /// again while the transaction lives; those retransmissions are then
    /// no longer reported. After the transaction ended (an
    /// [`Event::StrayResponse`]), use [`Transactions::send_stateless`].
    pub fn ack_2xx(&mut self, id: ClientTxId, ack: Request, peer: Peer) -> Result<(), TransactionError> {
        if ack.method != Method::Ack {
            return Err(TransactionError::NotAck);
        }
        if let Some(key) = self.finished_clients.key_of(id.0) {
            self.ack_finished(id, key, &ack, peer);
            return Ok(());
        }
        let e = self.clients.get_mut(&id).ok_or(TransactionError::UnknownTransaction)?;
        let Client::Invite(t) = &mut e.tx else { return Err(TransactionError::NotInvite) };
        if t.state() != client_invite::State::Accepted {
            return Err(TransactionError::NotAccepted);
        }
        let tag = ack.head.to_tag().unwrap_or_default().to_owned();
        t.ack_2xx(&tag, &ack, peer, &mut self.out);
        self.finish_client(id);
        Ok(())
    }

    /// [`Transactions::ack_2xx`] for an INVITE whose record holds ACKs
    /// already (another 2xx, a fork): a new record with this one too.
    fn ack_finished(&mut self, id: ClientTxId, key: u64, ack: &Request, peer: Peer) {
        let written = ack.to_bytes();
        self.out.send(peer, &written);
        let Some(r) = self.finished_clients.get(key) else { return };
        let Kind::Acked { acks } = r.kind else { return };
        let tag = ack.head.to_tag().unwrap_or_default();
        let acks = with_ack(
            acks.iter().map(KeptAck::to_owned).collect(),
            Ack2xx::new(tag, ack, &written, peer, false),
        );
        let (end, tx_peer) = (r.end, r.peer);
        let kind = Absorbing::Acked { acks };
        let entry = Entry { key, id: id.0, peer: tx_peer, kind: &kind, internal: false, confirmed: false };
        self.finished_clients.insert(entry, Length::Long, end);
    }

    /// Sends a message outside any transaction (an ACK for a stray 2xx, a
    /// stateless response).
    pub fn send_stateless(&mut self, message: impl Into<Message>, peer: Peer) {
        self.out.send(peer, &message.into().to_bytes());
    }

    /// The TU could not reach `peer` (a TCP connection closed, an ICMP
    /// error): every transaction with that peer ends with
    /// [`Event::TransportError`] (RFC 3261 17.1.4, 17.2.4).
    pub fn handle_transport_error(&mut self, peer: Peer) {
        // Finished transactions with their keys, to find them again.
        let mut ids: Vec<(TxId, Option<u64>)> = self
            .clients
            .iter()
            .filter(|(_, e)| e.tx.peer() == peer)
            .map(|(id, _)| (TxId::Client(*id), None))
            .chain(
                self.servers
                    .iter()
                    .filter(|(_, e)| e.tx.peer() == peer)
                    .map(|(id, _)| (TxId::Server(*id), None)),
            )
            .chain(
                self.finished
                    .records()
                    .filter(|r| r.peer == peer)
                    .map(|r| (TxId::Server(ServerTxId(r.id)), Some(r.key))),
            )
            .chain(
                self.finished_clients
                    .records()
                    .filter(|r| r.peer == peer)
                    .map(|r| (TxId::Client(ClientTxId(r.id)), Some(r.key))),
            )
            .collect();
        ids.sort();
        for (id, finished) in ids {
            match (id, finished) {
                (TxId::Server(_), Some(key)) => {
                    if self.finished.get(key).is_some_and(|r| !r.internal) {
                        self.out.event(Event::TransportError { id });
                    }
                    self.remove_finished(key);
                    continue;
                }
                (TxId::Client(_), Some(key)) => {
                    if self.finished_clients.get(key).is_some() {
                        self.out.event(Event::TransportError { id });
                    }
                    self.remove_finished_client(key);
                    continue;
                }
                _ => {}
            }
            match id {
                TxId::Client(c) => {
                    if self.clients.contains_key(&c) {
                        self.out.event(Event::TransportError { id });
                        self.remove_client(c);
                    }
                }
                TxId::Server(s) => {
                    if self.servers.get(&s).is_some_and(|e| !e.internal) {
                        self.out.event(Event::TransportError { id });
                    }
                    self.remove_server(s);
                }
            }
        }
    }
}
