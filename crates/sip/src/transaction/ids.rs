//! Transaction ids: one counter shared by the layer and its users, so that
//! a user can name a client transaction before the layer starts it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::event::{ClientTxId, ServerTxId};

/// The source of every id of one [`super::Transactions`]. Cloning it
/// shares the counter: ids taken from any clone are never given twice.
#[derive(Debug, Clone, Default)]
pub struct TxIds(Arc<AtomicU64>);

impl TxIds {
    /// A new counter, starting at 1.
    pub fn new() -> TxIds {
        TxIds::default()
    }

    /// Reserves a client transaction id, for
    /// [`super::Transactions::send_request_as`].
    pub fn client(&self) -> ClientTxId {
        ClientTxId(self.next())
    }

    pub(super) fn server(&self) -> ServerTxId {
        ServerTxId(self.next())
    }

    fn next(&self) -> u64 {
        // Only uniqueness matters, not order with other memory.
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}
