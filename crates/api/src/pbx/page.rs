//! A PBX list of one resource for endpoints that are not wholly generic:
//! the same paging, search, sort and filters as `crud::pbx`, with extra
//! conditions from the endpoint.

use serde_json::Value as Json;
use store::Filter;

use crate::auth::{Caller, Role};
use crate::crud::pbx::{list_request, query_pairs, scope, view, PbxSpec};
use crate::crud::Cx;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::list::pbx_page;
use crate::state::AppState;

/// What rules see of a PBX request by `caller`, who needs at least `role`.
pub fn context<'a>(state: &'a AppState, caller: &Caller, role: Role) -> Result<Cx<'a>, ApiError> {
    Ok(Cx { state, scope: scope(caller, role)?, dialect: Dialect::Pbx })
}

/// `{page, pageCount, rowCount, data}` of `spec`'s records that match the
/// query string `raw` and `extra`, each shown by the spec's view.
pub async fn page(
    cx: &Cx<'_>,
    spec: &PbxSpec,
    raw: Option<&str>,
    extra: Vec<Filter>,
) -> Result<Json, ApiError> {
    let (paging, mut filters) = list_request(spec, &query_pairs(raw)?)?;
    filters.extend(extra);
    let page = pbx_page(&cx.state.db, spec.res, cx.scope, filters, &paging).await?;
    let mut data = Vec::with_capacity(page.records.len());
    for rec in &page.records {
        data.push(Json::Object(view(cx, spec, rec).await?));
    }
    Ok(page.envelope(data))
}
