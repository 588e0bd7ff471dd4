//! Connecting to the database, SQLite or PostgreSQL, behind one pool.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

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
    pub(crate) pool: AnyPool,
    backend: Backend,
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
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                            )
                            .await
                            .map(|_| ())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Db { pool, backend })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; waits for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
