//! `/v2/applications`: create, list (HAL), get, update and delete, over the
//! same applications Fonoster serves.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use store::schema::APPLICATIONS;
use store::{Key, Query, Record, Scope, Value, Values};

use super::capabilities;
use super::keys;
use super::links;
use crate::auth::{Caller, Role};
use crate::crud;
use crate::error::{ApiError, FieldError};
use crate::extract::{Json as Body, Path, Query as Params};
use crate::state::AppState;

type Answer = Result<axum::Json<Json>, ApiError>;

/// An application as Vonage shows it.
fn view(rec: &Record) -> Map<String, Json> {
    let public_key = Some(rec.text("public_key")).filter(|k| !k.is_empty());
    let mut out = Map::new();
    out.insert("id".into(), json!(rec.r#ref));
    out.insert("name".into(), json!(rec.text("name")));
    out.insert("capabilities".into(), capabilities::render(rec.text("capabilities"), rec.text("endpoint")));
    out.insert("keys".into(), json!({ "public_key": public_key }));
    out
}

/// What a create or update body says.
struct Request {
    values: Values,
    /// Whether a public key was given.
    has_key: bool,
}

/// Reads `{name, capabilities, keys: {public_key}}`; `name` is required
/// (Vonage requires it on update too), the rest optional.
fn read(body: &Json) -> Result<Request, ApiError> {
    let body = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
    let mut errors = Vec::new();
    let mut reject = |field: &str, message: &str| {
        errors.push(FieldError { field: field.to_owned(), message: message.to_owned() })
    };
    let mut values: Values = Vec::new();
    match body.get("name") {
        Some(Json::String(n)) if !n.trim().is_empty() => {
            values.push(("name", Value::Text(n.trim().to_owned())))
        }
        Some(Json::String(_)) | None | Some(Json::Null) => reject("name", "is required"),
        Some(_) => reject("name", "must be a string"),
    }
    let mut caps_errors = Vec::new();
    match body.get("capabilities") {
        None => {}
        Some(Json::Null) => {
            values.push(("capabilities", Value::Null));
            values.push(("endpoint", Value::Text(String::new())));
        }
        Some(raw) => match capabilities::parse(raw) {
            Ok(parsed) => {
                values.push(("capabilities", Value::Text(Json::Object(parsed.stored).to_string())));
                values.push(("endpoint", Value::Text(parsed.answer_url)));
            }
            Err(e) => caps_errors = e,
        },
    }
    let mut has_key = false;
    match body.get("keys") {
        None | Some(Json::Null) => {}
        Some(Json::Object(k)) => match k.get("public_key") {
            None | Some(Json::Null) => {}
            Some(Json::String(pem)) => match keys::public_key(pem) {
                Ok(pem) => {
                    has_key = true;
                    values.push(("public_key", Value::Text(pem)));
                }
                Err(m) => reject("keys.public_key", &m),
            },
            Some(_) => reject("keys.public_key", "must be a string (PEM)"),
        },
        Some(_) => reject("keys", "must be an object"),
    }
    errors.extend(caps_errors);
    if errors.is_empty() {
        Ok(Request { values, has_key })
    } else {
        Err(ApiError::fields(errors))
    }
}

/// `POST /v2/applications`: 201 with the application; when no public key
/// was given, a new key pair, whose private key is shown this once.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<(StatusCode, axum::Json<Json>), ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Admin)?.id);
    let Request { mut values, has_key } = read(&body)?;
    let private_key = if has_key {
        None
    } else {
        let pair = keys::generate().await?;
        values.push(("public_key", Value::Text(pair.public_pem)));
        Some(pair.private_pem)
    };
    let rec = crud::create(&state, &APPLICATIONS, scope, values).await?;
    let mut out = view(&rec);
    if let (Some(private_key), Some(Json::Object(k))) = (private_key, out.get_mut("keys")) {
        k.insert("private_key".into(), json!(private_key));
    }
    Ok((StatusCode::CREATED, axum::Json(Json::Object(out))))
}

/// Vonage paging: `page_size` and `page` (from 1). Vonage documents the
/// default page size (10) but no bound; we take at most 100, as its own
/// clients ask for at most that many.
#[derive(Debug, Deserialize)]
pub(super) struct Paging {
    page_size: Option<u64>,
    page: Option<u64>,
}

/// Most applications on one page.
const MAX_PAGE_SIZE: u64 = 100;

/// `GET /v2/applications`: one HAL page.
pub(super) async fn list(State(state): State<AppState>, caller: Caller, Params(p): Params<Paging>) -> Answer {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    let size = p.page_size.unwrap_or(10);
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ApiError::field("page_size", format!("must be between 1 and {MAX_PAGE_SIZE}")));
    }
    let page = p.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::field("page", "must be 1 or more"));
    }
    let query = Query { limit: Some(size), offset: (page - 1).saturating_mul(size), ..Query::default() };
    let result = state.db.list(&APPLICATIONS, scope, &query).await?;
    let apps: Vec<Json> = result.records.iter().map(|r| Json::Object(view(r))).collect();
    Ok(axum::Json(json!({
        "page_size": size,
        "page": page,
        "total_items": result.total,
        "total_pages": result.total.div_ceil(size),
        "_embedded": {"applications": apps},
        "_links": links::page_links("/v2/applications", page, size, result.total),
    })))
}

