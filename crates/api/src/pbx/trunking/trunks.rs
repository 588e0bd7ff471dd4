//! Trunks at `/api/trunks`, with their import. The same trunks table the
//! Fonoster dialect serves (its `outboundUri` is `remote_addr`); the PBX
//! leaves out the Fonoster-only columns and shows `register` and `enabled`
//! as JSON booleans, as the seed's list does.

use async_trait::async_trait;
use axum::extract::{RawQuery, State};
use serde_json::{json, Map, Value as Json};
use store::schema::TRUNKS;
use store::{Key, Record};

use super::members::{self, Side};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{ok, values, view, PbxSpec};
use crate::crud::{self, Cx, Rules};
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::input::Casing;
use crate::pbx::check;
use crate::pbx::import::{self, Columns};
use crate::pbx::page::{context, page};
use crate::routes::{Api, Body as Doc};
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
    &["inbound_uri", "acl_id", "inbound_credentials_id", "outbound_credentials_id"];

/// Shown as JSON booleans.
const FLAGS: &[&str] = &["register", "enabled"];

static SPEC: PbxSpec =
    PbxSpec { res: &TRUNKS, create: FIELDS, update: FIELDS, filters: &[], parent: None, rules: &TrunkRules };

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

struct TrunkRules;

#[async_trait]
impl Rules for TrunkRules {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        _body: &Json,
        values: &mut store::Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        check::run(
            values,
            &[
                ("remote_addr", check::address),
                ("local_addr", check::address),
                ("type", check::trunk_type),
                ("params", check::json_object),
                ("media_codec", check::codecs),
                ("source", check::source),
            ],
        )
    }

    async fn view(&self, _cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        for name in FONOSTER_ONLY {
            out.remove(*name);
        }
        for name in FLAGS {
            out.insert((*name).to_owned(), Json::Bool(rec.int(name) == Some(1)));
        }
        Ok(())
    }
}

/// `protocol` and `type` in upper case, as stored (`udp` is `UDP`).
fn normalize(body: &mut Json) {
    for key in ["protocol", "type"] {
        if let Some(Json::String(s)) = body.get_mut(key) {
            *s = s.trim().to_ascii_uppercase();
        }
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    Ok(axum::Json(page(&cx, &SPEC, q.as_deref(), Vec::new()).await?))
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
    let groups = members::read(&cx, Side::Trunk, &body).await?;
    let rec = crud::create(&state, &TRUNKS, cx.scope, values).await?;
    if let Some(groups) = groups {
        if let Err(e) = members::write(&cx, Side::Trunk, rec.id, &groups).await {
            state.db.delete(&TRUNKS, cx.scope, &Key::Id(rec.id)).await?;
            return Err(e);
        }
    }
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
    let groups = members::read(&cx, Side::Trunk, &body).await?;
    crud::update(&state, &TRUNKS, cx.scope, &rec, values).await?;
    if let Some(groups) = groups {
        members::write(&cx, Side::Trunk, rec.id, &groups).await?;
    }
    Ok(ok(json!(rec.id.to_string())))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let rec = crud::by_id(&state, &TRUNKS, cx.scope, &id).await?;
    state.db.delete(&TRUNKS, cx.scope, &Key::Id(rec.id)).await?;
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
    Api::new()
        .get("/api/trunks", "List trunks", list)
        .post("/api/trunks", "Create a trunk (trunk_groups: [ids] joins groups)", doc, create)
        .post("/api/trunks/import", "Import trunks (all or none)", Doc::Props(&[("trunks", "array")]), import)
        .get("/api/trunks/{id}", "Get a trunk with its trunk groups", get_one)
        .put("/api/trunks/{id}", "Update a trunk (trunk_groups: [ids] replaces its groups)", doc, update)
        .delete("/api/trunks/{id}", "Delete a trunk", remove)
}
