//! DOD numbers at `/api/dods`: the caller number an extension shows when
//! it calls out through a gateway. The body names the extension (`extn`,
//! an agent's username) and the gateway (`name`); they are resolved to
//! `extn_id` and `ref_id`, and unknown ones are refused.

use async_trait::async_trait;
use axum::extract::State;
use serde_json::Value as Json;
use store::schema::{AGENTS, DODS, GATEWAYS};
use store::{given, Filter, Record, Value, Values};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok, register, views, PbxSpec};
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::extract::Json as Body;
use crate::pbx::check;
use crate::pbx::import::{self, Columns};
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const FIELDS: &[&str] = &["extn", "line_number", "type", "name"];

static SPEC: PbxSpec = PbxSpec {
    res: &DODS,
    create: FIELDS,
    update: FIELDS,
    filters: &["extn", "line_number"],
    parent: None,
    rules: &DodRules,
};

/// The seed's import columns.
const COLUMNS: Columns = Columns {
    key: "dods",
    map: &[("分机", "extn"), ("线路号码", "line_number"), ("资源类型", "type"), ("资源名", "name")],
};

struct DodRules;

/// The value `name` will have: the one given, or the current one.
fn after(values: &Values, current: Option<&Record>, name: &str) -> String {
    match given(values, name) {
        Value::Text(t) => t.trim().to_owned(),
        _ => current.map(|r| r.text(name).to_owned()).unwrap_or_default(),
    }
}

#[async_trait]
impl Rules for DodRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        _body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        check::run(values, &[("line_number", check::phone_number)])?;
        let db = &cx.state.db;
        if current.is_none() || *given(values, "extn") != Value::Null {
            let extn = after(values, current, "extn");
            let agent = db.find(&AGENTS, cx.scope, &[Filter::eq("username", extn.as_str())]).await?;
            let agent = agent
                .ok_or_else(|| ApiError::field("extn", format!("no extension (agent) '{extn}' exists")))?;
            values.push(("extn_id", Value::Int(agent.id)));
        }
        let touched = ["name", "type"].iter().any(|n| *given(values, n) != Value::Null);
        if current.is_none() || touched {
            let name = after(values, current, "name");
            if name.is_empty() {
                return Err(ApiError::field("name", "is required: the name of the gateway"));
            }
            let target = match after(values, current, "type").as_str() {
                "GATEWAY" => db.find(&GATEWAYS, cx.scope, &[Filter::eq("name", name.as_str())]).await?,
                // Calliope keeps no distributors, so none can be named.
                _ => None,
            };
            let target = target.ok_or_else(|| {
                let ty = after(values, current, "type").to_lowercase();
                ApiError::field("name", format!("no {ty} named '{name}' exists"))
            })?;
            values.retain(|(n, _)| *n != "name");
            values.push(("name", Value::Text(name)));
            values.push(("ref_id", Value::Int(target.id)));
        }
        Ok(())
    }
}

/// `POST /api/dods/import`: every row or none; answers the created rows.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Admin)?;
    let records = import::import(&cx, &SPEC, &COLUMNS, &body, import::as_sent).await?;
    Ok(ok(Json::Array(views(&cx, &SPEC, &records).await?)))
}

/// The DOD routes: list (filters `extn`, `line_number`), create, get,
/// update, delete, import.
pub fn routes() -> Api {
    let api = Api::new()
        .post(
            "/api/dods/import",
            "Import DOD numbers (all or none)",
            Doc::Props(&[("dods", "array")]),
            import,
        )
        .reply(Reply::Schema(crate::pbx::replies::ok_rows));
    register(api, "/api/dods", &SPEC)
}
