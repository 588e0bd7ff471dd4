//! Routes: `/api/routes` create, get, update and delete, and the rules a
//! route keeps (its context exists, its destination is complete, its
//! prefix and length are not another route's in the same context).

use async_trait::async_trait;
use axum::extract::State;
use serde_json::Value as Json;
use store::schema::{CONTEXTS, ROUTES};
use store::{Filter, Op, Operand, Record, Value, Values};

use super::dest;
use super::rows::scalar_text;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{self as generic, context, ok, route_get, route_remove, route_update, PbxSpec};
use crate::crud::values::{after, after_text, set, touches};
use crate::crud::{Cx, Rules};
use crate::error::{ApiError, ErrorKind};
use crate::extract::Json as Body;
use crate::input::Casing;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

/// The route fields the generic input reads; `prefix`, `dest_uuid`,
/// `blacklist`, `bill_rate` and `media_codec` are read by the rules.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "max_length",
    "context",
    "dnc",
    "sdnc",
    "dest_type",
    "auto_record",
    "body",
    "proxy_media",
    "route_type",
    "disabled",
    "cid_number",
    "outdest_type",
    "did_enabled",
];

/// For the OpenAPI document: every field a route takes.
const DOC_FIELDS: &[&str] = &[
    "name",
    "description",
    "prefix",
    "max_length",
    "context",
    "dnc",
    "sdnc",
    "dest_type",
    "dest_uuid",
    "auto_record",
    "bill_rate",
    "blacklist",
    "body",
    "proxy_media",
    "route_type",
    "media_codec",
    "disabled",
    "cid_number",
    "outdest_type",
    "did_enabled",
];

/// The longest prefix accepted (as long as the longest `max_length`).
const MAX_PREFIX: usize = 64;

/// How the PBX serves routes.
pub static ROUTE: PbxSpec =
    PbxSpec { res: &ROUTES, create: FIELDS, update: FIELDS, filters: &[], parent: None, rules: &RouteRules };

/// The rules of routes.
pub struct RouteRules;

#[async_trait]
impl Rules for RouteRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        read_shared(body, values)?;
        if let Some(prefix) = scalar_text(body, "prefix")? {
            set(values, "prefix", prefix);
        }
        dest::read_uuid(body, values)?;
        check_prefix(values, current)?;
        check_context(cx, values, current).await?;
        dest::check(cx, &ROUTES, values, current).await?;
        check_unique_match(cx, values, current).await
    }
}

/// Reads the fields a single and a batch update share and the generic
/// input cannot: `media_codec` (an array or a comma-separated string),
/// `bill_rate` (a number or a string holding one) and `blacklist` (a list
/// id, as text or a number; "" or 0 for none).
pub fn read_shared(body: &Json, values: &mut Values) -> Result<(), ApiError> {
    if let Some(raw) = body.get("media_codec") {
        set(values, "media_codec", Value::Text(codecs(raw)?));
    }
    if let Some(raw) = body.get("bill_rate") {
        set(values, "bill_rate", Value::Text(rate(raw)?));
    }
    if let Some(list) = scalar_text(body, "blacklist")? {
        // 0 (as clients send "no list") is no list.
        let list = if list.as_str() == Some("0") { Value::Text(String::new()) } else { list };
        set(values, "blacklist", list);
    }
    Ok(())
}

/// `["PCMU","PCMA"]` or `"PCMU,PCMA"` as `PCMU,PCMA`.
fn codecs(raw: &Json) -> Result<String, ApiError> {
    let bad = || ApiError::field("media_codec", "must be codec names, as an array or comma-separated");
    let names: Vec<String> = match raw {
        Json::Null => Vec::new(),
        Json::String(s) => s.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        Json::Array(items) => items
            .iter()
            .map(|c| c.as_str().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        _ => return Err(bad()),
    };
    let valid =
        |c: &String| c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "@._/-".contains(ch));
    if !names.iter().all(valid) {
        return Err(bad());
    }
    Ok(names.join(","))
}

