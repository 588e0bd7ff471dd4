//! What `/openapi.json` tells tools: credentials as security schemes,
//! constraints and wire names as the input reads them, integer ids where
//! the dialect has them, and a response schema for every operation.
#![allow(missing_docs, clippy::unwrap_used)]

use serde_json::{json, Value};

fn document() -> Value {
    api::api().finish().1
}

/// Every `(path, method, operation)` of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

fn request_schema<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
}

#[test]
fn credentials_are_security_schemes_not_parameters() {
    let doc = document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": schemes["bearer"]["description"]})
    );
    assert_eq!(schemes["accessKeyId"]["name"], "AccessKeyId");
    assert_eq!(schemes["pbxToken"]["name"], "X-XTRA-AUTH-ID");
    assert_eq!(schemes["voipToken"]["name"], "X-Auth-Token");
    assert_eq!(schemes["basicKey"]["scheme"], "basic");
    for (path, method, op) in operations(&doc) {
        for p in op["parameters"].as_array().unwrap() {
            assert_ne!(p["in"], "header", "{method} {path} declares a header parameter {p}");
        }
        let security = op["security"].as_array().unwrap();
        let public = path.ends_with("/login") || path.contains("/auth/") || path == "/api/sessions";
        assert_eq!(security.is_empty(), public, "{method} {path}: {security:?}");
    }
    let pbx = &doc["paths"]["/api/routes/{id}"]["get"]["security"];
    assert_eq!(pbx[0], json!({"pbxToken": []}));
    let vonage = &doc["paths"]["/v2/applications"]["get"]["security"];
    assert_eq!(vonage[0], json!({"basicKey": []}));
    let fonoster = &doc["paths"]["/v1beta2/agents"]["get"]["security"];
    assert_eq!(fonoster[0], json!({"bearer": [], "accessKeyId": []}));
}

#[test]
fn integer_ids_are_integers_and_refs_are_text() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        for p in op["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "path") {
            let name = p["name"].as_str().unwrap();
            let ty = &p["schema"]["type"];
            let text =
                path.starts_with("/v1beta2/") || path.starts_with("/v2/") || name == "uuid" || name == "name";
            assert_eq!(ty, if text { "string" } else { "integer" }, "{method} {path} {name}");
        }
    }
}

#[test]
fn fields_that_refuse_empty_values_say_so() {
    let doc = document();
    let agents = request_schema(&doc, "/v1beta2/agents", "post");
    assert_eq!(agents["properties"]["name"]["minLength"], 1, "{agents}");
    assert!(agents["required"].as_array().unwrap().contains(&json!("name")));
    // A reference is written by its wire name, as a ref or {ref}.
    assert!(agents["properties"]["domain"]["anyOf"].is_array(), "{agents}");
    assert!(agents["properties"].get("domainId").is_none());
    // Updates require nothing.
    assert!(request_schema(&doc, "/v1beta2/agents/{ref}", "put").get("required").is_none());
    let routes = request_schema(&doc, "/api/routes", "post");
    let max_length = &routes["properties"]["max_length"]["anyOf"][0];
    assert_eq!((max_length["minimum"].clone(), max_length["maximum"].clone()), (json!(1), json!(64)));
}

#[test]
fn fields_read_by_rules_are_documented() {
    let doc = document();
    let numbers = request_schema(&doc, "/v1beta2/numbers", "post");
    assert!(numbers["required"].as_array().unwrap().contains(&json!("telUrl")), "{numbers}");
    assert!(numbers["properties"]["ingressHandler"].is_object());
    let trunks = request_schema(&doc, "/v1beta2/trunks", "post");
    for name in ["outboundUri", "accessControlList"] {
        assert!(trunks["properties"][name].is_object(), "{name}: {trunks}");
    }
    let credentials = request_schema(&doc, "/v1beta2/credentials", "post");
    assert_eq!(credentials["properties"]["password"]["minLength"], 1);
    assert!(credentials["required"].as_array().unwrap().contains(&json!("password")));
    let secrets = request_schema(&doc, "/v1beta2/secrets/{ref}", "put");
    assert!(secrets["properties"]["secret"].is_object());
}

