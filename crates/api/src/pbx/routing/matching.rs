//! `GET /api/routes`: the list, filtered by `context`, `destType` and
//! `dest`; with `destNumber` the routes that admit the number, and with
//! `destNumber` and `context` together exactly the one route a call would
//! take: the answer of `engine::router::route` over the workspace's routing
//! snapshot, the function real calls use, or 404.

use axum::extract::{RawQuery, State};
use serde_json::{json, Value as Json};
use store::schema::{DEST_TYPES, ROUTES};
use store::{Filter, Record};

use super::dialplan::{show, ROUTE};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, list_request, query_pairs};
use crate::crud::{all, Cx};
use crate::error::ApiError;
use crate::list::{pbx_page, PbxPage};
use crate::routes::{Api, Reply};
use crate::state::AppState;

/// Fields the match answer shows besides the route's own, as the seed's
/// example does (always empty here).
const MATCH_EXTRAS: &[&str] = &["outdest_uuid", "outbody", "work_time"];

/// What the query string asks for.
#[derive(Default)]
struct Ask {
    number: Option<String>,
    context: Option<String>,
    filters: Vec<Filter>,
}

fn ask(pairs: &[(String, String)]) -> Result<Ask, ApiError> {
    let mut ask = Ask::default();
    for (name, value) in pairs {
        match name.as_str() {
            "destNumber" => ask.number = Some(value.trim().to_owned()),
            "context" => {
                ask.context = Some(value.clone());
                ask.filters.push(Filter::eq("context", value.as_str()));
            }
            "destType" if !DEST_TYPES.contains(&value.as_str()) => {
                return Err(ApiError::field("destType", format!("must be one of {}", DEST_TYPES.join(", "))))
            }
            "destType" => ask.filters.push(Filter::eq("dest_type", value.as_str())),
            "dest" => ask.filters.push(Filter::eq("dest_uuid", value.as_str())),
            _ => {}
        }
    }
    Ok(ask)
}

/// Whether `rec` passes the equality `filters` (all on text fields).
fn passes(rec: &Record, filters: &[Filter]) -> bool {
    filters.iter().all(|f| match &f.operand {
        store::Operand::One(v) => rec.get(f.column) == v,
        store::Operand::Many(vs) => vs.contains(rec.get(f.column)),
    })
}

async fn rows(cx: &Cx<'_>, records: &[Record]) -> Result<Vec<Json>, ApiError> {
    let mut data = Vec::with_capacity(records.len());
    for rec in records {
        data.push(show(cx, rec).await?);
    }
    Ok(data)
}

/// `GET /api/routes`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let scope = cx.scope;
    let pairs = query_pairs(raw.as_deref())?;
    let (paging, _) = list_request(&ROUTE, &pairs)?;
    let ask = ask(&pairs)?;
    let Some(number) = ask.number else {
        let page = pbx_page(&state.db, &ROUTES, scope, ask.filters, &paging).await?;
        let data = rows(&cx, &page.records).await?;
        return Ok(axum::Json(page.envelope(data)));
    };
    if let Some(context) = &ask.context {
        let store::Scope::Workspace(workspace) = scope else {
            return Err(ApiError::not_found(&format!("route for {number} in {context}")));
        };
        let snapshot = state.routing.get(&state.db, workspace).await?;
        let call = engine::router::Inbound::new(engine::router::Source::Test, context, "", &number);
        let plan = engine::router::route(&snapshot, &call, state.now());
        let Some(id) = plan.route_id() else {
            return Err(ApiError::not_found(&format!("route for {number} in {context}")));
        };
        let rec = state.db.get(&ROUTES, scope, &store::Key::Id(id)).await?;
        if !passes(&rec, &ask.filters) {
            return Err(ApiError::not_found(&format!("route for {number} in {context}")));
        }
        let mut shown = show(&cx, &rec).await?;
        for extra in MATCH_EXTRAS {
            shown[*extra] = json!("");
        }
        return Ok(axum::Json(json!({"data": [shown], "pageCount": 1, "page": 1, "rowCount": 1})));
    }
    let matching: Vec<Record> = all(&state, &ROUTES, scope, ask.filters)
        .await?
        .into_iter()
        .filter(|r| engine::router::select::admits(r, &number))
        .collect();
    let page_no = paging.page.unwrap_or(1).max(1);
    let per_page = paging.per_page.filter(|p| *p > 0).unwrap_or(1000).min(5000);
    let skip = usize::try_from((page_no - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let records: Vec<Record> = matching.iter().skip(skip).take(per_page as usize).cloned().collect();
    let page = PbxPage { records, page: page_no, per_page, row_count: matching.len() as u64 };
    let data = rows(&cx, &page.records).await?;
    Ok(axum::Json(page.envelope(data)))
}

/// The route list.
pub fn routes() -> Api {
    Api::new()
        .get("/api/routes", "List routes, or the route a number takes in a context", list)
        .reply(Reply::Schema(crate::pbx::replies::rows_page))
}
