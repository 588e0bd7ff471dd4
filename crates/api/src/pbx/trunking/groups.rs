//! Trunk groups at `/api/trunk_groups` (`RR` round-robin or `WEIGHT`),
//! their member trunks, and `/api/trunk_groups/status`: one row per member
//! trunk, in the dispatcher-style shape the seed shows.

use axum::extract::State;
use serde_json::{json, Value as Json};
use store::schema::{ROUTE_CODES, TRUNKS, TRUNK_GROUPS, TRUNK_GROUP_MEMBERS};
use store::{Filter, Record};

use super::members::{self, Side};
use crate::auth::{Caller, Role};
use crate::crud;
use crate::crud::pbx::{context, ok, route_list, route_remove, values, view, PbxSpec};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path, Query};
use crate::input::Casing;
use crate::list::{pbx_page, PbxPaging};
use crate::pbx::check;
use crate::pbx::checked::Checked;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;
use crate::view::render;
use engine::trunks::spec::ping_param;
use engine::trunks::{PingStatus, TrunkStatus};

const FIELDS: &[&str] = &["name", "description", "strategy", "params"];

static SPEC: PbxSpec = PbxSpec {
    res: &TRUNK_GROUPS,
    create: FIELDS,
    update: FIELDS,
    filters: &[],
    parent: None,
    rules: &Checked { checks: &[("params", check::json_object)], hidden: &[], flags: &[] },
};

/// `strategy` in upper case, as stored (`rr` is `RR`).
fn normalize(body: &mut Json) {
    if let Some(Json::String(s)) = body.get_mut("strategy") {
        *s = s.trim().to_ascii_uppercase();
    }
}

/// `GET /api/trunk_groups/{id}`: the group with its route codes and trunks.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let rec = crud::by_id(&state, &TRUNK_GROUPS, cx.scope, &id).await?;
    let mut out = view(&cx, &SPEC, &rec).await?;
    let codes = crud::all(&state, &ROUTE_CODES, cx.scope, vec![Filter::eq("tg_id", rec.id)]).await?;
    let codes: Vec<Json> =
        codes.iter().map(|c| Json::Object(render(Dialect::Pbx, &ROUTE_CODES, c))).collect();
    out.insert("route_codes".into(), Json::Array(codes));
    out.insert(Side::Group.key().to_owned(), members::shown(&cx, Side::Group, rec.id).await?);
    Ok(axum::Json(Json::Object(out)))
}

/// `POST /api/trunk_groups`: answers the new id as a string, as the seed
/// does.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(mut body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    normalize(&mut body);
    let values = values(&cx, &SPEC, &body, None).await?;
    let rec = members::create_owner(&cx, Side::Group, values, &body).await?;
    Ok(ok(json!(rec.id.to_string())))
}

/// `PUT /api/trunk_groups/{id}`: answers the bare `{"id":"<id>"}` the
/// seed shows.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(mut body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let rec = crud::by_id(&state, &TRUNK_GROUPS, cx.scope, &id).await?;
    normalize(&mut body);
    let values = values(&cx, &SPEC, &body, Some(&rec)).await?;
    members::update_owner(&cx, Side::Group, &rec, values, &body).await?;
    Ok(axum::Json(json!({"id": rec.id.to_string()})))
}

/// One status row. A trunk pinged with OPTIONS (a `ping` in its params)
/// shows what the pings say (`Active`/`AP` answered, `inactive`/`IP` not
/// answering, `trying`/`TP` before the first answer) and `ping: enabled`;
/// any other trunk's state follows its configuration: disabled when not
/// `enabled`, inactive when it has no remote address, Active otherwise. A
/// trunk whose pings have not started yet (just created) shows `trying`.
/// (The dispatcher flags: A active, I inactive, T trying, D disabled, P
/// probing, X not probing).
fn status_row(member: &Record, trunk: &Record, group: &Record, live: Option<&TrunkStatus>) -> Json {
    let host = check::host_of(trunk.text("remote_addr"));
    let pinged = live.is_some() || matches!(ping_param(trunk.text("params")), Ok(Some(_)));
    let (status, dflags) = if trunk.int("enabled") != Some(1) {
        ("disabled", "DX")
    } else if host.is_empty() {
        ("inactive", "IX")
    } else {
        match live.map(|t| t.ping.status) {
            Some(PingStatus::Up) => ("Active", "AP"),
            Some(PingStatus::Down) => ("inactive", "IP"),
            Some(PingStatus::Unknown) => ("trying", "TP"),
            None if pinged => ("trying", "TP"),
            None => ("Active", "AX"),
        }
    };
    let protocol = match trunk.text("protocol") {
        "" => "UDP",
        p => p,
    };
    let remote = match host.as_str() {
        "" => String::new(),
        h => format!("sip:{h};transport={protocol}"),
    };
    let mut attrs = String::from("cc=1;");
    if group.text("strategy") == "WEIGHT" {
        attrs.push_str(&format!("weight={};", member.int("weight").unwrap_or(0)));
    }
    json!({
        "description": trunk.text("description"),
        "group_name": group.text("name"),
        "status": status,
        "group_id": group.id.to_string(),
        "priority": member.int("priority").unwrap_or(0).to_string(),
        "remote_addr": remote,
        "dflags": dflags,
        "ping": if pinged { "enabled" } else { "disabled" },
        "flags": "0",
        "attrs": attrs,
    })
}

/// `GET /api/trunk_groups/status`: every group's member trunks, paged.
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Query(asked): Query<PbxPaging>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let paging = PbxPaging { page: asked.page, per_page: asked.per_page, ..PbxPaging::default() };
    let page = pbx_page(&state.db, &TRUNK_GROUP_MEMBERS, cx.scope, Vec::new(), &paging).await?;
    let mut data = Vec::with_capacity(page.records.len());
    for member in &page.records {
        let trunk = Filter::eq("id", member.int("trunk_id").unwrap_or_default());
        let group = Filter::eq("id", member.int("group_id").unwrap_or_default());
        let trunk = state.db.find(&TRUNKS, cx.scope, &[trunk]).await?;
        let group = state.db.find(&TRUNK_GROUPS, cx.scope, &[group]).await?;
        if let (Some(trunk), Some(group)) = (trunk, group) {
            let live = state.gateways.get().and_then(|g| g.trunk(trunk.id));
            data.push(status_row(member, &trunk, &group, live.as_ref()));
        }
    }
    Ok(axum::Json(page.envelope(data)))
}

/// The trunk group routes.
pub fn routes() -> Api {
    let doc = Doc::Fields(&TRUNK_GROUPS, FIELDS, Casing::Snake);
    let api = route_list(Api::new(), "/api/trunk_groups", "List trunk groups", &SPEC)
        .post("/api/trunk_groups", "Create a trunk group (trunks: [ids] adds members)", doc, create)
        .reply(Reply::Changed)
        .get("/api/trunk_groups/status", "The status of every group's trunks", status)
        .reply(Reply::Schema(crate::pbx::replies::rows_page))
        .get("/api/trunk_groups/{id}", "Get a trunk group with its route codes and trunks", get_one)
        .reply(Reply::Record(&TRUNK_GROUPS))
        .put(
            "/api/trunk_groups/{id}",
            "Update a trunk group (trunks: [ids] replaces its members)",
            doc,
            update,
        )
        .reply(Reply::Schema(crate::pbx::replies::id_text));
    route_remove(api, "/api/trunk_groups/{id}", "Delete a trunk group", &SPEC)
}
