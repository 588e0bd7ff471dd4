//! The few identity operations that are not plain resource operations.

use sqlx::Row;

use crate::repo::{decode, select_list_of, width};
use crate::schema::API_KEYS;
use crate::{Db, Millis, Record, StoreError};

/// How a password change treats the sessions of the user.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    /// The opaque token (PBX, VoIPstudio) that made the change, by id: it
    /// stays; the user's other opaque tokens are deleted.
    pub token_id: Option<i64>,
    /// The token family (Fonoster session) that made the change: its
    /// tokens stay valid; every other signed token of the user dies.
    pub family: Option<String>,
}

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
        self.wrote("settings");
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
        self.wrote("refresh_tokens");
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every refresh token of `family` (after a reuse was seen).
    pub async fn revoke_refresh_family(&self, family: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE family = $2 AND used_at IS NULL")
            .bind(now)
            .bind(family.to_owned())
            .execute(&self.pool)
            .await?;
        self.wrote("refresh_tokens");
        Ok(())
    }

    /// The API key whose `column` (`access_key_id` or `ref`) is `value`,
    /// with the role its creator holds now in the key's workspace (`None`
    /// when the creator is no longer a member): one query.
    pub async fn api_key_with_creator_role(
        &self,
        column: KeyColumn,
        value: &str,
    ) -> Result<Option<(Record, Option<String>)>, StoreError> {
        let column = match column {
            KeyColumn::AccessKeyId => "access_key_id",
            KeyColumn::Ref => "ref",
        };
        let sql = format!(
            "SELECT {}, m.role AS creator_role FROM api_keys k \
             LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.created_by \
             WHERE k.{column} = $1",
            select_list_of(&API_KEYS, "k"),
        );
        let row = sqlx::query(&sql).bind(value.replace('\0', "")).fetch_optional(&self.pool).await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let role = row.try_get::<Option<String>, _>(width(&API_KEYS))?;
                Ok(Some((decode(&API_KEYS, &row)?, role)))
            }
        }
    }

    /// Sets the password hash of user `user_id` and revokes the user's
    /// other sessions, all at once: signed tokens of older generations stop
    /// being accepted (except the kept family's), unused refresh tokens of
    /// other families are spent, and opaque tokens other than the kept one
    /// are deleted.
    pub async fn change_password(
        &self,
        user_id: i64,
        user_ref: &str,
        password_hash: &str,
        keep: &Keep,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "UPDATE users SET password_hash = $1, token_gen = token_gen + 1, kept_session = $2, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(password_hash.to_owned())
            .bind(keep.family.clone())
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep.token_id.unwrap_or(0))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1, updated_at = $1 \
                 WHERE subject = $2 AND used_at IS NULL AND family <> $3",
            )
            .bind(now)
            .bind(format!("user:{user_ref}"))
            .bind(keep.family.clone().unwrap_or_default())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            for table in ["users", "tokens", "refresh_tokens"] {
                self.wrote(table);
            }
            Ok(())
        })
        .await
    }
}

/// Which column finds an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyColumn {
    /// Its access key id (`AK...`).
    AccessKeyId,
    /// Its ref (UUID), as tokens name it.
    Ref,
}
