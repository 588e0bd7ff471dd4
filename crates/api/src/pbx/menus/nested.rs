//! Records that belong to a parent named in the path (an IVR's actions,
//! a gateway's params and variables, a translation table's numbers):
//! reading, creating, changing and deleting them within their parent,
//! with a field that must be unique among siblings.

use serde_json::Value as Json;
use store::{given, Filter, Key, Record, Resource, Value, Values};

use super::common::conflict;
use crate::crud::pbx::{views, PbxSpec};
use crate::crud::{self, Cx};
use crate::error::ApiError;
use crate::input::{Casing, Input};

/// How the records of `spec` hang from a parent.
pub struct Nested {
    /// The children: their resource, writable fields and rules. Neither
    /// `field` nor the `fixed` fields are among the writable ones.
    pub spec: &'static PbxSpec,
    /// The parent's resource.
    pub parent: &'static Resource,
    /// The child's field that holds the parent's id.
    pub field: &'static str,
    /// Fields with a fixed value for these children (a param's `realm`).
    pub fixed: &'static [(&'static str, &'static str)],
    /// A field no two children of one parent may share.
    pub unique: Option<&'static str>,
}

impl Nested {
    /// The parent with id `id` (from the path), or 404.
    pub async fn parent(&self, cx: &Cx<'_>, id: &str) -> Result<Record, ApiError> {
        crud::by_id(cx.state, self.parent, cx.scope, id).await
    }

    /// Filters that select the children of `parent`.
    pub fn of(&self, parent: i64) -> Vec<Filter> {
        let mut filters: Vec<Filter> = self.fixed.iter().map(|(n, v)| Filter::eq(n, *v)).collect();
        filters.push(Filter::eq(self.field, parent));
        filters
    }

    /// Every child of `parent`, rendered, by id.
    pub async fn views(&self, cx: &Cx<'_>, parent: i64) -> Result<Vec<Json>, ApiError> {
        let records = crud::all(cx.state, self.spec.res, cx.scope, self.of(parent)).await?;
        views(cx, self.spec, &records).await
    }

    /// The child `id` of `parent`, or 404.
    pub async fn item(&self, cx: &Cx<'_>, parent: i64, id: &str) -> Result<Record, ApiError> {
        let rec = crud::by_id(cx.state, self.spec.res, cx.scope, id).await?;
        let fixed_ok = self.fixed.iter().all(|(n, v)| rec.text(n) == *v);
        if rec.int(self.field) != Some(parent) || !fixed_ok {
            return Err(ApiError::not_found(self.spec.res.label));
        }
        Ok(rec)
    }

    /// The values of `body` for a new child of `parent` (`current`
    /// `None`) or a change to `current`, after the rules.
    async fn values(
        &self,
        cx: &Cx<'_>,
        parent: i64,
        body: &Json,
        current: Option<&Record>,
    ) -> Result<Values, ApiError> {
        let names = if current.is_some() { self.spec.update } else { self.spec.create };
        let mut input = Input::new(body, Casing::Snake)?;
        let mut values = input.fields(self.spec.res, names, current.is_none());
        input.finish()?;
        if current.is_none() {
            values.retain(|(n, _)| *n != self.field && !self.fixed.iter().any(|(f, _)| f == n));
            values.push((self.field, Value::Int(parent)));
            values.extend(self.fixed.iter().map(|(n, v)| (*n, Value::from(*v))));
        }
        self.spec.rules.prepare(cx, body, &mut values, current).await?;
        Ok(values)
    }

    /// 409 if another child of `parent` has the unique field's value that
    /// `values` gives (ignoring `current`), or one of `taken`.
    async fn check_unique(
        &self,
        cx: &Cx<'_>,
        parent: i64,
        values: &Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let Some(field) = self.unique else { return Ok(()) };
        let value = given(values, field);
        if *value == Value::Null {
            return Ok(());
        }
        let mut filters = self.of(parent);
        filters.push(Filter::eq(field, value.clone()));
        let found = cx.state.db.find(self.spec.res, cx.scope, &filters).await?;
        match found {
            Some(other) if current.is_none_or(|c| c.id != other.id) => Err(conflict(format!(
                "a {} with this {field} already exists ({} {})",
                self.spec.res.label, self.spec.res.label, other.id
            ))),
            _ => Ok(()),
        }
    }

    /// Creates a child of `parent` from `body`.
    pub async fn create(&self, cx: &Cx<'_>, parent: i64, body: &Json) -> Result<Record, ApiError> {
        let values = self.values(cx, parent, body, None).await?;
        self.check_unique(cx, parent, &values, None).await?;
        crud::create(cx.state, self.spec.res, cx.scope, values).await
    }

    /// Creates one child of `parent` per row, all or none; the first bad
    /// row is named (counting from 1).
    pub async fn create_all(&self, cx: &Cx<'_>, parent: i64, rows: &[Json]) -> Result<Vec<Record>, ApiError> {
        let named = |index: usize, e: ApiError| ApiError {
            message: format!("row {}: {}", index + 1, e.message),
            ..e
        };
        let mut all = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let values = self.values(cx, parent, row, None).await.map_err(|e| named(index, e))?;
            self.check_unique(cx, parent, &values, None).await.map_err(|e| named(index, e))?;
            if let Some(field) = self.unique {
                let value = given(&values, field);
                if let Some(earlier) = all.iter().position(|v: &Values| given(v, field) == value) {
                    let e = conflict(format!("{field} repeats row {}", earlier + 1));
                    return Err(named(index, e));
                }
            }
            all.push(values);
        }
        Ok(cx.state.db.insert_all(self.spec.res, cx.scope, all, cx.state.now()).await?)
    }

    /// Changes the child `id` of `parent` from `body`.
    pub async fn update(&self, cx: &Cx<'_>, parent: i64, id: &str, body: &Json) -> Result<Record, ApiError> {
        let rec = self.item(cx, parent, id).await?;
        let values = self.values(cx, parent, body, Some(&rec)).await?;
        self.check_unique(cx, parent, &values, Some(&rec)).await?;
        crud::update(cx.state, self.spec.res, cx.scope, &rec, values).await
    }

    /// Deletes the child `id` of `parent`.
    pub async fn delete(&self, cx: &Cx<'_>, parent: i64, id: &str) -> Result<Record, ApiError> {
        let rec = self.item(cx, parent, id).await?;
        Ok(cx.state.db.delete(self.spec.res, cx.scope, &Key::Id(rec.id)).await?)
    }
}
