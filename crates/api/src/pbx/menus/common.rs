//! Small pieces the endpoints of this family share: one page of a PBX
//! list, rendered views, bodies that may be empty, conflicts.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::{Map, Value as Json};
use store::{Filter, Record, Value, Values};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{list_request, query_pairs, scope, view, PbxSpec};
use crate::crud::Cx;
use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};
use crate::extract::parse_json;
use crate::list::pbx_page;
use crate::state::AppState;

/// `{page, pageCount, rowCount, data}`: one page of `spec`'s records that
/// match the query string `raw` and `extra`.
pub async fn page(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    raw: Option<&str>,
    extra: Vec<Filter>,
) -> Result<Json, ApiError> {
    let (paging, mut filters) = list_request(spec, &query_pairs(raw)?)?;
    filters.extend(extra);
    let page = pbx_page(&cx.state.db, spec.res, cx.scope, filters, &paging).await?;
    Ok(page.envelope(views(cx, spec, &page.records).await?))
}

/// Each record as the PBX shows it, after `spec`'s rules.
pub async fn views(cx: &Cx<'_>, spec: &PbxSpec, records: &[Record]) -> Result<Vec<Json>, ApiError> {
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        out.push(Json::Object(view(cx, spec, rec).await?));
    }
    Ok(out)
}

/// A JSON body that may be absent: an empty body reads as `{}`.
pub fn optional_body(body: Result<Bytes, BytesRejection>) -> Result<Json, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
        } else {
            ApiError::invalid(format!("cannot read the request body: {r}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Object(Map::new()));
    }
    parse_json(&bytes)
}

/// 409 with `message`.
pub fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::AlreadyExists, message)
}

/// Whether `text` is made only of the characters in `allowed` (and not
/// empty, and at most `max` long).
pub fn made_of(text: &str, allowed: &str, max: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max && text.chars().all(|c| allowed.contains(c))
}

/// The caller's context in the PBX dialect, for reading (`Member`) or
/// changing (`Admin`).
pub fn cx<'a>(state: &'a AppState, caller: &Caller, role: Role) -> Result<Cx<'a>, ApiError> {
    Ok(Cx { state, scope: scope(caller, role)?, dialect: Dialect::Pbx })
}

/// The value field `name` will have once `values` are written over
/// `current` (`None` on create).
pub fn after(values: &Values, current: Option<&Record>, name: &str) -> Value {
    match values.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => v.clone(),
        None => current.map_or(Value::Null, |c| c.get(name).clone()),
    }
}
