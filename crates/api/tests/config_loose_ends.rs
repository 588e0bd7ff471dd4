//! Loose ends of the configuration API (issue 14, item 4): a workspace
//! addressed by its access key id, length limits on names, descriptions
//! and URLs in every dialect, a number named by a domain's egress policy
//! kept from deletion, and a trunk written with its memberships in one
//! transaction (the store's own tests make a step fail mid-write); on
//! SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use support::{Auth, Backend, Server};

on_both_stores!(
    a_workspace_is_addressed_by_ref_or_access_key_id,
    text_fields_have_length_limits_in_every_dialect,
    a_number_named_by_an_egress_policy_is_not_deleted,
    a_trunk_and_its_memberships_are_written_together,
);

/// Asserts a 400 naming `field` in the Fonoster error shape.
fn invalid(st: u16, body: &Value, field: &str) {
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert!(details.iter().any(|d| d["field"] == field), "{field} named in {body}");
}

async fn a_workspace_is_addressed_by_ref_or_access_key_id(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, ws) = s.get(&format!("/v1beta2/workspaces/{}", s.workspace), &fon).await;
    assert_eq!(st, 200, "{ws}");
    assert_eq!(ws["accessKeyId"], json!(s.workspace));
    let r = ws["ref"].as_str().unwrap().to_owned();
    let (st, renamed) =
        s.put(&format!("/v1beta2/workspaces/{}", s.workspace), json!({"name": "Renamed"}), &fon).await;
    assert_eq!(st, 200, "{renamed}");
    let (_, by_ref) = s.get(&format!("/v1beta2/workspaces/{r}"), &fon).await;
    assert_eq!(by_ref["name"], "Renamed");
    let (st, members) = s.get(&format!("/v1beta2/workspaces/{}/members", s.workspace), &fon).await;
    assert_eq!(st, 200, "{members}");
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    // An access key id of no workspace, or of one the caller is not in.
    let (st, _) = s.get("/v1beta2/workspaces/WO00000000000000000000000000000000", &fon).await;
    assert_eq!(st, 404);
    let (st, other) = s.post("/v1beta2/workspaces", json!({"name": "Theirs"}), &fon).await;
    assert_eq!(st, 201, "{other}");
    let (_, key) = s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_ADMIN"}), &fon).await;
    let by_key = Auth::Basic(
        key["accessKeyId"].as_str().unwrap().into(),
        key["accessKeySecret"].as_str().unwrap().into(),
    );
    let theirs = other["accessKeyId"].as_str().unwrap();
    let (st, _) = s.put(&format!("/v1beta2/workspaces/{theirs}"), json!({"name": "Mine"}), &by_key).await;
    assert_eq!(st, 404, "an API key sees only its own workspace");
    let (_, still) = s.get(&format!("/v1beta2/workspaces/{theirs}"), &fon).await;
    assert_eq!(still["name"], "Theirs");
}

async fn text_fields_have_length_limits_in_every_dialect(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let long = |n: usize| "x".repeat(n);

    // A 5000-character application name: refused, nothing made.
    let (st, body) = s
        .post(
            "/v1beta2/applications",
            json!({"name": long(5000), "type": "EXTERNAL", "endpoint": "https://example.com/a"}),
            &fon,
        )
        .await;
    invalid(st, &body, "name");
    assert!(body["error"]["details"][0]["message"].as_str().unwrap().contains("128"), "{body}");
    let (_, list) = s.get("/v1beta2/applications", &fon).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    // At the limit it is taken; counted in characters, not bytes.
    let (st, app) = s
        .post(
            "/v1beta2/applications",
            json!({"name": "é".repeat(128), "type": "EXTERNAL", "endpoint": "https://example.com/a"}),
            &fon,
        )
        .await;
    assert_eq!(st, 201, "{app}");
    let r = app["ref"].as_str().unwrap();
    let (st, body) = s.put(&format!("/v1beta2/applications/{r}"), json!({"name": long(129)}), &fon).await;
    invalid(st, &body, "name");
    let (st, body) = s
        .put(
            &format!("/v1beta2/applications/{r}"),
            json!({"endpoint": format!("https://example.com/{}", long(2100))}),
            &fon,
        )
        .await;
    invalid(st, &body, "endpoint");
    // A field read under another name is named by that name.
    let (st, body) = s
        .post(
            "/v1beta2/trunks",
            json!({"name": "t", "outboundUri": format!("sip:{}.example.com", long(2100))}),
            &fon,
        )
        .await;
    invalid(st, &body, "outboundUri");
    assert!(body.to_string().contains("at most 2048"), "{body}");

    // PBX: a description past 1024 characters.
    let pbx = s.pbx().await;
    let (st, body) = s
        .post(
            "/api/hotlines",
            json!({"numbers": "1001", "line_number": "6753997", "description": long(1025)}),
            &pbx,
        )
        .await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("description"), "{body}");

    // Vonage: the same application name limit.
    let (id, secret, _) = s.api_key(&fon, "WORKSPACE_ADMIN").await;
    let vonage = Auth::Basic(id, secret);
    let (st, body) = s.post("/v2/applications", json!({"name": long(200)}), &vonage).await;
    assert_eq!(st, 400, "{body}");
    assert!(body.to_string().contains("name"), "{body}");

    // The document says so.
    let (_, doc) = s.get("/openapi.json", &Auth::None).await;
    let props = &doc["paths"]["/v1beta2/applications"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["properties"];
    assert_eq!(props["name"]["maxLength"], 128, "{props}");
    assert_eq!(props["endpoint"]["anyOf"][0]["maxLength"], 2048, "{props}");
}

