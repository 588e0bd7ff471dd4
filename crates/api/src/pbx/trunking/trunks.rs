//! Trunks at `/api/trunks`, with their import. The same trunks table the
//! Fonoster dialect serves (its `outboundUri` is `remote_addr`); the PBX
//! leaves out the Fonoster-only columns and shows `register` and `enabled`
//! as JSON booleans, as the seed's list does.

use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::TRUNKS;

use super::members::{self, Side};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, route_list, route_remove, values, view, PbxSpec};
use crate::crud::{self};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::Casing;
use crate::pbx::check;
use crate::pbx::checked::Checked;
use crate::pbx::import::{self, Columns};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const FIELDS: &[&str] = &[
    "name",
    "description",
    "type",
    "protocol",
    "remote_addr",
    "local_addr",
    "register",
    "enabled",
    "source",
    "media_codec",
    "params",
];

/// Columns of the shared table that only the Fonoster dialect shows.
const FONOSTER_ONLY: &[&str] =
    &["inbound_uri", "acl_id", "inbound_credentials_id", "outbound_credentials_id", "uris"];

/// Shown as JSON booleans.
const FLAGS: &[&str] = &["register", "enabled"];

static SPEC: PbxSpec =
    PbxSpec { res: &TRUNKS, create: FIELDS, update: FIELDS, filters: &[], parent: None, rules: &RULES };

/// Addresses, type, parameters, codecs and call source are checked;
/// the Fonoster-only columns are hidden and the flags shown as booleans.
static RULES: Checked = Checked {
    checks: &[
        ("remote_addr", check::address),
        ("local_addr", check::address),
        ("type", check::trunk_type),
        ("params", check::json_object),
        ("media_codec", check::codecs),
        ("source", check::source),
    ],
    hidden: FONOSTER_ONLY,
    flags: FLAGS,
};

/// The seed's import columns.
const COLUMNS: Columns = Columns {
    key: "trunks",
    map: &[
        ("中继名称", "name"),
        ("描述", "description"),
        ("类型", "type"),
        ("本地地址", "local_addr"),
        ("远端地址", "remote_addr"),
        ("协议", "protocol"),
        ("是否注册", "register"),
        ("呼叫源", "source"),
        ("是否启用", "enabled"),
        ("参数", "params"),
        ("媒体编码", "media_codec"),
    ],
};

/// `protocol` and `type` in upper case, as stored (`udp` is `UDP`).
fn normalize(body: &mut Json) {
    for key in ["protocol", "type"] {
        if let Some(Json::String(s)) = body.get_mut(key) {
            *s = s.trim().to_ascii_uppercase();
        }
    }
}

/// `GET /api/trunks/{id}`: the trunk with the groups it belongs to.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let rec = crud::by_id(&state, &TRUNKS, cx.scope, &id).await?;
    let mut out = view(&cx, &SPEC, &rec).await?;
    out.insert(Side::Trunk.key().to_owned(), members::shown(&cx, Side::Trunk, rec.id).await?);
    Ok(axum::Json(Json::Object(out)))
}

/// `POST /api/trunks`: answers the new id as a string, as the seed does.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(mut body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    normalize(&mut body);
    let values = values(&cx, &SPEC, &body, None).await?;
    let rec = members::create_owner(&cx, Side::Trunk, values, &body).await?;
    Ok(ok(json!(rec.id.to_string())))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(mut body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let rec = crud::by_id(&state, &TRUNKS, cx.scope, &id).await?;
    normalize(&mut body);
    let values = values(&cx, &SPEC, &body, Some(&rec)).await?;
    members::update_owner(&cx, Side::Trunk, &rec, values, &body).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// A trunk as the seed's import answers it: every value as text,
/// booleans as `t`/`f`.
fn as_imported(mut out: Map<String, Json>) -> Json {
    for (name, value) in out.iter_mut() {
        *value = match value.take() {
            Json::Bool(b) if FLAGS.contains(&name.as_str()) => json!(if b { "t" } else { "f" }),
            Json::Number(n) => Json::String(n.to_string()),
            other => other,
        };
    }
    Json::Object(out)
}

/// `POST /api/trunks/import`: every row or none.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let records = import::import(&cx, &SPEC, &COLUMNS, &body, normalize).await?;
    let mut data = Vec::with_capacity(records.len());
    for rec in &records {
        data.push(as_imported(view(&cx, &SPEC, rec).await?));
    }
    Ok(ok(Json::Array(data)))
}

/// The trunk routes.
pub fn routes() -> Api {
    let doc = Doc::Fields(&TRUNKS, FIELDS, Casing::Snake);
    let api = route_list(Api::new(), "/api/trunks", "List trunks", &SPEC)
        .post("/api/trunks", "Create a trunk (trunk_groups: [ids] joins groups)", doc, create)
        .reply(Reply::Changed)
        .post("/api/trunks/import", "Import trunks (all or none)", Doc::Props(&[("trunks", "array")]), import)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .get("/api/trunks/{id}", "Get a trunk with its trunk groups", get_one)
        .reply(Reply::Record(&TRUNKS))
        .put("/api/trunks/{id}", "Update a trunk (trunk_groups: [ids] replaces its groups)", doc, update)
        .reply(Reply::Changed);
    route_remove(api, "/api/trunks/{id}", "Delete a trunk", &SPEC)
}
