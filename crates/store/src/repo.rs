//! The generic repository: one implementation of list, get, create, update
//! and delete for every resource, scoped to a workspace, with unique and
//! reference checks. Column names come only from resource descriptions;
//! every value is a bound parameter.

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Row};

use crate::{
    schema, Backend, Db, Filter, Kind, Link, Millis, Op, Operand, Page, Query, Record, Resource, Scope,
    StoreError, Value, Values,
};

mod batch;
mod cells;
mod linked;
mod read;
mod rows;
mod steps;

pub(crate) use cells::{decode, width};
pub(crate) use read::Reader;

pub use batch::Change;
pub use linked::Target;
pub use steps::Step;

/// How a record is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// By integer id.
    Id(i64),
    /// By UUID ref.
    Ref(String),
}

/// SQL text under construction, with its bound values.
struct Sql {
    text: String,
    args: Vec<(Value, Kind)>,
}

impl Sql {
    fn new(text: impl Into<String>) -> Sql {
        Sql { text: text.into(), args: Vec::new() }
    }
    /// Adds a parameter and returns its placeholder.
    fn arg(&mut self, value: Value, kind: Kind) -> String {
        self.args.push((value, kind));
        format!("${}", self.args.len())
    }
    /// The statement with its values bound, for sqlx's `Any` (writes).
    fn query(&self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        self.bound()
    }
}

fn select_list(res: &Resource) -> String {
    select_list_of(res, "")
}

/// The columns of `res`, each prefixed by `alias.` when one is given (for
/// joins); the result columns keep their plain names.
pub(crate) fn select_list_of(res: &Resource, alias: &str) -> String {
    let dot = if alias.is_empty() { String::new() } else { format!("{alias}.") };
    let mut cols: Vec<String> =
        ["id", "ref", "created_at", "updated_at"].iter().map(|c| format!("{dot}{c}")).collect();
    if res.scoped {
        cols.push(format!("{dot}workspace_id"));
    }
    cols.extend(res.fields.iter().map(|f| format!("{dot}{}", f.name)));
    cols.join(", ")
}

fn column_kind(res: &Resource, column: &str) -> Kind {
    match column {
        "workspace_id" => Kind::Int,
        _ => res.column(column).map(|c| c.kind).or(res.field(column).map(|f| f.kind)).unwrap_or(Kind::Text),
    }
}

/// Appends ` WHERE ...` for the scope and filters.
fn push_where(sql: &mut Sql, res: &Resource, scope: Scope, filters: &[Filter]) {
    let mut conds = Vec::new();
    if let (Scope::Workspace(ws), true) = (scope, res.scoped) {
        conds.push(format!("workspace_id = {}", sql.arg(Value::Int(ws), Kind::Int)));
    }
    for f in filters {
        let kind = column_kind(res, f.column);
        let col = f.column;
        let cond = match (&f.operand, f.op) {
            (Operand::One(Value::Null), Op::Eq) => format!("{col} IS NULL"),
            (Operand::One(Value::Null), Op::Ne) => format!("{col} IS NOT NULL"),
            (Operand::One(v), Op::Like | Op::NotLike) => {
                let p = sql.arg(v.clone(), Kind::Text);
                let like = format!("LOWER(CAST({col} AS TEXT)) LIKE LOWER({p})");
                if f.op == Op::Like {
                    like
                } else {
                    format!("({col} IS NULL OR NOT ({like}))")
                }
            }
            (Operand::One(v), op) => {
                let p = sql.arg(v.clone(), kind);
                match op {
                    Op::Ne => format!("({col} <> {p} OR {col} IS NULL)"),
                    Op::Lt => format!("{col} < {p}"),
                    Op::Lte => format!("{col} <= {p}"),
                    Op::Gt => format!("{col} > {p}"),
                    Op::Gte => format!("{col} >= {p}"),
                    _ => format!("{col} = {p}"),
                }
            }
            (Operand::Many(vs), _) if vs.is_empty() => "1 = 0".to_owned(),
            (Operand::Many(vs), _) => {
                let ps: Vec<String> = vs.iter().map(|v| sql.arg(v.clone(), kind)).collect();
                format!("{col} IN ({})", ps.join(", "))
            }
        };
        conds.push(cond);
    }
    if !conds.is_empty() {
        sql.text.push_str(" WHERE ");
        sql.text.push_str(&conds.join(" AND "));
    }
}

