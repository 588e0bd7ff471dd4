//! Forgetting calls: a finished call's records and its recordings go
//! together, and a deleted workspace leaves no calls, files or live calls
//! behind.

use std::path::Path;

use store::schema::CDRS;
use store::{Filter, Scope};

use crate::error::{ApiError, ErrorKind};
use crate::AppState;

/// The folders of the data directory that hold a workspace's files, one
/// sub-folder per workspace id.
pub const WORKSPACE_FOLDERS: &[&str] = &["recordings", "media", "voicemail"];

/// Deletes the finished call `call_ref` of workspace `ws` (a call's or a
/// leg's id, or its record's ref): its record and every recording of it.
/// A live call is 409, an unknown one 404. Returns how many records went.
pub async fn delete(state: &AppState, ws: i64, call_ref: &str) -> Result<u64, ApiError> {
    if state.calls.handle(ws, call_ref).is_some() {
        return Err(ApiError::new(ErrorKind::AlreadyExists, "the call is still live: hang it up first"));
    }
    let scope = Scope::Workspace(ws);
    // A call's id, or a leg's, or a record's own ref: the whole call goes.
    let Some(call) = super::cdrs::find_call(state, ws, call_ref).await? else {
        return Err(ApiError::not_found(CDRS.label));
    };
    let filter = vec![Filter::eq("call_ref", call.main.text("call_ref"))];
    let mut ids: Vec<String> = call.legs.iter().map(|r| r.text("call_ref").to_owned()).collect();
    ids.extend(call.legs.iter().map(|r| super::cdrs::leg_id(r).to_owned()));
    ids.sort();
    ids.dedup();
    let named: Vec<String> =
        call.legs.iter().map(|r| r.text("recording").to_owned()).filter(|n| !n.is_empty()).collect();
    let deleted = state.db.delete_where(&CDRS, scope, &filter).await?;
    remove_recordings(&state.workspace_dir("recordings", ws), &ids, &named).await;
    Ok(deleted)
}

/// Removes the recordings of a call: the files `named` in its records and
/// every file of the call's or its legs' `ids` (`<id>.wav`, `<id>-*.wav`).
async fn remove_recordings(dir: &Path, ids: &[String], named: &[String]) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let of_call = ids.iter().any(|id| {
            name.strip_prefix(id.as_str()).is_some_and(|rest| rest == ".wav" || rest.starts_with('-'))
        });
        if of_call || named.contains(&name) {
            if let Err(e) = tokio::fs::remove_file(entry.path()).await {
                tracing::warn!(file = %entry.path().display(), error = %e, "a deleted call's recording stays");
            }
        }
    }
}

/// What a deleted workspace leaves behind goes: its live calls are hung
/// up and its folders of the data directory removed.
pub async fn forget_workspace(state: &AppState, ws: i64) {
    let live = state.calls.hang_up_all(ws);
    if live > 0 {
        tracing::info!(workspace = ws, calls = live, "a deleted workspace's live calls are hung up");
    }
    for kind in WORKSPACE_FOLDERS {
        let dir = state.workspace_dir(kind, ws);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "a deleted workspace's files stay"),
        }
    }
}
