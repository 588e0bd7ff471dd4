//! `GET /v1beta2/calls` and `/v1beta2/calls/{ref}`: call records in the
//! Fonoster shape (`from`, `to`, `status`, `direction`, `type`,
//! `startTime`, `endTime`, `duration`), with the call's `recording` (file
//! name) and `recordingUrl` (its download path, `/api/recordings/<name>`,
//! which takes the same credentials) when it was recorded.

use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::CDRS;
use store::{Key, Record, Scope};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::list::{self, FonosterPaging};
use crate::state::AppState;
use crate::view::rfc3339;

/// A call record as Fonoster shows a call.
pub fn view(rec: &Record) -> Map<String, Json> {
    let time = |name: &str| rec.int(name).map_or(Json::Null, |ms| json!(rfc3339(ms)));
    let status = match rec.text("hangup_cause") {
        "" => rec.text("disposition"),
        cause => cause,
    };
    let mut out = Map::new();
    out.insert("ref".into(), json!(rec.text("call_ref")));
    out.insert("from".into(), json!(rec.text("src")));
    out.insert("to".into(), json!(rec.text("dst")));
    out.insert("status".into(), json!(status));
    out.insert("direction".into(), json!(rec.text("direction")));
    out.insert("type".into(), json!(rec.text("type")));
    out.insert("startTime".into(), time("calldate"));
    out.insert("answerTime".into(), time("answer_date"));
    out.insert("endTime".into(), time("end_date"));
    out.insert("duration".into(), json!(rec.int("duration").unwrap_or(0)));
    out.insert("billsec".into(), json!(rec.int("billsec").unwrap_or(0)));
    let recording = Some(rec.text("recording")).filter(|r| !r.is_empty());
    out.insert("recording".into(), json!(recording));
    let url = recording.map(crate::pbx::recordings::download_path);
    out.insert("recordingUrl".into(), json!(url));
    out
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<FonosterPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    Ok(axum::Json(list::fonoster(&state.db, &CDRS, scope, Vec::new(), &paging, &view).await?))
}

pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    let by_call = state.db.find(&CDRS, scope, &[store::Filter::eq("call_ref", r.as_str())]).await?;
    let rec = match by_call {
        Some(rec) => rec,
        None => state.db.get(&CDRS, scope, &Key::Ref(r)).await?,
    };
    Ok(axum::Json(Json::Object(view(&rec))))
}