fn key_filter(key: &Key) -> Filter {
    match key {
        Key::Id(id) => Filter::eq("id", *id),
        Key::Ref(r) => Filter::eq("ref", r.as_str()),
    }
}

/// A new record's ref: a time-ordered UUID ([`crate::new_uuid`]).
fn new_ref() -> String {
    crate::new_uuid().to_string()
}

impl Db {
    /// One page of the records that match `query`, and how many match in all.
    pub async fn list(&self, res: &Resource, scope: Scope, query: &Query) -> Result<Page, StoreError> {
        let total = self.count(res, scope, &query.filters).await?;
        let sql = linked::select_sql(res, scope, query, "");
        let records = self.reader.all(&sql, |row| decode(res, row)).await?;
        Ok(Page { records, total })
    }

    /// How many records match `filters`.
    pub async fn count(&self, res: &Resource, scope: Scope, filters: &[Filter]) -> Result<u64, StoreError> {
        let mut sql = Sql::new(format!("SELECT COUNT(*) FROM {}", res.table));
        push_where(&mut sql, res, scope, filters);
        let n = self.reader.first(&sql, |row| Ok(row.int(0)?)).await?.flatten().unwrap_or(0);
        Ok(n.max(0) as u64)
    }

    /// The distinct values of `column` among the records that match
    /// `filters`, each with how many records hold it, in value order.
    pub async fn group(
        &self,
        res: &Resource,
        scope: Scope,
        filters: &[Filter],
        column: &'static str,
    ) -> Result<Vec<(Value, u64)>, StoreError> {
        let kind = column_kind(res, column);
        let mut sql = Sql::new(format!("SELECT {column} AS g, COUNT(*) AS n FROM {}", res.table));
        push_where(&mut sql, res, scope, filters);
        sql.text.push_str(&format!(" GROUP BY {column} ORDER BY {column}"));
        self.reader
            .all(&sql, |row| {
                let v = match kind {
                    Kind::Float => row.float(0)?.map(Value::Float),
                    Kind::Text | Kind::Json | Kind::Enum(_) => row.text(0)?.map(Value::Text),
                    _ => row.int(0)?.map(Value::Int),
                };
                let n = row.int(1)?.unwrap_or(0);
                Ok((v.unwrap_or(Value::Null), n.max(0) as u64))
            })
            .await
    }

    /// The first record (by id) that matches `filters`, if any.
    pub async fn find(
        &self,
        res: &Resource,
        scope: Scope,
        filters: &[Filter],
    ) -> Result<Option<Record>, StoreError> {
        let mut sql = Sql::new(format!("SELECT {} FROM {}", select_list(res), res.table));
        push_where(&mut sql, res, scope, filters);
        sql.text.push_str(" ORDER BY id LIMIT 1");
        self.reader.first(&sql, |row| decode(res, row)).await
    }

    /// The record with `key` in `scope`.
    pub async fn get(&self, res: &Resource, scope: Scope, key: &Key) -> Result<Record, StoreError> {
        self.find(res, scope, &[key_filter(key)]).await?.ok_or(StoreError::NotFound(res.label))
    }

    /// Creates a record from `values` and returns it as stored.
    pub async fn insert(
        &self,
        res: &Resource,
        scope: Scope,
        values: Values,
        now: Millis,
    ) -> Result<Record, StoreError> {
        let id = self
            .retrying(|| async {
                let mut tx = self.begin_write().await?;
                let id = insert_in(&mut tx, self.backend(), res, scope, values.clone(), now).await?;
                tx.commit().await?;
                self.wrote(res.table);
                Ok(id)
            })
            .await?;
        self.get(res, Scope::Global, &Key::Id(id)).await
    }

