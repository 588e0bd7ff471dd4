//! Many new records of one resource in one write transaction, without
//! reading them back: what the call-record writer needs so that a batch
//! costs a handful of statements, not one per row.
//!
//! Rows are checked one by one as [`Db::insert`] checks them, then written
//! in chunks of a few fixed sizes (powers of two up to [`MOST_ROWS`]), so
//! that a connection's statement cache holds a few prepared statements
//! whatever the batch sizes. On PostgreSQL a chunk is one multi-row
//! `INSERT ... VALUES (...), (...)`. On SQLite it is as many single-row
//! `INSERT`s, sent together (one hand-off to the connection's worker
//! thread): a multi-row `INSERT` makes SQLite keep a statement journal
//! (copies of the pages it changes, to undo a half-done statement), which
//! a single-row one needs not; and their parameters are anonymous (`?`),
//! which sqlx binds in order, where it looks each numbered one up by
//! name (a scan of the statement's parameters: quadratic in its rows).
//! A resource with unique fields (whose rows may clash among themselves)
//! is written one row at a time instead.

use sqlx::AnyConnection;

use super::{check_values, field_kind, insert_in, new_ref, row_error, Sql};
use crate::{Backend, Db, Kind, Millis, Resource, Scope, StoreError, Value, Values};

/// Most rows in one statement.
pub const MOST_ROWS: usize = 64;

/// Most bound values in one statement (SQLite allows 32 766, PostgreSQL
/// 65 535).
const MOST_VALUES: usize = 16_000;

impl Db {
    /// Creates one record per row, all or none, like [`Db::insert_all`],
    /// without reading them back: for writers that need only to know they
    /// were written (call records). A row refused by the checks is named
    /// by its index; one refused by the database, by the index of the
    /// first row of the statement that held it. Returns how many were
    /// inserted.
    pub async fn insert_rows(
        &self,
        res: &Resource,
        scope: Scope,
        rows: &[Values],
        now: Millis,
    ) -> Result<usize, StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            if res.fields.iter().any(|f| f.unique) {
                for (index, values) in rows.iter().enumerate() {
                    insert_in(&mut tx, self.backend(), res, scope, values.clone(), now)
                        .await
                        .map_err(|e| row_error(index, e))?;
                }
            } else {
                for (index, values) in rows.iter().enumerate() {
                    check_values(&mut tx, self.backend(), res, scope, values, None)
                        .await
                        .map_err(|e| row_error(index, e))?;
                }
                let mut start = 0;
                while start < rows.len() {
                    let n = chunk_len(res, scope, &rows[start..]);
                    insert_many(&mut tx, self.backend(), res, scope, &rows[start..start + n], now)
                        .await
                        .map_err(|e| row_error(start, e))?;
                    start += n;
                }
            }
            tx.commit().await?;
            self.wrote(res.table);
            Ok(rows.len())
        })
        .await
    }
}

/// How many of `rows` (at least one) go in the next statement: those
/// that set the same columns as the first, at most [`MOST_ROWS`] and
/// [`MOST_VALUES`] values, rounded down to a power of two.
fn chunk_len(res: &Resource, scope: Scope, rows: &[Values]) -> usize {
    let Some(first) = rows.first() else { return 0 };
    let same = rows
        .iter()
        .take(MOST_ROWS)
        .take_while(|r| r.len() == first.len() && r.iter().zip(first).all(|((a, _), (b, _))| a == b))
        .count();
    let per_row = columns(res, scope, first).len();
    let fits = (MOST_VALUES / per_row.max(1)).max(1);
    let n = same.min(fits).max(1);
    1 << n.ilog2()
}

/// The columns a row of `values` fills.
fn columns<'a>(res: &Resource, scope: Scope, values: &'a Values) -> Vec<&'a str> {
    let mut cols = vec!["ref", "created_at", "updated_at"];
    if let (Scope::Workspace(_), true) = (scope, res.scoped) {
        cols.push("workspace_id");
    }
    cols.extend(values.iter().map(|(name, _)| *name));
    cols
}

