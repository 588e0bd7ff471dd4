//! Trunks: inbound and outbound SIP URIs, and the Fonoster SDK's `uris`,
//! the outbound targets as `[{host, port, transport, user, weight,
//! priority, enabled}]`.
//!
//! The outbound address every dialect reads is the trunk's `remote_addr`
//! (Fonoster's `outboundUri`, the PBX's remote address). When `uris` is
//! written without an `outboundUri`, the first enabled URI (lowest
//! `priority`, then highest `weight`) becomes that address and its
//! transport the trunk's protocol, so a trunk made by the SDK sends calls
//! where its URIs say. A trunk with no stored `uris` shows its
//! `remote_addr` as a one-entry list, so a PBX trunk reads the same way.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use store::{Record, Value, Values};

use super::checks;
use super::shape::check_text;
use crate::crud::values::set;
use crate::crud::{Cx, Rules};
use crate::error::ApiError;
use crate::input::{Casing, Input};
use crate::routes::Prop;

/// The trunk rules.
pub struct Trunks;

/// The transports a URI may name (the SDK's `Transport`).
const TRANSPORTS: &[&str] = &["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"];

/// The most URIs one trunk keeps.
const MAX_URIS: usize = 32;

/// The largest `weight` and `priority`.
const MAX_RANK: i64 = 1000;

/// Reads one integer of a URI, `default` when absent.
fn int(input: &mut Input<'_>, at: &str, raw: Option<&Json>, min: i64, max: i64, default: i64) -> i64 {
    match raw {
        None | Some(Json::Null) => default,
        Some(v) => match v.as_i64().filter(|n| (min..=max).contains(n)) {
            Some(n) => n,
            None => {
                input.reject(at, format!("must be an integer between {min} and {max}"));
                default
            }
        },
    }
}

/// Reads one URI; `None` when it has problems (noted in `input`).
fn uri(input: &mut Input<'_>, i: usize, raw: &Json) -> Option<Map<String, Json>> {
    let at = |f: &str| format!("uris[{i}].{f}");
    let Some(o) = raw.as_object() else {
        input.reject(&format!("uris[{i}]"), "must be an object {host, port, transport, weight, priority}");
        return None;
    };
    let before = input.problems();
    let host = match o.get("host").and_then(Json::as_str).map(str::trim) {
        Some(h) if engine::router::address::host_name(h) || h.parse::<std::net::IpAddr>().is_ok() => {
            h.to_ascii_lowercase()
        }
        Some(_) => {
            input.reject(&at("host"), "must be a host name or IP address");
            String::new()
        }
        None => {
            input.reject(&at("host"), "is required");
            String::new()
        }
    };
    let port = int(input, &at("port"), o.get("port"), 1, 65_535, 5060);
    let transport = match o.get("transport") {
        None | Some(Json::Null) => "UDP".to_owned(),
        Some(Json::String(t)) if TRANSPORTS.contains(&t.to_ascii_uppercase().as_str()) => {
            t.to_ascii_uppercase()
        }
        Some(_) => {
            input.reject(&at("transport"), format!("must be one of {}", TRANSPORTS.join(", ")));
            String::new()
        }
    };
    let user = match o.get("user") {
        None | Some(Json::Null) => None,
        Some(Json::String(u)) if u.is_empty() => None,
        Some(Json::String(u)) if engine::router::address::sip_user(u) => Some(u.clone()),
        Some(_) => {
            input.reject(&at("user"), "must be a SIP user name");
            None
        }
    };
    let weight = int(input, &at("weight"), o.get("weight"), 0, MAX_RANK, 0);
    let priority = int(input, &at("priority"), o.get("priority"), 0, MAX_RANK, 0);
    let enabled = match o.get("enabled") {
        None | Some(Json::Null) => true,
        Some(Json::Bool(b)) => *b,
        Some(_) => {
            input.reject(&at("enabled"), "must be true or false");
            true
        }
    };
    for key in o.keys() {
        if !["host", "port", "transport", "user", "weight", "priority", "enabled"].contains(&key.as_str()) {
            input.reject(&at(key), "is not a field of a trunk URI");
        }
    }
    if input.problems() != before {
        return None;
    }
    let mut out = Map::new();
    out.insert("host".into(), json!(host));
    out.insert("port".into(), json!(port));
    out.insert("transport".into(), json!(transport));
    if let Some(user) = user {
        out.insert("user".into(), json!(user));
    }
    out.insert("weight".into(), json!(weight));
    out.insert("priority".into(), json!(priority));
    out.insert("enabled".into(), json!(enabled));
    Some(out)
}