    /// Creates one record per row, all or none: the first row that fails
    /// (a duplicate, also among the rows, or a dangling reference) is named
    /// by its index and nothing is kept.
    pub async fn insert_all(
        &self,
        res: &Resource,
        scope: Scope,
        rows: Vec<Values>,
        now: Millis,
    ) -> Result<Vec<Record>, StoreError> {
        let ids = self
            .retrying(|| async {
                let mut tx = self.begin_write().await?;
                let mut ids = Vec::with_capacity(rows.len());
                for (index, values) in rows.iter().enumerate() {
                    let id = insert_in(&mut tx, self.backend(), res, scope, values.clone(), now)
                        .await
                        .map_err(|e| row_error(index, e))?;
                    ids.push(id);
                }
                tx.commit().await?;
                self.wrote(res.table);
                Ok(ids)
            })
            .await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            records.push(self.get(res, Scope::Global, &Key::Id(id)).await?);
        }
        Ok(records)
    }

    /// Changes the given fields of the record with `key` and returns it.
    pub async fn update(
        &self,
        res: &Resource,
        scope: Scope,
        key: &Key,
        values: Values,
        now: Millis,
    ) -> Result<Record, StoreError> {
        let id = self
            .retrying(|| async {
                let mut tx = self.begin_write().await?;
                let current = get_in(&mut tx, res, scope, key).await?;
                update_in(&mut tx, self.backend(), res, scope, &current, &values, now).await?;
                tx.commit().await?;
                self.wrote(res.table);
                Ok(current.id)
            })
            .await?;
        self.get(res, Scope::Global, &Key::Id(id)).await
    }

    /// Deletes the record with `key`, unless another record still refers
    /// to it; records that refer to it with `cascade` go with it. Returns
    /// what was deleted.
    pub async fn delete(&self, res: &Resource, scope: Scope, key: &Key) -> Result<Record, StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            let current = get_in(&mut tx, res, scope, key).await?;
            delete_in(&mut tx, res, &current).await?;
            tx.commit().await?;
            self.wrote_all();
            Ok(current)
        })
        .await
    }

    /// Deletes every record of `res` in `scope` that matches `filters`, as
    /// [`Db::delete`] would one by one, all or none; returns how many.
    pub async fn delete_where(
        &self,
        res: &Resource,
        scope: Scope,
        filters: &[Filter],
    ) -> Result<u64, StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            let mut sql = Sql::new(format!("SELECT {} FROM {}", select_list(res), res.table));
            push_where(&mut sql, res, scope, filters);
            let rows = sql.query().fetch_all(&mut *tx).await?;
            let records: Vec<Record> = rows.iter().map(|r| decode(res, r)).collect::<Result<_, _>>()?;
            for rec in &records {
                delete_in(&mut tx, res, rec).await?;
            }
            tx.commit().await?;
            self.wrote_all();
            Ok(records.len() as u64)
        })
        .await
    }
}

fn row_error(index: usize, e: StoreError) -> StoreError {
    // Contention is about the whole write, not a row: keep it retryable.
    if e.is_contention() {
        e
    } else {
        StoreError::Row { index, source: Box::new(e) }
    }
}

/// The record with `key` in `scope`, read within `conn`'s transaction.
async fn get_in(
    conn: &mut AnyConnection,
    res: &Resource,
    scope: Scope,
    key: &Key,
) -> Result<Record, StoreError> {
    let mut sql = Sql::new(format!("SELECT {} FROM {}", select_list(res), res.table));
    push_where(&mut sql, res, scope, &[key_filter(key)]);
    let row = sql.query().fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound(res.label))?;
    decode(res, &row)
}

