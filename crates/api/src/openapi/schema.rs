//! JSON schemas of fields and records, from the resource descriptions: what
//! [`crate::input`] accepts for a field, and what [`crate::view`] shows of
//! a record, in each dialect.

use serde_json::{json, Map, Value as Json};
use store::{Field, Kind, Resource};

use crate::crud::fonoster::ref_name;
use crate::dialect::{camel, Dialect};
use crate::input::Casing;
use crate::routes::Prop;

/// Text without NUL characters (the input refuses them).
const NO_NUL: &str = "^[^\\u0000]*$";
/// Text with something besides blanks, and without NUL characters.
const NOT_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// A schema that also allows `null`.
pub fn nullable(schema: Json) -> Json {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// Text that a required field takes: not empty, not only blanks.
pub fn required_text() -> Json {
    json!({"type": "string", "minLength": 1, "pattern": NOT_BLANK})
}

/// A reference as the Fonoster dialect writes it: the target's ref, or an
/// object with one.
pub fn ref_input() -> Json {
    json!({"anyOf": [
        required_text(),
        {"type": "object", "properties": {"ref": required_text()}, "required": ["ref"]},
    ]})
}

fn integer(field: &Field) -> Json {
    let mut schema = json!({"type": "integer"});
    if let Some((min, max)) = field.range {
        schema["minimum"] = json!(min);
        schema["maximum"] = json!(max);
    }
    schema
}

/// The schema of what [`crate::input::convert`] accepts for `field`. The
/// PBX and VoIPstudio (snake_case) dialects also take numbers and booleans
/// as strings, as the PBX examples send them.
fn input_kind(field: &Field, casing: Casing) -> Json {
    let lenient = casing == Casing::Snake;
    match field.kind {
        Kind::Int | Kind::Ref(_) if lenient => {
            json!({"anyOf": [integer(field), {"type": "string", "pattern": "^\\s*-?[0-9]{1,18}\\s*$"}]})
        }
        Kind::Int | Kind::Ref(_) => integer(field),
        Kind::Float if lenient => {
            json!({"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^\\s*-?[0-9]{1,15}(\\.[0-9]{1,6})?\\s*$"}]})
        }
        Kind::Float => json!({"type": "number"}),
        Kind::Bool if lenient => json!({"enum": [true, false, 0, 1, "0", "1", "true", "false"]}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Text => {
            let mut schema =
                if field.required { required_text() } else { json!({"type": "string", "pattern": NO_NUL}) };
            if let Some(max) = field.max_chars() {
                schema["maxLength"] = json!(max);
            }
            schema
        }
        Kind::Time => json!({"anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$"},
            {"type": "integer", "description": "milliseconds since 1970"},
        ]}),
        Kind::Json => json!({}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
    }
}

/// The wire name and request schema of `field`. In camelCase a reference
/// `domain_id` is written `domain` (a ref or `{ref}`).
pub fn input_field(field: &Field, casing: Casing) -> (String, Json) {
    let (name, schema) = match (field.kind, casing) {
        (Kind::Ref(_), Casing::Camel) => (ref_name(field.name), ref_input()),
        (_, Casing::Camel) => (camel(field.name), input_kind(field, casing)),
        (_, Casing::Snake) => (field.name.to_owned(), input_kind(field, casing)),
    };
    // Only required fields refuse null; JSON (any value) already allows it.
    let schema = if field.required || field.kind == Kind::Json { schema } else { nullable(schema) };
    (name, schema)
}

