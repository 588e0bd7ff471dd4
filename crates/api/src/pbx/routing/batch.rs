//! `PUT /api/routes`: the same change to several routes (`route: [ids]`),
//! limited to the fields the seed allows.

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::ROUTES;

use super::dialplan::read_shared;
use super::rows::{existing, id_list, update_all};
use crate::auth::{Caller, Role};
use crate::crud::pbx::context;
use crate::error::ApiError;
use crate::extract::Json as Body;
use crate::input::{Casing, Input};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

/// The fields a batch update may change besides those `read_shared` reads.
const PLAIN: &[&str] = &["auto_record", "route_type", "proxy_media", "did_enabled"];

/// Every key the body may hold.
const ALLOWED: &[&str] = &[
    "route",
    "auto_record",
    "media_codec",
    "route_type",
    "proxy_media",
    "bill_rate",
    "blacklist",
    "did_enabled",
];

const DOC: Doc = Doc::Props(&[
    ("route", "array"),
    ("auto_record", "string"),
    ("media_codec", "array"),
    ("route_type", "string"),
    ("proxy_media", "string"),
    ("bill_rate", "string"),
    ("blacklist", "string"),
    ("did_enabled", "string"),
]);

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let _scope = cx.scope;
    let object = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
    let mut input = Input::new(&body, Casing::Snake)?;
    for key in object.keys().filter(|k| !ALLOWED.contains(&k.as_str())) {
        input.reject(key, format!("cannot be changed for several routes; only {}", ALLOWED[1..].join(", ")));
    }
    let mut values = input.fields(&ROUTES, PLAIN, false);
    if object.get("route").is_none() {
        input.reject("route", "is required: the ids of the routes to change");
    }
    input.finish()?;
    read_shared(&body, &mut values)?;
    if values.is_empty() {
        return Err(ApiError::invalid(format!("nothing to change; give any of {}", ALLOWED[1..].join(", "))));
    }
    let mut ids = id_list(object.get("route").unwrap_or(&Json::Null))
        .map_err(|e| ApiError::field("route", e.message))?;
    ids.sort_by_key(|(id, _)| *id);
    ids.dedup_by_key(|(id, _)| *id);
    let records = existing(&cx, &ROUTES, &ids).await?;
    let count = records.len();
    update_all(&cx, &ROUTES, records.into_iter().map(|r| (r, values.clone())).collect()).await?;
    Ok(axum::Json(json!({"data": [], "code": 200, "message": format!("update rows {count}")})))
}

/// The batch update.
pub fn routes() -> Api {
    Api::new()
        .put("/api/routes", "Change some fields of several routes", DOC, update)
        .reply(Reply::Schema(crate::pbx::replies::batch))
}
