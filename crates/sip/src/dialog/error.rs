//! The error of the dialog layer.

use thiserror::Error;

use crate::error::ParseError;
use crate::method::Method;
use crate::status::StatusCode;

/// Why a dialog could not be created, or refused a message or a request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DialogError {
    /// The response is not a 101-299 with a To tag, or the request already
    /// has a To tag: neither creates a dialog (RFC 3261 12.1).
    #[error("the message does not create a dialog")]
    NotDialogCreating,
    /// The request that would create a UAS dialog has no usable Contact.
    #[error("the request has no Contact")]
    NoContact,
    /// A Contact, Record-Route or Route header does not parse.
    #[error(transparent)]
    BadHeader(#[from] ParseError),
    /// The message's Call-ID or tags are not this dialog's.
    #[error("the message does not belong to this dialog")]
    NotThisDialog,
    /// The request's CSeq is lower than the last one from the peer (RFC
    /// 3261 12.2.2): answer 500.
    #[error("CSeq {got} is lower than the last one, {last}")]
    CSeqOutOfOrder {
        /// The request's CSeq number.
        got: u32,
        /// The highest CSeq number seen from the peer.
        last: u32,
    },
    /// ACK and CANCEL are not built with `Dialog::request`: use
    /// `Dialog::ack_for_2xx` and `Request::cancel`.
    #[error("{0} is not built with Dialog::request")]
    Method(Method),
    /// The local CSeq reached 2**31 - 1.
    #[error("the local CSeq number is exhausted")]
    CSeqExhausted,
    /// The dialog has ended.
    #[error("the dialog has ended")]
    Terminated,
}

impl DialogError {
    /// The response a UAS sends for a request that `handle_request` or
    /// `from_uas` refused: 481 for another dialog, 500 for a CSeq out of
    /// order, 400 for bad or missing headers; `None` for errors about
    /// building requests.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            DialogError::NotThisDialog | DialogError::Terminated => Some(StatusCode::CALL_DOES_NOT_EXIST),
            DialogError::CSeqOutOfOrder { .. } => Some(StatusCode::SERVER_INTERNAL_ERROR),
            DialogError::BadHeader(_) | DialogError::NoContact | DialogError::NotDialogCreating => {
                Some(StatusCode::BAD_REQUEST)
            }
            DialogError::Method(_) | DialogError::CSeqExhausted => None,
        }
    }
}
