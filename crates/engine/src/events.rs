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
    /// The configuration changes alone ([`crate::signalling::CONFIG_CHANGED`]),
    /// for those that follow nothing else: they are not woken, nor do they
    /// read, for each of the calls' events.
    config: broadcast::Sender<Arc<Event>>,
}

/// Events the bus keeps for subscribers that are behind.
pub const CAPACITY: usize = 65_536;

/// Configuration changes kept for their subscribers (fewer when the bus
/// keeps fewer events); one that falls further behind reloads anyway.
pub const CONFIG_CAPACITY: usize = 64;

impl Default for Bus {
    fn default() -> Bus {
        Bus::new(CAPACITY)
    }
}

impl Bus {
    /// A bus that keeps up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Bus {
        Bus {
            tx: broadcast::channel(capacity.max(1)).0,
            config: broadcast::channel(capacity.clamp(1, CONFIG_CAPACITY)).0,
        }
    }

    /// Sends `event` to the current subscribers, if any (with none, it
    /// is dropped at once, as the channel would drop it).
    pub fn publish(&self, event: Event) {
        let config = event.name == crate::signalling::CONFIG_CHANGED;
        if !config && !self.followed() {
            return;
        }
        let event = Arc::new(event);
        if config {
            let _ = self.config.send(event.clone());
        }
        let _ = self.tx.send(event);
    }

    /// Whether anyone follows the events (besides the configuration
    /// changes' own subscribers): a publisher with nobody to tell may
    /// skip making its event.
    pub fn followed(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// A stream of the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// A stream of the configuration changes published from now on, and
    /// nothing else.
    pub fn config_changes(&self) -> broadcast::Receiver<Arc<Event>> {
        self.config.subscribe()
    }
}
