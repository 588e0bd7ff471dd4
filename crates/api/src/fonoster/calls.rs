//! `GET /v1beta2/calls` and `/v1beta2/calls/{ref}`: calls in the Fonoster
//! shape (`from`, `to`, `status`, `direction`, `type`, `startTime`,
//! `endTime`, `duration`). Live calls come from the call registry
//! (`status` and `callStatus` the track status: `TRYING`, `PROGRESS`,
//! `ANSWER`); finished ones from their records, one item per call (its
//! caller's leg, `ref` the call's id) with every leg under `legs` (`ref`
//! the leg's id, `leg` `A` or `B`): `status` the hang-up cause,
//! `callStatus` the final track status, `fromDialled`/`toDialled` the
//! numbers as dialled beside `from`/`to` as translated, the application
//! (`appRef`), the route (`routeId`), and the call's `recording` (file
//! name) and `recordingUrl` (its download path, `/api/recordings/<name>`,
//! which takes the same credentials) when it was recorded. `GET` and
//! `DELETE` take the call's id or any leg's.

use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::CDRS;
use store::{Filter, Record, Scope};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::list::{self, FonosterPaging};
use crate::service::cdrs::{self, leg_id, FinishedCall, CALLER_SIDE};
use crate::state::AppState;
use crate::view::rfc3339;

/// A leg's record as Fonoster shows it (`ref` the leg's id).
pub fn view(rec: &Record) -> Map<String, Json> {
    let time = |name: &str| rec.int(name).map_or(Json::Null, |ms| json!(rfc3339(ms)));
    let text = |name: &str| json!(rec.text(name));
    let status = match rec.text("hangup_cause") {
        "" => rec.text("disposition"),
        cause => cause,
    };
    let mut out = Map::new();
    out.insert("ref".into(), json!(leg_id(rec)));
    out.insert("callRef".into(), text("call_ref"));
    out.insert("leg".into(), text("leg"));
    out.insert("from".into(), text("src"));
    out.insert("to".into(), text("dst"));
    out.insert("fromDialled".into(), text("src_dialled"));
    out.insert("toDialled".into(), text("dst_dialled"));
    out.insert("status".into(), json!(status));
    out.insert("hangupCause".into(), text("hangup_cause"));
    out.insert("disposition".into(), text("disposition"));
    out.insert("direction".into(), text("direction"));
    out.insert("type".into(), text("type"));
    out.insert("startTime".into(), time("calldate"));
    out.insert("answerTime".into(), time("answer_date"));
    out.insert("endTime".into(), time("end_date"));
    out.insert("duration".into(), json!(rec.int("duration").unwrap_or(0)));
    out.insert("billsec".into(), json!(rec.int("billsec").unwrap_or(0)));
    out.insert("context".into(), text("context"));
    out.insert("codec".into(), text("codec"));
    let app = Some(rec.text("application_ref")).filter(|r| !r.is_empty());
    out.insert("appRef".into(), json!(app));
    out.insert("routeId".into(), json!(rec.int("route_id")));
    let recording = Some(rec.text("recording")).filter(|r| !r.is_empty());
    out.insert("recording".into(), json!(recording));
    let url = recording.map(crate::pbx::recordings::download_path);
    out.insert("recordingUrl".into(), json!(url));
    out.insert("callStatus".into(), json!(super::track::of_record(rec)));
    out
}

/// A finished call as Fonoster shows it: its main leg with `ref` the
/// call's id, and every leg under `legs`.
pub fn call_view(call: &FinishedCall) -> Map<String, Json> {
    let mut out = view(&call.main);
    out.insert("ref".into(), json!(call.main.text("call_ref")));
    // The call's recording is any leg's (the caller's first).
    if out["recording"].is_null() {
        if let Some(leg) = call.legs.iter().find(|l| !l.text("recording").is_empty()) {
            let name = leg.text("recording");
            out.insert("recording".into(), json!(name));
            out.insert("recordingUrl".into(), json!(crate::pbx::recordings::download_path(name)));
        }
    }
    let legs = call.legs.iter().map(|l| Json::Object(view(l))).collect();
    out.insert("legs".into(), Json::Array(legs));
    out
}

pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<FonosterPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let scope = Scope::Workspace(ws);
    let first = paging.page_token.as_deref().is_none_or(str::is_empty);
    // One item per call: its caller's leg, with its legs.
    let callers = vec![Filter::eq("leg", CALLER_SIDE)];
    let (mains, next) = list::fonoster_page(&state.db, &CDRS, scope, callers, &paging).await?;
    let refs: Vec<String> = mains.iter().map(|r| r.text("call_ref").to_owned()).collect();
    let mut legs = cdrs::legs_of(&state, scope, &refs).await?;
    let mut items: Vec<Json> = mains
        .into_iter()
        .map(|main| {
            let of_call = legs.remove(main.text("call_ref")).unwrap_or_else(|| vec![main.clone()]);
            Json::Object(call_view(&FinishedCall { main, legs: of_call }))
        })
        .collect();
    // The first page starts with the calls still live, newest first.
    if let (true, Some(sw)) = (first, state.sip.get()) {
        let now = state.now();
        let live = sw.calls.of(ws).into_iter().rev().map(|c| Json::Object(super::track::live_view(&c, now)));
        items.splice(0..0, live);
    }
    Ok(axum::Json(list::fonoster_envelope(items, next)))
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
    let call = cdrs::find_call(&state, ws, &r).await?.ok_or_else(|| ApiError::not_found(CDRS.label))?;
    Ok(axum::Json(Json::Object(call_view(&call))))
}
