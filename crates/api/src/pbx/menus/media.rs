//! Uploaded sound files (`/api/media`): a multipart upload of a WAV file,
//! kept under the data directory and in the media table; list, get and
//! delete (refused while an IVR still plays it).

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde_json::{json, Value as Json};
use store::schema::MEDIA;
use store::{Key, Value};

use super::common::conflict;
use super::sounds::user_of;
use super::wav;
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, route_get, route_list, PbxSpec};
use crate::crud::{self, Plain};
use crate::error::{ApiError, ErrorKind};
use crate::extract::Path;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

static MEDIA_FILE: PbxSpec = PbxSpec {
    res: &MEDIA,
    create: &[],
    update: &[],
    filters: &["name", "media_type"],
    parent: None,
    rules: &Plain,
};

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorKind::PayloadTooLarge, "the uploaded file is too large")
    } else {
        ApiError::invalid(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// The file's own name without any directory, for display.
fn display_name(given: Option<&str>, fallback: &str) -> String {
    let base = given.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() {
        fallback.to_owned()
    } else {
        base.chars().take(255).collect()
    }
}

/// `POST /api/media`: stores the WAV file of the `file` part.
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    form: Result<Multipart, MultipartRejection>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let mut form = form.map_err(|r| {
        ApiError::invalid(format!("expected a multipart/form-data body with a file part: {}", r.body_text()))
    })?;
    let mut file = None;
    while let Some(part) = form.next_field().await.map_err(multipart_error)? {
        if part.name() == Some("file") && file.is_none() {
            let name = part.file_name().map(str::to_owned);
            let bytes = part.bytes().await.map_err(multipart_error)?;
            file = Some((name, bytes));
        }
    }
    let (name, bytes) =
        file.ok_or_else(|| ApiError::field("file", "is required (a multipart part named file)"))?;
    let info = wav::parse(&bytes).map_err(|m| ApiError::field("file", m))?;
    let Some(workspace) = caller.workspace.as_ref().map(|w| w.id) else {
        return Err(ApiError::forbidden("no workspace"));
    };
    let stored = format!("upload-{}.wav", uuid::Uuid::new_v4());
    let dir = state.workspace_dir("media", workspace);
    tokio::fs::create_dir_all(&dir).await.map_err(ApiError::internal)?;
    let path = dir.join(&stored);
    tokio::fs::write(&path, &bytes).await.map_err(ApiError::internal)?;
    let media_path = path.to_string_lossy().into_owned();
    let values = vec![
        ("name", Value::from(display_name(name.as_deref(), &stored))),
        ("media_path", Value::from(media_path.clone())),
        ("media_type", Value::from("UPLOAD")),
        ("content_type", Value::from("audio/wav")),
        ("size", Value::Int(bytes.len() as i64)),
        ("duration_ms", Value::Int(info.duration_ms)),
    ];
    let rec = match crud::create(&state, &MEDIA, cx.scope, values).await {
        Ok(rec) => rec,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    Ok(ok(json!({"media_id": rec.id, "media_path": media_path, "media_type": "UPLOAD"})))
}

/// `DELETE /api/media/{id}`: the record and its file, unless in use.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let rec = crud::by_id(&state, &MEDIA, cx.scope, &id).await?;
    if let Some(user) = user_of(&cx, rec.id).await? {
        return Err(conflict(format!("media file {} is still used by {user}", rec.id)));
    }
    state.db.delete(&MEDIA, cx.scope, &Key::Id(rec.id)).await?;
    if rec.text("media_type") == "UPLOAD" {
        match tokio::fs::remove_file(rec.text("media_path")).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(error = %e, path = rec.text("media_path"), "could not remove a media file");
            }
            _ => {}
        }
    }
    Ok(ok(json!(rec.id.to_string())))
}

/// Their routes.
pub fn routes() -> Api {
    let api = Api::new()
        .post("/api/media", "Upload a WAV file (multipart, part file)", Doc::Upload, upload)
        .reply(Reply::Schema(crate::pbx::replies::upload));
    let api = route_list(api, "/api/media", "List media files", &MEDIA_FILE);
    let api = route_get(api, "/api/media/{id}", "Get a media file", &MEDIA_FILE);
    api.delete("/api/media/{id}", "Delete a media file and its data", remove).reply(Reply::Changed)
}
