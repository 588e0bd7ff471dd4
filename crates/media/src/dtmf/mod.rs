//! DTMF as RFC 4733 telephone-events: the 4-byte event payload ([`parse`],
//! [`TelephoneEvent`]), a [`DtmfSender`] that turns a key press into its
//! packet sequence, and a [`DtmfReceiver`] that turns a stream of event
//! packets back into one [`Digit`] per press.

pub(crate) mod digit;
mod event;
mod receiver;
mod sender;

pub use digit::Digit;
pub use event::{parse, TelephoneEvent, MAX_VOLUME};
pub use receiver::{DtmfReceiver, ReceivedDigit};
pub use sender::{DtmfSender, EventPacket};