/// A rate such as `0.00`: a non-negative number, sent as one or as text.
fn rate(raw: &Json) -> Result<String, ApiError> {
    let bad = || ApiError::field("bill_rate", "must be a number of at least 0");
    let text = match raw {
        Json::Null => return Ok("0.00".into()),
        Json::Number(n) => n.to_string(),
        Json::String(s) if s.trim().is_empty() => return Ok("0.00".into()),
        Json::String(s) => s.trim().to_owned(),
        _ => return Err(bad()),
    };
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(text),
        _ => Err(bad()),
    }
}

/// A prefix is digits and dial symbols, no longer than `max_length`.
fn check_prefix(values: &Values, current: Option<&Record>) -> Result<(), ApiError> {
    let prefix = after_text(values, current, "prefix");
    if prefix.chars().count() > MAX_PREFIX || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::field(
            "prefix",
            format!("must be at most {MAX_PREFIX} characters, without spaces"),
        ));
    }
    if let Value::Int(max) = after(values, current, "max_length") {
        if prefix.chars().count() as i64 > max {
            return Err(ApiError::field("prefix", format!("is longer than max_length {max}")));
        }
    }
    Ok(())
}

/// The route's context must be the key of a context of the workspace.
async fn check_context(cx: &Cx<'_>, values: &Values, current: Option<&Record>) -> Result<(), ApiError> {
    if current.is_some() && !touches(values, "context") {
        return Ok(());
    }
    let key = after_text(values, current, "context");
    if cx.state.db.find(&CONTEXTS, cx.scope, &[Filter::eq("key", key.as_str())]).await?.is_none() {
        return Err(ApiError::field("context", format!("no context has the key '{key}'")));
    }
    Ok(())
}

/// No two routes of a context share both prefix and `max_length`.
async fn check_unique_match(cx: &Cx<'_>, values: &Values, current: Option<&Record>) -> Result<(), ApiError> {
    if current.is_some() && !["prefix", "max_length", "context"].iter().any(|f| touches(values, f)) {
        return Ok(());
    }
    let context = after_text(values, current, "context");
    let prefix = after_text(values, current, "prefix");
    let max = after(values, current, "max_length");
    let mut filters = vec![Filter::eq("context", context.as_str()), Filter::eq("max_length", max.clone())];
    if let Some(own) = current {
        filters.push(Filter { column: "id", op: Op::Ne, operand: Operand::One(Value::Int(own.id)) });
    }
    let same = cx.state.db.list(&ROUTES, cx.scope, &store::Query { filters, ..Default::default() }).await?;
    if let Some(other) = same.records.iter().find(|r| r.text("prefix") == prefix) {
        let max = max.as_int().unwrap_or_default();
        return Err(ApiError::new(
            ErrorKind::AlreadyExists,
            format!(
                "route {} '{}' already matches prefix '{prefix}' with max_length {max} in {context}",
                other.id,
                other.text("name")
            ),
        ));
    }
    Ok(())
}

/// `POST /api/routes`: answers the whole new route, as the seed shows.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let scope = cx.scope;
    let values = generic::values(&cx, &ROUTE, &body, None).await?;
    let rec = crate::crud::create(&state, &ROUTES, scope, values).await?;
    Ok(ok(Json::Object(generic::view(&cx, &ROUTE, &rec).await?)))
}

/// Route create, get, update and delete; the list and batch update are in
/// their own modules.
pub fn routes() -> Api {
    let doc = Doc::Fields(&ROUTES, DOC_FIELDS, Casing::Snake);
    let item = "/api/routes/{id}";
    let api = Api::new()
        .post("/api/routes", "Create a route", doc, create)
        .reply(Reply::Schema(crate::pbx::replies::ok_object));
    let api = route_get(api, item, "Get a route", &ROUTE);
    let api = route_update(api, item, "Update a route", doc, &ROUTE);
    route_remove(api, item, "Delete a route", &ROUTE)
}

/// The JSON of one route as the PBX shows it.
pub async fn show(cx: &Cx<'_>, rec: &Record) -> Result<Json, ApiError> {
    Ok(Json::Object(generic::view(cx, &ROUTE, rec).await?))
}
