//! A throwaway PostgreSQL database for the store's own tests (the server
//! at `CALLIOPE_TEST_PG`, default 127.0.0.1:5432; required under CI).

use crate::Db;

/// A fresh database opened as a [`Db`]; dropped by [`TestPg::drop_db`].
pub(crate) struct TestPg {
    /// The store on it.
    pub db: Db,
    admin: sqlx::AnyPool,
    name: String,
    _dir: tempfile::TempDir,
}

impl TestPg {
    /// Creates `calliope_<tag>_<pid>` and opens it; `None` without a server
    /// (a failure under CI).
    pub async fn new(tag: &str) -> Option<TestPg> {
        let url = std::env::var("CALLIOPE_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        sqlx::any::install_default_drivers();
        let Ok(admin) = sqlx::AnyPool::connect(&url).await else {
            assert!(std::env::var_os("CI").is_none(), "PostgreSQL is required under CI");
            return None;
        };
        let name = format!("calliope_{tag}_{}", std::process::id());
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await;
        let mut created = false;
        for _ in 0..20 {
            if sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.is_ok() {
                created = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(created, "cannot create {name}");
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(Some(&format!("{base}/{name}")), dir.path()).await.expect("open");
        Some(TestPg { db, admin, name, _dir: dir })
    }

    /// Closes the store and drops its database.
    pub async fn drop_db(self) {
        self.db.close().await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await;
    }
}
