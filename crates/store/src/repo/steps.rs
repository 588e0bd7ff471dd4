//! Writes to several tables in one transaction, all or none: a record and
//! its memberships, lists and their entries, many rows changed at once.

use super::{delete_in, get_in, insert_in, update_in, Key};
use crate::{Db, Millis, Resource, Scope, StoreError, Value, Values};

/// One write of a [`Db::transact`].
#[derive(Debug, Clone)]
pub enum Step {
    /// Creates a record of `res` from `values`; each `(field, step)` of
    /// `from` is set to the id of the record that the earlier step made.
    Insert {
        /// The resource.
        res: &'static Resource,
        /// Its fields.
        values: Values,
        /// Fields that take the id of an earlier step's record.
        from: Vec<(&'static str, usize)>,
    },
    /// Changes the given fields of the record with `key`.
    Update {
        /// The resource.
        res: &'static Resource,
        /// The record.
        key: Key,
        /// The fields to change.
        values: Values,
    },
    /// Deletes the record with `key`, as [`Db::delete`] would.
    Delete {
        /// The resource.
        res: &'static Resource,
        /// The record.
        key: Key,
    },
}

impl Db {
    /// Applies `steps` in order in `scope`, in one transaction, all or
    /// none: the first step that fails is named by its index
    /// ([`StoreError::Row`]) and nothing is kept. Answers the id of each
    /// step's record.
    pub async fn transact(&self, scope: Scope, steps: &[Step], now: Millis) -> Result<Vec<i64>, StoreError> {
        self.retrying(|| async {
            let mut tx = self.begin_write().await?;
            let mut ids: Vec<i64> = Vec::with_capacity(steps.len());
            for (index, step) in steps.iter().enumerate() {
                let id = match step {
                    Step::Insert { res, values, from } => {
                        let mut values = values.clone();
                        for &(field, at) in from {
                            let id = ids.get(at).copied().ok_or_else(|| {
                                StoreError::Config(format!("step {index} takes the id of a later step {at}"))
                            })?;
                            values.retain(|(n, _)| *n != field);
                            values.push((field, Value::Int(id)));
                        }
                        insert_in(&mut tx, self.backend(), res, scope, values, now).await
                    }
                    Step::Update { res, key, values } => match get_in(&mut tx, res, scope, key).await {
                        Ok(current) => update_in(&mut tx, self.backend(), res, scope, &current, values, now)
                            .await
                            .map(|()| current.id),
                        Err(e) => Err(e),
                    },
                    Step::Delete { res, key } => match get_in(&mut tx, res, scope, key).await {
                        Ok(current) => delete_in(&mut tx, res, &current).await.map(|()| current.id),
                        Err(e) => Err(e),
                    },
                };
                ids.push(id.map_err(|e| super::row_error(index, e))?);
            }
            tx.commit().await?;
            for step in steps {
                match step {
                    Step::Insert { res, .. } | Step::Update { res, .. } => self.wrote(res.table),
                    Step::Delete { .. } => self.wrote_all(),
                }
            }
            Ok(ids)
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{TRUNKS, TRUNK_GROUPS, TRUNK_GROUP_MEMBERS, USERS, WORKSPACES};

    async fn scope(db: &Db) -> Scope {
        let user = vec![
            ("email", Value::from("t@x")),
            ("name", Value::from("t")),
            ("password_hash", Value::from("h")),
        ];
        let user = db.insert(&USERS, Scope::Global, user, 1).await.unwrap();
        let ws = vec![
            ("access_key_id", Value::from("WO1")),
            ("name", Value::from("w")),
            ("owner_id", Value::Int(user.id)),
        ];
        Scope::Workspace(db.insert(&WORKSPACES, Scope::Global, ws, 1).await.unwrap().id)
    }

    fn trunk(name: &str) -> Step {
        Step::Insert { res: &TRUNKS, values: vec![("name", Value::from(name))], from: Vec::new() }
    }

    #[tokio::test]
    async fn steps_are_all_or_none_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        all_or_none(&db).await;
    }

    #[tokio::test]
    async fn steps_are_all_or_none_on_postgres() {
        let Some(pg) = crate::test_pg::TestPg::new("steps").await else { return };
        all_or_none(&pg.db).await;
        pg.drop_db().await;
    }

    /// A record and its memberships are written together or not at all;
    /// so are updates and deletes.
    async fn all_or_none(db: &Db) {
        let ws = scope(db).await;
        let group = vec![("name", Value::from("g")), ("strategy", Value::from("RR"))];
        let group = db.insert(&TRUNK_GROUPS, ws, group, 1).await.unwrap();
        let member = |group_id: i64| Step::Insert {
            res: &TRUNK_GROUP_MEMBERS,
            values: vec![("group_id", Value::Int(group_id)), ("weight", Value::Int(5))],
            from: vec![("trunk_id", 0)],
        };
        let ids = db.transact(ws, &[trunk("t1"), member(group.id)], 2).await.unwrap();
        let m = db.get(&TRUNK_GROUP_MEMBERS, ws, &Key::Id(ids[1])).await.unwrap();
        assert_eq!(m.int("trunk_id"), Some(ids[0]));

        // A membership of a group that does not exist: the trunk goes too.
        let err = db.transact(ws, &[trunk("t2"), member(999_999)], 3).await.unwrap_err();
        assert!(matches!(err, StoreError::Row { index: 1, .. }), "{err:?}");
        assert_eq!(db.count(&TRUNKS, ws, &[]).await.unwrap(), 1, "t2 was not kept");

        // Updates and deletes in the same transaction; a missing record fails all.
        let steps = [
            Step::Update {
                res: &TRUNKS,
                key: Key::Id(ids[0]),
                values: vec![("description", Value::from("d"))],
            },
            Step::Delete { res: &TRUNK_GROUP_MEMBERS, key: Key::Id(ids[1]) },
            Step::Delete { res: &TRUNKS, key: Key::Id(999_999) },
        ];
        assert!(matches!(db.transact(ws, &steps, 4).await, Err(StoreError::Row { index: 2, .. })));
        assert_eq!(db.get(&TRUNKS, ws, &Key::Id(ids[0])).await.unwrap().text("description"), "");
        assert_eq!(db.count(&TRUNK_GROUP_MEMBERS, ws, &[]).await.unwrap(), 1);
    }
}
