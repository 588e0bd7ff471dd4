//! Versioned schema migrations, written once for both engines.
//!
//! Each migration is plain SQL in which a few tokens stand for the types
//! that the engines spell differently; `schema_version` records what has
//! been applied, so an older database is brought up to date on start.

use sqlx::Executor;

use crate::{Backend, Db, StoreError};

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in increasing order, each once.
    pub version: i64,
    /// What the step is for.
    pub name: &'static str,
    /// The statements, with `{id}` and `{float}` for the engine's own types.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "workspaces and users",
        sql: include_str!("migrations/0001_workspaces_users.sql"),
    },
    Migration {
        version: 2,
        name: "credentials and tokens",
        sql: include_str!("migrations/0002_credentials.sql"),
    },
    Migration {
        version: 3,
        name: "configuration and call records",
        sql: include_str!("migrations/0003_config.sql"),
    },
    Migration { version: 4, name: "registrations", sql: include_str!("migrations/0004_registrations.sql") },
    Migration {
        version: 5,
        name: "credential owners",
        sql: include_str!("migrations/0005_credential_owners.sql"),
    },
    Migration {
        version: 6,
        name: "credentials by username",
        sql: include_str!("migrations/0006_credentials_username.sql"),
    },
    Migration {
        version: 7,
        name: "agent forwarding, do-not-disturb, numbers' trunks",
        sql: include_str!("migrations/0007_agent_forwarding.sql"),
    },
    Migration { version: 8, name: "SDK fields", sql: include_str!("migrations/0008_sdk_fields.sql") },
    Migration { version: 9, name: "voicemail", sql: include_str!("migrations/0009_voicemail.sql") },
    Migration { version: 10, name: "call record legs", sql: include_str!("migrations/0010_cdr_legs.sql") },
    Migration {
        version: 11,
        name: "agent supervisors",
        sql: include_str!("migrations/0011_agent_supervisor.sql"),
    },
    Migration {
        version: 12,
        name: "registrations without an expiry index",
        sql: include_str!("migrations/0012_registrations_no_expiry_index.sql"),
    },
];

/// The schema version this build expects.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

fn dialect(sql: &str, backend: Backend) -> String {
    let (id, float) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION"),
    };
    sql.replace("{id}", id).replace("{float}", float)
}

/// Applies every migration in `migrations` that the database lacks, all in
/// one transaction (on PostgreSQL under an advisory lock, so nodes starting
/// together take turns).
pub(crate) async fn run(db: &Db, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7358201)").await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_version \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_version").fetch_one(&mut *tx).await?;
    let current = current.unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    for m in migrations.iter().filter(|m| m.version > current) {
        tracing::info!(version = m.version, name = m.name, "applying migration");
        sqlx::raw_sql(&dialect(m.sql, db.backend())).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    db.wrote_all();
    Ok(())
}

/// The highest version applied to this database.
#[cfg(test)]
pub(crate) async fn current_version(db: &Db) -> Result<i64, StoreError> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_version").fetch_one(&db.pool).await?;
    Ok(v.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn older_database_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(None, dir.path()).await.expect("connect");
        run(&db, &MIGRATIONS[..1]).await.expect("first migration");
        assert_eq!(current_version(&db).await.expect("version"), 1);
        sqlx::query(
            "INSERT INTO users (ref, email, name, avatar, password_hash, created_at, updated_at) \
             VALUES ('u1', 'old@example.com', 'Old', '', 'x', 1, 1)",
        )
        .execute(&db.pool)
        .await
        .expect("insert");
        db.close().await;

        let db = Db::open(None, dir.path()).await.expect("open migrates");
        assert_eq!(current_version(&db).await.expect("version"), latest_version());
        let email: String = sqlx::query_scalar("SELECT email FROM users WHERE ref = 'u1'")
            .fetch_one(&db.pool)
            .await
            .expect("row kept");
        assert_eq!(email, "old@example.com");
        // Running again is a no-op.
        run(&db, MIGRATIONS).await.expect("idempotent");
    }

    /// A call record written before migration 10 becomes a call of one
    /// leg: its own id, side A, the numbers as dialled its numbers.
    #[tokio::test]
    async fn older_call_records_become_one_leg_calls() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(None, dir.path()).await.expect("connect");
        run(&db, &MIGRATIONS[..9]).await.expect("up to 9");
        for sql in [
            "INSERT INTO users (ref, email, name, avatar, password_hash, created_at, updated_at) \
             VALUES ('u1', 'old@example.com', 'Old', '', 'x', 1, 1)",
            "INSERT INTO workspaces (ref, name, access_key_id, owner_id, created_at, updated_at) \
             VALUES ('w1', 'W', 'WO1', 1, 1, 1)",
            "INSERT INTO cdrs (ref, workspace_id, call_ref, calldate, src, dst, created_at, updated_at) \
             VALUES ('c1', 1, 'leg-1', 1, '1001', '1002', 1, 1)",
        ] {
            sqlx::query(sql).execute(&db.pool).await.expect("insert");
        }
        run(&db, MIGRATIONS).await.expect("10");
        let row: (String, String, String, String) =
            sqlx::query_as("SELECT leg_ref, leg, src_dialled, dst_dialled FROM cdrs WHERE ref = 'c1'")
                .fetch_one(&db.pool)
                .await
                .expect("row kept");
        assert_eq!(row, ("leg-1".into(), "A".into(), "1001".into(), "1002".into()));
    }

    /// Digest authentication looks credentials up by username on every
    /// REGISTER: the lookup uses the index, not a scan.
    #[tokio::test]
    async fn credentials_are_found_by_username_through_an_index_on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(None, dir.path()).await.expect("open");
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as("EXPLAIN QUERY PLAN SELECT id FROM credentials WHERE username = 'x'")
                .fetch_all(&db.pool)
                .await
                .expect("plan");
        let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        assert!(plan.iter().any(|p| p.contains("credentials_username")), "{plan:?}");
    }

    #[tokio::test]
    async fn credentials_username_is_indexed_on_postgres() {
        let Some(pg) = crate::test_pg::TestPg::new("idx").await else { return };
        let db = &pg.db;
        let found: Option<String> = sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'credentials' AND indexname = 'credentials_username'",
        )
        .fetch_optional(&db.pool)
        .await
        .expect("pg_indexes");
        pg.drop_db().await;
        assert!(found.is_some_and(|d| d.contains("(username)")), "no index on credentials.username");
    }
}
