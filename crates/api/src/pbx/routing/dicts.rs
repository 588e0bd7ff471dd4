//! `GET /api/dicts?realm=DEST`: the data dictionary of destination types.

use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use store::schema::DEST_TYPES;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::{Api, Reply};
use crate::state::AppState;
use crate::view::plain_time;

/// The short label (`v`) of each destination type, in the dictionary's
/// order (`o`): the seed lists `FS_DEST_USER` then `FS_DEST_RING_EXTNS`.
const DEST: &[(&str, &str)] = &[
    ("FS_DEST_USER", "USER"),
    ("FS_DEST_RING_EXTNS", "RING_ALL_EXTN"),
    ("FS_DEST_SEQ_EXTNS", "SEQ_EXTN"),
    ("FS_DEST_GATEWAY", "GATEWAY"),
    ("FS_DEST_USERGW", "USER_GATEWAY"),
    ("FS_DEST_SYSTEM", "SYSTEM"),
    ("FS_DEST_IP", "IP"),
    ("FS_DEST_IVRBLOCK", "IVR_BLOCK"),
    ("FS_DEST_CONFERENCE", "CONFERENCE"),
    ("FS_DEST_CONFERENCE_ROOM", "CONFERENCE_ROOM"),
    ("FS_DEST_MEETING", "MEETING"),
    ("FS_DEST_MEETING_ROOM", "MEETING_ROOM"),
    ("FS_DEST_USER_CONFERENCE", "USER_CONFERENCE"),
    ("FS_DEST_DISTRIBUTORS", "DISTRIBUTORS"),
    ("FS_DEST_CTI", "CTI"),
    ("FS_DEST_NUM_QUEUE", "NUM_QUEUE"),
    ("FS_DEST_SCRIPT", "SCRIPT"),
    ("FS_DEST_IVR", "IVR"),
    ("FS_DEST_CLUSTER_TRUNK", "CLUSTER_TRUNK"),
    ("FS_DEST_CLUSTER_TRUNK_GROUP", "CLUSTER_TRUNK_GROUP"),
];

#[derive(Deserialize)]
struct Ask {
    realm: Option<String>,
}

async fn dicts(
    State(_): State<AppState>,
    caller: Caller,
    Query(ask): Query<Ask>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?;
    let realm = ask.realm.unwrap_or_default();
    if realm.is_empty() {
        return Err(ApiError::field("realm", "is required"));
    }
    if realm != "DEST" {
        return Err(ApiError::not_found(&format!("dictionary realm {realm}")));
    }
    let at = plain_time(ws.created_at);
    let rows = DEST
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| DEST_TYPES.contains(k))
        .map(|(i, (k, v))| {
            json!({"id": i + 1, "k": k, "v": v, "o": i + 1, "d": "", "realm": "DEST",
                   "created_at": at, "updated_at": at, "deleted_at": ""})
        })
        .collect();
    Ok(axum::Json(Json::Array(rows)))
}

/// The dictionary endpoint.
pub fn routes() -> Api {
    Api::new()
        .get("/api/dicts", "List a data dictionary (realm=DEST: destination types)", dicts)
        .reply(Reply::Schema(crate::pbx::replies::rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_destination_type_has_a_label() {
        for t in DEST_TYPES {
            assert!(DEST.iter().any(|(k, _)| k == t), "{t} has no label");
        }
        assert_eq!(DEST.len(), DEST_TYPES.len());
    }
}