/// The SIP address of a URI: `sip:[user@]host:port;transport=...`.
fn address(u: &Map<String, Json>) -> String {
    let host = u["host"].as_str().unwrap_or_default();
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
    let user = u.get("user").and_then(Json::as_str).map(|u| format!("{u}@")).unwrap_or_default();
    let transport = u["transport"].as_str().unwrap_or("UDP").to_ascii_lowercase();
    format!("sip:{user}{host}:{};transport={transport}", u["port"])
}

/// The URI the trunk sends calls to: the first enabled by priority (low
/// first), then weight (high first).
fn preferred(uris: &[Map<String, Json>]) -> Option<&Map<String, Json>> {
    uris.iter()
        .filter(|u| u["enabled"] == json!(true))
        .min_by_key(|u| (u["priority"].as_i64().unwrap_or(0), -u["weight"].as_i64().unwrap_or(0)))
}

/// Reads `uris` into `uris` and, unless `outboundUri` is given too, the
/// trunk's `remote_addr` and `protocol`.
fn read_uris(input: &mut Input<'_>, body: &Map<String, Json>, values: &mut Values) {
    let list = match body.get("uris") {
        None => return,
        Some(Json::Null) => {
            set(values, "uris", Value::Null);
            return;
        }
        Some(Json::Array(items)) if items.len() <= MAX_URIS => items,
        Some(Json::Array(_)) => {
            input.reject("uris", format!("may hold at most {MAX_URIS} URIs"));
            return;
        }
        Some(_) => {
            input.reject("uris", "must be an array of {host, port, transport, weight, priority}");
            return;
        }
    };
    let parsed: Vec<Option<Map<String, Json>>> =
        list.iter().enumerate().map(|(i, u)| uri(input, i, u)).collect();
    let Some(uris) = parsed.into_iter().collect::<Option<Vec<_>>>() else { return };
    if !body.contains_key("outboundUri") {
        if let Some(best) = preferred(&uris) {
            set(values, "remote_addr", Value::Text(address(best)));
            let transport = best["transport"].as_str().unwrap_or("UDP");
            if transport != "SCTP" {
                set(values, "protocol", Value::Text(transport.to_owned()));
            }
        }
    }
    set(values, "uris", Value::Text(Json::Array(uris.into_iter().map(Json::Object).collect()).to_string()));
}

/// A stored `remote_addr` as one URI, for trunks written without `uris`.
fn from_address(remote: &str, protocol: &str) -> Option<Json> {
    let addr = engine::router::address::SipAddress::parse(remote.trim()).ok()?;
    let transport = addr
        .transport()
        .map(|t| t.to_ascii_uppercase())
        .filter(|t| TRANSPORTS.contains(&t.as_str()))
        .or_else(|| Some(protocol.to_owned()).filter(|p| TRANSPORTS.contains(&p.as_str())))
        .unwrap_or_else(|| "UDP".to_owned());
    let host = addr.host.to_string();
    let mut uri = json!({
        "host": host.trim_start_matches('[').trim_end_matches(']'),
        "port": addr.port.unwrap_or(5060),
        "transport": transport,
        "weight": 0,
        "priority": 0,
        "enabled": true,
    });
    if let Some(user) = addr.user {
        uri["user"] = json!(user);
    }
    Some(uri)
}

#[async_trait]
impl Rules for Trunks {
    async fn prepare(
        &self,
        _cx: &Cx<'_>,
        body: &Json,
        values: &mut Values,
        _current: Option<&Record>,
    ) -> Result<(), ApiError> {
        let object = body.as_object().ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
        let mut input = Input::new(body, Casing::Camel)?;
        check_text(values, &mut input, "inbound_uri", "inboundUri", checks::sip_address);
        check_text(values, &mut input, "remote_addr", "outboundUri", checks::sip_address);
        read_uris(&mut input, object, values);
        input.finish()
    }

