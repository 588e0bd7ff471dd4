//! A row's cells by column index, whichever driver read it, and a record
//! decoded from them: the columns come in [`super::select_list`]'s order,
//! so no cell is looked up by name.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::{Kind, Record, Resource, StoreError, Value};

/// The cells of one result row, by column index.
pub(crate) trait Cells {
    /// An integer cell.
    fn int(&self, i: usize) -> Result<Option<i64>, sqlx::Error>;
    /// A floating-point cell.
    fn float(&self, i: usize) -> Result<Option<f64>, sqlx::Error>;
    /// A text cell.
    fn text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
}

macro_rules! cells_of {
    ($row:ty) => {
        impl Cells for $row {
            fn int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(i)
            }
            fn float(&self, i: usize) -> Result<Option<f64>, sqlx::Error> {
                self.try_get(i)
            }
            fn text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                self.try_get(i)
            }
        }
    };
}
cells_of!(AnyRow);
cells_of!(SqliteRow);
cells_of!(PgRow);

/// How many columns [`decode`] reads: the standard ones and every field.
pub(crate) fn width(res: &Resource) -> usize {
    4 + usize::from(res.scoped) + res.fields.len()
}

/// The record in the first [`width`] columns of `row`.
pub(crate) fn decode(res: &Resource, row: &(impl Cells + ?Sized)) -> Result<Record, StoreError> {
    let missing = |what: &str| sqlx::Error::Decode(format!("{} row without {what}", res.table).into());
    let id = row.int(0)?.ok_or_else(|| missing("id"))?;
    let r#ref = row.text(1)?.ok_or_else(|| missing("ref"))?;
    let created_at = row.int(2)?.ok_or_else(|| missing("created_at"))?;
    let updated_at = row.int(3)?.ok_or_else(|| missing("updated_at"))?;
    let (workspace_id, first) = if res.scoped { (row.int(4)?, 5) } else { (None, 4) };
    let mut values = Vec::with_capacity(res.fields.len());
    for (i, f) in res.fields.iter().enumerate() {
        let i = first + i;
        let v = match f.kind {
            Kind::Float => row.float(i)?.map(Value::Float),
            Kind::Text | Kind::Json | Kind::Enum(_) => row.text(i)?.map(Value::Text),
            Kind::Int | Kind::Bool | Kind::Time | Kind::Ref(_) => row.int(i)?.map(Value::Int),
        };
        values.push((f.name, v.unwrap_or(Value::Null)));
    }
    Ok(Record { id, r#ref, workspace_id, created_at, updated_at, values: BTreeMap::from_iter(values) })
}
