//! SIP gateways (`/api/gateways`): the password is sealed and never
//! shown, one gateway is shown with its params and variables, and the
//! wanted registration state follows `register`.

use async_trait::async_trait;
use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::GATEWAYS;
use store::{Record, Value, Values};

use super::gateway_parts::{PARAMS_OF, VARIABLES_OF};
use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, route_create, route_list, route_remove, route_update, view, PbxSpec};
use crate::crud::values::after;
use crate::crud::{self, Cx, Rules};
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::{Api, Body as Doc, Reply};
use crate::state::AppState;

const FIELDS: &[&str] = &["name", "realm", "username", "profile_id", "register", "description", "template"];

/// The gateways as the PBX serves them.
pub static GATEWAY: PbxSpec = PbxSpec {
    res: &GATEWAYS,
    create: FIELDS,
    update: FIELDS,
    filters: &["name", "register", "state"],
    parent: None,
    rules: &GatewayRules,
};

struct GatewayRules;

/// The state a gateway that is not stopped should be in.
pub fn wanted_state(register: &str) -> &'static str {
    if register == "yes" {
        "TRYING"
    } else {
        "NOREG"
    }
}

fn check_realm(realm: &str) -> Result<(), ApiError> {
    let bad = || ApiError::field("realm", "must be a host or host:port");
    if realm.chars().any(char::is_whitespace) || realm.contains('/') {
        return Err(bad());
    }
    if let Some((host, port)) = realm.rsplit_once(':').filter(|_| realm.matches(':').count() == 1) {
        if host.is_empty() || !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return Err(bad());
        }
    }
    Ok(())
}

#[async_trait]
impl Rules for GatewayRules {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        if let Some(name) = store::given(values, "name").as_str() {
            if name.chars().any(|c| c.is_whitespace() || c == '/') {
                return Err(ApiError::field("name", "may not hold spaces or /"));
            }
        }
        if let Some(realm) = store::given(values, "realm").as_str() {
            check_realm(realm.trim())?;
        }
        match body.get("password") {
            None | Some(Json::Null) => {}
            Some(Json::String(p)) if p.is_empty() => values.push(("password_enc", Value::from(""))),
            Some(Json::String(p)) => values.push(("password_enc", Value::from(cx.state.sealer.seal(p)?))),
            Some(_) => return Err(ApiError::field("password", "must be a string")),
        }
        let stopped = current.is_some_and(|c| c.text("state") == "STOPPED");
        if (current.is_none() || values.iter().any(|(n, _)| *n == "register")) && !stopped {
            let register = after(values, current, "register");
            let state = wanted_state(register.as_str().unwrap_or("no"));
            values.push(("state", Value::from(state)));
        }
        Ok(())
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        out.insert("password".into(), json!(""));
        Ok(())
    }
}

/// `GET /api/gateways/{id}`: the gateway with its params and variables.
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = context(&state, &caller, Role::Member)?;
    let rec = crud::by_id(&state, &GATEWAYS, cx.scope, &id).await?;
    let mut out = view(&cx, &GATEWAY, &rec).await?;
    out.insert("params".into(), Json::Array(PARAMS_OF.views(&cx, rec.id).await?));
    out.insert("variables".into(), Json::Array(VARIABLES_OF.views(&cx, rec.id).await?));
    Ok(axum::Json(Json::Object(out)))
}

/// Their routes.
pub fn routes() -> Api {
    let doc = Doc::Props(&[
        ("name", "string"),
        ("realm", "string"),
        ("username", "string"),
        ("password", "string"),
        ("profile_id", "integer"),
        ("register", "string"),
        ("description", "string"),
        ("template", "string"),
    ]);
    let item = "/api/gateways/{id}";
    let api = route_list(Api::new(), "/api/gateways", "List gateways", &GATEWAY);
    let api = route_create(api, "/api/gateways", "Create a gateway", doc, &GATEWAY);
    let api =
        api.get(item, "Get a gateway with its params and variables", get_one).reply(Reply::Record(&GATEWAYS));
    let api = route_update(api, item, "Update a gateway", doc, &GATEWAY);
    // Deleting takes its params and variables with it; the store refuses
    // while a route or DOD number uses it.
    route_remove(api, item, "Delete a gateway", &GATEWAY)
}