/// Deletes `current` within `conn`'s transaction, after the reference
/// checks and cascades.
async fn delete_in(conn: &mut AnyConnection, res: &Resource, current: &Record) -> Result<(), StoreError> {
    for other in schema::ALL {
        let cols = if other.scoped { "id, ref, workspace_id" } else { "id, ref" };
        for f in other.fields.iter().filter(|f| f.kind == Kind::Ref(res.table) && !f.cascade) {
            let mut sql = Sql::new(format!("SELECT {cols} FROM {} WHERE {} = ", other.table, f.name));
            let p = sql.arg(Value::Int(current.id), Kind::Int);
            sql.text.push_str(&p);
            refuse_if_found(conn, sql, res, other, current).await?;
        }
        for link in other.links.iter().filter(|l| l.table == res.table) {
            let mut sql = Sql::new("");
            let mut cond = link_condition(&mut sql, link, current);
            // A link holds an id as text, read in its own workspace: the
            // same number in another workspace names another record.
            if let (true, Some(ws)) = (other.scoped, current.workspace_id) {
                cond.push_str(&format!(" AND workspace_id = {}", sql.arg(Value::Int(ws), Kind::Int)));
            }
            if link.cascade {
                sql.text = format!("DELETE FROM {} WHERE {cond}", other.table);
                sql.query().execute(&mut *conn).await?;
            } else {
                sql.text = format!("SELECT {cols} FROM {} WHERE {cond}", other.table);
                refuse_if_found(conn, sql, res, other, current).await?;
            }
        }
    }
    let mut sql = Sql::new(format!("DELETE FROM {} WHERE id = ", res.table));
    let p = sql.arg(Value::Int(current.id), Kind::Int);
    sql.text.push_str(&p);
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Changes the given fields of `current` within `conn`'s transaction,
/// after the checks.
async fn update_in(
    conn: &mut AnyConnection,
    backend: Backend,
    res: &Resource,
    scope: Scope,
    current: &Record,
    values: &Values,
    now: Millis,
) -> Result<(), StoreError> {
    check_values(conn, backend, res, scope, values, Some(current)).await?;
    let mut sql = Sql::new("");
    let mut sets = vec![format!("updated_at = {}", sql.arg(Value::Int(now), Kind::Int))];
    for (name, value) in values {
        let kind = field_kind(res, name)?;
        sets.push(format!("{name} = {}", sql.arg(value.clone(), kind)));
    }
    let id = sql.arg(Value::Int(current.id), Kind::Int);
    sql.text = format!("UPDATE {} SET {} WHERE id = {id}", res.table, sets.join(", "));
    sql.query().execute(&mut *conn).await?;
    Ok(())
}

/// Inserts a record within `conn`'s transaction, after the checks, and
/// returns its id.
async fn insert_in(
    conn: &mut AnyConnection,
    backend: Backend,
    res: &Resource,
    scope: Scope,
    values: Values,
    now: Millis,
) -> Result<i64, StoreError> {
    check_values(conn, backend, res, scope, &values, None).await?;
    let mut cols = vec!["ref", "created_at", "updated_at"];
    let mut sql = Sql::new("");
    let mut params = vec![
        sql.arg(Value::Text(new_ref()), Kind::Text),
        sql.arg(Value::Int(now), Kind::Int),
        sql.arg(Value::Int(now), Kind::Int),
    ];
    if let (Scope::Workspace(ws), true) = (scope, res.scoped) {
        cols.push("workspace_id");
        params.push(sql.arg(Value::Int(ws), Kind::Int));
    }
    for (name, value) in values {
        let kind = field_kind(res, name)?;
        cols.push(name);
        params.push(sql.arg(value, kind));
    }
    sql.text = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
        res.table,
        cols.join(", "),
        params.join(", ")
    );
    Ok(sql.query().fetch_one(&mut *conn).await?.try_get(0)?)
}

