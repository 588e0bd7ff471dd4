//! Numbers: a phone number (`telUrl`, stored as `line_number`, which the
//! PBX's hotlines share) and where its calls go (`ingressHandler`, an
//! agent or an application).

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use store::{Record, Value, Values};

use super::checks;
use super::shape::{check_text, resolve};
use crate::crud::values::set;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};
use crate::openapi::schema;
use crate::routes::Prop;

/// The number rules.
pub struct Numbers;

/// The ingress handler types and the field and table each is kept in.
const HANDLERS: &[(&str, &str, &str)] =
    &[("AGENT", "agent_id", "agents"), ("APPLICATION", "application_id", "applications")];

/// Reads `ingressHandler` into `agent_id` / `application_id`: one is
/// set, the other cleared; `null` clears both.
async fn ingress(
    cx: &Cx<'_>,
    input: &mut Input<'_>,
    raw: Option<&Json>,
    values: &mut Values,
) -> Result<(), ApiError> {
    let handler = match raw {
        None => return Ok(()),
        Some(Json::Null) => None,
        Some(Json::Object(o)) => Some(o),
        Some(_) => {
            input.reject("ingressHandler", "must be an object {type, ref}");
            return Ok(());
        }
    };
    let mut chosen = None;
    if let Some(o) = handler {
        let kind = o.get("type").and_then(Json::as_str).unwrap_or("");
        let Some(&(_, field, table)) = HANDLERS.iter().find(|(k, _, _)| *k == kind) else {
            input.reject("ingressHandler.type", "must be one of AGENT, APPLICATION");
            return Ok(());
        };
        let Some(r) = o.get("ref").and_then(Json::as_str).filter(|r| !r.trim().is_empty()) else {
            input.reject("ingressHandler.ref", "is required");
            return Ok(());
        };
        match resolve(cx, table, r.trim()).await? {
            Ok(id) => chosen = Some((field, id)),
            Err(m) => {
                input.reject("ingressHandler.ref", m);
                return Ok(());
            }
        }
    }
    for &(_, field, _) in HANDLERS {
        let value = match chosen {
            Some((f, id)) if f == field => Value::Int(id),
            _ => Value::Null,
        };
        set(values, field, value);
    }
    Ok(())
}

/// Reads the SDK's `appRef`, the application as ingress handler: a ref
/// sets it (and clears an agent), `null` or `""` clears it.
async fn app_ref(
    cx: &Cx<'_>,
    input: &mut Input<'_>,
    raw: Option<&Json>,
    values: &mut Values,
) -> Result<(), ApiError> {
    match raw {
        None => {}
        Some(Json::Null) => set(values, "application_id", Value::Null),
        Some(Json::String(r)) if r.trim().is_empty() => set(values, "application_id", Value::Null),
        Some(Json::String(r)) => match resolve(cx, "applications", r.trim()).await? {
            Ok(id) => {
                set(values, "application_id", Value::Int(id));
                set(values, "agent_id", Value::Null);
            }
            Err(m) => input.reject("appRef", m),
        },
        Some(_) => input.reject("appRef", "must be the ref of an application"),
    }
    Ok(())
}

#[async_trait]
impl Rules for Numbers {
    /// `telUrl` (required on create) and `ingressHandler`.
    fn documented(&self, create: bool) -> Vec<Prop> {
        let kinds: Vec<&str> = HANDLERS.iter().map(|(k, _, _)| *k).collect();
        let handler = json!({
            "type": "object",
            "required": ["type", "ref"],
            "properties": {"type": {"type": "string", "enum": kinds}, "ref": schema::required_text()},
        });
        vec![
            Prop {
                name: "telUrl".into(),
                schema: json!({"type": "string", "minLength": 1, "examples": ["tel:+17853178070"]}),
                required: create,
            },
            Prop { name: "ingressHandler".into(), schema: schema::nullable(handler), required: false },
            Prop {
                name: "appRef".into(),
                schema: json!({"type": ["string", "null"], "description": "the application as ingress handler"}),
                required: false,
            },
        ]
    }

    async fn prepare(
        &self,
        cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let object = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
        let mut input = Input::new(body, Casing::Camel)?;
        match object.get("telUrl") {
            None | Some(Json::Null) if current.is_none() => input.reject("telUrl", "is required"),
            None => {}
            Some(Json::String(t)) => match checks::tel_url(t) {
                Ok(number) => set(values, "line_number", Value::Text(number)),
                Err(m) => input.reject("telUrl", m),
            },
            Some(_) => input.reject("telUrl", "must be a string"),
        }
        check_text(values, &mut input, "country_iso_code", "countryIsoCode", checks::country_code);
        ingress(cx, &mut input, object.get("ingressHandler"), values).await?;
        if !object.contains_key("ingressHandler") {
            app_ref(cx, &mut input, object.get("appRef"), values).await?;
        }
        input.finish()
    }

    async fn view(&self, _cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        out.insert("telUrl".into(), json!(format!("tel:{}", rec.text("line_number"))));
        let handler = [("AGENT", "agent"), ("APPLICATION", "application")].iter().find_map(|(kind, key)| {
            out.get(*key).and_then(|t| t.get("ref")).map(|r| json!({"type": kind, "ref": r}))
        });
        out.insert("ingressHandler".into(), handler.unwrap_or(Json::Null));
        let app = out.get("application").and_then(|a| a.get("ref")).cloned();
        out.insert("appRef".into(), app.unwrap_or(Json::Null));
        Ok(())
    }
}
