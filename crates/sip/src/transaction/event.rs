//! What the transaction layer tells its user, and the transaction ids.

use std::fmt;

use super::peer::Peer;
use crate::message::{Request, Response};

/// A client transaction: a request this endpoint sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId(pub(super) u64);

/// A server transaction: a request this endpoint received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId(pub(super) u64);

/// Either kind of transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxId {
    /// A client transaction.
    Client(ClientTxId),
    /// A server transaction.
    Server(ServerTxId),
}

impl fmt::Display for ClientTxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

impl fmt::Display for ServerTxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxId::Client(c) => c.fmt(f),
            TxId::Server(s) => s.fmt(f),
        }
    }
}

impl From<ClientTxId> for TxId {
    fn from(id: ClientTxId) -> TxId {
        TxId::Client(id)
    }
}

impl From<ServerTxId> for TxId {
    fn from(id: ServerTxId) -> TxId {
        TxId::Server(id)
    }
}

/// Something the transaction user (TU) must know or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new request (not ACK, not CANCEL) created server transaction `id`.
    /// Answer it with [`super::Transactions::respond`]; an INVITE also gets
    /// 100 Trying from the layer if the TU is slow (see
    /// [`super::Config::trying_delay`]).
    Request {
        /// The new server transaction.
        id: ServerTxId,
        /// The request, its top Via stamped with `received`/`rport`.
        request: Request,
        /// Where it came from; responses go back there.
        peer: Peer,
    },
    /// An ACK that no INVITE server transaction absorbed: the ACK for a
    /// 2xx, which belongs to the dialog (a new transaction per RFC 3261
    /// 17.2.3), or a stray one.
    Ack {
        /// The ACK.
        request: Request,
        /// Where it came from.
        peer: Peer,
    },
    /// A CANCEL matched INVITE server transaction `invite` while it had not
    /// answered finally. The layer has already answered the CANCEL with
    /// 200; the TU should now answer the INVITE, normally with 487.
    Cancel {
        /// The INVITE server transaction being cancelled.
        invite: ServerTxId,
        /// The CANCEL request.
        cancel: Request,
    },
    /// A response for client transaction `id`: every provisional and final
    /// response, and every 2xx to an INVITE (retransmissions and the 2xx of
    /// other forks included) until the TU hands the ACK for it to
    /// [`super::Transactions::ack_2xx`]. Non-2xx finals to an INVITE are
    /// already ACKed by the layer.
    Response {
        /// The client transaction.
        id: ClientTxId,
        /// The response.
        response: Response,
    },
    /// A 2xx to an INVITE that matched no client transaction (it came after
    /// timer M ended it): the TU must ACK it again if it belongs to a
    /// dialog. Other stray responses are dropped.
    StrayResponse {
        /// The response.
        response: Response,
        /// Where it came from.
        peer: Peer,
    },
    /// The transaction timed out: a client transaction got no final
    /// response (timer B or F), or a server INVITE transaction got no ACK
    /// for its final response (timer H, or 64*T1 after a 2xx when
    /// [`super::Config::retransmit_2xx`] is on: the TU should send BYE).
    Timeout {
        /// The transaction.
        id: TxId,
    },
    /// The TU reported a transport error towards this transaction's peer
    /// ([`super::Transactions::handle_transport_error`]); the transaction
    /// has ended.
    TransportError {
        /// The transaction.
        id: TxId,
    },
    /// The transaction has ended and its id is no longer valid. Every
    /// transaction ends with this event, whatever the reason.
    Terminated {
        /// The transaction.
        id: TxId,
    },
}
