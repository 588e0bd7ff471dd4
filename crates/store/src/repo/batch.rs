//! Many keyed changes to one resource in one write transaction: what a
//! writer that owns a table's writes (the registrations) needs so that a
//! batch costs one commit, not one per row.
//!
//! [`Change::Upsert`] is the cheap form: one `INSERT ... ON CONFLICT DO
//! UPDATE` statement per change, whose reference checks are part of the
//! statement (`WHERE EXISTS`), with no read before and none after; and a
//! removal of a record nothing refers to is one `DELETE`. A batch of n
//! such changes is n + 2 statements (with `BEGIN` and `COMMIT`).

use sqlx::AnyConnection;

use super::{
    check_values, decode, delete_in, field_kind, insert_in, new_ref, push_where, select_list, update_in, Sql,
};
use crate::{schema, Db, Filter, Kind, Millis, Query, Record, Resource, Scope, StoreError, Value, Values};

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
            for (index, change) in changes.iter().enumerate() {
                apply_one(&mut tx, self, res, change).await.map_err(|e| super::row_error(index, e))?;
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
        let Some(Kind::Ref(table)) = res.field(name).map(|f| f.kind) else { continue };
        let target =
            schema::by_table(table).ok_or_else(|| StoreError::Config(format!("unknown table {table}")))?;
        let id = match value {
            Value::Null => continue,
            Value::Int(id) => Some(*id),
            Value::Text(t) => t.trim().parse::<i64>().ok(),
            Value::Float(_) => None,
        };
        let Some(id) = id else {
            return Err(StoreError::DanglingRef {
                field: res.field(name).map_or("", |f| f.name),
                target: target.label,
            });
        };
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
    if sql.query().execute(&mut *conn).await?.rows_affected() > 0 {
        return Ok(());
    }
    // Nothing written: a reference names nothing here, or the record that
    // holds these values is in another workspace.
    check_values(conn, db.backend(), res, scope, values, None).await?;
    Err(StoreError::Duplicate { resource: res.label, field: on.first().copied().unwrap_or("id") })
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
