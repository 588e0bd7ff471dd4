//! The Vonage Applications API v2 of seed 002: create (with a generated or
//! given key), list (HAL), get, update, delete; the same applications as
//! Fonoster's; bad input in RFC 7807 shape; on SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use support::{Auth, Backend, Server};

on_both_stores!(
    applications_replay_the_seed,
    one_store_two_dialects,
    bad_input_is_refused_in_vonage_shape,
    auth_roles_and_quota,
);

/// An admin API key of the default workspace, as Basic credentials.
async fn key(s: &Server, role: &str) -> Auth {
    let owner = s.owner().await;
    let (id, secret, _) = s.api_key(&owner, role).await;
    Auth::Basic(id, secret)
}

fn capabilities() -> Value {
    json!({
        "voice": {"webhooks": {
            "answer_url": {"address": "https://example.com/webhooks/answer", "http_method": "GET"},
            "fallback_answer_url": {"address": "https://example.com/webhooks/fallback", "http_method": "GET"},
            "event_url": {"address": "https://example.com/webhooks/event", "http_method": "POST"}
        }},
        "messages": {"webhooks": {
            "inbound_url": {"address": "https://example.com/webhooks/inbound", "http_method": "POST"},
            "status_url": {"address": "https://example.com/webhooks/status", "http_method": "POST"}
        }},
        "rtc": {"webhooks": {
            "event_url": {"address": "https://example.com/webhooks/rtcevent", "http_method": "POST"}
        }},
        "vbc": {}
    })
}

