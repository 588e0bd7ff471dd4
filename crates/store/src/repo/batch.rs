//! Many keyed changes to one resource in one write transaction: what a
//! writer that owns a table's writes (the registrations) needs so that a
//! batch costs one commit, not one per row.
//!
//! [`Change::Upsert`] is the cheap form: one `INSERT ... ON CONFLICT DO
//! UPDATE` statement per change, whose reference checks are part of the
//! statement (`WHERE EXISTS`), with no read before and none after; and a
//! removal of a record nothing refers to is one `DELETE`. A batch of n
//! such changes is n + 2 statements (with `BEGIN` and `COMMIT`). On SQLite
//! consecutive upserts of the same shape go to the connection's worker
//! thread together, in chunks of a few fixed sizes (powers of two up to
//! [`MOST_ROWS`]): one hand-off per chunk instead of one per change.

use sqlx::AnyConnection;

use super::{
    check_values, decode, delete_in, field_kind, insert_in, new_ref, push_where, select_list, update_in, Sql,
};
use crate::{
    schema, Backend, Db, Filter, Kind, Millis, Query, Record, Resource, Scope, StoreError, Value, Values,
};

/// One change, addressed by the filters that name at most one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets `values` on the record that `filters` name in `scope`, or
    /// creates it when there is none.
    Put {
        /// The workspace (or global) scope.
        scope: Scope,
        /// What names the record.
        filters: Vec<Filter>,
        /// The fields to set.
        values: Values,
        /// When (ms).
        now: Millis,
    },
    /// Sets `values` on the record whose columns `on` (a unique
    /// constraint of the table) hold the same values as in `values`, or
    /// creates it: one statement, `INSERT ... ON CONFLICT (on) DO UPDATE`.
    /// Reference fields among `values` must name records of `scope`; a
    /// resource with unique fields or links of its own (checks a single
    /// statement cannot make) is written as [`Change::Put`] would.
    Upsert {
        /// The workspace (or global) scope.
        scope: Scope,
        /// The columns of a unique constraint; each must be in `values`.
        on: &'static [&'static str],
        /// The fields to set.
        values: Values,
        /// When (ms).
        now: Millis,
    },
    /// Deletes the record that `filters` name in `scope`, if there is one.
    Remove {
        /// The workspace (or global) scope.
        scope: Scope,
        /// What names the record.
        filters: Vec<Filter>,
    },
}

impl Db {
    /// Applies `changes` to `res` in order, all in one transaction, all or
    /// none: the first change that fails is named by its index and nothing
    /// is kept. Returns how many changes were applied.
    pub async fn apply(&self, res: &Resource, changes: &[Change]) -> Result<usize, StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            let mut index = 0;
            while index < changes.len() {
                let chunk = match self.backend() {
                    Backend::Sqlite => upsert_chunk(res, &changes[index..])?,
                    Backend::Postgres => None,
                };
                match chunk {
                    Some((sql, n)) => {
                        apply_chunk(&mut tx, self, res, &sql, &changes[index..index + n])
                            .await
                            .map_err(|(at, e)| super::row_error(index + at, e))?;
                        index += n;
                    }
                    None => {
                        let change = &changes[index];
                        apply_one(&mut tx, self, res, change)
                            .await
                            .map_err(|e| super::row_error(index, e))?;
                        index += 1;
                    }
                }
            }
            tx.commit().await?;
            if referred_to(res) && changes.iter().any(|c| matches!(c, Change::Remove { .. })) {
                // Deleted with the cascades of `delete_in`.
                self.wrote_all();
            } else {
                self.wrote(res.table);
            }
            Ok(changes.len())
        })
        .await
    }
}

impl Db {
    /// The records that match `query` (its filters, order and limit),
    /// without counting them all as [`Db::list`] does: one statement.
    pub async fn select(
        &self,
        res: &Resource,
        scope: Scope,
        query: &Query,
    ) -> Result<Vec<Record>, StoreError> {
        let sql = super::linked::select_sql(res, scope, query, "");
        self.reader.all(&sql, |row| decode(res, row)).await
    }
}

/// Most changes sent to SQLite together.
pub const MOST_ROWS: usize = 64;

