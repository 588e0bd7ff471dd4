//! The queues of bytes to send and events to report, filled by the state
//! machines and drained by `poll_transmit` and `poll_event`.

use std::collections::VecDeque;

use super::event::Event;
use super::peer::{Peer, Transmit};

/// Transmits and events waiting to be polled, in order.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    pub(super) transmits: VecDeque<Transmit>,
    pub(super) events: VecDeque<Event>,
}

impl Outbox {
    /// Queues bytes for `peer`.
    pub(super) fn send(&mut self, peer: Peer, bytes: &[u8]) {
        self.transmits.push_back(Transmit { peer, bytes: bytes.to_vec() });
    }

    /// Queues an event.
    pub(super) fn event(&mut self, event: Event) {
        self.events.push_back(event);
    }
}
