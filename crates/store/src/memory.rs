//! Giving back what SQLite's connections keep between statements: each
//! has a page cache (up to 2 MiB) that a burst of writes or reads fills
//! and that stays full, idle, for as long as the connection is open.

use sqlx::{Database, Executor, Pool};

use crate::db::Backend;
use crate::repo::Reader;
use crate::Db;

/// Frees the unused pages of a SQLite connection's cache.
const SHRINK: &str = "PRAGMA shrink_memory";

impl Db {
    /// Has every idle SQLite connection free the pages its cache holds
    /// (`PRAGMA shrink_memory`); connections in use are left alone, and
    /// PostgreSQL's keep their memory in the server. For when a load is
    /// over: the caches fill again as statements need them. Returns the
    /// connections shrunk.
    pub async fn release_memory(&self) -> usize {
        if self.backend() != Backend::Sqlite {
            return 0;
        }
        let mut shrunk = shrink_idle(&self.pool).await;
        if let Reader::Sqlite(reader) = &self.reader {
            shrunk += shrink_idle(reader).await;
        }
        shrunk
    }
}

/// Shrinks each connection of `pool` that is idle now (taken without
/// waiting, all at once so that none is taken twice).
async fn shrink_idle<DB: Database>(pool: &Pool<DB>) -> usize
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut idle = Vec::new();
    while let Some(conn) = pool.try_acquire() {
        idle.push(conn);
    }
    let mut shrunk = 0;
    for conn in &mut idle {
        match conn.execute(SHRINK).await {
            Ok(_) => shrunk += 1,
            Err(e) => tracing::debug!(error = %e, "could not shrink a SQLite connection's cache"),
        }
    }
    shrunk
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::repo::Reader;
    use crate::Db;

    #[tokio::test]
    async fn idle_sqlite_connections_shrink_those_in_use_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let Reader::Sqlite(reader) = &db.reader else { panic!("SQLite reads go to a SQLite pool") };
        let held = reader.acquire().await.unwrap();
        let other = reader.acquire().await.unwrap();
        drop(other);
        // A connection dropped goes back to its pool in a task of its own.
        let settle = || tokio::time::sleep(std::time::Duration::from_millis(200));
        settle().await;
        // The writer and the one reader not held.
        assert_eq!(db.release_memory().await, 2);
        drop(held);
        settle().await;
        assert_eq!(db.release_memory().await, 3, "all three once idle");
        let row: (i64,) = sqlx::query_as("SELECT 1").fetch_one(reader).await.unwrap();
        assert_eq!(row.0, 1, "a shrunk connection still reads");
    }

    #[tokio::test]
    async fn postgres_connections_are_left_alone() {
        let Some(pg) = crate::test_pg::TestPg::new("release_memory").await else { return };
        assert_eq!(pg.db.release_memory().await, 0);
        pg.drop_db().await;
    }
}