/// Most bound values in one batch of statements (SQLite allows 32 766).
const MOST_VALUES: usize = 16_000;

/// When `changes` begins with at least two upserts that each fit one
/// statement ([`upsert_fits`]) and whose statements differ only by their
/// values: those statements, at most [`MOST_ROWS`] and rounded down to a
/// power of two, as one batch with anonymous parameters (`?`, which sqlx
/// binds in order), and how many changes it makes.
fn upsert_chunk(res: &Resource, changes: &[Change]) -> Result<Option<(Sql, usize)>, StoreError> {
    let fitting = |c: &Change| matches!(c, Change::Upsert { values, .. } if upsert_fits(res, values));
    let Some(first) = changes.first().filter(|c| fitting(c)) else { return Ok(None) };
    let same = changes.iter().take(MOST_ROWS).take_while(|c| fitting(c) && same_shape(res, first, c)).count();
    if same < 2 {
        return Ok(None);
    }
    // The statement is written once, from the first change; the others
    // give their values only.
    let Change::Upsert { scope, on, values, now } = first else { return Ok(None) };
    let sql = upsert_sql(res, *scope, on, values, *now)?;
    let per_row = sql.args.len().max(1);
    let n = 1 << same.min((MOST_VALUES / per_row).max(1)).ilog2();
    if n < 2 {
        return Ok(None);
    }
    let Some(one) = anonymous(&sql.text, per_row) else { return Ok(None) };
    let mut batch = Sql::new(format!("{one};").repeat(n));
    batch.args.reserve(n * per_row);
    batch.args.extend(sql.args);
    for change in changes.iter().take(n).skip(1) {
        let Change::Upsert { scope, values, now, .. } = change else { return Ok(None) };
        batch.args.extend(upsert_args(res, *scope, values, *now)?);
    }
    Ok(Some((batch, n)))
}

/// Whether upserts `a` and `b` make the same statement ([`upsert_sql`])
/// with other values: the same fields in the same order, the same kind of
/// scope, and the same references left empty.
fn same_shape(res: &Resource, a: &Change, b: &Change) -> bool {
    let (
        Change::Upsert { scope: scope_a, on: on_a, values: a, .. },
        Change::Upsert { scope: scope_b, on: on_b, values: b, .. },
    ) = (a, b)
    else {
        return false;
    };
    let is_ref = |name: &str| matches!(res.field(name).map(|f| f.kind), Some(Kind::Ref(_)));
    matches!((scope_a, scope_b), (Scope::Global, Scope::Global) | (Scope::Workspace(_), Scope::Workspace(_)))
        && on_a == on_b
        && a.len() == b.len()
        && a.iter().zip(b).all(|((na, va), (nb, vb))| {
            na == nb && (!is_ref(na) || matches!(va, Value::Null) == matches!(vb, Value::Null))
        })
}

/// The values [`upsert_sql`] binds, in the same order, without writing
/// its statement.
fn upsert_args(
    res: &Resource,
    scope: Scope,
    values: &Values,
    now: Millis,
) -> Result<Vec<(Value, Kind)>, StoreError> {
    let mut args = Vec::with_capacity(values.len() + 8);
    args.extend([
        (Value::Text(new_ref()), Kind::Text),
        (Value::Int(now), Kind::Int),
        (Value::Int(now), Kind::Int),
    ]);
    if let (Scope::Workspace(ws), true) = (scope, res.scoped) {
        args.push((Value::Int(ws), Kind::Int));
    }
    for (name, value) in values {
        args.push((value.clone(), field_kind(res, name)?));
    }
    for (name, value) in values {
        let Some((target, id)) = referenced(res, name, value)? else { continue };
        if let (Scope::Workspace(ws), true) = (scope, target.scoped) {
            args.push((Value::Int(ws), Kind::Int));
        }
        args.push((Value::Int(id), Kind::Int));
    }
    Ok(args)
}

