//! Reading and changing the [`Values`] a request writes: what a field will
//! be once they are written over the current record, and setting one.

use store::{Record, Value, Values};

/// Sets `name` to `value` in `values`, replacing what was read.
pub fn set(values: &mut Values, name: &'static str, value: Value) {
    values.retain(|(n, _)| *n != name);
    values.push((name, value));
}

/// Whether `values` changes `name`.
pub fn touches(values: &Values, name: &str) -> bool {
    values.iter().any(|(n, _)| *n == name)
}

/// The value `name` will have once `values` are written over `current`
/// (`None` on create).
pub fn after(values: &Values, current: Option<&Record>, name: &str) -> Value {
    match values.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => v.clone(),
        None => current.map_or(Value::Null, |r| r.get(name).clone()),
    }
}

/// The text `name` will have after the write ("" when none; an integer
/// as its digits).
pub fn after_text(values: &Values, current: Option<&Record>, name: &str) -> String {
    match after(values, current, name) {
        Value::Text(t) => t,
        Value::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

/// The text value of `name` in `values`, when one was given and is not
/// blank.
pub fn given_text<'a>(values: &'a Values, name: &str) -> Option<&'a str> {
    store::given(values, name).as_str().filter(|t| !t.trim().is_empty())
}
