//! What every dialect answers when a call-control action names a call
//! that is not live: 404 when the workspace never had it, 409 when it
//! had it and it has ended (its record is there), in the dialect's shape;
//! nothing is changed either way, and another workspace's calls, live or
//! finished, are never seen.

use store::schema::CDRS;
use store::{Filter, Scope};

use crate::error::{ApiError, ErrorKind};
use crate::AppState;

/// The error for an action on call or leg `uuid` of workspace `ws`, which
/// is not live: 409 when it has finished, else 404 for `what`.
pub async fn not_live(state: &AppState, ws: i64, uuid: &str, what: &str) -> ApiError {
    let found = state.db.find(&CDRS, Scope::Workspace(ws), &[Filter::eq("call_ref", uuid)]).await;
    match found {
        Ok(Some(_)) => ended(),
        Ok(None) => ApiError::not_found(what),
        Err(e) => e.into(),
    }
}

/// 409: the call has ended (or an action reached it as it went).
pub fn ended() -> ApiError {
    ApiError::new(ErrorKind::AlreadyExists, "the call has ended: it can no longer be changed")
}
