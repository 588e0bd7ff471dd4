//! Call recordings, as the WAV files in the workspace's `recordings/`
//! folder of the data directory (written by a route's `auto_record`,
//! `PUT /api/channels/{uuid}` `record` and conference rooms):
//!
//! - `GET /api/recordings`: the files, newest first, with their size,
//!   time, duration (from the WAV header) and the call whose CDR names
//!   them; paged with `page` and `perPage`;
//! - `GET /api/recordings/{name}`: the WAV, streamed from disk;
//! - `DELETE /api/recordings/{name}`: removes the file (admins).
//!
//! Only plain file names are served: no directories, no `..`, no hidden
//! files; a name is looked up in the caller's workspace only.

use std::path::PathBuf;

use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};
use store::schema::CDRS;
use store::{Filter, Op, Operand, Query, Scope, Value};
use tokio::io::AsyncReadExt;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::{Path, Query as QueryParams};
use crate::list::PbxPaging;
use crate::routes::{Api, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// How many header bytes are read to find a recording's duration.
const HEADER_BYTES: usize = 4096;
/// The size of each piece of a download.
const CHUNK: usize = 64 * 1024;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/recordings", "List the workspace's call recordings, newest first", list)
        .reply(Reply::Schema(crate::pbx::replies::rows_page))
        .get("/api/recordings/{name}", "Download a call recording (WAV)", download)
        .reply(Reply::File("audio/wav"))
        .delete("/api/recordings/{name}", "Delete a call recording", remove)
        .reply(Reply::Schema(crate::pbx::replies::ok_text))
}

/// `name` when it is a plain file name, else a clear refusal.
fn plain_name(name: &str) -> Result<&str, ApiError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with('.')
        || name.chars().any(|c| matches!(c, '/' | '\\' | ':' | '\0') || c.is_control());
    if bad {
        return Err(ApiError::field("name", "must be a plain file name (no folders, no leading dot)"));
    }
    Ok(name)
}

/// Where recording `name` downloads: `/api/recordings/<name>`, the name
/// percent-encoded.
pub(crate) fn download_path(name: &str) -> String {
    engine::calls::cdr::recording_url(name)
}

/// The file `name` of workspace `ws`, when it is a recording there.
fn existing(state: &AppState, ws: i64, name: &str) -> Result<PathBuf, ApiError> {
    let path = state.workspace_dir("recordings", ws).join(plain_name(name)?);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        _ => Err(ApiError::not_found("recording")),
    }
}

/// The duration in milliseconds a WAV header announces, from its first
/// bytes only (the data chunk need not be there whole).
pub(crate) fn header_duration_ms(b: &[u8]) -> Option<i64> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WAVE" {
        return None;
    }
    let u32_at = |at: usize| Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let (mut at, mut byte_rate) = (12usize, None);
    while at + 8 <= b.len() {
        let len = u32_at(at + 4)?;
        match &b[at..at + 4] {
            b"fmt " => byte_rate = u32_at(at + 16).filter(|r| *r > 0),
            b"data" => return Some(i64::from(len) * 1000 / i64::from(byte_rate?)),
            _ => {}
        }
        at = at.checked_add(8)?.checked_add(len as usize + (len as usize & 1))?;
    }
    None
}

/// One file's row (without its call).
struct Row {
    name: String,
    size: u64,
    modified_ms: i64,
}

/// The files of the workspace's recordings folder.
fn scan(state: &AppState, ws: i64) -> Result<Vec<Row>, ApiError> {
    let dir = state.workspace_dir("recordings", ws);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut rows = Vec::new();
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        if !meta.is_file() || plain_name(&name).is_err() {
            continue;
        }
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        rows.push(Row { name, size: meta.len(), modified_ms });
    }
    rows.sort_by(|a, b| b.modified_ms.cmp(&a.modified_ms).then_with(|| a.name.cmp(&b.name)));
    Ok(rows)
}

