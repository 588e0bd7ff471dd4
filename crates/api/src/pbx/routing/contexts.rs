//! Calling contexts (`/api/contexts`): the `key` (`context-N`) is made
//! here and is what routes, agents and trunks name, so a context they
//! still name cannot be deleted.

use async_trait::async_trait;
use serde_json::Value as Json;
use store::schema::{AGENTS, CONTEXTS, ROUTES, TRUNKS};
use store::{Filter, Record, Resource, Value, Values};

use crate::crud::pbx::{register, PbxSpec};
use crate::crud::values::set;
use crate::crud::{all, Cx, Rules};
use crate::error::{ApiError, ErrorKind};
use crate::routes::Api;

const FIELDS: &[&str] = &["name", "description", "hotline_enabled", "domain"];

/// Who names a context by its key: (resource, field).
const USERS: &[(&Resource, &str)] = &[(&ROUTES, "context"), (&AGENTS, "context"), (&TRUNKS, "source")];

static CONTEXT: PbxSpec = PbxSpec {
    res: &CONTEXTS,
    create: FIELDS,
    update: FIELDS,
    filters: &[],
    parent: None,
    rules: &ContextRules,
};

struct ContextRules;

/// The number of a `context-N` key.
fn number(key: &str) -> Option<u64> {
    key.strip_prefix("context-")?.parse().ok()
}

#[async_trait]
impl Rules for ContextRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        _body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        if current.is_none() {
            let taken = all(cx.state, &CONTEXTS, cx.scope, Vec::new()).await?;
            let next = taken.iter().filter_map(|c| number(c.text("key"))).max().unwrap_or(0) + 1;
            set(values, "key", Value::Text(format!("context-{next}")));
        }
        Ok(())
    }

    async fn check_delete(&self, cx: &Cx<'_>, rec: &Record) -> Result<(), ApiError> {
        let key = rec.text("key");
        for (res, field) in USERS {
            if let Some(user) = cx.state.db.find(res, cx.scope, &[Filter::eq(field, key)]).await? {
                let name = user.text("name");
                let name = if name.is_empty() { String::new() } else { format!(" '{name}'") };
                return Err(ApiError::new(
                    ErrorKind::AlreadyExists,
                    format!("context {key} is still used by {} {}{name}", res.label, user.id),
                ));
            }
        }
        Ok(())
    }
}

/// The context endpoints.
pub fn routes() -> Api {
    register(Api::new(), "/api/contexts", &CONTEXT)
}