#[test]
fn every_operation_has_response_schemas_in_its_dialect() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path}");
        let error = &responses["4XX"]["content"]["application/json"]["schema"];
        assert!(error["required"].is_array(), "{method} {path}");
    }
    let fonoster = &doc["paths"]["/v1beta2/agents"];
    let page = &fonoster["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(page["required"], json!(["items", "nextPageToken"]));
    assert!(page["properties"]["items"]["items"]["properties"]["domain"].is_object(), "{page}");
    assert!(fonoster["post"]["responses"]["201"].is_object());
    let pbx = &doc["paths"]["/api/routes/{id}"];
    let changed = &pbx["put"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(changed["required"], json!(["code", "message", "data"]));
    let record = &pbx["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(record["properties"]["id"]["type"], "integer");
    let error = &pbx["get"]["responses"]["4XX"]["content"]["application/json"]["schema"];
    assert_eq!(error["required"], json!(["code", "message", "data"]));
}

/// The operations whose success answer is still "any JSON with a 2XX
/// status", with the reason each may stay so.
const ALLOWED_LOOSE: &[(&str, &str, &str)] = &[];

#[test]
fn no_operation_answers_loose_json() {
    let doc = document();
    let mut loose = Vec::new();
    for (path, method, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let strict = responses.iter().filter(|(k, _)| k.starts_with('2')).all(|(k, r)| {
            if k == "204" {
                return r.get("content").is_none();
            }
            // JSON, or a file's bytes (`audio/wav` downloads).
            let schema = &r["content"]["application/json"]["schema"];
            let file = r["content"].as_object().is_some_and(|c| {
                c.iter().any(|(media, m)| !media.contains("json") && m["schema"]["format"] == "binary")
            });
            file || schema.as_object().is_some_and(|o| !o.is_empty())
        });
        if !strict && !ALLOWED_LOOSE.iter().any(|(m, p, _)| *m == method && *p == path) {
            loose.push(format!("{method} {path}"));
        }
    }
    assert!(loose.is_empty(), "{} loose operations:\n{}", loose.len(), loose.join("\n"));
}

#[test]
fn recording_downloads_are_documented_as_wav_bytes() {
    let doc = document();
    let op = &doc["paths"]["/api/recordings/{name}"]["get"];
    let ok = &op["responses"]["200"]["content"];
    assert_eq!(ok["audio/wav"]["schema"], json!({"type": "string", "format": "binary"}), "{op}");
    assert!(ok.get("application/json").is_none(), "{op}");
    assert_eq!(op["parameters"][0]["schema"]["type"], "string", "{op}");
}

#[test]
fn call_records_are_got_by_uuid_and_their_list_filters_are_declared() {
    let doc = document();
    assert!(doc["paths"]["/api/cdrs/{id}"].is_null(), "no integer id path");
    let one = &doc["paths"]["/api/cdrs/{uuid}"]["get"]["parameters"][0];
    assert_eq!((&one["name"], &one["schema"]["type"]), (&json!("uuid"), &json!("string")), "{one}");
    let params = doc["paths"]["/api/cdrs"]["get"]["parameters"].as_array().unwrap();
    let named = |name: &str| {
        let found: Vec<&Value> = params.iter().filter(|p| p["name"] == name).collect();
        assert_eq!(found.len(), 1, "{name} once: {params:#?}");
        assert_eq!(found[0]["in"], "query");
        found[0]["schema"].clone()
    };
    for name in ["page", "perPage", "status", "uuid", "call_uuid", "src", "dst_dialled", "hangup_cause"] {
        assert_eq!(named(name)["type"], if name.starts_with("p") { "integer" } else { "string" }, "{name}");
    }
    assert_eq!(named("start_date")["format"], "date-time");
    assert_eq!(named("end_date")["format"], "date-time", "the call's start bound, not the field");
    assert_eq!(named("leg")["enum"], json!(["A", "B"]));
    assert_eq!(named("route_id")["type"], "integer");
}
