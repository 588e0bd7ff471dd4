//! `GET /v1beta2/calls` and `/v1beta2/calls/{ref}`: call records in the
//! Fonoster shape (`from`, `to`, `status`, `direction`, `type`,
//! `startTime`, `endTime`, `duration`). Live calls come from the call
//! registry (`status` and `callStatus` the track status: `TRYING`,
//! `PROGRESS`, `ANSWER`); finished ones from their record (`status` the
//! hang-up cause, `callStatus` the final track status), with the call's
//! `recording` (file name) and `recordingUrl` (its download path,
//! `/api/recordings/<name>`, which takes the same credentials) when it was
//! recorded.

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
    out.insert("callStatus".into(), json!(super::track::of_record(rec)));
    out
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<FonosterPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let first = paging.page_token.as_deref().is_none_or(str::is_empty);
    let mut page = list::fonoster(&state.db, &CDRS, Scope::Workspace(ws), Vec::new(), &paging, &view).await?;
    // The first page starts with the calls still live, newest first.
    if let (true, Some(sw), Some(items)) = (first, state.sip.get(), page["items"].as_array_mut()) {
        let now = state.now();
        let live = sw.calls.of(ws).into_iter().rev().map(|c| Json::Object(super::track::live_view(&c, now)));
        items.splice(0..0, live);
    }
    Ok(axum::Json(page))
}

/// `DELETE /v1beta2/calls/{ref}`: a finished call's record and its
/// recordings.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Admin)?.id;
    crate::service::calls::delete(&state, ws, &r).await?;
    Ok(axum::Json(json!({ "ref": r })))
}

pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    if let Some(c) = super::track::live(&state, ws, &r) {
        return Ok(axum::Json(Json::Object(super::track::live_view(&c, state.now()))));
    }
    let scope = Scope::Workspace(ws);
    let by_call = state.db.find(&CDRS, scope, &[store::Filter::eq("call_ref", r.as_str())]).await?;
    let rec = match by_call {
        Some(rec) => rec,
        None => state.db.get(&CDRS, scope, &Key::Ref(r)).await?,
    };
    Ok(axum::Json(Json::Object(view(&rec))))
}
