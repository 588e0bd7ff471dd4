//! Rendering records in each dialect's shape: one generic view per dialect
//! instead of one per resource.

use serde_json::{json, Map, Value as Json};
use store::{Kind, Millis, Record, Resource, Value};

use crate::dialect::{camel, Dialect};

/// RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map_or_else(|_| String::new(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as the PBX and VoIPstudio dialects show time.
pub fn plain_time(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map_or_else(|_| String::new(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
}

fn time(dialect: Dialect, ms: Millis) -> Json {
    match dialect {
        Dialect::Fonoster | Dialect::Vonage => Json::String(rfc3339(ms)),
        Dialect::Pbx | Dialect::VoipStudio => Json::String(plain_time(ms)),
    }
}

/// One stored value as `dialect` shows a field of `kind`.
pub fn value(dialect: Dialect, kind: Kind, v: &Value) -> Json {
    match (kind, v) {
        (Kind::Text | Kind::Enum(_) | Kind::Json, Value::Null) if dialect == Dialect::Pbx => json!(""),
        (_, Value::Null) => Json::Null,
        (Kind::Time, Value::Int(ms)) => time(dialect, *ms),
        (Kind::Bool, Value::Int(b)) if dialect == Dialect::Pbx => json!(b),
        (Kind::Bool, Value::Int(b)) => Json::Bool(*b != 0),
        (Kind::Json, Value::Text(t)) => serde_json::from_str(t).unwrap_or(Json::Null),
        (_, Value::Int(i)) => json!(i),
        (_, Value::Float(f)) => json!(f),
        (_, Value::Text(t)) => Json::String(t.clone()),
    }
}

/// A record as `dialect` shows it: its id or ref, its visible fields with
/// the dialect's casing, and its times. References are shown as ids where
/// the dialect uses ids (PBX, VoIPstudio) and left to the dialect where it
/// shows refs.
pub fn render(dialect: Dialect, res: &Resource, rec: &Record) -> Map<String, Json> {
    let mut out = Map::new();
    let key = |name: &str| if dialect == Dialect::Fonoster { camel(name) } else { name.to_owned() };
    match dialect {
        Dialect::Fonoster => {
            out.insert("ref".into(), json!(rec.r#ref));
        }
        Dialect::Vonage => {
            out.insert("id".into(), json!(rec.r#ref));
        }
        Dialect::Pbx | Dialect::VoipStudio => {
            out.insert("id".into(), json!(rec.id));
        }
    }
    let by_id = matches!(dialect, Dialect::Pbx | Dialect::VoipStudio);
    for f in res.fields.iter().filter(|f| !f.hidden && (by_id || !matches!(f.kind, Kind::Ref(_)))) {
        out.insert(key(f.name), value(dialect, f.kind, rec.get(f.name)));
    }
    out.insert(key("created_at"), time(dialect, rec.created_at));
    out.insert(key("updated_at"), time(dialect, rec.updated_at));
    if dialect == Dialect::Pbx {
        out.insert("deleted_at".into(), json!(""));
    }
    out
}
