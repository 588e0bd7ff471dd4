//! The sounds of an IVR (greetings, prompts): a media reference
//! `{media_id, media_path, media_type}` (sent as a JSON string or an
//! object), a `tone_stream://` spec or other playable text, or nothing.
//! Also which IVRs and actions still use an uploaded media file.

use serde_json::{json, Map, Value as Json};
use store::schema::{IVRS, IVR_ACTIONS, MEDIA};
use store::{Filter, Key, Value};

use crate::crud::{self, Cx};
use crate::error::ApiError;

/// The IVR fields that hold a sound.
pub const SOUND_FIELDS: &[&str] = &[
    "greet_long",
    "greet_short",
    "invalid_sound",
    "exit_sound",
    "transfer_sound",
    "pin_file",
    "bad_pin_file",
];

/// The stored form of the sound `raw` given for `field`: `Null` for none,
/// else JSON text (an object for a media reference, a string otherwise).
/// An uploaded file must exist; its stored path replaces the one given.
pub async fn read(cx: &Cx<'_>, field: &str, raw: &Json) -> Result<Value, ApiError> {
    match raw {
        Json::Null => Ok(Value::Null),
        Json::String(s) if s.trim().is_empty() => Ok(Value::Null),
        Json::String(s) if s.trim_start().starts_with('{') => {
            let parsed: Json = serde_json::from_str(s)
                .map_err(|_| ApiError::field(field, "is not a valid media reference (malformed JSON)"))?;
            media_ref(cx, field, &parsed).await
        }
        Json::String(s) => Ok(Value::Text(Json::String(s.clone()).to_string())),
        Json::Object(_) => media_ref(cx, field, raw).await,
        _ => Err(ApiError::field(
            field,
            "must be a media reference {media_id, media_path, media_type}, a tone_stream:// spec or empty",
        )),
    }
}

async fn media_ref(cx: &Cx<'_>, field: &str, raw: &Json) -> Result<Value, ApiError> {
    let obj = raw.as_object().ok_or_else(|| ApiError::field(field, "must be a JSON object"))?;
    let kind = obj.get("media_type").and_then(Json::as_str).unwrap_or("");
    let id = match obj.get("media_id") {
        None | Some(Json::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| ApiError::field(field, "media_id must be an integer"))?,
        ),
    };
    let path = match obj.get("media_path") {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(p)) => p.trim().to_owned(),
        Some(_) => return Err(ApiError::field(field, "media_path must be a string")),
    };
    let out = match kind {
        "UPLOAD" => {
            let id = id.ok_or_else(|| ApiError::field(field, "media_id is required for an uploaded file"))?;
            let media = cx.state.db.find(&MEDIA, cx.scope, &[Filter::eq("id", id)]).await?;
            let media = media.ok_or_else(|| {
                ApiError::field(field, format!("refers to a media file ({id}) that does not exist"))
            })?;
            json!({"media_id": id, "media_path": media.text("media_path"), "media_type": "UPLOAD"})
        }
        "SYSTEM" => {
            if path.is_empty() {
                return Err(ApiError::field(field, "media_path is required for a system sound"));
            }
            json!({"media_id": id, "media_path": path, "media_type": "SYSTEM"})
        }
        _ => return Err(ApiError::field(field, "media_type must be UPLOAD or SYSTEM")),
    };
    Ok(Value::Text(out.to_string()))
}

/// The uploaded media id a stored sound refers to, if any.
fn uploaded_id(stored: &str) -> Option<i64> {
    let v: Map<String, Json> = serde_json::from_str(stored).ok()?;
    (v.get("media_type")?.as_str()? == "UPLOAD").then_some(())?;
    v.get("media_id")?.as_i64()
}

/// What still uses the media file `id`: an IVR sound or an `IVR_PLAY`
/// action, named for a 409.
pub async fn user_of(cx: &Cx<'_>, id: i64) -> Result<Option<String>, ApiError> {
    for ivr in crud::all(cx.state, &IVRS, cx.scope, Vec::new()).await? {
        if let Some(field) = SOUND_FIELDS.iter().find(|f| uploaded_id(ivr.text(f)) == Some(id)) {
            return Ok(Some(format!("IVR {} ({field})", ivr.id)));
        }
    }
    let plays = vec![Filter::eq("action", "IVR_PLAY"), Filter::eq("args", id.to_string())];
    if let Some(action) = cx.state.db.find(&IVR_ACTIONS, cx.scope, &plays).await? {
        return Ok(Some(format!(
            "IVR action {} of IVR {}",
            action.id,
            action.int("ivr_menu_id").unwrap_or(0)
        )));
    }
    Ok(None)
}

/// Fails with 400 unless the media file `id` exists.
pub async fn check_media(cx: &Cx<'_>, field: &str, id: i64) -> Result<(), ApiError> {
    match cx.state.db.get(&MEDIA, cx.scope, &Key::Id(id)).await {
        Ok(_) => Ok(()),
        Err(store::StoreError::NotFound(_)) => {
            Err(ApiError::field(field, format!("refers to a media file ({id}) that does not exist")))
        }
        Err(e) => Err(e.into()),
    }
}
