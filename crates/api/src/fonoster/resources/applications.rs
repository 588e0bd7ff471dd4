//! Applications: a voice webhook (`EXTERNAL`) or an LLM-driven agent
//! (`AUTOPILOT`), with text-to-speech, speech-to-text and intelligence
//! settings kept as given, except `intelligence.credentials`, which is
//! sealed apart and never shown. Also the test token of an application.
//!
//! The test token (`POST /v1beta2/applications/{ref}/test-token`) lets a
//! browser phone call the application: `username` is a fresh `test-<hex>`
//! name, `domain` the workspace's first SIP domain (or, when it has none,
//! `<access key id>.sip.calliope.local`), `targetAor` the test user's
//! address `sip:<username>@<domain>`, `signalingServer` `wss://<domain>`,
//! and `token` a JWT signed with the API's key whose subject is the
//! application's ref (`kind` `application`, `typ` `test`, `name` the
//! address) and which expires with the access-token lifetime. It is not an
//! access token: the API refuses it.

use async_trait::async_trait;
use axum::extract::State;
use serde_json::{json, Map, Value as Json};
use store::schema::{APPLICATIONS, DOMAINS};
use store::{Key, Record, Scope, Value, Values};

use super::checks;
use super::shape::check_text;
use crate::auth::jwt::Claims;
use crate::auth::{secret, Caller, Role};
use crate::crud::values::{after, set, touches};
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::extract::Path;
use crate::input::{Casing, Input};
use crate::state::AppState;

/// The application rules.
pub struct Applications;

/// The settings objects an application keeps as given.
const SETTINGS: &[&str] = &["textToSpeech", "speechToText", "intelligence"];

/// Checks one settings object: `productRef` a string, `config` an object.
fn check_settings(input: &mut Input<'_>, wire: &str, raw: Option<&Json>) {
    match raw {
        None | Some(Json::Null) => {}
        Some(Json::Object(o)) => {
            if o.get("productRef").is_some_and(|p| !p.is_string() && !p.is_null()) {
                input.reject(&format!("{wire}.productRef"), "must be a string");
            }
            if o.get("config").is_some_and(|c| !c.is_object() && !c.is_null()) {
                input.reject(&format!("{wire}.config"), "must be an object");
            }
        }
        Some(_) => input.reject(wire, "must be an object"),
    }
}

/// Stores `intelligence` without its credentials and the credentials
/// sealed. Without a `credentials` key the sealed ones are kept; `null`
/// removes them.
fn seal_intelligence(
    cx: &Cx<'_>,
    input: &mut Input<'_>,
    raw: Option<&Json>,
    values: &mut Values,
) -> Result<(), ApiError> {
    const SEALED: &str = "intelligence_credentials_enc";
    match raw {
        Some(Json::Object(o)) => {
            let mut shown = o.clone();
            match shown.remove("credentials") {
                None => {}
                Some(Json::Null) => set(values, SEALED, Value::Null),
                Some(c @ Json::Object(_)) => {
                    set(values, SEALED, Value::Text(cx.state.sealer.seal(&c.to_string())?))
                }
                Some(_) => input.reject("intelligence.credentials", "must be an object"),
            }
            set(values, "intelligence", Value::Text(Json::Object(shown).to_string()));
        }
        Some(Json::Null) => set(values, SEALED, Value::Null),
        _ => {}
    }
    Ok(())
}

#[async_trait]
impl Rules for Applications {
    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let object = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
        let mut input = Input::new(body, Casing::Camel)?;
        check_text(values, &mut input, "endpoint", "endpoint", checks::http_url);
        for wire in SETTINGS {
            check_settings(&mut input, wire, object.get(*wire));
        }
        seal_intelligence(cx, &mut input, object.get("intelligence"), values)?;
        input.finish()?;
        let create = current.is_none();
        let kind = after(values, current, "type");
        let kind = kind.as_str().unwrap_or("EXTERNAL");
        if kind == "AUTOPILOT"
            && (create || touches(values, "type") || touches(values, "intelligence"))
            && after(values, current, "intelligence") == Value::Null
        {
            return Err(ApiError::field("intelligence", "is required for AUTOPILOT applications"));
        }
        if kind == "EXTERNAL"
            && (create || touches(values, "type") || touches(values, "endpoint"))
            && after(values, current, "endpoint").as_str().is_none_or(|e| e.trim().is_empty())
        {
            return Err(ApiError::field("endpoint", "is required for EXTERNAL applications"));
        }
        Ok(())
    }

    async fn view(&self, _cx: &Cx<'_>, _rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        if out.get("type").is_none_or(Json::is_null) {
            out.insert("type".into(), json!("EXTERNAL"));
        }
        Ok(())
    }
}

/// The SIP domain of a workspace, for test tokens.
async fn workspace_domain(state: &AppState, ws: &Record) -> Result<String, ApiError> {
    let first = state.db.find(&DOMAINS, Scope::Workspace(ws.id), &[]).await?;
    Ok(match first {
        Some(d) => d.text("domain_uri").to_owned(),
        None => format!("{}.sip.calliope.local", ws.text("access_key_id").to_ascii_lowercase()),
    })
}

/// `GET /v1beta2/applications/{ref}/webhook-secret`: the secret that signs
/// the application's webhooks (admins only).
pub(super) async fn webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Admin)?;
    let secret = crate::service::webhooks::application_secret(&state, ws.id, &r).await?;
    Ok(axum::Json(json!({"ref": r, "webhookSecret": secret, "header": "X-Calliope-Signature"})))
}

/// `POST /v1beta2/applications/{ref}/test-token`.
pub(super) async fn test_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(r): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let ws = caller.require(Role::Member)?;
    let app = state.db.get(&APPLICATIONS, Scope::Workspace(ws.id), &Key::Ref(r)).await?;
    let domain = workspace_domain(&state, ws).await?;
    let username = format!("test-{}", secret::random_hex(4));
    let aor = format!("sip:{username}@{domain}");
    let now = state.now() / 1000;
    let claims = Claims {
        iss: "calliope".into(),
        sub: app.r#ref.clone(),
        kind: "application".into(),
        typ: "test".into(),
        iat: now,
        exp: now + state.settings.access_token_ttl_secs,
        jti: uuid::Uuid::new_v4().to_string(),
        fam: None,
        email: None,
        name: Some(aor.clone()),
        gen: None,
    };
    let token = state.keys.sign(&claims).map_err(ApiError::internal)?;
    Ok(axum::Json(json!({
        "domain": domain,
        "displayName": "Test User",
        "signalingServer": format!("wss://{domain}"),
        "targetAor": aor,
        "username": username,
        "token": token,
    })))
}
