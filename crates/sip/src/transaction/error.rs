//! The error of the transaction layer.

use thiserror::Error;

/// Why the transaction layer refused a call from its user. Network input
/// never causes one: bad or unmatched messages are answered or dropped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransactionError {
    /// The transaction does not exist (any more).
    #[error("no such transaction")]
    UnknownTransaction,
    /// The request has no top Via with an RFC 3261 branch (`z9hG4bK...`):
    /// the caller puts its Via, with a fresh random branch, on top.
    #[error("request has no top Via with an RFC 3261 branch")]
    NoBranch,
    /// A client transaction with this branch and method exists already.
    #[error("a client transaction with this branch and method exists already")]
    DuplicateBranch,
    /// ACK is not sent through a client transaction: use
    /// `Transactions::ack_2xx` or `Transactions::send_stateless`.
    #[error("ACK is not sent through a client transaction")]
    Ack,
    /// The response's CSeq method is not the transaction's.
    #[error("response does not match the transaction's method")]
    WrongMethod,
    /// A final response was already sent (or received), so this response
    /// (or this CANCEL) comes too late.
    #[error("the transaction already has a final response")]
    AlreadyFinal,
    /// The transaction is not an INVITE transaction (CANCEL and ACK helpers).
    #[error("not an INVITE transaction")]
    NotInvite,
    /// `Transactions::ack_2xx` was given something other than an ACK.
    #[error("not an ACK")]
    NotAck,
    /// No 2xx has been received on this INVITE transaction (or its
    /// Accepted state has ended): there is nothing to ACK through it.
    #[error("the INVITE transaction has no 2xx to acknowledge")]
    NotAccepted,
    /// The id given to `Transactions::send_request_as` names a live
    /// transaction already.
    #[error("a transaction with this id is live already")]
    IdInUse,
    /// [`super::Config::max_transactions`] transactions are live.
    #[error("too many transactions")]
    TooManyTransactions,
}