/// The record that reference field `name` of `res` names by `value`:
/// its resource and id; `None` when the field is no reference or empty.
fn referenced(
    res: &Resource,
    name: &str,
    value: &Value,
) -> Result<Option<(&'static Resource, i64)>, StoreError> {
    let Some(Kind::Ref(table)) = res.field(name).map(|f| f.kind) else { return Ok(None) };
    let target =
        schema::by_table(table).ok_or_else(|| StoreError::Config(format!("unknown table {table}")))?;
    let id = match value {
        Value::Null => return Ok(None),
        Value::Int(id) => Some(*id),
        Value::Text(t) => t.trim().parse::<i64>().ok(),
        Value::Float(_) => None,
    };
    match id {
        Some(id) => Ok(Some((target, id))),
        None => Err(StoreError::DanglingRef {
            field: res.field(name).map_or("", |f| f.name),
            target: target.label,
        }),
    }
}

/// `text` with its numbered placeholders `$1` to `$count` made anonymous
/// (`?`), when they appear in that order, each once, and no other `$`.
fn anonymous(text: &str, count: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut next = 1;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if after[..digits].parse::<usize>().ok()? != next {
            return None;
        }
        out.push('?');
        next += 1;
        rest = &after[digits..];
    }
    out.push_str(rest);
    (next == count + 1).then_some(out)
}

/// Runs the batch `sql` of [`upsert_chunk`], which makes `changes`. Each
/// upsert that is written changes one row; when fewer changed, or the
/// batch failed, the changes are made again one by one (an upsert made
/// twice leaves what it left once) to name the first that fails, by its
/// index in `changes`.
async fn apply_chunk(
    conn: &mut AnyConnection,
    db: &Db,
    res: &Resource,
    sql: &Sql,
    changes: &[Change],
) -> Result<(), (usize, StoreError)> {
    match sql.query().execute(&mut *conn).await.map_err(StoreError::from) {
        Ok(done) if done.rows_affected() == changes.len() as u64 => return Ok(()),
        Ok(_) => {}
        // Contention is about the whole write: tried again as a whole.
        Err(e) if e.is_contention() => return Err((0, e)),
        Err(_) => {}
    }
    for (index, change) in changes.iter().enumerate() {
        apply_one(conn, db, res, change).await.map_err(|e| (index, e))?;
    }
    Ok(())
}

async fn apply_one(
    conn: &mut AnyConnection,
    db: &Db,
    res: &Resource,
    change: &Change,
) -> Result<(), StoreError> {
    let (scope, filters) = match change {
        Change::Upsert { scope, on, values, now } => {
            if !upsert_fits(res, values) {
                let filters = on
                    .iter()
                    .map(|c| {
                        Filter::eq(
                            c,
                            values.iter().find(|(n, _)| n == c).map_or(Value::Null, |(_, v)| v.clone()),
                        )
                    })
                    .collect();
                let put = Change::Put { scope: *scope, filters, values: values.clone(), now: *now };
                return Box::pin(apply_one(conn, db, res, &put)).await;
            }
            return upsert(conn, db, res, *scope, on, values, *now).await;
        }
        Change::Remove { scope, filters } if !referred_to(res) => {
            let mut sql = Sql::new(format!("DELETE FROM {}", res.table));
            push_where(&mut sql, res, *scope, filters);
            sql.query().execute(&mut *conn).await?;
            return Ok(());
        }
        Change::Put { scope, filters, .. } | Change::Remove { scope, filters } => (*scope, filters),
    };
    let mut sql = Sql::new(format!("SELECT {} FROM {}", select_list(res), res.table));
    push_where(&mut sql, res, scope, filters);
    sql.text.push_str(" ORDER BY id LIMIT 1");
    let current = match sql.query().fetch_optional(&mut *conn).await? {
        Some(row) => Some(decode(res, &row)?),
        None => None,
    };
    match (change, current) {
        (Change::Put { values, now, .. }, Some(current)) => {
            update_in(conn, db.backend(), res, scope, &current, values, *now).await
        }
        (Change::Put { values, now, .. }, None) => {
            insert_in(conn, db.backend(), res, scope, values.clone(), *now).await.map(|_| ())
        }
        (Change::Remove { .. }, Some(current)) => delete_in(conn, res, &current).await,
        (Change::Remove { .. }, None) => Ok(()),
        (Change::Upsert { .. }, _) => Ok(()),
    }
}