/// The SQL condition under which `link` points at the record `id`.
fn link_condition(sql: &mut Sql, link: &Link, current: &Record) -> String {
    if link.by_ref {
        // Refs are UUIDs: no LIKE wildcards in them.
        let p = sql.arg(Value::Text(format!("%\"{}\"%", current.r#ref)), Kind::Text);
        return format!("CAST({} AS TEXT) LIKE {p}", link.field);
    }
    let p = sql.arg(Value::Text(current.id.to_string()), Kind::Text);
    let mut cond = format!("CAST({} AS TEXT) = {p}", link.field);
    let (when, values) = link.when;
    if !when.is_empty() {
        let ps: Vec<String> = values.iter().map(|v| sql.arg(Value::from(*v), Kind::Text)).collect();
        cond.push_str(&format!(" AND {when} IN ({})", ps.join(", ")));
    }
    cond
}

/// Fails with `InUse` naming the first row `sql` (selecting id, ref) finds.
/// A referrer in another workspace than `current` is not named.
async fn refuse_if_found(
    conn: &mut AnyConnection,
    mut sql: Sql,
    res: &Resource,
    other: &Resource,
    current: &Record,
) -> Result<(), StoreError> {
    sql.text.push_str(" LIMIT 1");
    if let Some(row) = sql.query().fetch_optional(&mut *conn).await? {
        let id: i64 = row.try_get(0)?;
        let r: String = row.try_get(1)?;
        let elsewhere = other.scoped && row.try_get::<Option<i64>, _>(2)? != current.workspace_id;
        let referrer = if elsewhere {
            "a record of another workspace".to_owned()
        } else {
            format!("{} {id} ({r})", other.label)
        };
        return Err(StoreError::InUse { resource: res.label, referrer });
    }
    Ok(())
}

fn field_kind(res: &Resource, name: &str) -> Result<Kind, StoreError> {
    res.field(name)
        .map(|f| f.kind)
        .ok_or_else(|| StoreError::Config(format!("{} has no field {name}", res.table)))
}

/// Refuses values that would duplicate a unique field or name a missing
/// record. `current` is the record being updated, which may keep its values.
async fn check_values(
    conn: &mut AnyConnection,
    backend: Backend,
    res: &Resource,
    scope: Scope,
    values: &Values,
    current: Option<&Record>,
) -> Result<(), StoreError> {
    for (name, value) in values {
        if *value == Value::Null {
            continue;
        }
        let Some(field) = res.field(name) else { continue };
        if let Value::Text(text) = value {
            field.check_len(text).map_err(|max| StoreError::TooLong { field: field.name, max })?;
        }
        if field.unique {
            // A value unique everywhere is looked for in every workspace,
            // and the answer is the same whoever holds it.
            let within = if field.everywhere { Scope::Global } else { scope };
            if field.everywhere && backend == Backend::Postgres {
                // Claims in two workspaces do not conflict on the
                // per-workspace unique index: take turns.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock_key(res.table, field.name))
                    .execute(&mut *conn)
                    .await?;
            }
            let mut sql = Sql::new(format!("SELECT id FROM {}", res.table));
            let mut filters = vec![Filter::eq(field.name, value.clone())];
            if let Some(own) = current {
                filters.push(Filter { column: "id", op: Op::Ne, operand: Operand::One(Value::Int(own.id)) });
            }
            push_where(&mut sql, res, within, &filters);
            sql.text.push_str(" LIMIT 1");
            if sql.query().fetch_optional(&mut *conn).await?.is_some() {
                return Err(StoreError::Duplicate { resource: res.label, field: field.name });
            }
        }
        if let Kind::Ref(table) = field.kind {
            check_target(conn, scope, field.name, table, value).await?;
        }
    }
    let after = |name: &str| match values.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => v.clone(),
        None => current.map_or(Value::Null, |r| r.get(name).clone()),
    };
    for link in res.links.iter().filter(|l| !l.by_ref) {
        let (when, allowed) = link.when;
        let applies = when.is_empty() || after(when).as_str().is_some_and(|v| allowed.contains(&v));
        let touched = values.iter().any(|(n, _)| *n == link.field || *n == when);
        let target = match after(link.field) {
            Value::Text(t) if t.trim().is_empty() => continue,
            Value::Null => continue,
            v => v,
        };
        if applies && touched {
            check_target(conn, scope, link.field, link.table, &target).await?;
        }
    }
    check_total_links(res, values, &after)
}

/// A field whose links cover every value of the field that selects them
/// (a hotline's `ref_id` by its `type`) is a reference whatever it holds:
/// a value with nothing selecting its target names nothing.
fn check_total_links(
    res: &Resource,
    values: &Values,
    after: &dyn Fn(&str) -> Value,
) -> Result<(), StoreError> {
    for link in res.links {
        let (when, _) = link.when;
        let Some(Kind::Enum(choices)) = res.field(when).map(|f| f.kind) else { continue };
        let covered = |c: &&str| {
            res.links.iter().any(|l| l.field == link.field && l.when.0 == when && l.when.1.contains(c))
        };
        if !choices.iter().all(covered) {
            continue;
        }
        let touched = values.iter().any(|(n, _)| *n == link.field || *n == when);
        let set = match after(link.field) {
            Value::Text(t) => !t.trim().is_empty(),
            Value::Null => false,
            _ => true,
        };
        let chosen = after(when).as_str().is_some_and(|v| !v.is_empty());
        if touched && set && !chosen {
            return Err(StoreError::DanglingRef { field: link.field, target: "record" });
        }
    }
    Ok(())
}

/// The advisory lock that serializes claims on a value unique everywhere.
fn lock_key(table: &str, field: &str) -> i64 {
    // FNV-1a: stable across builds and nodes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in table.bytes().chain([b'.']).chain(field.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Fails with `DanglingRef` unless `value` is the id of a record of `table`.
async fn check_target(
    conn: &mut AnyConnection,
    scope: Scope,
    field: &'static str,
    table: &str,
    value: &Value,
) -> Result<(), StoreError> {
    let target =
        schema::by_table(table).ok_or_else(|| StoreError::Config(format!("unknown table {table}")))?;
    let id = match value {
        Value::Int(id) => Some(*id),
        Value::Text(t) => t.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(id) = id else {
        // A trunk group may also be named by one of its route codes (the
        // router follows the code at call time).
        if let (Value::Text(code), "trunk_groups") = (value, target.table) {
            let mut sql = Sql::new("SELECT id FROM route_codes");
            push_where(&mut sql, &schema::ROUTE_CODES, scope, &[Filter::eq("code", code.trim())]);
            if sql.query().fetch_optional(&mut *conn).await?.is_some() {
                return Ok(());
            }
        }
        return Err(StoreError::DanglingRef { field, target: target.label });
    };
    let mut sql = Sql::new(format!("SELECT id FROM {}", target.table));
    push_where(&mut sql, target, scope, &[Filter::eq("id", id)]);
    if sql.query().fetch_optional(&mut *conn).await?.is_none() {
        return Err(StoreError::DanglingRef { field, target: target.label });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{IVRS, NUMBERS, USERS, WORKSPACES};

    async fn workspace(db: &Db, n: i64) -> Scope {
        let user = vec![
            ("email", Value::from(format!("u{n}@x"))),
            ("name", "U".into()),
            ("password_hash", "x".into()),
        ];
        let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap();
        let ws = vec![
            ("access_key_id", Value::from(format!("WO{n}"))),
            ("name", "W".into()),
            ("owner_id", Value::Int(user.id)),
        ];
        Scope::Workspace(db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id)
    }

    /// A link names a record of its own workspace: the same id held in
    /// another workspace (as data from before references were checked may
    /// hold it) neither blocks nor names anything there.
    #[tokio::test]
    async fn links_are_read_in_their_own_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let (a, b) = (workspace(&db, 1).await, workspace(&db, 2).await);
        let ivr = db.insert(&IVRS, a, vec![("name", "menu".into())], 0).await.unwrap();
        let hotline = |ref_id: i64| {
            vec![
                ("line_number", Value::from(format!("+1555{ref_id}"))),
                ("type", "FS_DEST_IVR".into()),
                ("ref_id", Value::from(ref_id.to_string())),
            ]
        };
        // Through the checks, B cannot name A's IVR...
        let refused = db.insert(&NUMBERS, b, hotline(ivr.id), 0).await;
        assert!(matches!(refused, Err(StoreError::DanglingRef { field: "ref_id", .. })), "{refused:?}");
        // ...and a row that does anyway (written around them) is not A's
        // business: A deletes its IVR.
        let Scope::Workspace(b_id) = b else { unreachable!() };
        sqlx::query(
            "INSERT INTO numbers (ref, workspace_id, line_number, type, ref_id, created_at, updated_at) \
             VALUES ('legacy', $1, '+1999', 'FS_DEST_IVR', $2, 0, 0)",
        )
        .bind(b_id)
        .bind(ivr.id.to_string())
        .execute(&db.pool)
        .await
        .unwrap();
        db.delete(&IVRS, a, &Key::Id(ivr.id)).await.unwrap();

        // Within A, a hotline naming its IVR keeps it, and is named.
        let ivr = db.insert(&IVRS, a, vec![("name", "menu".into())], 0).await.unwrap();
        db.insert(&NUMBERS, a, hotline(ivr.id), 0).await.unwrap();
        match db.delete(&IVRS, a, &Key::Id(ivr.id)).await {
            Err(StoreError::InUse { referrer, .. }) => assert!(referrer.starts_with("number "), "{referrer}"),
            other => panic!("{other:?}"),
        }
    }
}
