//! The event bus: what happens to calls and agents, for WebSocket clients,
//! webhooks and tests. Subscribers that fall behind lose the oldest events
//! rather than slowing the switch down.

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

impl Default for Bus {
    fn default() -> Bus {
        Bus::new(4096)
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
