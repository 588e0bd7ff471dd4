//! Records read with what their references point at, in one statement: a
//! list page or a get that shows each reference as the target's ref and
//! name costs one statement, not one more per reference.

use super::{decode, push_where, select_list, width, Sql};
use crate::{
    schema, Db, Filter, Kind, Op, Operand, Query, Record, Resource, Scope, Stamp, StoreError, Value,
};

/// What one shown reference field of a record points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The reference field, such as `domain_id`.
    pub field: &'static str,
    /// The target's ref.
    pub r#ref: String,
    /// The target's name ("" when it has none).
    pub name: String,
}

/// `SELECT` of `res`'s columns plus `extra` for the records that match
/// `query` in `scope`, in its order, with its limit.
pub(super) fn select_sql(res: &Resource, scope: Scope, query: &Query, extra: &str) -> Sql {
    let mut filters = query.filters.clone();
    if let Some(after) = query.after_id {
        filters.push(Filter { column: "id", op: Op::Gt, operand: Operand::One(Value::Int(after)) });
    }
    let mut sql = Sql::new(format!("SELECT {}{extra} FROM {}", select_list(res), res.table));
    push_where(&mut sql, res, scope, &filters);
    match query.order {
        Some(o) => sql.text.push_str(&format!(
            " ORDER BY {} {}, id",
            o.column,
            if o.descending { "DESC" } else { "ASC" }
        )),
        None => sql.text.push_str(" ORDER BY id"),
    }
    if let Some(limit) = query.limit {
        let l = sql.arg(Value::Int(limit.min(i64::MAX as u64) as i64), Kind::Int);
        let o = sql.arg(Value::Int(query.offset.min(i64::MAX as u64) as i64), Kind::Int);
        sql.text.push_str(&format!(" LIMIT {l} OFFSET {o}"));
    }
    sql
}

/// The shown (not hidden) reference fields of `res` with their targets.
fn links(res: &Resource) -> impl Iterator<Item = (usize, &'static str, &'static Resource)> + '_ {
    res.fields
        .iter()
        .filter(|f| !f.hidden)
        .filter_map(|f| match f.kind {
            Kind::Ref(table) => schema::by_table(table).map(|t| (f.name, t)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (name, t))| (i, name, t))
}

impl Db {
    /// The writes to what [`Db::select_linked`] of `res` reads (its table
    /// and the tables its shown references point at), as they stand now:
    /// what it read stays good while [`Db::unchanged_since`] this.
    pub fn linked_stamp(&self, res: &Resource) -> Stamp {
        self.stamp(std::iter::once(res.table).chain(links(res).map(|(_, _, target)| target.table)))
    }

    /// Like [`Db::select`], each record with what its shown reference
    /// fields point at (any workspace's record: the reference was checked
    /// when written), read by subqueries of the same statement.
    pub async fn select_linked(
        &self,
        res: &Resource,
        scope: Scope,
        query: &Query,
    ) -> Result<Vec<(Record, Vec<Target>)>, StoreError> {
        let mut extra = String::new();
        for (i, field, target) in links(res) {
            let t = target.table;
            extra.push_str(&format!(
                ", (SELECT lk.ref FROM {t} lk WHERE lk.id = {own}.{field}) AS link_ref_{i}",
                own = res.table
            ));
            if target.field("name").is_some_and(|f| f.kind == Kind::Text) {
                extra.push_str(&format!(
                    ", (SELECT lk.name FROM {t} lk WHERE lk.id = {own}.{field}) AS link_name_{i}",
                    own = res.table
                ));
            }
        }
        let sql = select_sql(res, scope, query, &extra);
        // The extra columns follow the record's, a ref and maybe a name
        // per link: their indexes worked out once, not once per row.
        let mut next = width(res);
        let columns: Vec<(&'static str, usize, Option<usize>)> = links(res)
            .map(|(_, field, target)| {
                let named = target.field("name").is_some_and(|f| f.kind == Kind::Text);
                let ref_at = next;
                next += 1 + usize::from(named);
                (field, ref_at, named.then_some(ref_at + 1))
            })
            .collect();
        self.reader
            .all(&sql, |row| {
                let rec = decode(res, row)?;
                let mut targets = Vec::with_capacity(columns.len());
                for &(field, ref_at, name_at) in &columns {
                    let Some(r) = row.text(ref_at)? else { continue };
                    let name = match name_at {
                        Some(i) => row.text(i)?,
                        None => None,
                    };
                    targets.push(Target { field, r#ref: r, name: name.unwrap_or_default() });
                }
                Ok((rec, targets))
            })
            .await
    }
}
