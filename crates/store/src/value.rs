//! Values as the store holds them, and records made of them.

use std::collections::BTreeMap;

use crate::Millis;

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// Integers, booleans (0/1), times (ms) and references (ids).
    Int(i64),
    /// Floating-point numbers.
    Float(f64),
    /// Text, enum values and JSON documents.
    Text(String),
}

impl Value {
    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(v) => Some(v),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Field values by field name, as given to create or update.
pub type Values = Vec<(&'static str, Value)>;

/// The value given for `name` in `values`, or `Null`.
pub fn given<'a>(values: &'a Values, name: &str) -> &'a Value {
    values.iter().find(|(n, _)| *n == name).map_or(&Value::Null, |(_, v)| v)
}

/// One stored record: the standard columns and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The integer id (PBX, VoIPstudio).
    pub id: i64,
    /// The UUID (Fonoster, Vonage).
    pub r#ref: String,
    /// The owning workspace, for scoped resources.
    pub workspace_id: Option<i64>,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Every field, hidden ones included.
    pub values: BTreeMap<&'static str, Value>,
}

impl Record {
    /// The value of a field, or `Null`.
    pub fn get(&self, name: &str) -> &Value {
        self.values.get(name).unwrap_or(&Value::Null)
    }
    /// The text of a field, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).as_str().unwrap_or("")
    }
    /// The integer of a field, if set.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).as_int()
    }
}
