//! Where the engine gets the time: a [`Clock`] it is given, so that call
//! logic (ring timeouts, phases, registrations) runs on a test clock in
//! tests and on the system clock in production.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use store::Millis;
use tokio::sync::watch;

/// A future that resolves when a clock reaches a time.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of the current time and of timers on it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
    /// Resolves once the clock reads `at` or later.
    fn sleep_until(&self, at: Millis) -> Sleep;
}

/// The system clock, with tokio's timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Millis)
    }

    fn sleep_until(&self, at: Millis) -> Sleep {
        let wait = (at - self.now()).max(0) as u64;
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}

/// A clock that only moves when a test moves it; its timers fire when it
/// is moved past them.
#[derive(Debug, Clone)]
pub struct TestClock {
    now: Arc<watch::Sender<Millis>>,
}

impl TestClock {
    /// A clock reading `start`.
    pub fn new(start: Millis) -> TestClock {
        TestClock { now: Arc::new(watch::Sender::new(start)) }
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: Millis) {
        self.now.send_modify(|n| *n += ms.max(0));
    }
}

impl Clock for TestClock {
    fn now(&self) -> Millis {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: Millis) -> Sleep {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            if rx.wait_for(|n| *n >= at).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_clock_timers_fire_when_moved_past() {
        let clock = TestClock::new(1_000);
        let mut sleep = clock.sleep_until(1_500);
        let pending = tokio::time::timeout(Duration::from_millis(20), &mut sleep).await;
        assert!(pending.is_err(), "the timer waits for the clock, not for real time");
        clock.advance(499);
        assert!(tokio::time::timeout(Duration::from_millis(20), &mut sleep).await.is_err());
        clock.advance(1);
        assert!(tokio::time::timeout(Duration::from_millis(200), &mut sleep).await.is_ok());
        assert_eq!(clock.now(), 1_500);
    }

    #[tokio::test]
    async fn system_clock_sleeps_in_real_time() {
        let clock = SystemClock;
        let start = std::time::Instant::now();
        clock.sleep_until(clock.now() + 30).await;
        assert!(start.elapsed() >= Duration::from_millis(25));
    }
}
