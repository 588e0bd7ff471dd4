//! Destinations (`dest_type`, `dest_uuid`, `body`) of routes and of their
//! time windows, checked the same way for both.

use serde_json::Value as Json;
use store::{Record, Resource, Value, Values};

use super::rows::{check_links, scalar_text};
use crate::crud::values::{after_text, set, touches};
use crate::crud::Cx;
use crate::error::ApiError;

/// The destination types whose `dest_uuid` must be given (the seed's list).
pub const UUID_REQUIRED: &[&str] = &[
    "FS_DEST_GATEWAY",
    "FS_DEST_USERGW",
    "FS_DEST_IVRBLOCK",
    "FS_DEST_MEETING_ROOM",
    "FS_DEST_CONFERENCE_ROOM",
    "FS_DEST_CTI",
    "FS_DEST_IVR",
    "FS_DEST_DISTRIBUTORS",
    "FS_DEST_CLUSTER_TRUNK",
    "FS_DEST_CLUSTER_TRUNK_GROUP",
];

/// Reads `dest_uuid` (text or a number) from `body` into `values`.
pub fn read_uuid(body: &Json, values: &mut Values) -> Result<(), ApiError> {
    if let Some(v) = scalar_text(body, "dest_uuid")? {
        set(values, "dest_uuid", v);
    }
    Ok(())
}

/// Checks the destination after writing `values` over `current`:
/// `dest_uuid` is given where the type needs one, and names an existing
/// record where the type names one (every other link of `res` is checked
/// too). When the destination changes and no `body` is given, `body`
/// becomes the name of the record it names, as the seed shows (or "" when
/// it stops naming one).
pub async fn check(
    cx: &Cx<'_>,
    res: &Resource,
    values: &mut Values,
    current: Option<&Record>,
) -> Result<(), ApiError> {
    let dest_type = after_text(values, current, "dest_type");
    let uuid = after_text(values, current, "dest_uuid");
    if UUID_REQUIRED.contains(&dest_type.as_str()) && uuid.trim().is_empty() {
        return Err(ApiError::field("dest_uuid", format!("is required when dest_type is {dest_type}")));
    }
    let targets = check_links(cx, res, values, current).await?;
    let changed = current.is_none_or(|c| c.text("dest_type") != dest_type || c.text("dest_uuid") != uuid);
    if changed && !touches(values, "body") {
        match targets.iter().find(|(field, _)| *field == "dest_uuid") {
            Some((_, rec)) => set(values, "body", Value::Text(rec.text("name").to_owned())),
            // The old body was the old record's name: it no longer applies.
            None if current.is_some_and(|c| names_record(res, c.text("dest_type"))) => {
                set(values, "body", Value::Text(String::new()))
            }
            None => {}
        }
    }
    Ok(())
}

/// Whether `dest_uuid` names a record of some table for `dest_type`.
fn names_record(res: &Resource, dest_type: &str) -> bool {
    res.links.iter().any(|l| l.field == "dest_uuid" && l.when.1.contains(&dest_type))
}