/// `GET /v2/applications/{id}`.
pub(super) async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    let scope = Scope::Workspace(caller.require(Role::Member)?.id);
    let rec = state.db.get(&APPLICATIONS, scope, &Key::Ref(id)).await?;
    Ok(axum::Json(Json::Object(view(&rec))))
}

/// `GET /v2/applications/{id}/webhook-secret`: the secret that signs the
/// application's webhooks (admins only).
pub(super) async fn webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer {
    let ws = caller.require(Role::Admin)?.id;
    let secret = crate::service::webhooks::application_secret(&state, ws, &id).await?;
    Ok(axum::Json(json!({"id": id, "webhook_secret": secret, "header": "X-Calliope-Signature"})))
}

/// The webhook secret's body.
pub(super) fn secret_schema() -> Json {
    json!({
        "type": "object",
        "required": ["id", "webhook_secret", "header"],
        "properties": {
            "id": {"type": "string"},
            "webhook_secret": {"type": "string"},
            "header": {"type": "string"},
        },
    })
}

/// `PUT /v2/applications/{id}`: `name` and whatever else is given.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Json>,
) -> Answer {
    let scope = Scope::Workspace(caller.require(Role::Admin)?.id);
    let rec = state.db.get(&APPLICATIONS, scope, &Key::Ref(id)).await?;
    let Request { values, .. } = read(&body)?;
    let rec = crud::update(&state, &APPLICATIONS, scope, &rec, values).await?;
    Ok(axum::Json(Json::Object(view(&rec))))
}

/// `DELETE /v2/applications/{id}`: 204 with no body.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let scope = Scope::Workspace(caller.require(Role::Admin)?.id);
    state.db.delete(&APPLICATIONS, scope, &Key::Ref(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The schema of an application as [`view`] shows it.
pub(super) fn schema() -> Json {
    json!({
        "type": "object",
        "required": ["id", "name", "capabilities", "keys"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "capabilities": {"type": "object"},
            "keys": {"type": "object", "required": ["public_key"],
                "properties": {"public_key": {"type": ["string", "null"]}}},
        },
    })
}

/// A created application: its new private key is shown once when none was
/// given.
pub(super) fn created_schema() -> Json {
    let mut s = schema();
    s["properties"]["keys"]["properties"]["private_key"] = json!({"type": "string"});
    s
}

/// One HAL page of applications.
pub(super) fn page_schema() -> Json {
    let mut page = crate::openapi::schema::page(crate::dialect::Dialect::Vonage, schema());
    page["properties"]["_links"] = links::schema();
    if let Some(required) = page["required"].as_array_mut() {
        required.push(json!("_links"));
    }
    page
}
