//! Connecting to the database, SQLite or PostgreSQL, behind one pool.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, Database, Executor};

use crate::repo::Reader;
use crate::writes::Writes;
use crate::StoreError;

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file in the data directory, in WAL mode.
    Sqlite,
    /// A PostgreSQL server, for several nodes sharing one store.
    Postgres,
}

/// A handle on the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    /// Writes (and everything not a plain read); on SQLite one connection.
    pub(crate) pool: AnyPool,
    /// Plain reads, on the concrete driver: on SQLite connections of
    /// their own, read-only; on PostgreSQL a pool beside `pool`.
    pub(crate) reader: Reader,
    backend: Backend,
    /// Committed writes through this handle (and its clones), per table:
    /// see [`Db::stamp`].
    pub(crate) writes: Arc<Writes>,
}

impl Db {
    /// Opens the database at `url` (`postgres://...` or `sqlite://...`),
    /// or, with no URL, the file `calliope.db` in `data_dir`; then brings
    /// its schema up to date.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Db, StoreError> {
        let db = Db::connect(url, data_dir).await?;
        crate::migrate::run(&db, crate::MIGRATIONS).await?;
        Ok(db)
    }

    /// Opens the database without touching its schema.
    pub(crate) async fn connect(url: Option<&str>, data_dir: &Path) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let url = match url {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => {
                std::fs::create_dir_all(data_dir)
                    .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", data_dir.display())))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("calliope.db").display())
            }
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(
                "the database URL must start with postgres:// or sqlite://".into(),
            ));
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let (pool, reader) = match backend {
            Backend::Sqlite => {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Err(StoreError::Config("an in-memory SQLite database is not supported".into()));
                }
                // SQLite takes one writer at a time: writers wait their
                // turn in the pool's queue (fair, no polling) rather than
                // in SQLite's busy handler, and reads never queue behind
                // them. A connection to a local file does not go stale, so
                // none is pinged before use (sqlx's `test_before_acquire`,
                // a round trip to the connection's worker thread each time).
                // Its statement journals stay in memory: a multi-row
                // `INSERT` (the call records' batches) keeps one, and past
                // 64 KiB SQLite would spill it to a temporary file, made
                // and deleted per statement.
                let pool = sqlite_pool(1, " PRAGMA temp_store = MEMORY;").connect_with(options).await?;
                // Reads: up to 8 connections under load, each with its own
                // worker thread and page cache; once idle for
                // `READER_IDLE` all but one close, so that what a burst
                // of reads took goes with it.
                let reader = sqlite_pool(8, " PRAGMA query_only = ON;")
                    .min_connections(1)
                    .idle_timeout(READER_IDLE)
                    .connect_with(SqliteConnectOptions::from_str(&url)?)
                    .await?;
                (pool, Reader::Sqlite(reader))
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                // Reads: as many connections as the server has use for on
                // a small machine; each keeps its prepared statements.
                let reader = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(PgConnectOptions::from_str(&url)?)
                    .await?;
                (pool, Reader::Postgres(reader))
            }
        };
        Ok(Db { pool, reader, backend, writes: Arc::default() })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; waits for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
        self.reader.close().await;
    }
}

/// How long a SQLite read connection beyond the first stays open unused
/// (sqlx checks every `READER_IDLE`, so it closes within twice that);
/// a second in this crate's tests.
const READER_IDLE: Duration = Duration::from_secs(if cfg!(test) { 1 } else { 10 });

/// The size the WAL file is cut back to after a checkpoint (bytes).
const WAL_KEEP: u64 = 16 * 1024 * 1024;

/// The options of a pool of up to `max` SQLite connections, each set up
/// for WAL with `synchronous = NORMAL` (a commit is durable once the WAL
/// is synced at a checkpoint; a power cut may lose the last commits, never
/// corrupt the file), foreign keys and a busy timeout, plus `extra`. The
/// WAL is checkpointed every 1000 pages (SQLite's default, said here) and
/// cut back to [`WAL_KEEP`] bytes when it starts over, so a burst of
/// writes does not leave a large file behind.
fn sqlite_pool<DB: Database>(max: u32, extra: &'static str) -> PoolOptions<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    PoolOptions::<DB>::new()
        .max_connections(max)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; \
                     PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = {WAL_KEEP};{extra}"
                );
                conn.execute(pragmas.as_str()).await.map(|_| ())
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Db, READER_IDLE};
    use crate::repo::Reader;

    #[tokio::test]
    async fn idle_sqlite_read_connections_close_but_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let Reader::Sqlite(pool) = &db.reader else { panic!("SQLite reads go to a SQLite pool") };
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(pool.acquire().await.unwrap());
        }
        drop(held);
        assert_eq!(pool.size(), 4, "a burst of reads opened connections");
        tokio::time::sleep(READER_IDLE * 3).await;
        assert_eq!(pool.size(), 1, "all but one closed once idle");
        let row: (i64,) = sqlx::query_as("SELECT 1").fetch_one(pool).await.unwrap();
        assert_eq!(row.0, 1, "the one left still reads");
    }
}
