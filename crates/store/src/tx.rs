//! Write transactions that wait for each other instead of failing.
//!
//! SQLite allows one writer at a time. A transaction begun the default
//! (deferred) way reads first and asks for the write lock only at its first
//! write; if another writer committed in between, SQLite cannot wait and
//! fails at once ("database is locked", extended code 517). So every write
//! transaction on SQLite begins `IMMEDIATE`: it takes the write lock first,
//! waiting up to the busy timeout for it. What contention still gets
//! through (a busy timeout reached under a long queue; on PostgreSQL a
//! serialization failure or a deadlock) is retried a bounded number of
//! times with a growing pause, so a request is slowed, never failed, by
//! its neighbours.

use std::future::Future;
use std::time::Duration;

use sqlx::{Any, Transaction};

use crate::{Backend, Db, StoreError};

/// How many times a write is tried in all before its contention error is
/// returned.
const ATTEMPTS: u32 = 8;

/// The pause before the first retry; it doubles with each.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_millis(500);

impl Db {
    /// Begins a write transaction: `IMMEDIATE` on SQLite, so it holds the
    /// write lock from its first statement.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend() {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Runs `work` until it succeeds, fails for another reason than
    /// contention, or has been tried [`ATTEMPTS`] times.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut work: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match work().await {
                Err(e) if e.is_contention() && attempt < ATTEMPTS => {
                    let pause = FIRST_PAUSE.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_PAUSE);
                    // A little spread so that the waiting writers do not
                    // all come back at once.
                    let spread = Duration::from_micros(u64::from(jitter()) % 5_000);
                    tracing::debug!(attempt, error = %e, "write met contention; retrying");
                    tokio::time::sleep(pause + spread).await;
                }
                other => return other,
            }
        }
    }
}

/// A few varying bits, without a random number generator.
fn jitter() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
}

impl StoreError {
    /// Whether the store was too busy to answer: contention that outlasted
    /// the retries, or no connection free in time.
    pub fn is_busy(&self) -> bool {
        self.is_contention() || matches!(self, StoreError::Database(sqlx::Error::PoolTimedOut))
    }

    /// Whether the database refused for contention with other writers
    /// (SQLite busy or locked; PostgreSQL serialization failure or
    /// deadlock), so that trying again may succeed.
    pub fn is_contention(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(e)) = self else { return false };
        let code = e.code();
        let code = code.as_deref().unwrap_or("");
        // PostgreSQL's codes are SQLSTATEs, always five characters.
        if code.len() == 5 {
            return matches!(code, "40001" | "40P01");
        }
        // SQLite's are numbers: primary codes 5 (BUSY) and 6 (LOCKED), or
        // their extended codes, whose low byte is the primary code.
        code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
            || e.message().contains("database is locked")
    }
}
