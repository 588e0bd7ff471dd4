//! `GET /v1.2/voipstudio/cdrs`: call records, one per leg, with pager,
//! filter and group_by on every field (the call's `call_ref` and the leg's
//! `leg_ref` and `leg`, `src`/`dst` as translated and
//! `src_dialled`/`dst_dialled` as dialled, the application, route,
//! recording, times, durations and causes), and one record by id.

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::CDRS;
use store::{Key, Record};

use crate::auth::{Caller, Role};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::list::{self, VoipPaging};
use crate::routes::{Api, Reply};
use crate::state::AppState;
use crate::view::render;

/// Its routes.
pub fn routes() -> Api {
    Api::new()
        .get("/v1.2/voipstudio/cdrs", "List call records (pager, filter, group_by)", list_cdrs)
        .reply(Reply::Page(&CDRS))
        .get("/v1.2/voipstudio/cdrs/{id}", "Get a call record", get_cdr)
        .reply(Reply::Record(&CDRS))
}

fn view(rec: &Record) -> serde_json::Map<String, Json> {
    render(Dialect::VoipStudio, &CDRS, rec)
}

async fn list_cdrs(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<VoipPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = store::Scope::Workspace(caller.require(Role::Member)?.id);
    Ok(axum::Json(list::voipstudio(&state.db, &CDRS, scope, Vec::new(), &paging, &view).await?))
}

async fn get_cdr(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = store::Scope::Workspace(caller.require(Role::Member)?.id);
    let id: i64 = id.parse().map_err(|_| ApiError::not_found(CDRS.label))?;
    let rec = state.db.get(&CDRS, scope, &Key::Id(id)).await?;
    Ok(axum::Json(json!({"data": view(&rec), "links": {}})))
}
