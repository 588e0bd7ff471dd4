//! Many keyed changes to one resource in one write transaction: what a
//! writer that owns a table's writes (the registrations) needs so that a
//! batch costs one commit, not one per row.

use super::{decode, delete_in, insert_in, push_where, select_list, update_in, Sql};
use crate::{Db, Filter, Millis, Resource, Scope, StoreError, Values};

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
            Ok(changes.len())
        })
        .await
    }
}

async fn apply_one(
    conn: &mut sqlx::AnyConnection,
    db: &Db,
    res: &Resource,
    change: &Change,
) -> Result<(), StoreError> {
    let (scope, filters) = match change {
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
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{AGENTS, REGISTRATIONS, USERS, WORKSPACES};
    use crate::{Query, Value};

    fn put(ws: i64, agent: i64, contact: &str, expires: i64) -> Change {
        Change::Put {
            scope: Scope::Workspace(ws),
            filters: vec![Filter::eq("agent_id", agent), Filter::eq("contact", contact)],
            values: vec![
                ("agent_id", Value::Int(agent)),
                ("aor", "sip:3001@calliope".into()),
                ("contact", contact.into()),
                ("source", "127.0.0.1:5070".into()),
                ("transport", "udp".into()),
                ("expires_at", Value::Int(expires)),
            ],
            now: 1,
        }
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

    async fn changes_apply_together_or_not_at_all(db: &Db) {
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
        let first = [put(ws, agent, "sip:a", 10), put(ws, agent, "sip:b", 10), remove(ws, agent, "sip:none")];
        assert_eq!(db.apply(&REGISTRATIONS, &first).await.unwrap(), 3);
        assert_eq!(contacts(db, ws).await, vec![("sip:a".into(), 10), ("sip:b".into(), 10)]);

        let second = [put(ws, agent, "sip:a", 20), remove(ws, agent, "sip:b")];
        assert_eq!(db.apply(&REGISTRATIONS, &second).await.unwrap(), 2);
        assert_eq!(contacts(db, ws).await, vec![("sip:a".into(), 20)], "updated in place, one removed");

        let bad =
            [put(ws, agent, "sip:c", 30), remove(ws, agent, "sip:a"), put(ws, agent + 1000, "sip:d", 30)];
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
        changes_apply_together_or_not_at_all(&db).await;
    }

    #[tokio::test]
    async fn postgres_applies_a_batch_in_one_transaction() {
        let Some(pg) = crate::test_pg::TestPg::new("batch").await else { return };
        changes_apply_together_or_not_at_all(&pg.db).await;
        pg.drop_db().await;
    }
}