/// Whether every check of `values` on `res` fits in one upsert statement:
/// no unique field among them (those are checked across scopes) and no
/// links (checked by the value of another field).
fn upsert_fits(res: &Resource, values: &Values) -> bool {
    res.links.is_empty() && values.iter().all(|(n, _)| res.field(n).is_some_and(|f| !f.unique))
}

/// Whether any record may refer to one of `res`, so that a deletion needs
/// the reference checks and cascades of [`delete_in`].
fn referred_to(res: &Resource) -> bool {
    schema::ALL.iter().any(|other| {
        other.fields.iter().any(|f| f.kind == Kind::Ref(res.table))
            || other.links.iter().any(|l| l.table == res.table)
    })
}

/// One `INSERT ... SELECT ... WHERE EXISTS ... ON CONFLICT DO UPDATE`:
/// inserts or updates the record, provided every record its references
/// name exists in `scope`. When nothing was written, the usual checks say
/// why.
async fn upsert(
    conn: &mut AnyConnection,
    db: &Db,
    res: &Resource,
    scope: Scope,
    on: &[&'static str],
    values: &Values,
    now: Millis,
) -> Result<(), StoreError> {
    let sql = upsert_sql(res, scope, on, values, now)?;
    if sql.query().execute(&mut *conn).await?.rows_affected() > 0 {
        return Ok(());
    }
    // Nothing written: a reference names nothing here, or the record that
    // holds these values is in another workspace.
    check_values(conn, db.backend(), res, scope, values, None).await?;
    Err(StoreError::Duplicate { resource: res.label, field: on.first().copied().unwrap_or("id") })
}

/// The statement of [`upsert`], with its values.
fn upsert_sql(
    res: &Resource,
    scope: Scope,
    on: &[&'static str],
    values: &Values,
    now: Millis,
) -> Result<Sql, StoreError> {
    if on.is_empty() || !on.iter().all(|c| values.iter().any(|(n, _)| n == c)) {
        return Err(StoreError::Config(format!("an upsert of {} must set its conflict columns", res.table)));
    }
    let mut cols = vec!["ref", "created_at", "updated_at"];
    let mut sql = Sql::new("");
    let mut params = vec![
        sql.arg(Value::Text(new_ref()), Kind::Text),
        sql.arg(Value::Int(now), Kind::Int),
        sql.arg(Value::Int(now), Kind::Int),
    ];
    let workspace = match (scope, res.scoped) {
        (Scope::Workspace(ws), true) => {
            cols.push("workspace_id");
            params.push(sql.arg(Value::Int(ws), Kind::Int));
            Some(ws)
        }
        _ => None,
    };
    for (name, value) in values {
        cols.push(name);
        params.push(sql.arg(value.clone(), field_kind(res, name)?));
    }
    let mut conds = vec!["1 = 1".to_owned()];
    for (name, value) in values {
        let Some((target, id)) = referenced(res, name, value)? else { continue };
        let mut exists = Sql {
            text: format!("EXISTS (SELECT 1 FROM {}", target.table),
            args: std::mem::take(&mut sql.args),
        };
        push_where(&mut exists, target, scope, &[Filter::eq("id", id)]);
        exists.text.push(')');
        sql.args = exists.args;
        conds.push(exists.text);
    }
    let sets: Vec<String> = cols
        .iter()
        .filter(|c| !matches!(**c, "ref" | "created_at" | "workspace_id") && !on.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let same_scope = match workspace {
        Some(_) => format!(" WHERE {}.workspace_id = excluded.workspace_id", res.table),
        None => String::new(),
    };
    sql.text = format!(
        "INSERT INTO {table} ({cols}) SELECT {params} WHERE {conds} \
         ON CONFLICT ({on}) DO UPDATE SET {sets}{same_scope}",
        table = res.table,
        cols = cols.join(", "),
        params = params.join(", "),
        conds = conds.join(" AND "),
        on = on.join(", "),
        sets = sets.join(", "),
    );
    Ok(sql)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{AGENTS, REGISTRATIONS, USERS, WORKSPACES};
    use crate::{Query, Value};

    fn put(ws: i64, agent: i64, contact: &str, expires: i64, upsert: bool) -> Change {
        let values = vec![
            ("agent_id", Value::Int(agent)),
            ("aor", "sip:3001@calliope".into()),
            ("contact", contact.into()),
            ("source", "127.0.0.1:5070".into()),
            ("transport", "udp".into()),
            ("expires_at", Value::Int(expires)),
        ];
        let scope = Scope::Workspace(ws);
        if upsert {
            return Change::Upsert { scope, on: &["agent_id", "contact"], values, now: 1 };
        }
        let filters = vec![Filter::eq("agent_id", agent), Filter::eq("contact", contact)];
        Change::Put { scope, filters, values, now: 1 }
    }

    fn remove(ws: i64, agent: i64, contact: &str) -> Change {
        Change::Remove {
            scope: Scope::Workspace(ws),
            filters: vec![Filter::eq("agent_id", agent), Filter::eq("contact", contact)],
        }
    }

    async fn contacts(db: &Db, ws: i64) -> Vec<(String, i64)> {
        let page = db.list(&REGISTRATIONS, Scope::Workspace(ws), &Query::default()).await.unwrap();
        let mut v: Vec<(String, i64)> = page
            .records
            .iter()
            .map(|r| {
                let contact = match r.get("contact") {
                    Value::Text(t) => t.clone(),
                    other => panic!("contact {other:?}"),
                };
                let expires = match r.get("expires_at") {
                    Value::Int(i) => *i,
                    other => panic!("expires_at {other:?}"),
                };
                (contact, expires)
            })
            .collect();
        v.sort();
        v
    }

    async fn changes_apply_together_or_not_at_all(db: &Db, upsert: bool) {
        let user = db
            .insert(
                &USERS,
                Scope::Global,
                vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())],
                0,
            )
            .await
            .unwrap()
            .id;
        let ws = db
            .insert(
                &WORKSPACES,
                Scope::Global,
                vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))],
                0,
            )
            .await
            .unwrap()
            .id;
        let agent = db
            .insert(&AGENTS, Scope::Workspace(ws), vec![("name", "A".into()), ("username", "3001".into())], 0)
            .await
            .unwrap()
            .id;
        let first = [
            put(ws, agent, "sip:a", 10, upsert),
            put(ws, agent, "sip:b", 10, upsert),
            remove(ws, agent, "sip:none"),
        ];
        assert_eq!(db.apply(&REGISTRATIONS, &first).await.unwrap(), 3);
        assert_eq!(contacts(db, ws).await, vec![("sip:a".into(), 10), ("sip:b".into(), 10)]);

        let second = [put(ws, agent, "sip:a", 20, upsert), remove(ws, agent, "sip:b")];
        assert_eq!(db.apply(&REGISTRATIONS, &second).await.unwrap(), 2);
        assert_eq!(contacts(db, ws).await, vec![("sip:a".into(), 20)], "updated in place, one removed");

        let bad = [
            put(ws, agent, "sip:c", 30, upsert),
            remove(ws, agent, "sip:a"),
            put(ws, agent + 1000, "sip:d", 30, upsert),
        ];
        match db.apply(&REGISTRATIONS, &bad).await {
            Err(StoreError::Row { index, .. }) => assert_eq!(index, 2, "the dangling agent is named"),
            other => panic!("expected a row error, got {other:?}"),
        }
        assert_eq!(contacts(db, ws).await, vec![("sip:a".into(), 20)], "nothing of the failed batch is kept");
        assert_eq!(db.apply(&REGISTRATIONS, &[]).await.unwrap(), 0);
    }

    #[test]
    fn placeholders_become_anonymous_only_in_order() {
        assert_eq!(anonymous("SELECT $1, $2 WHERE id = $3", 3).as_deref(), Some("SELECT ?, ? WHERE id = ?"));
        assert_eq!(anonymous("SELECT $1, $10", 2), None, "out of order");
        assert_eq!(anonymous("SELECT $1, $2", 3), None, "one missing");
        assert_eq!(anonymous("SELECT '$', $1", 1), None, "a dollar that is no placeholder");
    }

    #[test]
    fn an_upsert_binds_what_its_statement_names() {
        let shapes = [
            put(7, 3, "sip:a", 10, true),
            put(7, 3, "sip:a", 10, true),
            Change::Upsert {
                scope: Scope::Workspace(7),
                on: &["agent_id", "contact"],
                values: vec![("agent_id", Value::Text(" 3".into())), ("contact", "sip:b".into())],
                now: 5,
            },
            Change::Upsert {
                scope: Scope::Global,
                on: &["agent_id", "contact"],
                values: vec![("agent_id", Value::Null), ("contact", "sip:c".into())],
                now: 6,
            },
        ];
        for change in &shapes {
            let Change::Upsert { scope, on, values, now } = change else { unreachable!() };
            let sql = upsert_sql(&REGISTRATIONS, *scope, on, values, *now).unwrap();
            let args = upsert_args(&REGISTRATIONS, *scope, values, *now).unwrap();
            // All but the new record's ref, which is random.
            assert_eq!(sql.args[1..], args[1..], "{change:?}");
        }
        assert!(same_shape(&REGISTRATIONS, &shapes[0], &shapes[1]));
        assert!(same_shape(&REGISTRATIONS, &shapes[0], &put(8, 4, "sip:z", 99, true)), "other values");
        assert!(!same_shape(&REGISTRATIONS, &shapes[0], &shapes[2]), "other fields");
        let mut empty_ref = shapes[2].clone();
        if let Change::Upsert { values, .. } = &mut empty_ref {
            values[0].1 = Value::Null;
        }
        assert!(!same_shape(&REGISTRATIONS, &shapes[2], &empty_ref), "a reference left empty");
        assert!(!same_shape(&REGISTRATIONS, &shapes[0], &put(7, 3, "sip:a", 10, false)), "no upsert");
    }

    #[tokio::test]
    async fn sqlite_upserts_in_chunks_name_the_change_that_fails() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let user = vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())];
        let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap().id;
        let ws = vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))];
        let ws = db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id;
        let agent = vec![("name", "A".into()), ("username", "3001".into())];
        let agent = db.insert(&AGENTS, Scope::Workspace(ws), agent, 0).await.unwrap().id;
        let many = |expires: i64| -> Vec<Change> {
            (0..100).map(|i| put(ws, agent, &format!("sip:{i}"), expires, true)).collect()
        };
        // 100 changes: chunks of 64, 32 and 4, the last three in one.
        assert_eq!(db.apply(&REGISTRATIONS, &many(10)).await.unwrap(), 100);
        assert_eq!(db.apply(&REGISTRATIONS, &many(20)).await.unwrap(), 100);
        let written = contacts(&db, ws).await;
        assert_eq!(written.len(), 100);
        assert!(written.iter().all(|(_, e)| *e == 20), "every change of the second batch kept");

        // A change in the middle of a chunk names an agent that is not
        // there: it is named, and nothing of the batch is kept.
        for bad_at in [0, 70, 99] {
            let mut bad = many(30);
            bad[bad_at] = put(ws, agent + 1000, "sip:x", 30, true);
            match db.apply(&REGISTRATIONS, &bad).await {
                Err(StoreError::Row { index, .. }) => assert_eq!(index, bad_at),
                other => panic!("expected a row error, got {other:?}"),
            }
            assert!(contacts(&db, ws).await.iter().all(|(_, e)| *e == 20), "nothing kept");
        }
    }

    #[tokio::test]
    async fn sqlite_applies_a_batch_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        changes_apply_together_or_not_at_all(&db, false).await;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        changes_apply_together_or_not_at_all(&db, true).await;
    }

    #[tokio::test]
    async fn postgres_applies_a_batch_in_one_transaction() {
        let Some(pg) = crate::test_pg::TestPg::new("batch").await else { return };
        changes_apply_together_or_not_at_all(&pg.db, false).await;
        pg.drop_db().await;
        let Some(pg) = crate::test_pg::TestPg::new("batch_upsert").await else { return };
        changes_apply_together_or_not_at_all(&pg.db, true).await;
        pg.drop_db().await;
    }
}