/// Asserts an RFC 7807 problem with `status`, naming `param` if given.
fn problem(st: u16, body: &Value, status: u16, param: Option<&str>) {
    assert_eq!(st, status, "{body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(), "{body}");
    if let Some(param) = param {
        let params = body["invalid_parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == param), "{param} named in {body}");
    }
}

async fn applications_replay_the_seed(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let vonage = key(&s, "WORKSPACE_ADMIN").await;

    // Create a voice, messages, rtc and vbc application; a key pair is made.
    let (st, app) = s
        .post("/v2/applications", json!({"name": "My Application", "capabilities": capabilities()}), &vonage)
        .await;
    assert_eq!(st, 201, "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(app["name"], "My Application");
    assert_eq!(app["capabilities"], capabilities());
    let public = app["keys"]["public_key"].as_str().unwrap();
    let private = app["keys"]["private_key"].as_str().unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let private = RsaPrivateKey::from_pkcs8_pem(private).unwrap();
    assert_eq!(RsaPublicKey::from(&private), RsaPublicKey::from_public_key_pem(public).unwrap(), "one pair");

    // Get: the private key is never shown again.
    let (st, one) = s.get(&format!("/v2/applications/{id}"), &vonage).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!((&one["id"], &one["name"], &one["capabilities"]), (&json!(id), &app["name"], &capabilities()));
    assert_eq!(one["keys"], json!({"public_key": public}));

    // A second, with its own public key: no private key comes back.
    let mine = public_pem(2048);
    let (st, second) = s
        .post(
            "/v2/applications",
            json!({
                "name": "Messages only",
                "capabilities": {"messages": {"webhooks": {"inbound_url": {"address": "http://example.com/in"}}}},
                "keys": {"public_key": mine}
            }),
            &vonage,
        )
        .await;
    assert_eq!(st, 201, "{second}");
    assert_eq!(second["keys"], json!({"public_key": mine}));
    assert_eq!(
        second["capabilities"]["messages"]["webhooks"]["inbound_url"],
        json!({"address": "http://example.com/in", "http_method": "POST"}),
        "methods default"
    );
    let second_id = second["id"].as_str().unwrap().to_owned();

    // List, HAL-style, paged.
    let (st, list) = s.get("/v2/applications", &vonage).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (&list["page_size"], &list["page"], &list["total_items"], &list["total_pages"]),
        (&json!(10), &json!(1), &json!(2), &json!(1))
    );
    let apps = list["_embedded"]["applications"].as_array().unwrap();
    assert_eq!((apps.len(), &apps[0]["id"], &apps[1]["id"]), (2, &json!(id), &json!(second_id)));
    assert!(apps[0]["keys"].get("private_key").is_none());
    let (_, page2) = s.get("/v2/applications?page_size=1&page=2", &vonage).await;
    assert_eq!(
        (&page2["page_size"], &page2["page"], &page2["total_pages"]),
        (&json!(1), &json!(2), &json!(2))
    );
    assert_eq!(page2["_embedded"]["applications"][0]["id"], json!(second_id));
    let (_, page3) = s.get("/v2/applications?page_size=1&page=3", &vonage).await;
    assert_eq!(page3["_embedded"]["applications"], json!([]));

    // HAL links on every page: next until the last, prev after the first.
    let href = |page: &Value, rel: &str| page["_links"][rel]["href"].as_str().map(str::to_owned);
    let (_, page1) = s.get("/v2/applications?page_size=1&page=1", &vonage).await;
    assert_eq!(href(&page1, "self").as_deref(), Some("/v2/applications?page_size=1&page=1"), "{page1}");
    assert_eq!(href(&page1, "next").as_deref(), Some("/v2/applications?page_size=1&page=2"));
    assert_eq!(href(&page1, "last").as_deref(), Some("/v2/applications?page_size=1&page=2"));
    assert_eq!(href(&page1, "prev"), None);
    assert_eq!(href(&page2, "prev").as_deref(), Some("/v2/applications?page_size=1&page=1"), "{page2}");
    assert_eq!(href(&page2, "next"), None, "{page2}");
    assert_eq!(href(&list, "first").as_deref(), Some("/v2/applications?page_size=10&page=1"));
    // Following next from the first page reaches every application once.
    let (mut seen, mut at) = (Vec::new(), href(&page1, "self"));
    while let Some(path) = at {
        let (st, page) = s.get(&path, &vonage).await;
        assert_eq!(st, 200, "{page}");
        seen.extend(page["_embedded"]["applications"].as_array().unwrap().iter().map(|a| a["id"].clone()));
        at = href(&page, "next");
    }
    assert_eq!(seen, vec![json!(id), json!(second_id)]);

    // Update: a new name and voice webhooks only.
    let voice = json!({"voice": {"webhooks": {
        "answer_url": {"address": "https://example.com/v2/answer", "http_method": "POST"},
        "event_url": {"address": "https://example.com/v2/event", "http_method": "POST"}
    }}});
    let (st, up) = s
        .put(&format!("/v2/applications/{id}"), json!({"name": "Renamed", "capabilities": voice}), &vonage)
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!((&up["name"], &up["capabilities"]), (&json!("Renamed"), &voice));
    assert_eq!(up["keys"], json!({"public_key": public}), "the key stays");
    assert!(up["keys"].get("private_key").is_none());
    // A new public key may be set.
    let (st, up) = s
        .put(
            &format!("/v2/applications/{id}"),
            json!({"name": "Renamed", "keys": {"public_key": mine}}),
            &vonage,
        )
        .await;
    assert_eq!((st, &up["keys"]["public_key"], &up["capabilities"]), (200, &json!(mine), &voice));

    // Delete: 204, no body.
    let resp =
        vonage.apply(s.req(reqwest::Method::DELETE, &format!("/v2/applications/{id}"))).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(resp.text().await.unwrap(), "");
    let (st, body) = s.get(&format!("/v2/applications/{id}"), &vonage).await;
    problem(st, &body, 404, None);
    let (st, body) = s.delete(&format!("/v2/applications/{id}"), &vonage).await;
    problem(st, &body, 404, None);
}

async fn one_store_two_dialects(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let vonage = key(&s, "WORKSPACE_ADMIN").await;
    let fon = s.fonoster().await;

    // A Vonage application is a Fonoster application; its answer URL is
    // the endpoint.
    let (_, app) = s
        .post("/v2/applications", json!({"name": "From Vonage", "capabilities": capabilities()}), &vonage)
        .await;
    let id = app["id"].as_str().unwrap().to_owned();
    let (st, list) = s.get("/v1beta2/applications", &fon).await;
    assert_eq!(st, 200, "{list}");
    let item = &list["items"][0];
    assert_eq!((&item["ref"], &item["name"]), (&json!(id), &json!("From Vonage")));
    assert_eq!(
        (&item["type"], &item["endpoint"]),
        (&json!("EXTERNAL"), &json!("https://example.com/webhooks/answer"))
    );
    assert!(item.get("capabilities").is_none() && item.get("publicKey").is_none(), "{item}");

    // A Fonoster endpoint change is the Vonage answer URL, method kept.
    let (st, _) = s
        .put(&format!("/v1beta2/applications/{id}"), json!({"endpoint": "https://moved.example.com/a"}), &fon)
        .await;
    assert_eq!(st, 200);
    let (_, one) = s.get(&format!("/v2/applications/{id}"), &vonage).await;
    assert_eq!(
        one["capabilities"]["voice"]["webhooks"]["answer_url"],
        json!({"address": "https://moved.example.com/a", "http_method": "GET"})
    );
    assert_eq!(one["capabilities"]["rtc"], capabilities()["rtc"], "the rest kept");

    // A Fonoster application is visible to Vonage, its endpoint POSTed to.
    let (_, fapp) = s
        .post(
            "/v1beta2/applications",
            json!({"name": "From Fonoster", "endpoint": "https://f.example.com/hook"}),
            &fon,
        )
        .await;
    let fref = fapp["ref"].as_str().unwrap();
    let (st, one) = s.get(&format!("/v2/applications/{fref}"), &vonage).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(
        one,
        json!({
            "id": fref,
            "name": "From Fonoster",
            "capabilities": {"voice": {"webhooks": {"answer_url": {"address": "https://f.example.com/hook", "http_method": "POST"}}}},
            "keys": {"public_key": null}
        })
    );
    let (_, list) = s.get("/v2/applications", &vonage).await;
    assert_eq!(list["total_items"], 2);

    // Vonage without voice clears the endpoint; Fonoster shows that.
    let messages = json!({"messages": {"webhooks": {"status_url": {"address": "https://e.example.com/s"}}}});
    let (st, _) = s
        .put(&format!("/v2/applications/{fref}"), json!({"name": "Msg", "capabilities": messages}), &vonage)
        .await;
    assert_eq!(st, 200);
    let (_, f) = s.get(&format!("/v1beta2/applications/{fref}"), &fon).await;
    assert_eq!((&f["name"], &f["endpoint"]), (&json!("Msg"), &json!("")));
    let (_, v) = s.get(&format!("/v2/applications/{fref}"), &vonage).await;
    assert_eq!(v["capabilities"]["messages"]["webhooks"]["status_url"]["http_method"], "POST");
    assert!(v["capabilities"].get("voice").is_none(), "{v}");

    // An application a number uses cannot be deleted from either side.
    let (st, _) = s
        .post(
            "/v1beta2/numbers",
            json!({"telUrl": "tel:+15550001", "ingressHandler": {"type": "APPLICATION", "ref": id}}),
            &fon,
        )
        .await;
    assert_eq!(st, 201);
    let (st, body) = s.delete(&format!("/v2/applications/{id}"), &vonage).await;
    problem(st, &body, 409, None);
    assert!(body["detail"].as_str().unwrap().contains("number"), "{body}");
}

async fn bad_input_is_refused_in_vonage_shape(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let vonage = key(&s, "WORKSPACE_ADMIN").await;
    let hook = |addr: &str| json!({"address": addr, "http_method": "POST"});
    let cases = [
        (json!({"capabilities": {}}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": "a", "capabilities": []}), "capabilities"),
        (json!({"name": "a", "capabilities": {"fax": {}}}), "capabilities.fax"),
        (json!({"name": "a", "capabilities": {"voice": []}}), "capabilities.voice"),
        (
            json!({"name": "a", "capabilities": {"voice": {"webhooks": {"answer_url": hook("ftp://x.example.com")}}}}),
            "capabilities.voice.webhooks.answer_url.address",
        ),
        (
            json!({"name": "a", "capabilities": {"voice": {"webhooks": {"answer_url": hook("not a url")}}}}),
            "capabilities.voice.webhooks.answer_url.address",
        ),
        (
            json!({"name": "a", "capabilities": {"voice": {"webhooks": {"event_url": {"http_method": "POST"}}}}}),
            "capabilities.voice.webhooks.event_url.address",
        ),
        (
            json!({"name": "a", "capabilities": {"voice": {"webhooks": {"event_url": {"address": "https://e.com", "http_method": "PATCH"}}}}}),
            "capabilities.voice.webhooks.event_url.http_method",
        ),
        (
            json!({"name": "a", "capabilities": {"voice": {"webhooks": {"inbound_url": hook("https://e.com")}}}}),
            "capabilities.voice.webhooks.inbound_url",
        ),
        (
            json!({"name": "a", "capabilities": {"messages": {"webhooks": {"status_url": "https://e.com"}}}}),
            "capabilities.messages.webhooks.status_url",
        ),
        (
            json!({"name": "a", "capabilities": {"rtc": {"webhooks": {"event_url": {"address": "https://e.com", "socket_timeout": 5}}}}}),
            "capabilities.rtc.webhooks.event_url.socket_timeout",
        ),
        (
            json!({"name": "a", "capabilities": {"voice": {"signed_callbacks": "yes"}}}),
            "capabilities.voice.signed_callbacks",
        ),
        (json!({"name": "a", "capabilities": {"vbc": {"anything": 1}}}), "capabilities.vbc.anything"),
        (json!({"name": "a", "keys": {"public_key": "not a key"}}), "keys.public_key"),
        (json!({"name": "a", "keys": {"public_key": 5}}), "keys.public_key"),
        (json!({"name": "a", "keys": "k"}), "keys"),
    ];
    for (body, param) in cases {
        let (st, resp) = s.post("/v2/applications", body.clone(), &vonage).await;
        problem(st, &resp, 400, Some(param));
    }
    // A 1024-bit key is too weak.
    let weak = public_pem(1024);
    let (st, body) =
        s.post("/v2/applications", json!({"name": "a", "keys": {"public_key": weak}}), &vonage).await;
    problem(st, &body, 400, Some("keys.public_key"));
    let (st, body) = s.post("/v2/applications", json!("name"), &vonage).await;
    problem(st, &body, 400, None);
    let resp = vonage
        .apply(s.req(reqwest::Method::POST, "/v2/applications"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // Nothing was made.
    let (_, list) = s.get("/v2/applications", &vonage).await;
    assert_eq!(list["total_items"], 0);

    // Paging parameters.
    for q in ["page_size=0", "page_size=101", "page=0", "page=x", "page_size=-1"] {
        let (st, body) = s.get(&format!("/v2/applications?{q}"), &vonage).await;
        problem(st, &body, 400, None);
    }

    // Update: name required, bad webhooks refused, nothing changed.
    let (_, app) = s
        .post(
            "/v2/applications",
            json!({"name": "ok", "capabilities": capabilities(), "keys": {"public_key": public_pem(2048)}}),
            &vonage,
        )
        .await;
    let id = app["id"].as_str().unwrap();
    let (st, body) = s.put(&format!("/v2/applications/{id}"), json!({"capabilities": {}}), &vonage).await;
    problem(st, &body, 400, Some("name"));
    let bad = json!({"name": "x", "capabilities": {"voice": {"webhooks": {"answer_url": hook("javascript:alert(1)")}}}});
    let (st, body) = s.put(&format!("/v2/applications/{id}"), bad, &vonage).await;
    problem(st, &body, 400, Some("capabilities.voice.webhooks.answer_url.address"));
    let (_, one) = s.get(&format!("/v2/applications/{id}"), &vonage).await;
    assert_eq!((&one["name"], &one["capabilities"]), (&json!("ok"), &capabilities()));
    let (st, body) =
        s.put("/v2/applications/00000000-0000-0000-0000-000000000000", json!({"name": "x"}), &vonage).await;
    problem(st, &body, 404, None);
}

/// The PEM public key of a new RSA key of `bits`.
fn public_pem(bits: usize) -> String {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).unwrap();
    RsaPublicKey::from(&private).to_public_key_pem(LineEnding::LF).unwrap()
}

async fn auth_roles_and_quota(b: Backend) {
    let mut settings = Settings::default();
    settings.quotas.insert("applications".into(), 1);
    let Some(s) = Server::start(b, settings).await else { return };
    let admin = key(&s, "WORKSPACE_ADMIN").await;
    let member = key(&s, "WORKSPACE_MEMBER").await;

    let (st, body) = s.get("/v2/applications", &Auth::None).await;
    problem(st, &body, 401, None);
    let Auth::Basic(id, _) = admin.clone() else { unreachable!() };
    let (st, body) = s.get("/v2/applications", &Auth::Basic(id, "SKwrong".into())).await;
    problem(st, &body, 401, None);

    let body = json!({"name": "a", "capabilities": {"vbc": {}}});
    let (st, resp) = s.post("/v2/applications", body.clone(), &member).await;
    problem(st, &resp, 403, None);
    let (st, app) = s.post("/v2/applications", body.clone(), &admin).await;
    assert_eq!(st, 201, "{app}");
    assert_eq!(app["capabilities"], json!({"vbc": {}}));
    let (st, _) = s.get("/v2/applications", &member).await;
    assert_eq!(st, 200, "members read");
    let id = app["id"].as_str().unwrap();
    let (st, resp) = s.delete(&format!("/v2/applications/{id}"), &member).await;
    problem(st, &resp, 403, None);

    // The applications quota holds in both dialects.
    let (st, resp) = s.post("/v2/applications", body, &admin).await;
    problem(st, &resp, 429, None);
    assert!(resp["detail"].as_str().unwrap().contains("applications"), "{resp}");
    let fon = s.fonoster().await;
    let (st, resp) = s
        .post("/v1beta2/applications", json!({"name": "b", "endpoint": "https://b.example.com"}), &fon)
        .await;
    assert_eq!((st, resp["error"]["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));

    // Another workspace's key sees none of it.
    let owner = s.owner().await;
    let (_, other) = s.post("/v1beta2/workspaces", json!({"name": "Other"}), &owner).await;
    let in_other = owner.in_workspace(other["accessKeyId"].as_str().unwrap());
    let (oid, osecret, _) = s.api_key(&in_other, "WORKSPACE_ADMIN").await;
    let other_key = Auth::Basic(oid, osecret);
    let (st, body) = s.get(&format!("/v2/applications/{id}"), &other_key).await;
    problem(st, &body, 404, None);
    let (_, list) = s.get("/v2/applications", &other_key).await;
    assert_eq!(list["total_items"], 0);
}
