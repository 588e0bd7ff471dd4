//! Live call legs: `GET /api/channels` in the seed's shape and
//! `DELETE /api/channels/{uuid}` to hang one up.

use axum::extract::State;
use serde_json::{json, Value as Json};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::Api;
use crate::state::AppState;
use crate::view::plain_time;

/// Their routes.
pub fn routes() -> Api {
    Api::new().get("/api/channels", "List live call legs", list).delete(
        "/api/channels/{uuid}",
        "Hang up a call",
        hangup,
    )
}

fn view(c: &engine::calls::Channel) -> Json {
    json!({
        "uuid": c.uuid,
        "direction": c.direction,
        "created": plain_time(c.created_ms),
        "created_epoch": (c.created_ms / 1000).to_string(),
        "name": c.name,
        "state": if c.callstate == "ACTIVE" { "CS_EXCHANGE_MEDIA" } else { "CS_ROUTING" },
        "cid_name": c.cid_name,
        "cid_num": c.cid_num,
        "ip_addr": c.ip_addr,
        "dest": c.dest,
        "application": if c.direction == "inbound" { "bridge" } else { "" },
        "application_data": "",
        "dialplan": "XML",
        "context": c.context,
        "read_codec": c.codec,
        "read_rate": "8000",
        "read_bit_rate": "64000",
        "write_codec": c.codec,
        "write_rate": "8000",
        "write_bit_rate": "64000",
        "secure": "",
        "hostname": "calliope",
        "presence_id": "",
        "presence_data": "",
        "accountcode": if c.direction == "inbound" { c.cid_num.clone() } else { String::new() },
        "callstate": c.callstate,
        "callee_name": c.callee_num,
        "callee_num": c.callee_num,
        "callee_direction": "SEND",
        "call_uuid": c.call_uuid,
        "sent_callee_name": c.callee_num,
        "sent_callee_num": c.callee_num,
        "initial_cid_name": c.cid_name,
        "initial_cid_num": c.cid_num,
        "initial_ip_addr": c.ip_addr,
        "initial_dest": c.dest,
        "initial_dialplan": "XML",
        "initial_context": c.context,
    })
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    Ok(axum::Json(Json::Array(state.channels.of(ws).iter().map(view).collect())))
}

async fn hangup(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?.id;
    if state.channels.command(ws, &uuid, engine::calls::Command::Hangup) {
        Ok(axum::Json(json!({"code": 200, "message": "success", "data": uuid})))
    } else {
        Err(ApiError::not_found("channel"))
    }
}