async fn a_number_named_by_an_egress_policy_is_not_deleted(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, number) =
        s.post("/v1beta2/numbers", json!({"name": "Main", "telUrl": "tel:+17853178070"}), &fon).await;
    assert_eq!(st, 201, "{number}");
    let number = number["ref"].as_str().unwrap().to_owned();
    let (st, other) =
        s.post("/v1beta2/numbers", json!({"name": "Spare", "telUrl": "tel:+17853178071"}), &fon).await;
    assert_eq!(st, 201, "{other}");
    let other = other["ref"].as_str().unwrap().to_owned();
    let (st, domain) = s
        .post(
            "/v1beta2/domains",
            json!({"name": "Office", "domainUri": "office.example.com",
                   "egressPolicies": [{"rule": ".*", "numberRef": number}]}),
            &fon,
        )
        .await;
    assert_eq!(st, 201, "{domain}");
    let domain = domain["ref"].as_str().unwrap().to_owned();

    // Fonoster: 409 naming the domain; the number stays.
    let (st, body) = s.delete(&format!("/v1beta2/numbers/{number}"), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("domain") && message.contains(&domain), "{body}");
    let (st, _) = s.get(&format!("/v1beta2/numbers/{number}"), &fon).await;
    assert_eq!(st, 200);

    // The PBX sees the same number as a hotline and is refused too.
    let pbx = s.pbx().await;
    let (_, lines) = s.get("/api/hotlines?page=1&perPage=100", &pbx).await;
    let line = lines["data"].as_array().unwrap().iter().find(|l| l["line_number"] == "+17853178070");
    let id = line.map(|l| l["id"].clone()).unwrap_or_default();
    assert!(!id.is_null(), "{lines}");
    let (st, body) = s.delete(&format!("/api/hotlines/{id}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");

    // A number no policy names goes; once the policy moves, so does the first.
    let (st, _) = s.delete(&format!("/v1beta2/numbers/{other}"), &fon).await;
    assert_eq!(st, 200);
    let (st, _) = s.put(&format!("/v1beta2/domains/{domain}"), json!({"egressPolicies": []}), &fon).await;
    assert_eq!(st, 200);
    let (st, body) = s.delete(&format!("/v1beta2/numbers/{number}"), &fon).await;
    assert_eq!(st, 200, "{body}");
}

async fn a_trunk_and_its_memberships_are_written_together(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (st, g) = s.post("/api/trunk_groups", json!({"name": "g1", "strategy": "WEIGHT"}), &pbx).await;
    assert_eq!(st, 200, "{g}");
    let group: i64 = g["data"].as_str().map_or_else(|| g["data"].as_i64().unwrap(), |t| t.parse().unwrap());
    let body = json!({"name": "carrier", "remote_addr": "203.0.113.5:5060",
                      "trunk_groups": [{"id": group, "weight": 7, "priority": 2}]});
    let (st, made) = s.post("/api/trunks", body, &pbx).await;
    assert_eq!(st, 200, "{made}");
    let id = made["data"].clone();
    let id = id.as_i64().map_or_else(|| id.as_str().unwrap().to_owned(), |n| n.to_string());
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!(one["trunk_groups"][0]["id"], json!(group), "{one}");
    assert_eq!(
        (one["trunk_groups"][0]["weight"].clone(), one["trunk_groups"][0]["priority"].clone()),
        (json!(7), json!(2))
    );

    // A refused membership leaves the trunk as it was, the new name too.
    let (st, _) = s
        .put(
            &format!("/api/trunks/{id}"),
            json!({"name": "renamed", "trunk_groups": [{"id": group, "weight": 5000}]}),
            &pbx,
        )
        .await;
    assert_eq!(st, 400);
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!(
        (one["name"].clone(), one["trunk_groups"][0]["weight"].clone()),
        (json!("carrier"), json!(7)),
        "{one}"
    );

    // Name and memberships change together.
    let (st, _) =
        s.put(&format!("/api/trunks/{id}"), json!({"name": "renamed", "trunk_groups": []}), &pbx).await;
    assert_eq!(st, 200);
    let (_, one) = s.get(&format!("/api/trunks/{id}"), &pbx).await;
    assert_eq!((one["name"].clone(), one["trunk_groups"].clone()), (json!("renamed"), json!([])), "{one}");
    let (_, grp) = s.get(&format!("/api/trunk_groups/{group}"), &pbx).await;
    assert_eq!(grp["trunks"], json!([]), "{grp}");
}
