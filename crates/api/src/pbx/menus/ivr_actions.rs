//! The actions of an IVR menu (`/api/ivrs/{id}/actions`): what each key
//! does. Lists answer a bare array, and one action an array of one, as
//! the seed shows.

use async_trait::async_trait;
use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{IVRS, IVR_ACTIONS};
use store::{given, Record, Value, Values};

use super::common::made_of;
use super::nested::Nested;
use super::sounds::check_media;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, view, PbxSpec};
use crate::crud::values::after;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::Casing;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

/// `args` is read by the rules (it may come as a number).
const FIELDS: &[&str] = &["digits", "action", "match_prefix", "body"];
const DOC_FIELDS: &[&str] = &["digits", "action", "match_prefix", "args", "body"];
/// Actions that do nothing without `args`.
const NEED_ARGS: &[&str] = &["IVR_SUB", "IVR_PLAY", "IVR_TTS", "IVR_SYSTEM"];

static ACTION: PbxSpec = PbxSpec {
    res: &IVR_ACTIONS,
    create: FIELDS,
    update: FIELDS,
    filters: &[],
    parent: None,
    rules: &ActionRules,
};

static ACTIONS: Nested =
    Nested { spec: &ACTION, parent: &IVRS, field: "ivr_menu_id", fixed: &[], unique: Some("digits") };

struct ActionRules;

fn read_args(raw: &Json) -> Result<Value, ApiError> {
    match raw {
        Json::Null => Ok(Value::Null),
        Json::String(s) => Ok(Value::Text(s.trim().to_owned())),
        Json::Number(n) if n.is_i64() => Ok(Value::Text(n.to_string())),
        _ => Err(ApiError::field("args", "must be a string or an integer")),
    }
}

#[async_trait]
impl Rules for ActionRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        if let Some(digits) = given(values, "digits").as_str() {
            if !made_of(digits, "0123456789*#", 32) {
                return Err(ApiError::field("digits", "must be keys 0-9, * or # (at most 32)"));
            }
        }
        if let Some(raw) = body.get("args") {
            values.push(("args", read_args(raw)?));
        }
        let now = |name: &str| after(values, current, name);
        let action = now("action");
        let action = action.as_str().unwrap_or("");
        let args = now("args");
        let args = args.as_str().unwrap_or("");
        if NEED_ARGS.contains(&action) && args.is_empty() {
            return Err(ApiError::field("args", format!("is required for {action}")));
        }
        let touched = values.iter().any(|(n, _)| *n == "args" || *n == "action");
        match action {
            "IVR_SUB" => {
                let target: i64 = args
                    .parse()
                    .map_err(|_| ApiError::field("args", "must be the id of an IVR for IVR_SUB"))?;
                if now("ivr_menu_id").as_int() == Some(target) {
                    return Err(ApiError::field("args", "an IVR cannot be its own submenu"));
                }
            }
            "IVR_PLAY" if touched && !args.is_empty() && args.chars().all(|c| c.is_ascii_digit()) => {
                let id = args.parse().map_err(|_| ApiError::field("args", "is not a media id"))?;
                check_media(cx, "args", id).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(ivr): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let ivr = ACTIONS.parent(&cx, &ivr).await?;
    Ok(axum::Json(Json::Array(ACTIONS.views(&cx, ivr.id).await?)))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((ivr, id)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let ivr = ACTIONS.parent(&cx, &ivr).await?;
    let rec = ACTIONS.item(&cx, ivr.id, &id).await?;
    Ok(axum::Json(json!([view(&cx, &ACTION, &rec).await?])))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(ivr): Path<String>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let ivr = ACTIONS.parent(&cx, &ivr).await?;
    Ok(ok(json!(ACTIONS.create(&cx, ivr.id, &body).await?.id)))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((ivr, id)): Path<(String, String)>,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let ivr = ACTIONS.parent(&cx, &ivr).await?;
    Ok(ok(json!(ACTIONS.update(&cx, ivr.id, &id, &body).await?.id.to_string())))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((ivr, id)): Path<(String, String)>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let ivr = ACTIONS.parent(&cx, &ivr).await?;
    Ok(ok(json!(ACTIONS.delete(&cx, ivr.id, &id).await?.id.to_string())))
}

/// Their routes.
pub fn routes() -> Api {
    let doc = Doc::Fields(&IVR_ACTIONS, DOC_FIELDS, Casing::Snake);
    let base = "/api/ivrs/{id}/actions";
    let item = "/api/ivrs/{id}/actions/{action_id}";
    Api::new()
        .get(base, "List an IVR's actions (a bare array)", list)
        .reply(Reply::Schema(crate::pbx::replies::rows))
        .post(base, "Create an IVR action", doc, create)
        .reply(Reply::Schema(crate::pbx::replies::ok_id))
        .get(item, "Get an IVR action (an array of one)", get_one)
        .reply(Reply::Schema(crate::pbx::replies::rows))
        .put(item, "Update an IVR action", doc, update)
        .reply(Reply::Changed)
        .delete(item, "Delete an IVR action", remove)
        .reply(Reply::Changed)
}
