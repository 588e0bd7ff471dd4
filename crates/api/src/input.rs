//! Turning a JSON body into typed field values, with every problem named
//! by field: the generic validation of every create and update.

use serde_json::{Map, Value as Json};
use store::{Kind, Resource, Value, Values};

use crate::dialect::camel;
use crate::error::{ApiError, FieldError};

/// How a dialect spells field names on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Casing {
    /// `field_name`.
    Snake,
    /// `fieldName`.
    Camel,
}

/// A JSON object being read, collecting field errors as it goes.
#[derive(Debug)]
pub struct Input<'a> {
    body: &'a Map<String, Json>,
    casing: Casing,
    errors: Vec<FieldError>,
}

impl<'a> Input<'a> {
    /// Reads `body`, which must be a JSON object.
    pub fn new(body: &'a Json, casing: Casing) -> Result<Input<'a>, ApiError> {
        let body = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
        Ok(Input { body, casing, errors: Vec::new() })
    }

    fn wire(&self, name: &str) -> String {
        match self.casing {
            Casing::Snake => name.to_owned(),
            Casing::Camel => camel(name),
        }
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    /// The values of the resource fields `names` that the body carries.
    /// On `create`, required ones must be present. In camelCase, a
    /// reference `domain_id` is read as `domain: {ref}` or `domainRef`, and
    /// holds the target's ref (text) for the caller to resolve.
    pub fn fields(&mut self, res: &Resource, names: &[&'static str], create: bool) -> Values {
        let mut values = Vec::new();
        for field in names.iter().filter_map(|n| res.field(n)) {
            let (wire, raw) = self.raw(field.name, field.kind);
            match raw {
                None | Some(Json::Null) if create && field.required => self.error(&wire, "is required"),
                None => {}
                Some(raw) => match self.convert_field(field, &raw) {
                    Ok(Value::Null) if field.required => self.error(&wire, "may not be null"),
                    Ok(Value::Text(t)) if field.required && t.trim().is_empty() => {
                        self.error(&wire, "may not be empty")
                    }
                    Ok(v) => values.push((field.name, v)),
                    Err(message) => self.error(&wire, message),
                },
            }
        }
        values
    }

    /// The wire name and raw value of a field.
    fn raw(&self, name: &str, kind: Kind) -> (String, Option<Json>) {
        if let (Kind::Ref(_), Casing::Camel) = (kind, self.casing) {
            let base = camel(name.strip_suffix("_id").unwrap_or(name));
            let by_object = match self.body.get(&base) {
                Some(Json::Object(o)) => Some(o.get("ref").cloned().unwrap_or(Json::Null)),
                Some(other) => Some(other.clone()),
                None => None,
            };
            let raw = by_object.or_else(|| self.body.get(&format!("{base}Ref")).cloned());
            return (base, raw);
        }
        let wire = self.wire(name);
        let raw = self.body.get(&wire).cloned();
        (wire, raw)
    }

    fn convert_field(&self, field: &store::Field, raw: &Json) -> Result<Value, String> {
        if let (Kind::Ref(_), Casing::Camel) = (field.kind, self.casing) {
            return match raw {
                Json::String(r) if !r.trim().is_empty() => Ok(Value::Text(r.trim().to_owned())),
                Json::Null => Ok(Value::Null),
                _ => Err("must be a ref (a string, or an object with a ref)".into()),
            };
        }
        convert_checked(raw, field)
    }

    /// A text value that is not a stored field (a password, an email to
    /// look up). `None` when absent; an error when required and absent.
    pub fn text(&mut self, name: &str, required: bool) -> Option<String> {
        match self.body.get(&self.wire(name)) {
            Some(Json::String(s)) if s.contains('\0') => {
                self.error(name, "may not contain NUL characters");
                None
            }
            Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            None | Some(Json::Null) if !required => None,
            Some(Json::String(_)) | None | Some(Json::Null) => {
                self.error(name, "is required");
                None
            }
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// How many problems have been noted so far.
    pub fn problems(&self) -> usize {
        self.errors.len()
    }

    /// Records a problem found by the caller's own checks.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.error(field, message);
    }

    /// Ok if no field was wrong; otherwise a 400 naming each.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::fields(self.errors))
        }
    }
}

/// Converts one JSON value to `field`'s kind and checks it against the
/// field's range or length limit.
pub fn convert_checked(raw: &Json, field: &store::Field) -> Result<Value, String> {
    let value = convert(raw, field.kind)?;
    match &value {
        Value::Int(v) => {
            if let Some((min, max)) = field.range {
                if *v < min || *v > max {
                    return Err(format!("must be between {min} and {max}"));
                }
            }
        }
        Value::Text(t) => {
            field.check_len(t).map_err(|max| format!("is too long (at most {max} characters)"))?;
        }
        _ => {}
    }
    Ok(value)
}

/// Converts one JSON value to a field of `kind`. Numbers and booleans are
/// also accepted as strings, as the PBX dialect sends them.
pub fn convert(raw: &Json, kind: Kind) -> Result<Value, String> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    if raw.as_str().is_some_and(|s| s.contains('\0')) {
        return Err("may not contain NUL characters".into());
    }
    let text = match raw {
        Json::String(s) => Some(s.trim()),
        _ => None,
    };
    match kind {
        Kind::Int | Kind::Ref(_) => raw
            .as_i64()
            .or_else(|| text.and_then(|t| t.parse().ok()))
            .map(Value::Int)
            .ok_or_else(|| "must be an integer".into()),
        Kind::Float => raw
            .as_f64()
            .or_else(|| text.and_then(|t| t.parse().ok()))
            .filter(|f| f.is_finite())
            .map(Value::Float)
            .ok_or_else(|| "must be a number".into()),
        Kind::Bool => match (raw, text) {
            (Json::Bool(b), _) => Ok(Value::from(*b)),
            (Json::Number(n), _) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Int(n.as_i64().unwrap_or(0)))
            }
            (_, Some("1" | "true" | "t")) => Ok(Value::Int(1)),
            (_, Some("0" | "false" | "f")) => Ok(Value::Int(0)),
            _ => Err("must be true or false (or 1 or 0)".into()),
        },
        Kind::Text => match raw {
            Json::String(s) => Ok(Value::Text(s.clone())),
            _ => Err("must be a string".into()),
        },
        Kind::Enum(allowed) => match text {
            Some(t) if allowed.contains(&t) => Ok(Value::Text(t.to_owned())),
            _ => Err(format!("must be one of {}", allowed.join(", "))),
        },
        Kind::Json => Ok(Value::Text(raw.to_string())),
        Kind::Time => match (raw.as_i64(), text) {
            (Some(ms), _) => Ok(Value::Int(ms)),
            (None, Some(t)) => parse_time(t)
                .map(Value::Int)
                .ok_or_else(|| "must be a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)".into()),
            _ => Err("must be a time".into()),
        },
    }
}

/// Parses RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]` (UTC) into milliseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil = text.parse::<jiff::civil::DateTime>().ok().or_else(|| {
        text.parse::<jiff::civil::Date>().ok().map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond())
}
