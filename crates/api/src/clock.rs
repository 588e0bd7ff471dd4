//! Where the API gets the time: the engine's [`Clock`], so the API and the
//! calls read one clock, and a [`ManualClock`] that API tests move.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub use engine::clock::{Clock, Sleep, SystemClock};
use store::Millis;

/// The system clock plus an offset that tests advance.
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

    fn sleep_until(&self, at: Millis) -> Sleep {
        SystemClock.sleep_until(at - self.offset.load(Ordering::SeqCst))
    }
}
