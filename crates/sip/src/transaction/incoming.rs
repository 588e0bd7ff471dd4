//! Messages from the network: matching them to transactions, creating
//! server transactions, CANCEL and ACK handling, stray responses.

use std::time::Instant;

use super::client_invite;
use super::driver::{Client, ClientEntry, Server, ServerEntry, Transactions};
use super::event::{ClientTxId, Event, ServerTxId};
use super::finished::Kind;
use super::key::{AckKey, ClientKey, ServerKey};
use super::peer::Peer;
use super::server_invite::{self, ServerInvite};
use super::server_non_invite::ServerNonInvite;
use super::Step;
use crate::header::Rport;
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::status::StatusCode;

impl Transactions {
    /// A message arrived from `peer` (for TCP/TLS: on the connection
    /// `peer.addr` names). Requests get their top Via stamped with
    /// `received` and `rport` (RFC 3261 18.2.1, RFC 3581); a request that
    /// matches a server transaction is a retransmission and gets the last
    /// response again; a new one becomes a server transaction and an
    /// [`Event::Request`]. A response goes to its client transaction.
    /// Messages without a Via are dropped.
    pub fn handle_message(&mut self, now: Instant, message: Message, peer: Peer) {
        match message {
            Message::Request(r) => self.handle_request(now, r, peer),
            Message::Response(r) => self.handle_response(now, r, peer),
        }
    }