    /// `uris`.
    fn documented(&self, _create: bool) -> Vec<Prop> {
        let uri = json!({
            "type": "object",
            "required": ["host"],
            "additionalProperties": false,
            "properties": {
                "host": {"type": "string", "minLength": 1, "maxLength": 253},
                "port": {"type": "integer", "minimum": 1, "maximum": 65_535},
                "transport": {"type": "string", "enum": TRANSPORTS},
                "user": {"type": "string"},
                "weight": {"type": "integer", "minimum": 0, "maximum": MAX_RANK},
                "priority": {"type": "integer", "minimum": 0, "maximum": MAX_RANK},
                "enabled": {"type": "boolean"},
            },
        });
        let list = json!({"type": "array", "maxItems": MAX_URIS, "items": uri});
        vec![Prop { name: "uris".into(), schema: crate::openapi::schema::nullable(list), required: false }]
    }

    async fn view(&self, _cx: &Cx<'_>, rec: &Record, out: &mut Map<String, Json>) -> Result<(), ApiError> {
        if out.get("uris").is_none_or(Json::is_null) {
            let derived = from_address(rec.text("remote_addr"), rec.text("protocol"));
            out.insert("uris".into(), Json::Array(derived.into_iter().collect()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: Json) -> Result<Values, ApiError> {
        let mut input = Input::new(&body, Casing::Camel)?;
        let mut values = Vec::new();
        read_uris(&mut input, body.as_object().unwrap_or(&Map::new()), &mut values);
        input.finish().map(|()| values)
    }

    fn text<'a>(values: &'a Values, name: &str) -> Option<&'a str> {
        values.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_str())
    }

    #[test]
    fn the_preferred_uri_becomes_the_outbound_address() {
        let values = read(json!({"uris": [
            {"host": "b.example.com", "port": 5080, "transport": "TCP", "priority": 2},
            {"host": "a.example.com", "port": 5061, "transport": "tls", "priority": 1, "weight": 5},
            {"host": "c.example.com", "priority": 0, "enabled": false},
        ]}))
        .unwrap_or_default();
        assert_eq!(text(&values, "remote_addr"), Some("sip:a.example.com:5061;transport=tls"));
        assert_eq!(text(&values, "protocol"), Some("TLS"));
        let stored: Json = serde_json::from_str(text(&values, "uris").unwrap_or("null")).unwrap_or_default();
        assert_eq!(stored[2]["port"], 5060, "defaults filled: {stored}");
        assert_eq!(stored[2]["transport"], "UDP");
    }

    #[test]
    fn an_outbound_uri_given_too_is_kept() {
        let values = read(json!({"outboundUri": "sip:x.example.com", "uris": [{"host": "a.example.com"}]}))
            .unwrap_or_default();
        assert_eq!(text(&values, "remote_addr"), None);
        assert!(text(&values, "uris").is_some());
    }

    #[test]
    fn bad_uris_are_named_by_index_and_field() {
        let e = read(json!({"uris": [{"port": 70000, "transport": "FTP", "x": 1}]})).err();
        let details: Vec<String> =
            e.map(|e| e.details.iter().map(|d| d.field.clone()).collect()).unwrap_or_default();
        for f in ["uris[0].host", "uris[0].port", "uris[0].transport", "uris[0].x"] {
            assert!(details.iter().any(|d| d == f), "{f} in {details:?}");
        }
        assert!(read(json!({"uris": "sip:a"})).is_err());
    }

    #[test]
    fn a_remote_address_reads_as_one_uri() {
        let uri = from_address("sip:carrier.example.com:5070;transport=tcp", "UDP").unwrap_or_default();
        assert_eq!(uri["host"], "carrier.example.com");
        assert_eq!((uri["port"].clone(), uri["transport"].clone()), (json!(5070), json!("TCP")));
        let plain = from_address("203.0.113.5", "TLS").unwrap_or_default();
        assert_eq!((plain["port"].clone(), plain["transport"].clone()), (json!(5060), json!("TLS")));
        assert!(from_address("", "UDP").is_none());
    }
}
