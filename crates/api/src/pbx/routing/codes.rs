//! Route codes (`/api/route_codes`: short codes of at most 8 characters
//! that select a trunk group) and feature codes (`/api/func_code`, such as
//! `*72` for call forwarding).

use async_trait::async_trait;
use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::{FUNC_CODES, ROUTE_CODES};
use store::{Key, Record, Value, Values};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{
    self as generic, context, ok, register, route_get, route_list, route_remove, route_update, PbxSpec,
};
use crate::crud::scope;
use crate::crud::values::{after_text, set};
use crate::crud::{all, Cx, Rules};
use crate::error::ApiError;
use crate::extract::Json as Body;
use crate::input::Casing;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

/// The longest route code.
const MAX_ROUTE_CODE: usize = 8;
/// The longest feature code.
const MAX_FUNC_CODE: usize = 32;

const ROUTE_CODE_FIELDS: &[&str] = &["code", "tg_id", "description"];

static ROUTE_CODE: PbxSpec = PbxSpec {
    res: &ROUTE_CODES,
    create: ROUTE_CODE_FIELDS,
    update: ROUTE_CODE_FIELDS,
    filters: &[],
    parent: None,
    rules: &RouteCodeRules,
};

/// A code must be short and without spaces.
fn check_code(values: &Values, field: &'static str, max: usize) -> Result<(), ApiError> {
    let code = after_text(values, None, field);
    if values.iter().any(|(n, _)| *n == field)
        && (code.chars().count() > max || code.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(ApiError::field(field, format!("must be at most {max} characters, without spaces")));
    }
    Ok(())
}

struct RouteCodeRules;

#[async_trait]
impl Rules for RouteCodeRules {
    async fn prepare(
        &self,
        _: &Cx<'_>,
        _: &Json,
        values: &mut Values,
        _: Option<&Record>,
    ) -> Result<(), ApiError> {
        check_code(values, "code", MAX_ROUTE_CODE)
    }

    /// The seed shows route codes without times.
    async fn view(&self, _: &Cx<'_>, _: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        for time in ["created_at", "updated_at", "deleted_at"] {
            out.remove(time);
        }
        Ok(())
    }
}

/// `POST /api/route_codes`: answers the new id as text, as the seed shows.
async fn create_route_code(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let values = generic::values(&cx, &ROUTE_CODE, &body, None).await?;
    let rec = crate::crud::create(&state, &ROUTE_CODES, scope, values).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// `DELETE /api/route_codes`: deletes every route code; answers how many.
async fn delete_all(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let scope = scope(&caller, Role::Admin)?;
    let codes = all(&state, &ROUTE_CODES, scope, Vec::new()).await?;
    for rec in &codes {
        state.db.delete(&ROUTE_CODES, scope, &Key::Id(rec.id)).await?;
    }
    Ok(ok(json!(codes.len().to_string())))
}

const FUNC_CODE_FIELDS: &[&str] = &["func_code", "func_type", "description"];

static FUNC_CODE: PbxSpec = PbxSpec {
    res: &FUNC_CODES,
    create: FUNC_CODE_FIELDS,
    update: FUNC_CODE_FIELDS,
    filters: &["func_type"],
    parent: None,
    rules: &FuncCodeRules,
};

struct FuncCodeRules;

#[async_trait]
impl Rules for FuncCodeRules {
    /// `{"action":"toggle"}` flips `disabled`.
    async fn prepare(
        &self,
        _: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        check_code(values, "func_code", MAX_FUNC_CODE)?;
        match (body.get("action"), current) {
            (None | Some(Json::Null), _) => Ok(()),
            (Some(Json::String(a)), Some(rec)) if a == "toggle" => {
                let disabled = rec.int("disabled").unwrap_or(0) != 0;
                set(values, "disabled", Value::from(!disabled));
                Ok(())
            }
            (Some(_), Some(_)) => Err(ApiError::field("action", "must be \"toggle\"")),
            (Some(_), None) => Err(ApiError::field("action", "applies to an existing feature code only")),
        }
    }
}

/// The route code and feature code endpoints.
pub fn routes() -> Api {
    let route_code_doc = Doc::Fields(&ROUTE_CODES, ROUTE_CODE_FIELDS, Casing::Snake);
    let item = "/api/route_codes/{id}";
    let api = route_list(Api::new(), "/api/route_codes", "List route codes", &ROUTE_CODE)
        .post("/api/route_codes", "Create a route code", route_code_doc, create_route_code)
        .reply(Reply::Changed)
        .delete("/api/route_codes", "Delete every route code", delete_all)
        .reply(Reply::Changed);
    let api = route_get(api, item, "Get a route code", &ROUTE_CODE);
    let api = route_update(api, item, "Update a route code", route_code_doc, &ROUTE_CODE);
    let api = route_remove(api, item, "Delete a route code", &ROUTE_CODE);
    register(api, "/api/func_code", &FUNC_CODE)
}
