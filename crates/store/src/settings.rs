//! Server settings by key (the `settings` table): written and removed by
//! the API (a workspace's post-event URL), read at start.

use sqlx::Row;

use crate::{Db, StoreError};

impl Db {
    /// Sets `key` to `value`, replacing what it held.
    pub async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
        )
        .bind(key.to_owned())
        .bind(value.to_owned())
        .execute(&self.pool)
        .await?;
        self.wrote("settings");
        Ok(())
    }

    /// Removes `key`; true when it was set.
    pub async fn delete_setting(&self, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key.to_owned())
            .execute(&self.pool)
            .await?;
        self.wrote("settings");
        Ok(done.rows_affected() > 0)
    }

    /// Every setting whose key starts with `prefix`, by key.
    pub async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        // `_` and `%` are wildcards of LIKE: escaped, so the prefix is taken
        // as it is written.
        let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let rows = sqlx::query("SELECT key, value FROM settings WHERE key LIKE $1 ESCAPE '\\' ORDER BY key")
            .bind(format!("{escaped}%"))
            .fetch_all(&self.pool)
            .await?;
        let mut found = Vec::new();
        for r in &rows {
            let key: String = r.try_get("key")?;
            if key.starts_with(prefix) {
                found.push((key, r.try_get::<String, _>("value")?));
            }
        }
        Ok(found)
    }
}
