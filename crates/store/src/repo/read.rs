//! Plain reads on the concrete driver (SQLite or PostgreSQL), not through
//! sqlx's `Any`: rows are not copied into `AnyRow`s, and cells are read by
//! column index.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Database, Encode, Type};

use super::cells::Cells;
use super::Sql;
use crate::{Kind, StoreError, Value};

/// The pool that plain reads go to.
#[derive(Debug, Clone)]
pub(crate) enum Reader {
    /// Read-only connections to the SQLite file.
    Sqlite(SqlitePool),
    /// Connections to the PostgreSQL server.
    Postgres(PgPool),
}

impl Sql {
    /// The statement with its values bound, for database `DB`.
    pub(super) fn bound<'q, DB: Database>(
        &'q self,
    ) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
    where
        i64: Encode<'q, DB> + Type<DB>,
        f64: Encode<'q, DB> + Type<DB>,
        String: Encode<'q, DB> + Type<DB>,
        &'q str: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        Option<f64>: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
    {
        let mut q = sqlx::query::<DB>(&self.text);
        for (value, kind) in &self.args {
            q = match (value, kind) {
                (Value::Int(v), _) => q.bind(*v),
                (Value::Float(v), _) => q.bind(*v),
                // A NUL byte is refused by PostgreSQL and cuts SQLite's text.
                (Value::Text(v), _) if v.contains('\0') => q.bind(v.replace('\0', "\u{fffd}")),
                (Value::Text(v), _) => q.bind(v.as_str()),
                (Value::Null, Kind::Float) => q.bind(None::<f64>),
                (Value::Null, Kind::Text | Kind::Json | Kind::Enum(_)) => q.bind(None::<String>),
                (Value::Null, _) => q.bind(None::<i64>),
            };
        }
        q
    }
}

impl Reader {
    /// Every row of `sql`, each turned into a `T` by `each`.
    pub(super) async fn all<T>(
        &self,
        sql: &Sql,
        mut each: impl FnMut(&dyn Cells) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Reader::Sqlite(pool) => sql.bound().fetch_all(pool).await?.iter().map(|r| each(r)).collect(),
            Reader::Postgres(pool) => sql.bound().fetch_all(pool).await?.iter().map(|r| each(r)).collect(),
        }
    }

    /// The first row of `sql`, if any, turned into a `T` by `each`.
    pub(super) async fn first<T>(
        &self,
        sql: &Sql,
        each: impl FnOnce(&dyn Cells) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Reader::Sqlite(pool) => sql.bound().fetch_optional(pool).await?.map(|r| each(&r)).transpose(),
            Reader::Postgres(pool) => sql.bound().fetch_optional(pool).await?.map(|r| each(&r)).transpose(),
        }
    }

    /// Closes every connection; waits for those in use to come back.
    pub(crate) async fn close(&self) {
        match self {
            Reader::Sqlite(pool) => pool.close().await,
            Reader::Postgres(pool) => pool.close().await,
        }
    }
}