/// An object of the fields `names` of `res` and the `extra` properties,
/// with the required ones listed when `create`.
pub fn input_object(res: &Resource, names: &[&str], casing: Casing, extra: &[Prop], create: bool) -> Json {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in names.iter().filter_map(|n| res.field(n)) {
        let (name, schema) = input_field(f, casing);
        if create && f.required {
            required.push(json!(name));
        }
        if let (Kind::Ref(_), Casing::Camel) = (f.kind, casing) {
            // Also read as `<name>Ref`, the Fonoster SDK's form.
            props.insert(format!("{name}Ref"), nullable(required_text()));
        }
        props.insert(name, schema);
    }
    for p in extra {
        if p.required {
            required.push(json!(p.name));
        }
        props.insert(p.name.clone(), p.schema.clone());
    }
    let mut schema = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// A query parameter's value of `kind`, as [`crate::input::convert`]
/// reads it from text: times as dates (`YYYY-MM-DD[ HH:MM:SS]`) or RFC 3339.
pub fn query_kind(kind: Kind) -> Json {
    match kind {
        Kind::Int | Kind::Ref(_) => json!({"type": "integer"}),
        Kind::Float => json!({"type": "number"}),
        Kind::Bool => json!({"type": "string", "enum": ["true", "false", "1", "0"]}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
        Kind::Time => json!({"type": "string", "format": "date-time"}),
        Kind::Text | Kind::Json => json!({"type": "string"}),
    }
}

/// What [`crate::view::value`] shows of a field of `kind` in `dialect`
/// (the PBX shows missing text as `""`, booleans as 0 or 1).
pub fn output_kind(dialect: Dialect, kind: Kind) -> Json {
    let pbx = dialect == Dialect::Pbx;
    let time = match dialect {
        Dialect::Fonoster | Dialect::Vonage => json!({"type": "string", "format": "date-time"}),
        Dialect::Pbx | Dialect::VoipStudio => {
            json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"})
        }
    };
    match kind {
        Kind::Json => json!({}),
        Kind::Text if pbx => json!({"type": "string"}),
        Kind::Enum(values) if pbx => {
            let mut values: Vec<&str> = values.to_vec();
            values.push("");
            json!({"type": "string", "enum": values})
        }
        Kind::Text => json!({"type": ["string", "null"]}),
        Kind::Enum(values) => nullable(json!({"type": "string", "enum": values})),
        // The PBX shows some missing numbers as "" and some flags as JSON
        // booleans, as its examples do.
        Kind::Int | Kind::Ref(_) if pbx => json!({"anyOf": [{"type": ["integer", "null"]}, {"const": ""}]}),
        Kind::Float if pbx => json!({"anyOf": [{"type": ["number", "null"]}, {"const": ""}]}),
        Kind::Int | Kind::Ref(_) => json!({"type": ["integer", "null"]}),
        Kind::Float => json!({"type": ["number", "null"]}),
        Kind::Bool if pbx => json!({"enum": [0, 1, true, false, null]}),
        Kind::Bool => json!({"type": ["boolean", "null"]}),
        Kind::Time => nullable(time),
    }
}

/// A record of `res` as [`crate::view::render`] shows it in `dialect`,
/// with Fonoster's references as `{ref, name}`. Further properties that a
/// resource's rules add are allowed.
pub fn record(dialect: Dialect, res: &Resource) -> Json {
    let mut props = Map::new();
    let key = |name: &str| if dialect == Dialect::Fonoster { camel(name) } else { name.to_owned() };
    let (id, id_schema) = match dialect {
        Dialect::Fonoster => ("ref", json!({"type": "string"})),
        Dialect::Vonage => ("id", json!({"type": "string"})),
        Dialect::Pbx | Dialect::VoipStudio => ("id", json!({"type": "integer"})),
    };
    props.insert(id.into(), id_schema);
    for f in res.fields.iter().filter(|f| !f.hidden) {
        match (f.kind, dialect) {
            (Kind::Ref(_), Dialect::Fonoster) => {
                let shown = json!({"type": "object", "properties": {
                    "ref": {"type": "string"}, "name": {"type": ["string", "null"]}}});
                props.insert(ref_name(f.name), nullable(shown));
            }
            (Kind::Ref(_), Dialect::Vonage) => {}
            _ => {
                props.insert(key(f.name), output_kind(dialect, f.kind));
            }
        }
    }
    let time = output_kind(dialect, Kind::Time);
    props.insert(key("created_at"), time.clone());
    props.insert(key("updated_at"), time);
    // Views of other dialects may leave the times out (VoIPstudio tokens).
    let mut required = vec![json!(id)];
    if dialect == Dialect::Pbx {
        required.extend([json!("created_at"), json!("updated_at")]);
        props.insert("deleted_at".into(), json!({"type": "string"}));
        required.push(json!("deleted_at"));
    }
    json!({"type": "object", "title": res.label, "properties": props, "required": required})
}

/// The error body of `dialect` (see [`Dialect::render`]).
pub fn error(dialect: Dialect) -> Json {
    match dialect {
        Dialect::Fonoster => json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": [
                        "INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND",
                        "UNIMPLEMENTED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED", "INTERNAL"]},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    }},
                },
            }},
        }),
        Dialect::Pbx => json!({
            "type": "object",
            "required": ["code", "message", "data"],
            "properties": {
                "code": {"type": "integer", "minimum": 400, "maximum": 599},
                "message": {"type": "string"},
                "data": {},
            },
        }),
        Dialect::Vonage => json!({
            "type": "object",
            "required": ["type", "title", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "detail": {"type": "string"},
                "invalid_parameters": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "reason"],
                    "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
                }},
            },
        }),
        Dialect::VoipStudio => json!({
            "type": "object",
            "required": ["message", "errors"],
            "properties": {
                "message": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "string"}},
            },
        }),
    }
}

/// The PBX success envelope around `data`.
pub fn pbx_ok(data: Json) -> Json {
    json!({
        "type": "object",
        "required": ["code", "message", "data"],
        "properties": {"code": {"const": 200}, "message": {"type": "string"}, "data": data},
    })
}

/// The list envelope of `dialect` around `item`.
pub fn page(dialect: Dialect, item: Json) -> Json {
    let items = json!({"type": "array", "items": item});
    match dialect {
        Dialect::Fonoster => json!({
            "type": "object",
            "required": ["items", "nextPageToken"],
            "properties": {"items": items, "nextPageToken": {"type": "string"}},
        }),
        Dialect::Pbx => json!({
            "type": "object",
            "required": ["page", "pageCount", "rowCount", "data"],
            "properties": {
                "page": {"type": "integer", "minimum": 1},
                "pageCount": {"type": "integer", "minimum": 0},
                "rowCount": {"type": "integer", "minimum": 0},
                "data": items,
            },
        }),
        Dialect::Vonage => json!({
            "type": "object",
            "required": ["page_size", "page", "total_items", "total_pages", "_embedded"],
            "properties": {
                "page_size": {"type": "integer"},
                "page": {"type": "integer"},
                "total_items": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "_embedded": {"type": "object", "properties": {"applications": items}},
            },
        }),
        // With `group_by`, the rows are `{<property>: value, count}`.
        Dialect::VoipStudio => json!({
            "type": "object",
            "required": ["data", "total"],
            "properties": {
                "data": {"type": "array", "items": {"anyOf": [item, {
                    "type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}]}},
                "total": {"type": "integer", "minimum": 0},
            },
        }),
    }
}

/// One record in the envelope of `dialect` (VoIPstudio wraps it).
pub fn one(dialect: Dialect, item: Json) -> Json {
    match dialect {
        Dialect::VoipStudio => json!({
            "type": "object",
            "required": ["data"],
            "properties": {"data": item, "links": {"type": "object"}},
        }),
        _ => item,
    }
}
