//! Reading the REST dialect's JSON into protobuf fields and back: strings,
//! times as epoch seconds, `{ref}` objects, `google.protobuf.Struct`.

use prost_types::value::Kind;
use serde_json::{Map, Value as Json};
use tonic::Status;

/// The string at `key`, or empty.
pub fn s(j: &Json, key: &str) -> String {
    match &j[key] {
        Json::String(t) => t.clone(),
        Json::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The boolean at `key`, or false.
pub fn b(j: &Json, key: &str) -> bool {
    j[key].as_bool().unwrap_or(false)
}

/// The integer at `key`, or 0 (clamped to `i32`).
pub fn int(j: &Json, key: &str) -> i32 {
    j[key].as_i64().map_or(0, |n| n.clamp(i32::MIN.into(), i32::MAX.into()) as i32)
}

/// The RFC 3339 time at `key` as seconds since the epoch, or 0.
pub fn time(j: &Json, key: &str) -> i32 {
    j[key]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_second().clamp(0, i32::MAX.into()) as i32)
}

/// The `ref` of the reference object (or ref string) at `key`, or empty.
pub fn r(j: &Json, key: &str) -> String {
    match &j[key] {
        Json::String(t) => t.clone(),
        Json::Object(o) => o.get("ref").and_then(Json::as_str).unwrap_or_default().to_owned(),
        _ => String::new(),
    }
}

/// The strings of the array at `key`.
pub fn strings(j: &Json, key: &str) -> Vec<String> {
    j[key]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A JSON object being built from a request. Proto3 fields have no
/// presence, so an update sets only the fields that are not empty.
#[derive(Default)]
pub struct Body(Map<String, Json>);

impl Body {
    /// An empty object.
    pub fn new() -> Body {
        Body::default()
    }
    /// Sets `key` to `v`.
    pub fn set(mut self, key: &str, v: impl Into<Json>) -> Body {
        self.0.insert(key.to_owned(), v.into());
        self
    }
    /// Sets `key` to `v` unless `v` is empty.
    pub fn text(self, key: &str, v: &str) -> Body {
        if v.is_empty() {
            self
        } else {
            self.set(key, v)
        }
    }
    /// Sets `key` to `v` unless `v` is 0.
    pub fn num(self, key: &str, v: i32) -> Body {
        if v == 0 {
            self
        } else {
            self.set(key, v)
        }
    }
    /// Sets `key` to `v` when `on`.
    pub fn when(self, on: bool, key: &str, v: impl Into<Json>) -> Body {
        if on {
            self.set(key, v)
        } else {
            self
        }
    }
    /// The object.
    pub fn json(self) -> Json {
        Json::Object(self.0)
    }
}

/// A `google.protobuf.Struct` as a JSON object.
pub fn from_struct(st: &prost_types::Struct) -> Json {
    Json::Object(st.fields.iter().map(|(k, v)| (k.clone(), from_value(v))).collect())
}

fn from_value(v: &prost_types::Value) -> Json {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n).map_or(Json::Null, |n| {
            // Whole numbers come back as integers, as JSON would send them.
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Json::from(f as i64),
                _ => Json::Number(n),
            }
        }),
        Some(Kind::StringValue(t)) => Json::String(t.clone()),
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::StructValue(s)) => from_struct(s),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(from_value).collect()),
    }
}

/// A JSON object as a `google.protobuf.Struct` (anything else: `None`).
pub fn to_struct(j: &Json) -> Option<prost_types::Struct> {
    match j {
        Json::Object(o) => {
            Some(prost_types::Struct { fields: o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() })
        }
        _ => None,
    }
}

fn to_value(j: &Json) -> prost_types::Value {
    let kind = match j {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Json::String(t) => Kind::StringValue(t.clone()),
        Json::Array(a) => {
            Kind::ListValue(prost_types::ListValue { values: a.iter().map(to_value).collect() })
        }
        Json::Object(_) => Kind::StructValue(to_struct(j).unwrap_or_default()),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A ref as one path segment: refs are UUIDs or access key ids, so
/// anything but letters, digits, `-` and `_` is refused.
pub fn segment(what: &str, r: &str) -> Result<String, Status> {
    if r.is_empty() {
        return Err(Status::invalid_argument(format!("{what} is required")));
    }
    if r.len() > 128 || !r.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
        return Err(Status::not_found(format!("no such {what}")));
    }
    Ok(r.to_owned())
}

/// `?pageSize=..&pageToken=..` for a list.
pub fn paging(page_size: i32, page_token: &str) -> String {
    let mut q = Vec::new();
    if page_size > 0 {
        q.push(format!("pageSize={page_size}"));
    }
    if !page_token.is_empty() {
        let enc: String = page_token
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect();
        q.push(format!("pageToken={enc}"));
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// The items and next page token of a REST list.
pub fn page(j: &Json) -> (Vec<Json>, String) {
    (j["items"].as_array().cloned().unwrap_or_default(), s(j, "nextPageToken"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_become_epoch_seconds_and_bad_times_zero() {
        let j = json!({"createdAt": "2026-12-02T10:04:16Z", "bad": "yesterday", "n": 5});
        assert_eq!(time(&j, "createdAt"), 1_796_205_856);
        assert_eq!(time(&j, "bad"), 0);
        assert_eq!(time(&j, "n"), 0);
        assert_eq!(time(&j, "missing"), 0);
    }

    #[test]
    fn structs_round_trip_through_json() {
        let j = json!({"voice": "en-US", "rate": 1.5, "n": 3, "on": true, "list": [1, "a", null], "deep": {"x": {}}});
        let back = from_struct(&to_struct(&j).unwrap());
        assert_eq!(back, j);
        assert!(to_struct(&json!([1])).is_none());
    }

    #[test]
    fn page_tokens_are_escaped_in_the_query() {
        assert_eq!(paging(0, ""), "");
        assert_eq!(paging(10, ""), "?pageSize=10");
        assert_eq!(paging(-1, "a+b/c=&d"), "?pageToken=a%2Bb%2Fc%3D%26d");
    }

    #[test]
    fn refs_with_path_characters_are_refused() {
        assert_eq!(segment("app", "0546b922-2b97").unwrap(), "0546b922-2b97");
        assert_eq!(segment("app", "").unwrap_err().code(), tonic::Code::InvalidArgument);
        for bad in ["../users", "a/b", "a?x=1", "a%2F", &"x".repeat(200)] {
            assert_eq!(segment("app", bad).unwrap_err().code(), tonic::Code::NotFound, "{bad}");
        }
    }

    #[test]
    fn updates_leave_out_empty_values() {
        let body =
            Body::new().text("name", "").text("city", "Lima").num("n", 0).when(false, "on", true).json();
        assert_eq!(body, json!({"city": "Lima"}));
    }
}
