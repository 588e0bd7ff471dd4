//! Generic create, read, update and delete for every configuration
//! resource, in each dialect's wire shape. A resource is a [`store::Resource`]
//! plus a dialect spec (which fields may be written, which filters a list
//! takes) and, where it has rules of its own, a [`Rules`] implementation.

pub mod fonoster;
pub mod pbx;
pub mod values;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};
use store::{Filter, Key, Record, Resource, Scope, Values};

use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::state::AppState;

/// What a resource's rules see of the request.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    /// The shared state.
    pub state: &'a AppState,
    /// The caller's workspace.
    pub scope: Scope,
    /// The dialect asked in.
    pub dialect: Dialect,
}

/// Behaviour of a resource beyond its description: checks across fields or
/// records, fields the generic input cannot read, and additions to views.
#[async_trait]
pub trait Rules: Send + Sync {
    /// Checks and completes `values` read from `body` before they are
    /// written; `current` is the record being updated, `None` on create.
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        _values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Changes or adds to the view of `rec`. It may depend on the record
    /// and its references only: the Fonoster generic list and get keep
    /// what they render while the tables they read are unchanged
    /// ([`crate::responses`]).
    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, _out: &mut Map<String, Json>) -> Result<(), ApiError> {
        Ok(())
    }

    /// Refuses to delete `rec` while something the store cannot see refers
    /// to it (references by name or key rather than by id).
    async fn check_delete(&self, _cx: &Cx<'_>, _rec: &Record) -> Result<(), ApiError> {
        Ok(())
    }

    /// The request properties these rules read besides the fields the
    /// spec names, for the OpenAPI document (`create` on create).
    fn documented(&self, _create: bool) -> Vec<crate::routes::Prop> {
        Vec::new()
    }
}

/// A resource with no rules beyond its description.
pub struct Plain;

impl Rules for Plain {}

/// The caller's workspace, for reading (`Member`) or changing (`Admin`).
pub fn scope(caller: &Caller, role: Role) -> Result<Scope, ApiError> {
    Ok(Scope::Workspace(caller.require(role)?.id))
}

/// Creates a record of `res` in `scope`, unless the workspace's quota for
/// `res` is reached.
pub async fn create(
    state: &AppState,
    res: &Resource,
    scope: Scope,
    values: Values,
) -> Result<Record, ApiError> {
    within_quota(state, res, scope).await?;
    Ok(state.db.insert(res, scope, values, state.now()).await?)
}

/// Fails with 429 when the workspace's quota for `res` is reached.
pub async fn within_quota(state: &AppState, res: &Resource, scope: Scope) -> Result<(), ApiError> {
    if let Some(name) = res.quota {
        if let Some(max) = state.settings.quota(name) {
            if state.db.count(res, scope, &[]).await? >= max {
                return Err(ApiError::exhausted(
                    format!("quota reached: at most {max} {name} per workspace"),
                    None,
                ));
            }
        }
    }
    Ok(())
}

/// Changes the given fields of `rec`.
pub async fn update(
    state: &AppState,
    res: &Resource,
    scope: Scope,
    rec: &Record,
    values: Values,
) -> Result<Record, ApiError> {
    Ok(state.db.update(res, scope, &Key::Id(rec.id), values, state.now()).await?)
}

/// The record of `res` with integer id `id` (as text from a path), or 404.
pub async fn by_id(state: &AppState, res: &Resource, scope: Scope, id: &str) -> Result<Record, ApiError> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::not_found(res.label))?;
    Ok(state.db.get(res, scope, &Key::Id(id)).await?)
}

/// The record of `res` with integer id `id` whose `parent` field is
/// `parent_id`, or 404.
pub async fn child_by_id(
    state: &AppState,
    res: &Resource,
    scope: Scope,
    parent: &'static str,
    parent_id: i64,
    id: &str,
) -> Result<Record, ApiError> {
    let rec = by_id(state, res, scope, id).await?;
    if rec.int(parent) != Some(parent_id) {
        return Err(ApiError::not_found(res.label));
    }
    Ok(rec)
}

/// Every record of `res` in `scope` that matches `filters`, by id.
pub async fn all(
    state: &AppState,
    res: &Resource,
    scope: Scope,
    filters: Vec<Filter>,
) -> Result<Vec<Record>, ApiError> {
    let query = store::Query { filters, ..store::Query::default() };
    Ok(state.db.select(res, scope, &query).await?)
}
