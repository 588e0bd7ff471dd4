//! The few identity operations that are not plain resource operations.

use crate::{Db, Millis, StoreError};

impl Db {
    /// The server setting `key`, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets `key` to `value` unless it is set already; returns the value
    /// that holds afterwards (so nodes starting together agree).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key.to_owned())
            .bind(value.to_owned())
            .execute(&self.pool)
            .await?;
        self.setting(key).await?.ok_or(StoreError::NotFound("setting"))
    }

    /// Marks the unused, unexpired refresh token with `jti_hash` as used.
    /// Exactly one caller wins; the answer says whether it was this one.
    pub async fn consume_refresh_token(&self, jti_hash: &str, now: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1, updated_at = $1 \
             WHERE jti_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(jti_hash.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every refresh token of `family` (after a reuse was seen).
    pub async fn revoke_refresh_family(&self, family: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE family = $2 AND used_at IS NULL")
            .bind(now)
            .bind(family.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
