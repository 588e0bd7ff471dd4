//! Requests per minute per credential, in fixed one-minute windows; and
//! failed logins, in [`logins`].

pub mod logins;

pub use logins::{LoginGuard, LoginPolicy};

use std::collections::HashMap;
use std::sync::Mutex;

use store::Millis;

use crate::error::ApiError;

const WINDOW_MS: Millis = 60_000;
const PRUNE_ABOVE: usize = 100_000;

/// Counts requests per key and refuses those past the limit.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Millis, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key and minute.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request for `key` at `now`; 429 with `Retry-After` past
    /// the limit.
    pub fn check(&self, key: &str, now: Millis) -> Result<(), ApiError> {
        let start = now - now.rem_euclid(WINDOW_MS);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (s, _)| *s == start);
        }
        let entry = windows.entry(key.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        if entry.1 >= self.per_minute {
            let retry = ((start + WINDOW_MS - now) as u64).div_ceil(1000).max(1);
            return Err(ApiError::exhausted(
                format!("rate limit of {} requests per minute reached", self.per_minute),
                Some(retry),
            ));
        }
        entry.1 += 1;
        Ok(())
    }
}
