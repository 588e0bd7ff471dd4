//! The event bus: what happens to calls and agents, for WebSocket clients,
//! webhooks and tests. The bus keeps the last [`CAPACITY`] events, enough
//! for a burst; a subscriber that falls further behind loses the oldest
//! ones rather than slowing the switch down, and learns how many it lost
//! (`RecvError::Lagged`): each subscriber says so (the WebSocket sends an
//! `events.lost` notice) and counts them in `calliope_events_lost_total`
//! ([`crate::metrics::events_lost`]).

use std::sync::Arc;

use serde_json::Value as Json;
use store::Millis;
use tokio::sync::broadcast;

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its name: `agent.registered`, `call.answered`, ...
    pub name: &'static str,
    /// The workspace it belongs to.
    pub workspace_id: i64,
    /// When it happened.
    pub at: Millis,
    /// Its details, as JSON.
    pub data: Json,
}

/// Publishes events to every subscriber.
#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Arc<Event>>,
}

/// Events the bus keeps for subscribers that are behind.
pub const CAPACITY: usize = 65_536;

impl Default for Bus {
    fn default() -> Bus {
        Bus::new(CAPACITY)
    }
}

impl Bus {
    /// A bus that keeps up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Bus {
        Bus { tx: broadcast::channel(capacity.max(1)).0 }
    }

    /// Sends `event` to the current subscribers, if any.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// A stream of the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