fn duration_of(path: &std::path::Path) -> Option<i64> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(HEADER_BYTES);
    std::fs::File::open(path).ok()?.take(HEADER_BYTES as u64).read_to_end(&mut buf).ok()?;
    header_duration_ms(&buf)
}

/// `GET /api/recordings`.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(paging): QueryParams<PbxPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let page = paging.page.unwrap_or(1).max(1);
    let per_page = paging.per_page.filter(|p| *p > 0).unwrap_or(1000).min(5000);
    let rows = scan(&state, ws)?;
    let row_count = rows.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let rows: Vec<Row> = rows.into_iter().skip(skip).take(per_page as usize).collect();
    let names: Vec<Value> = rows.iter().map(|r| Value::from(r.name.as_str())).collect();
    let mut calls = std::collections::HashMap::new();
    if !names.is_empty() {
        let filter = Filter { column: "recording", op: Op::In, operand: Operand::Many(names) };
        let query = Query { filters: vec![filter], ..Query::default() };
        for cdr in state.db.list(&CDRS, Scope::Workspace(ws), &query).await?.records {
            if let Some(Value::Text(name)) = cdr.values.get("recording") {
                calls.entry(name.clone()).or_insert_with(|| {
                    let text = |k| match cdr.values.get(k) {
                        Some(Value::Text(t)) => json!(t),
                        _ => Json::Null,
                    };
                    json!({"cdr_id": cdr.id, "uuid": text("call_ref"), "src": text("src"), "dst": text("dst")})
                });
            }
        }
    }
    let dir = state.workspace_dir("recordings", ws);
    let data: Vec<Json> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "size": r.size,
                "created": plain_time(r.modified_ms),
                "duration_ms": duration_of(&dir.join(&r.name)),
                "url": download_path(&r.name),
                "call": calls.get(&r.name).cloned().unwrap_or(Json::Null),
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "page": page,
        "pageCount": row_count.div_ceil(per_page),
        "rowCount": row_count,
        "data": data,
    })))
}

/// `GET /api/recordings/{name}`: the file in pieces of [`CHUNK`] bytes.
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    let path = existing(&state, ws, &name)?;
    let file = tokio::fs::File::open(&path).await.map_err(|_| ApiError::not_found("recording"))?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let stream = futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))];
        match file.read(&mut buf).await {
            Ok(0) => Some((Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)), (file, 0))),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        HttpBody::from_stream(stream),
    )
        .into_response())
}

/// `DELETE /api/recordings/{name}`.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Admin)?.id;
    let path = existing(&state, ws, &name)?;
    tokio::fs::remove_file(&path).await.map_err(ApiError::internal)?;
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": name})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(data_len: u32, whole: bool) -> Vec<u8> {
        let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        b.extend(16u32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(8000u32.to_le_bytes());
        b.extend(16000u32.to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(16u16.to_le_bytes());
        b.extend(b"data");
        b.extend(data_len.to_le_bytes());
        if whole {
            b.resize(b.len() + data_len as usize, 0);
        }
        b
    }

    #[test]
    fn duration_comes_from_the_header_alone() {
        assert_eq!(header_duration_ms(&wav(16000, true)), Some(1000));
        assert_eq!(header_duration_ms(&wav(8000, false)), Some(500));
        assert_eq!(header_duration_ms(b"RIFF\0\0\0\0WAVEdata\x10\0\0\0"), None);
        assert_eq!(header_duration_ms(b"not a wav at all"), None);
        assert_eq!(header_duration_ms(&[]), None);
    }

    #[test]
    fn download_paths_are_encoded() {
        assert_eq!(download_path("call-1.wav"), "/api/recordings/call-1.wav");
        assert_eq!(download_path("a b%.wav"), "/api/recordings/a%20b%25.wav");
    }

    #[test]
    fn only_plain_file_names_pass() {
        assert!(plain_name("call-1.wav").is_ok());
        for bad in ["", "..", "../x.wav", "a/b.wav", "/etc/passwd", ".hidden", "a\\b.wav", "c:x", "a\0b"] {
            assert!(plain_name(bad).is_err(), "{bad:?}");
        }
    }
}
