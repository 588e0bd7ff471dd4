//! The IP blacklist at `/api/iptables`: rules kept in IP_RULES, shown as
//! iptables `-A INPUT ... -j DROP` specs; `engine::ipblock` decides from
//! the same rules what the SIP and RTP listeners drop.
//!
//! The blacklist acts on the whole server (the switch drops a blocked
//! source whichever workspace it would have reached), so it belongs to the
//! system workspace: only its members see the rules and only its admins
//! and owner change them; any other caller gets 403. Every rule in force is
//! listed, whichever workspace's row holds it.
//!
//! A rule is its source (address or CIDR block), port and protocol; the
//! name is a label. Adding a rule that already exists changes nothing but
//! its name and succeeds (as `iptables -C || iptables -A` would); removing
//! one that does not exist is a 404.

use axum::extract::State;
use engine::ipblock::{self, Rule};
use serde_json::{json, Value as Json};
use store::schema::IP_RULES;
use store::{Key, Kind, Record, Scope, Value};

use crate::auth::{Caller, Role};
use crate::crud::pbx::{context, ok};
use crate::crud::{self, Cx};
use crate::error::{ApiError, FieldError};
use crate::extract::Json as Body;
use crate::input::convert;
use crate::routes::{Api, Body as Doc, Reply};
use crate::service::identity;
use crate::state::AppState;

const BODY: Doc = Doc::Props(&[
    ("target_ip", "string"),
    ("target_name", "string"),
    ("target_port", "string"),
    ("target_protocol", "string"),
]);

/// iptables limits a comment to 256 characters.
const MAX_NAME: usize = 256;

/// A rule as a request gives it.
struct Asked {
    rule: Rule,
    name: String,
}

fn text<'a>(body: &'a Json, field: &str, errors: &mut Vec<FieldError>) -> Option<&'a str> {
    match body.get(field) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.as_str()),
        Some(_) => {
            errors.push(FieldError { field: field.into(), message: "must be a string".into() });
            None
        }
    }
}

/// Reads and checks `{target_ip, target_name, target_port, target_protocol}`.
fn asked(body: &Json) -> Result<Asked, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid("the body must be a JSON object"));
    }
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    let mut found = Vec::new();
    let ip = text(body, "target_ip", &mut found).unwrap_or("");
    let name = text(body, "target_name", &mut found).unwrap_or("").trim().to_owned();
    let protocol = text(body, "target_protocol", &mut found).unwrap_or("all");
    let net = match ip.trim() {
        "" => {
            fail("target_ip", "is required".into());
            None
        }
        ip => ipblock::parse_net(ip).map_err(|e| fail("target_ip", e.to_string())).ok(),
    };
    let port = match body.get("target_port") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s.trim().is_empty() => None,
        Some(raw) => match convert(raw, Kind::Int) {
            Ok(Value::Int(p)) if (1..=65535).contains(&p) => u16::try_from(p).ok(),
            _ => {
                fail("target_port", "must be a port from 1 to 65535".into());
                None
            }
        },
    };
    let protocol =
        protocol.parse().map_err(|e: ipblock::RuleError| fail("target_protocol", e.to_string())).ok();
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        fail("target_name", format!("must be at most {MAX_NAME} characters, without control characters"));
    }
    errors.extend(found);
    match (net, protocol) {
        (Some(net), Some(protocol)) if errors.is_empty() => {
            Ok(Asked { rule: Rule { net, port, protocol }, name })
        }
        _ => Err(ApiError::fields(errors)),
    }
}

/// A stored rule as the engine reads it.
fn rule_of(rec: &Record) -> Option<Rule> {
    let port = rec.int("target_port").map(|p| p.to_string());
    Rule::parse(rec.text("target_ip"), port.as_deref(), rec.text("target_protocol")).ok()
}

/// What a caller with at least `role` in the system workspace may do.
async fn system<'a>(state: &'a AppState, caller: &Caller, role: Role) -> Result<Cx<'a>, ApiError> {
    identity::require_system(state, caller, role).await?;
    context(state, caller, role)
}

/// Every rule in force, each with its record.
async fn rules(cx: &Cx<'_>) -> Result<Vec<(Record, Rule)>, ApiError> {
    let records = crud::all(cx.state, &IP_RULES, Scope::Global, Vec::new()).await?;
    Ok(records.into_iter().filter_map(|rec| rule_of(&rec).map(|rule| (rec, rule))).collect())
}

/// `GET /api/iptables`: every rule as `{chain, rule_spec}`.
async fn list(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Json>, ApiError> {
    let cx = system(&state, &caller, Role::Member).await?;
    let data: Vec<Json> = rules(&cx)
        .await?
        .iter()
        .flat_map(|(rec, rule)| rule.specs(rec.text("target_name")))
        .map(|spec| json!({"chain": "-A", "rule_spec": spec}))
        .collect();
    Ok(ok(Json::Array(data)))
}

/// `POST /api/iptables/add_rule`.
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = system(&state, &caller, Role::Admin).await?;
    let asked = asked(&body)?;
    match rules(&cx).await?.into_iter().find(|(_, rule)| *rule == asked.rule) {
        Some((rec, _)) if !asked.name.is_empty() && rec.text("target_name") != asked.name => {
            let values = vec![("target_name", Value::Text(asked.name))];
            crud::update(&state, &IP_RULES, Scope::Global, &rec, values).await?;
        }
        Some(_) => {}
        None => {
            let Rule { net, port, protocol } = asked.rule;
            let values = vec![
                ("target_ip", Value::Text(net.to_string())),
                ("target_name", Value::Text(asked.name)),
                ("target_port", port.map_or(Value::Null, |p| Value::Int(i64::from(p)))),
                ("target_protocol", Value::from(protocol.as_str())),
            ];
            crud::create(&state, &IP_RULES, cx.scope, values).await?;
        }
    }
    Ok(ok(json!(true)))
}

/// `POST /api/iptables/clean_drop_rule`.
async fn clean(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Json>,
) -> Result<axum::Json<Json>, ApiError> {
    let cx = system(&state, &caller, Role::Admin).await?;
    let asked = asked(&body)?;
    let (rec, _) = rules(&cx)
        .await?
        .into_iter()
        .find(|(_, rule)| *rule == asked.rule)
        .ok_or_else(|| ApiError::not_found("IP rule"))?;
    state.db.delete(&IP_RULES, Scope::Global, &Key::Id(rec.id)).await?;
    Ok(ok(json!(true)))
}

/// The IP blacklist routes.
pub fn routes() -> Api {
    Api::new()
        .get("/api/iptables", "List the IP blacklist as iptables rules", list)
        .reply(Reply::Schema(crate::pbx::replies::ok_rows))
        .post("/api/iptables/add_rule", "Block a source (address or CIDR, port, protocol)", BODY, add)
        .reply(Reply::Schema(crate::pbx::replies::ok_true))
        .post("/api/iptables/clean_drop_rule", "Unblock a source", BODY, clean)
        .reply(Reply::Schema(crate::pbx::replies::ok_true))
}
