//! Where the API gets the time, so tests can move it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use store::Millis;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the epoch.
    fn now(&self) -> Millis;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Millis)
    }
}

/// A clock that is the system clock plus an offset that tests advance.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    offset: Arc<AtomicI64>,
}

impl ManualClock {
    /// Moves the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.offset.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        SystemClock.now() + self.offset.load(Ordering::SeqCst)
    }
}
