//! Warnings that overload would repeat for every datagram or call, written
//! at most once a period with how many were held back meanwhile.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One warning's rate limit.
#[derive(Debug)]
pub struct Throttle {
    period: Duration,
    /// When it was last written, and how many held back since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// At most one warning every `period`.
    pub const fn new(period: Duration) -> Throttle {
        Throttle { period, state: Mutex::new((None, 0)) }
    }

    /// `Some(held back since the last one)` when the warning is to be
    /// written now, else `None` (and it counts as held back).
    pub fn allow(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, held) = &mut *state;
        if last.is_some_and(|at| now.saturating_duration_since(at) < self.period) {
            *held += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_a_period_with_the_count_held_back() {
        let t = Throttle::new(Duration::from_secs(10));
        let at = Instant::now();
        assert_eq!(t.allow(at), Some(0));
        assert_eq!(t.allow(at + Duration::from_secs(1)), None);
        assert_eq!(t.allow(at + Duration::from_secs(9)), None);
        assert_eq!(t.allow(at + Duration::from_secs(10)), Some(2));
        assert_eq!(t.allow(at + Duration::from_secs(11)), None);
        assert_eq!(t.allow(at + Duration::from_secs(30)), Some(1));
    }
}