/// Every row of `rows`, which all set the same columns, in one statement
/// (PostgreSQL) or one batch of single-row statements (SQLite).
async fn insert_many(
    conn: &mut AnyConnection,
    backend: Backend,
    res: &Resource,
    scope: Scope,
    rows: &[Values],
    now: Millis,
) -> Result<(), StoreError> {
    let Some(first) = rows.first() else { return Ok(()) };
    let cols = columns(res, scope, first);
    let kinds = first.iter().map(|(name, _)| field_kind(res, name)).collect::<Result<Vec<Kind>, _>>()?;
    let mut sql = Sql::new("");
    sql.args.reserve(rows.len() * cols.len());
    for values in rows {
        sql.args.push((Value::Text(new_ref()), Kind::Text));
        sql.args.push((Value::Int(now), Kind::Int));
        sql.args.push((Value::Int(now), Kind::Int));
        if let (Scope::Workspace(ws), true) = (scope, res.scoped) {
            sql.args.push((Value::Int(ws), Kind::Int));
        }
        sql.args.extend(values.iter().zip(&kinds).map(|((_, value), kind)| (value.clone(), *kind)));
    }
    let insert = format!("INSERT INTO {} ({}) VALUES ", res.table, cols.join(", "));
    sql.text = match backend {
        Backend::Sqlite => {
            let one = format!("{insert}({});", vec!["?"; cols.len()].join(", "));
            one.repeat(rows.len())
        }
        Backend::Postgres => {
            let tuple = |row: usize| {
                let params: Vec<String> =
                    (1..=cols.len()).map(|col| format!("${}", row * cols.len() + col)).collect();
                format!("({})", params.join(", "))
            };
            format!("{insert}{}", (0..rows.len()).map(tuple).collect::<Vec<_>>().join(", "))
        }
    };
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{AGENTS, CDRS, USERS, WORKSPACES};
    use crate::{Filter, Query};

    async fn workspace(db: &Db) -> i64 {
        let user = vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())];
        let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap().id;
        let ws = vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))];
        db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id
    }

    #[tokio::test]
    async fn rows_are_inserted_without_reading_back_and_selected_without_counting() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let ws = workspace(&db).await;
        let rows: Vec<Values> = (0..3)
            .map(|i| vec![("name", format!("A{i}").into()), ("username", format!("{i}").into())])
            .collect();
        assert_eq!(db.insert_rows(&AGENTS, Scope::Workspace(ws), &rows, 5).await.unwrap(), 3);
        let q = Query { filters: vec![Filter::eq("username", "1")], ..Query::default() };
        let found = db.select(&AGENTS, Scope::Workspace(ws), &q).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text("name"), "A1");
        assert!(db.select(&AGENTS, Scope::Workspace(ws + 1), &q).await.unwrap().is_empty(), "scoped");
        // All or none: a duplicate username fails the whole batch.
        let bad = [vec![("name", "B".into()), ("username", "9".into())], rows[0].clone()];
        match db.insert_rows(&AGENTS, Scope::Workspace(ws), &bad, 6).await {
            Err(StoreError::Row { index, .. }) => assert_eq!(index, 1),
            other => panic!("expected a row error, got {other:?}"),
        }
        assert_eq!(db.select(&AGENTS, Scope::Workspace(ws), &Query::default()).await.unwrap().len(), 3);
    }

    fn cdr(i: usize, extra: bool) -> Values {
        let mut v: Values = vec![
            ("call_ref", format!("c{i}").into()),
            ("calldate", Value::Int(i as i64)),
            ("src", "2001".into()),
            ("dst", format!("{i}").into()),
        ];
        if extra {
            v.push(("codec", "PCMU".into()));
        }
        v
    }

    async fn many_rows_in_few_statements_all_or_none(db: &Db) {
        let ws = workspace(db).await;
        // 203 rows: statements of 64, 64, 64, 8, 2 and 1 rows, and a
        // change of columns in the middle.
        let rows: Vec<Values> = (0..203).map(|i| cdr(i, i == 100)).collect();
        assert_eq!(db.insert_rows(&CDRS, Scope::Workspace(ws), &rows, 7).await.unwrap(), 203);
        let q = Query { limit: Some(1000), ..Query::default() };
        let all = db.select(&CDRS, Scope::Workspace(ws), &q).await.unwrap();
        assert_eq!(all.len(), 203);
        let mut dsts: Vec<i64> = all.iter().map(|r| r.text("dst").parse().unwrap()).collect();
        dsts.sort_unstable();
        assert_eq!(dsts, (0..203).collect::<Vec<i64>>(), "every row once");
        assert!(all.iter().all(|r| r.workspace_id == Some(ws)));
        let mut refs: Vec<&str> = all.iter().map(|r| r.r#ref.as_str()).collect();
        refs.sort_unstable();
        refs.dedup();
        assert_eq!(refs.len(), 203, "each record has its own ref");
        let with_codec: Vec<_> = all.iter().filter(|r| r.text("codec") == "PCMU").collect();
        assert_eq!(with_codec.len(), 1);

        // A row the database refuses (no calldate) fails the batch, named
        // by the first row of its statement (rows 0 to 7).
        let mut bad: Vec<Values> = (0..10).map(|i| cdr(1000 + i, false)).collect();
        bad[7][1].1 = Value::Null;
        match db.insert_rows(&CDRS, Scope::Workspace(ws), &bad, 8).await {
            Err(StoreError::Row { index, .. }) => assert_eq!(index, 0),
            other => panic!("expected a row error, got {other:?}"),
        }
        assert_eq!(db.select(&CDRS, Scope::Workspace(ws), &q).await.unwrap().len(), 203, "none kept");
    }

    #[tokio::test]
    async fn sqlite_inserts_many_rows_in_few_statements() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        many_rows_in_few_statements_all_or_none(&db).await;
    }

    /// Records a second written in batches of 512 (a writer's batch of
    /// 256 calls) one `INSERT ... RETURNING` a row (as before) and by
    /// multi-row statements: `cargo test -p store --lib rows_per_second
    /// -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a measurement, not a test"]
    async fn rows_per_second() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let ws = workspace(&db).await;
        let full = |i: usize| {
            let mut v = cdr(i, true);
            for c in ["leg_ref", "src_dialled", "dst_dialled", "clid", "direction", "type", "disposition"] {
                v.push((c, "INTRA_COMPANY".into()));
            }
            v
        };
        let batch: Vec<Values> = (0..512).map(full).collect();
        let scope = Scope::Workspace(ws);
        let started = std::time::Instant::now();
        for _ in 0..20 {
            let mut tx = db.begin_write().await.unwrap();
            for values in &batch {
                insert_in(&mut tx, db.backend(), &CDRS, scope, values.clone(), 1).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        let one_by_one = 20.0 * 512.0 / started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        for _ in 0..20 {
            db.insert_rows(&CDRS, scope, &batch, 1).await.unwrap();
        }
        let many = 20.0 * 512.0 / started.elapsed().as_secs_f64();
        println!("records/s: one INSERT a row {one_by_one:.0}, multi-row {many:.0}");
    }

    /// A call's two records as the engine's writer makes them: every
    /// column set, the call's and legs' ids fresh UUIDs like the refs.
    fn call_rows(i: usize) -> [Values; 2] {
        let call = new_ref();
        let leg = |side: &str, leg_ref: String| -> Values {
            let mut v: Values = vec![
                ("call_ref", call.as_str().into()),
                ("leg_ref", leg_ref.into()),
                ("leg", side.into()),
                ("src_dialled", "2001".into()),
                ("dst_dialled", format!("{}", 20_000 + i % 100).into()),
                ("calldate", Value::Int(i as i64 * 1000)),
                ("answer_date", Value::Int(i as i64 * 1000 + 500)),
                ("end_date", Value::Int(i as i64 * 1000 + 2500)),
                ("src", "2001".into()),
                ("dst", format!("{}", 20_000 + i % 100).into()),
                ("clid", "\"A\" <2001>".into()),
                ("src_id", Value::Int(1)),
                ("dst_id", Value::Null),
                ("direction", "INTRA_COMPANY".into()),
                ("type", "AGENT".into()),
                ("disposition", "ANSWERED".into()),
                ("hangup_cause", "NORMAL_CLEARING".into()),
                ("duration", Value::Int(3)),
                ("billsec", Value::Int(2)),
                ("context", "default".into()),
                ("codec", "PCMU".into()),
                ("route_id", Value::Null),
                ("application_id", Value::Null),
                ("application_ref", "".into()),
                ("recording", Value::Null),
            ];
            v.shrink_to_fit();
            v
        };
        [leg("A", call.clone()), leg("B", new_ref())]
    }

    /// The call-record writer's work, for counting what it costs (under
    /// `valgrind --tool=callgrind` or `strace -c -f`): `CDR_WARM` calls
    /// (default 20 000) written in batches of 256 calls, then `CDR_CALLS`
    /// (default 2000) in batches of `CDR_BATCH` calls (default 1, the
    /// writer's batch at a low rate). Run it with `CDR_CALLS=0` too: the
    /// difference is the cost of the measured calls. `cargo test --release
    /// -p store --lib cdr_writer_work -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a measurement, not a test"]
    async fn cdr_writer_work() {
        let env = |name: &str, default: usize| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        let (warm, calls, batch) = (env("CDR_WARM", 20_000), env("CDR_CALLS", 2000), env("CDR_BATCH", 1));
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let scope = Scope::Workspace(workspace(&db).await);
        let write = |from: usize, to: usize, per: usize| {
            let db = db.clone();
            async move {
                let mut i = from;
                while i < to {
                    let n = per.min(to - i);
                    let rows: Vec<Values> = (i..i + n).flat_map(call_rows).collect();
                    db.insert_rows(&CDRS, scope, &rows, i as i64).await.unwrap();
                    i += n;
                }
            }
        };
        write(0, warm, 256).await;
        let started = std::time::Instant::now();
        write(warm, warm + calls, batch.max(1)).await;
        let took = started.elapsed().as_secs_f64();
        let q = Query { limit: Some(1), ..Query::default() };
        let total = db.list(&CDRS, scope, &q).await.unwrap().total;
        assert_eq!(total, 2 * (warm + calls) as u64);
        println!(
            "{calls} calls in batches of {batch} after {warm}: {:.0} µs a call",
            took * 1e6 / calls.max(1) as f64
        );
    }

    #[tokio::test]
    async fn postgres_inserts_many_rows_in_few_statements() {
        let Some(pg) = crate::test_pg::TestPg::new("rows").await else { return };
        many_rows_in_few_statements_all_or_none(&pg.db).await;
        pg.drop_db().await;
    }
}