    fn handle_request(&mut self, now: Instant, mut request: Request, peer: Peer) {
        // Without a Via there is nowhere to answer: drop.
        let Some(key) = ServerKey::of_request(&request).map(|k| self.keys.of(&k)) else { return };
        stamp_via(&mut request, peer);
        if request.method == Method::Ack {
            self.handle_ack(now, key, request, peer);
            return;
        }
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(e) = self.servers.get_mut(&id) {
                match &mut e.tx {
                    Server::Invite(t) => t.on_retransmission(&mut self.out),
                    Server::NonInvite(t) => t.on_retransmission(&mut self.out),
                }
            }
            self.after_server(id, Step::Continue);
            return;
        }
        if let Some(r) = self.finished.get(key) {
            if let Kind::NonInvite { last } = r.kind {
                self.out.send(r.peer, &last.for_retransmission(&request));
            }
            return;
        }
        // A CANCEL frees resources: it is answered even at the limit.
        if request.method == Method::Cancel {
            self.handle_cancel(now, key, request, peer);
            return;
        }
        let weight = request.head.echoed_len() + 1024;
        let full = self.server_bytes.saturating_add(weight) > self.config.max_server_bytes;
        if self.live() >= self.config.max_transactions || full {
            let busy = Response::for_request(&request, StatusCode::SERVICE_UNAVAILABLE, None);
            self.out.send(peer, &busy.to_bytes());
            return;
        }
        self.server_bytes += weight;
        let id = self.next_server_id();
        let tx = if request.method == Method::Invite {
            Server::Invite(ServerInvite::new(now, id, &request, peer, &self.config, &mut self.out))
        } else {
            Server::NonInvite(ServerNonInvite::new(peer, request.head.to_tag().is_some()))
        };
        self.insert_server(id, key, tx, false, weight);
        self.out.event(Event::Request { id, request, peer });
    }

    fn insert_server(&mut self, id: ServerTxId, key: u64, tx: Server, internal: bool, weight: usize) {
        self.server_keys.insert(key, id);
        self.servers.insert(id, ServerEntry { tx, key, ack_key: None, internal, weight, scheduled: None });
        self.after_server(id, Step::Continue);
    }

    /// An ACK: absorbed by the INVITE transaction whose non-2xx it
    /// acknowledges, otherwise (an ACK for a 2xx) given to the TU, after
    /// stopping the retransmission of that 2xx.
    fn handle_ack(&mut self, now: Instant, key: u64, ack: Request, peer: Peer) {
        match self.finished.get(key) {
            Some(r) if matches!(r.kind, Kind::Invite { .. }) && r.confirmed => return,
            Some(r) if matches!(r.kind, Kind::Invite { .. }) => {
                self.out.event(Event::Ack { request: ack, peer });
                return;
            }
            _ => {}
        }
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(e) = self.servers.get_mut(&id) {
                if let Server::Invite(t) = &mut e.tx {
                    let (step, for_tu) = t.on_ack(now, &self.config);
                    if for_tu {
                        if let Some(k) = e.ack_key.take() {
                            self.acks.remove(&k);
                        }
                        self.out.event(Event::Ack { request: ack, peer });
                    }
                    self.after_server(id, step);
                    return;
                }
            }
        }
        if let Some(id) = self.acks.remove(&AckKey::of_ack(&ack)) {
            if let Some(e) = self.servers.get_mut(&id) {
                e.ack_key = None;
                if let Server::Invite(t) = &mut e.tx {
                    t.on_2xx_ack();
                }
            }
            self.after_server(id, Step::Continue);
        }
        self.out.event(Event::Ack { request: ack, peer });
    }

    /// A new CANCEL: its own server transaction, answered at once by the
    /// layer: 200 when it matches an INVITE server transaction (and
    /// [`Event::Cancel`] when that one has no final response yet), 481
    /// when it matches none (RFC 3261 9.2).
    fn handle_cancel(&mut self, now: Instant, key: u64, cancel: Request, peer: Peer) {
        let invite_key = ServerKey::invite_of_cancel(&cancel).map(|k| self.keys.of(&k));
        let invite_id = invite_key.and_then(|k| self.server_keys.get(&k)).copied();
        // The INVITE's To tag, and whether it still waits for a final.
        let invite = match invite_id.and_then(|id| self.servers.get(&id).map(|e| (id, &e.tx))) {
            Some((id, Server::Invite(t))) => Some((
                t.local_tag().map(str::to_owned),
                (t.state() == server_invite::State::Proceeding).then_some(id),
            )),
            _ => match invite_key.and_then(|k| self.finished.get(k)).map(|r| r.kind) {
                Some(Kind::Invite { tag }) => Some((tag.map(str::to_owned), None)),
                _ => None,
            },
        };
        let (status, tag, cancels) = match invite {
            Some((tag, cancels)) => (StatusCode::OK, tag.unwrap_or_else(|| derived_tag(&cancel)), cancels),
            None => (StatusCode::CALL_DOES_NOT_EXIST, derived_tag(&cancel), None),
        };
        let response = Response::for_request(&cancel, status, Some(&tag));
        let weight = cancel.head.echoed_len() + 1024;
        let full = self.server_bytes.saturating_add(weight) > self.config.max_server_bytes;
        if full && status != StatusCode::OK {
            // A CANCEL that frees nothing gets no transaction past the budget.
            self.out.send(peer, &response.to_bytes());
            return;
        }
        let id = self.next_server_id();
        let mut tx = ServerNonInvite::new(peer, cancel.head.to_tag().is_some());
        let step = tx.respond(now, &response, &self.config, &mut self.out);
        if step != Ok(Step::Terminated) {
            self.server_bytes += weight;
            self.insert_server(id, key, Server::NonInvite(tx), true, weight);
        }
        if let Some(invite) = cancels {
            self.out.event(Event::Cancel { invite, cancel });
        }
    }

    fn handle_response(&mut self, now: Instant, response: Response, peer: Peer) {
        let Some(key) = ClientKey::of_response(&response).map(|k| self.keys.of(&k)) else { return };
        let Some(&id) = self.client_keys.get(&key) else {
            if let Some(r) = self.finished_clients.get(key) {
                let Kind::Acked { acks } = r.kind else { return };
                if !response.status.is_success() {
                    return;
                }
                let tag = response.head.to_tag().unwrap_or_default();
                let ack = acks.iter().find(|a| a.acknowledges(tag));
                match ack.and_then(|a| Some((a.peer, a.for_retransmission(&response)?))) {
                    Some((peer, ack)) => self.out.send(peer, &ack),
                    None => self.out.event(Event::Response { id: ClientTxId(r.id), response }),
                }
                return;
            }
            if response.status.is_success() && response.head.cseq.method == Method::Invite {
                self.out.event(Event::StrayResponse { response, peer });
            }
            return;
        };
        let Some(ClientEntry { tx, .. }) = self.clients.get_mut(&id) else { return };
        let step = match tx {
            Client::Invite(t) => t.on_response(now, response, &self.config, &mut self.out),
            Client::NonInvite(t) => t.on_response(now, response, &self.config, &mut self.out),
        };
        if matches!(tx, Client::Invite(t) if t.state() != client_invite::State::Calling) {
            self.settle_cancel(now, id);
        }
        self.after_client(id, step);
    }
}

/// Stamps the top Via of a received request with `received` (when the
/// sent-by host is not the source address, or `rport` is present) and
/// `rport=<source port>` when the client asked for it.
fn stamp_via(request: &mut Request, peer: Peer) {
    let Some(via) = request.head.via.first_mut() else { return };
    let ip = peer.addr.ip();
    let rport = via.rport();
    if via.sent_by.host.ip() != Some(ip) || rport != Rport::Absent {
        via.set_received(ip);
    }
    if rport == Rport::Requested {
        via.set_rport(peer.addr.port());
    }
}

/// A To tag for the layer's own answer to a CANCEL when the TU has not
/// chosen one yet: stable for the transaction (FNV-1a of its branch and
/// Call-ID), so that CANCEL retransmissions see the same tag.
fn derived_tag(cancel: &Request) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let branch = cancel.head.branch().unwrap_or_default();
    for b in branch.bytes().chain([0]).chain(cancel.head.call_id.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}
