//! Typed reads of JSON objects with the path of each field in errors.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::ParseError;

/// The longest duration any script may give (a day).
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// A JSON object and where it sits in the script.
pub(crate) struct Obj<'a> {
    pub(crate) path: String,
    pub(crate) map: &'a Map<String, Value>,
}

/// The name of a JSON value's type, for errors.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    /// `value` as an object at `path`.
    pub(crate) fn new(path: String, value: &'a Value) -> Result<Obj<'a>, ParseError> {
        match value {
            Value::Object(map) => Ok(Obj { path, map }),
            other => Err(ParseError::invalid(&path, format!("must be an object, not {}", type_name(other)))),
        }
    }

    /// The path of a field.
    pub(crate) fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn wrong(&self, name: &str, want: &str, got: &Value) -> ParseError {
        ParseError::invalid(&self.at(name), format!("must be {want}, not {}", type_name(got)))
    }

    /// An optional string.
    pub(crate) fn str(&self, name: &str) -> Result<Option<&'a str>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(name, "a string", other)),
        }
    }

    /// A required, non-empty string.
    pub(crate) fn req_str(&self, name: &str) -> Result<&'a str, ParseError> {
        match self.str(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(ParseError::invalid(&self.at(name), "must not be empty")),
            None => Err(ParseError::invalid(&self.at(name), "is required")),
        }
    }

    /// An optional boolean.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(name, "a boolean", other)),
        }
    }

    /// An optional number within `min..=max`.
    pub(crate) fn num(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if !(min..=max).contains(&v) {
                    return Err(ParseError::invalid(
                        &self.at(name),
                        format!("must be between {min} and {max}"),
                    ));
                }
                Ok(Some(v))
            }
            Some(other) => Err(self.wrong(name, "a number", other)),
        }
    }

    /// An optional whole number within `min..=max`.
    pub(crate) fn int(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
                _ => Err(ParseError::invalid(
                    &self.at(name),
                    format!("must be a whole number from {min} to {max}"),
                )),
            },
            Some(other) => Err(self.wrong(name, "a number", other)),
        }
    }

    /// An optional duration in milliseconds (positive, at most a day).
    pub(crate) fn millis(&self, name: &str) -> Result<Option<Duration>, ParseError> {
        Ok(self.int(name, 1, MAX_DURATION.as_millis() as u64)?.map(Duration::from_millis))
    }

    /// An optional duration in seconds (fractions allowed) within range.
    pub(crate) fn secs(&self, name: &str, min: f64, max: f64) -> Result<Option<Duration>, ParseError> {
        Ok(self.num(name, min, max)?.map(Duration::from_secs_f64))
    }

    /// An optional array.
    pub(crate) fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong(name, "an array", other)),
        }
    }

    /// An optional object.
    pub(crate) fn obj(&self, name: &str) -> Result<Option<Obj<'a>>, ParseError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => Obj::new(self.at(name), v).map(Some),
        }
    }

    /// An optional array of strings.
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, ParseError> {
        let Some(items) = self.array(name)? else { return Ok(Vec::new()) };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(ParseError::invalid(
                    &format!("{}[{i}]", self.at(name)),
                    format!("must be a string, not {}", type_name(other)),
                )),
            })
            .collect()
    }
}

/// A single DTMF key (`0-9*#`), or an error at `path`.
pub(crate) fn dtmf_key(path: &str, s: &str) -> Result<char, ParseError> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if is_key(c) => Ok(c),
        _ => Err(ParseError::invalid(path, format!("must be one key of 0-9, * or #, not {s:?}"))),
    }
}

/// Whether `c` is a keypad key.
pub(crate) fn is_key(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

/// DTMF digits to send: keys, `A-D`, and `w`/`W` pauses.
pub(crate) fn dtmf_digits(path: &str, s: &str) -> Result<String, ParseError> {
    if s.is_empty() || s.len() > 128 {
        return Err(ParseError::invalid(path, "must hold 1 to 128 keys"));
    }
    if let Some(c) = s.chars().find(|c| !(is_key(*c) || matches!(c, 'A'..='D' | 'a'..='d' | 'w' | 'W'))) {
        return Err(ParseError::invalid(path, format!("{c:?} is not a DTMF key")));
    }
    Ok(s.to_owned())
}
