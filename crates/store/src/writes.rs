//! Counts of committed writes, one per table, so that what was read from a
//! table can be kept until the table changes: a reader notes the counts of
//! the tables it reads before reading ([`Db::stamp`]), and what it made of
//! the rows stays good while [`Db::unchanged_since`] holds.
//!
//! Every write through a [`Db`] handle or its clones bumps the counts of
//! the tables it changed once it committed (the API, the switch's call
//! record and registration writers, migrations); a deletion, which the
//! database may cascade to other tables, bumps them all. Writes by another
//! process to the same database (another node on a shared PostgreSQL, an
//! admin command on the SQLite file) are not seen.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{schema, Db};

/// The write counts: one per table of [`schema::ALL`], then one for every
/// other table (settings, schema versions).
#[derive(Debug)]
pub(crate) struct Writes(Box<[AtomicU64]>);

impl Default for Writes {
    fn default() -> Writes {
        Writes((0..=schema::ALL.len()).map(|_| AtomicU64::new(0)).collect())
    }
}

impl Writes {
    /// The slot of `table`.
    fn slot(table: &str) -> usize {
        schema::ALL.iter().position(|r| r.table == table).unwrap_or(schema::ALL.len())
    }

    fn get(&self, slot: usize) -> u64 {
        self.0.get(slot).map_or(0, |c| c.load(Ordering::SeqCst))
    }
}

/// Where the writes to some tables stood when a read began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Vec<(usize, u64)>);

impl Db {
    /// Notes a committed write to `table`.
    pub(crate) fn wrote(&self, table: &str) {
        if let Some(c) = self.writes.0.get(Writes::slot(table)) {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Notes a committed write that may have reached any table (a
    /// deletion, with the database's cascades; a migration).
    pub(crate) fn wrote_all(&self) {
        for c in self.writes.0.iter() {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Committed writes to `table` through this handle (or a clone) since
    /// it was opened.
    pub fn writes_to(&self, table: &str) -> u64 {
        self.writes.get(Writes::slot(table))
    }

    /// The writes to `tables` as they stand now: take it before reading
    /// them.
    pub fn stamp<'a>(&self, tables: impl IntoIterator<Item = &'a str>) -> Stamp {
        let mut slots: Vec<(usize, u64)> = Vec::new();
        for table in tables {
            let slot = Writes::slot(table);
            if !slots.iter().any(|(s, _)| *s == slot) {
                slots.push((slot, self.writes.get(slot)));
            }
        }
        Stamp(slots)
    }

    /// Whether none of the tables of `stamp` was written since it was
    /// taken (by this process).
    pub fn unchanged_since(&self, stamp: &Stamp) -> bool {
        stamp.0.iter().all(|&(slot, n)| self.writes.get(slot) == n)
    }

    /// How many writes to users, workspaces, memberships and API keys went
    /// through this handle (or a clone) since it was opened: a cache of
    /// who may do what is stale once this moved. Writes by another node
    /// or process are not seen.
    pub fn identity_writes(&self) -> u64 {
        ["users", "workspaces", "memberships", "api_keys"]
            .iter()
            .fold(0u64, |sum, t| sum.wrapping_add(self.writes_to(t)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::schema::{AGENTS, CDRS, USERS, WORKSPACES};
    use crate::{Db, Key, Scope, Value};

    #[tokio::test]
    async fn writes_move_the_stamps_of_their_tables_and_deletions_all() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let agents = db.stamp(["agents", "domains"]);
        let cdrs = db.stamp(["cdrs"]);
        let user = vec![("email", Value::from("a@b.c")), ("name", "a".into()), ("password_hash", "x".into())];
        let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap();
        assert!(db.unchanged_since(&agents) && db.unchanged_since(&cdrs), "another table");
        let identity = db.identity_writes();
        let ws =
            vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user.id))];
        let ws = Scope::Workspace(db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id);
        assert_ne!(db.identity_writes(), identity);

        let agent = vec![("name", Value::from("A")), ("username", "1001".into())];
        let agent = db.insert(&AGENTS, ws, agent, 0).await.unwrap();
        assert!(!db.unchanged_since(&agents), "an insert");
        assert!(db.unchanged_since(&cdrs));
        let agents = db.stamp(["agents"]);
        let cdr = vec![
            ("call_ref", Value::from("c")),
            ("calldate", Value::Int(1)),
            ("src", "1".into()),
            ("dst", "2".into()),
        ];
        db.insert_rows(&CDRS, ws, &[cdr], 1).await.unwrap();
        assert!(!db.unchanged_since(&cdrs), "rows written in a batch");
        assert!(db.unchanged_since(&agents));
        let cdrs = db.stamp(["cdrs"]);
        db.delete(&AGENTS, ws, &Key::Id(agent.id)).await.unwrap();
        assert!(!db.unchanged_since(&agents) && !db.unchanged_since(&cdrs), "a deletion moves all");
    }
}
