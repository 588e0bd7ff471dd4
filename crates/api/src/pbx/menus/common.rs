//! Small pieces the endpoints of this family share: bodies that may be
//! empty, conflicts, and text made of a few characters.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::{Map, Value as Json};

use crate::error::{ApiError, ErrorKind};
use crate::extract::parse_json;

/// A JSON body that may be absent: an empty body reads as `{}`.
pub fn optional_body(body: Result<Bytes, BytesRejection>) -> Result<Json, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
        } else {
            ApiError::invalid(format!("cannot read the request body: {r}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Object(Map::new()));
    }
    parse_json(&bytes)
}

/// 409 with `message`.
pub fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::AlreadyExists, message)
}

/// Whether `text` is made only of the characters in `allowed` (and not
/// empty, and at most `max` long).
pub fn made_of(text: &str, allowed: &str, max: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max && text.chars().all(|c| allowed.contains(c))
}
