//! The Fonoster configuration resources of seed 000 (applications, numbers,
//! agents, domains, trunks, credentials, ACLs, secrets): every request
//! example replayed in the seed's order, views across dialects, and the
//! bad input each refuses, on SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{APPLICATIONS, CREDENTIALS, NUMBERS, SECRETS};
use store::{Filter, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(
    seed_examples_replay_in_order,
    pbx_hotlines_are_numbers,
    bad_input_is_refused_and_changes_nothing,
    references_in_use_cannot_be_deleted,
    quotas_are_enforced,
    roles_paging_and_other_workspaces,
);

/// Asserts a 201 and answers the created resource's ref.
fn created(st: u16, body: &Value) -> String {
    assert_eq!(st, 201, "{body}");
    let r = body["ref"].as_str().unwrap().to_owned();
    assert_eq!(r.len(), 36, "a UUID ref: {body}");
    for t in ["createdAt", "updatedAt"] {
        assert!(body[t].as_str().unwrap().ends_with('Z'), "{t} in RFC 3339: {body}");
    }
    r
}

/// Asserts a 400 INVALID_ARGUMENT naming `field`.
fn invalid(st: u16, body: &Value, field: &str) {
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert!(details.iter().any(|d| d["field"] == field), "{field} named in {body}");
}

async fn post(s: &Server, path: &str, body: Value, auth: &Auth) -> String {
    let (st, body) = s.post(path, body, auth).await;
    created(st, &body)
}

/// The workspace's scope in the store.
async fn scope(s: &Server) -> Scope {
    let ws = s
        .state
        .db
        .find(&store::schema::WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", s.workspace.as_str())])
        .await
        .unwrap()
        .unwrap();
    Scope::Workspace(ws.id)
}

async fn count(s: &Server, path: &str, auth: &Auth) -> usize {
    let (st, body) = s.get(&format!("{path}?pageSize=1000"), auth).await;
    assert_eq!(st, 200, "{body}");
    body["items"].as_array().unwrap().len()
}

async fn seed_examples_replay_in_order(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let ws = scope(&s).await;

    // 1. Applications: create.
    let (st, app) = s
        .post(
            "/v1beta2/applications",
            json!({
                "name": "My Voice App",
                "type": "EXTERNAL",
                "endpoint": "https://myapp.example.com/webhook",
                "textToSpeech": {"productRef": "tts-google", "config": {"voice": "en-US-Wavenet-D"}},
                "speechToText": {"productRef": "stt-google", "config": {"languageCode": "en-US"}},
                "intelligence": {
                    "productRef": "openai-gpt4",
                    "credentials": {"apiKey": "sk-..."},
                    "config": {"model": "gpt-4", "temperature": 0.7}
                }
            }),
            &fon,
        )
        .await;
    let app_ref = created(st, &app);
    assert_eq!(app["name"], "My Voice App");
    assert_eq!(app["type"], "EXTERNAL");
    assert_eq!(app["endpoint"], "https://myapp.example.com/webhook");
    assert_eq!(
        app["textToSpeech"],
        json!({"productRef": "tts-google", "config": {"voice": "en-US-Wavenet-D"}})
    );
    assert_eq!(app["speechToText"]["config"]["languageCode"], "en-US");
    assert_eq!(
        app["intelligence"],
        json!({"productRef": "openai-gpt4", "config": {"model": "gpt-4", "temperature": 0.7}})
    );
    assert!(!app.to_string().contains("sk-..."), "credentials never shown: {app}");
    assert!(app.get("capabilities").is_none() && app.get("publicKey").is_none(), "{app}");
    let stored = s.state.db.get(&APPLICATIONS, ws, &store::Key::Ref(app_ref.clone())).await.unwrap();
    let sealed = stored.text("intelligence_credentials_enc");
    assert!(!sealed.contains("sk-"), "sealed at rest");
    assert_eq!(
        serde_json::from_str::<Value>(&s.state.sealer.open(sealed).unwrap()).unwrap(),
        json!({"apiKey": "sk-..."})
    );

    // List.
    let (st, list) = s.get("/v1beta2/applications?pageSize=20&pageToken=", &fon).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["nextPageToken"], "");
    let item = &list["items"][0];
    assert_eq!(
        (&item["ref"], &item["name"], &item["type"], &item["endpoint"]),
        (
            &json!(app_ref),
            &json!("My Voice App"),
            &json!("EXTERNAL"),
            &json!("https://myapp.example.com/webhook")
        )
    );

    // Update.
    let path = format!("/v1beta2/applications/{app_ref}");
    let (st, up) = s
        .put(
            &path,
            json!({"name": "Updated App Name", "endpoint": "https://newapp.example.com/webhook"}),
            &fon,
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["name"], &up["endpoint"]),
        (&json!("Updated App Name"), &json!("https://newapp.example.com/webhook"))
    );
    assert_eq!(up["textToSpeech"]["productRef"], "tts-google", "untouched fields kept");
    // Intelligence without credentials keeps the sealed ones.
    let (st, _) = s.put(&path, json!({"intelligence": {"productRef": "openai-gpt4"}}), &fon).await;
    assert_eq!(st, 200);
    let stored = s.state.db.get(&APPLICATIONS, ws, &store::Key::Ref(app_ref.clone())).await.unwrap();
    assert!(!stored.text("intelligence_credentials_enc").is_empty());
    let (st, one) = s.get(&path, &fon).await;
    assert_eq!((st, &one["name"]), (200, &json!("Updated App Name")));

    // Delete.
    let (st, body) = s.delete(&path, &fon).await;
    assert_eq!((st, &body["ref"]), (200, &json!(app_ref)));
    let (st, body) = s.get(&path, &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (404, Some("NOT_FOUND")));

    // Test token.
    let app_ref = post(
        &s,
        "/v1beta2/applications",
        json!({"name": "My App", "type": "EXTERNAL", "endpoint": "https://myapp.com/webhook"}),
        &fon,
    )
    .await;
    let (st, tt) = s.post(&format!("/v1beta2/applications/{app_ref}/test-token"), json!({}), &fon).await;
    assert_eq!(st, 200, "{tt}");
    let domain = tt["domain"].as_str().unwrap();
    let username = tt["username"].as_str().unwrap();
    assert!(domain.ends_with(".sip.calliope.local"), "{tt}");
    assert_eq!(tt["displayName"], "Test User");
    assert_eq!(tt["signalingServer"], format!("wss://{domain}"));
    assert_eq!(tt["targetAor"], format!("sip:{username}@{domain}"));
    let claims = s.state.keys.verify(tt["token"].as_str().unwrap(), s.state.now()).unwrap();
    assert_eq!((claims.sub.as_str(), claims.kind.as_str()), (app_ref.as_str(), "application"));
    assert!(claims.exp > s.state.now() / 1000);
    let (st, _) = s.get("/v1beta2/applications", &Auth::Bearer(tt["token"].as_str().unwrap().into())).await;
    assert_eq!(st, 401, "a test token is no access token");
    let (st, _) = s.post("/v1beta2/applications/nope/test-token", json!({}), &fon).await;
    assert_eq!(st, 404);

    // Prerequisites of the number, agent, domain and trunk examples.
    let acl_ref = post(&s, "/v1beta2/acls", json!({"name": "prereq", "allow": ["10.0.0.0/8"]}), &fon).await;
    let cred_ref =
        post(&s, "/v1beta2/credentials", json!({"name": "prereq", "username": "u1", "password": "p1"}), &fon)
            .await;
    let domain_ref =
        post(&s, "/v1beta2/domains", json!({"name": "Agents", "domainUri": "agents.example.com"}), &fon)
            .await;
    let agent_ref = post(
        &s,
        "/v1beta2/agents",
        json!({"name": "Jane", "username": "jane", "domain": {"ref": domain_ref}, "credentials": {"ref": cred_ref}}),
        &fon,
    )
    .await;

    // 3. Numbers: create, list, update.
    let (st, number) = s
        .post(
            "/v1beta2/numbers",
            json!({
                "name": "Main Office Line",
                "telUrl": "tel:+17853178070",
                "city": "Asheville",
                "country": "United States",
                "countryIsoCode": "US",
                "ingressHandler": {"type": "AGENT", "ref": agent_ref}
            }),
            &fon,
        )
        .await;
    let number_ref = created(st, &number);
    assert_eq!(number["telUrl"], "tel:+17853178070");
    assert_eq!(
        (&number["name"], &number["city"], &number["country"], &number["countryIsoCode"]),
        (&json!("Main Office Line"), &json!("Asheville"), &json!("United States"), &json!("US"))
    );
    assert_eq!(number["ingressHandler"], json!({"type": "AGENT", "ref": agent_ref}));
    for hidden in ["lineNumber", "numbers", "agent", "application", "refId", "type"] {
        assert!(number.get(hidden).is_none(), "{hidden} not shown: {number}");
    }
    let stored = s.state.db.get(&NUMBERS, ws, &store::Key::Ref(number_ref.clone())).await.unwrap();
    assert_eq!(stored.text("line_number"), "+17853178070");
    let (st, list) = s.get("/v1beta2/numbers", &fon).await;
    assert_eq!((st, &list["items"][0]["ref"]), (200, &json!(number_ref)));
    let (st, up) = s
        .put(
            &format!("/v1beta2/numbers/{number_ref}"),
            json!({"name": "Updated Number Name", "ingressHandler": {"type": "APPLICATION", "ref": app_ref}}),
            &fon,
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["name"], "Updated Number Name");
    assert_eq!(up["ingressHandler"], json!({"type": "APPLICATION", "ref": app_ref}));
    assert_eq!(up["telUrl"], "tel:+17853178070");
    let stored = s.state.db.get(&NUMBERS, ws, &store::Key::Ref(number_ref.clone())).await.unwrap();
    assert_eq!(stored.int("agent_id"), None, "one handler at a time");

    // 4. Agents: create, list.
    let (st, agent) = s
        .post(
            "/v1beta2/agents",
            json!({
                "name": "John Doe",
                "username": "john.doe",
                "domain": {"ref": domain_ref},
                "credentials": {"ref": cred_ref},
                "privacy": "PRIVATE",
                "enabled": true
            }),
            &fon,
        )
        .await;
    let john = created(st, &agent);
    assert_eq!((&agent["name"], &agent["username"]), (&json!("John Doe"), &json!("john.doe")));
    assert_eq!(agent["domain"], json!({"ref": domain_ref, "name": "Agents"}));
    assert_eq!(agent["credentials"], json!({"ref": cred_ref, "name": "prereq"}));
    assert_eq!((&agent["privacy"], &agent["enabled"]), (&json!("PRIVATE"), &json!(true)));
    assert!(agent.get("context").is_none(), "{agent}");
    let (st, list) = s.get("/v1beta2/agents", &fon).await;
    assert_eq!(st, 200);
    assert!(list["items"].as_array().unwrap().iter().any(|a| a["ref"] == json!(john)));

    // 5. Domains: create.
    let (st, domain) = s
        .post(
            "/v1beta2/domains",
            json!({
                "name": "My SIP Domain",
                "domainUri": "sip.example.com",
                "accessControlList": {"ref": acl_ref},
                "egressPolicies": [{"rule": ".*", "numberRef": number_ref}]
            }),
            &fon,
        )
        .await;
    created(st, &domain);
    assert_eq!((&domain["name"], &domain["domainUri"]), (&json!("My SIP Domain"), &json!("sip.example.com")));
    assert_eq!(domain["accessControlList"], json!({"ref": acl_ref, "name": "prereq"}));
    assert_eq!(domain["egressPolicies"], json!([{"rule": ".*", "numberRef": number_ref}]));
    assert!(domain.get("acl").is_none(), "{domain}");

    // 6. Trunks: create.
    let (st, trunk) = s
        .post(
            "/v1beta2/trunks",
            json!({
                "name": "Main Trunk",
                "inboundUri": "sip:trunk@provider.com",
                "outboundUri": "sip:provider.com",
                "accessControlList": {"ref": acl_ref},
                "inboundCredentials": {"ref": cred_ref},
                "outboundCredentials": {"ref": cred_ref}
            }),
            &fon,
        )
        .await;
    created(st, &trunk);
    assert_eq!(
        (&trunk["name"], &trunk["inboundUri"], &trunk["outboundUri"]),
        (&json!("Main Trunk"), &json!("sip:trunk@provider.com"), &json!("sip:provider.com"))
    );
    assert_eq!(trunk["accessControlList"]["ref"], json!(acl_ref));
    assert_eq!(trunk["inboundCredentials"]["ref"], json!(cred_ref));
    assert_eq!(trunk["outboundCredentials"]["ref"], json!(cred_ref));
    for hidden in ["remoteAddr", "protocol", "register", "acl", "source"] {
        assert!(trunk.get(hidden).is_none(), "{hidden} not shown: {trunk}");
    }

    // 7. Credentials: create.
    let (st, cred) = s
        .post(
            "/v1beta2/credentials",
            json!({"name": "SIP Credentials", "username": "sipuser", "password": "securepassword"}),
            &fon,
        )
        .await;
    let cred2 = created(st, &cred);
    assert_eq!((&cred["name"], &cred["username"]), (&json!("SIP Credentials"), &json!("sipuser")));
    assert!(!cred.to_string().contains("securepassword") && cred.get("passwordEnc").is_none(), "{cred}");
    let stored = s.state.db.get(&CREDENTIALS, ws, &store::Key::Ref(cred2.clone())).await.unwrap();
    assert_eq!(s.state.sealer.open(stored.text("password_enc")).unwrap(), "securepassword");
    let (st, _) = s.put(&format!("/v1beta2/credentials/{cred2}"), json!({"name": "Renamed"}), &fon).await;
    assert_eq!(st, 200, "the password need not be sent again");

    // 8. ACLs: create.
    let (st, acl) = s
        .post(
            "/v1beta2/acls",
            json!({"name": "Office Network", "allow": ["192.168.1.0/24", "10.0.0.0/8"], "deny": ["192.168.1.100"]}),
            &fon,
        )
        .await;
    created(st, &acl);
    assert_eq!(acl["allow"], json!(["192.168.1.0/24", "10.0.0.0/8"]));
    assert_eq!(acl["deny"], json!(["192.168.1.100"]));

    // 9. Secrets: create.
    let (st, secret) = s
        .post("/v1beta2/secrets", json!({"name": "API_KEY", "secret": "encrypted_secret_value"}), &fon)
        .await;
    let secret_ref = created(st, &secret);
    let mut keys: Vec<&str> = secret.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["createdAt", "name", "ref", "updatedAt"], "{secret}");
    let stored = s.state.db.get(&SECRETS, ws, &store::Key::Ref(secret_ref)).await.unwrap();
    assert_eq!(s.state.sealer.open(stored.text("secret_enc")).unwrap(), "encrypted_secret_value");

    // With a domain, test tokens use it.
    let (_, tt) = s.post(&format!("/v1beta2/applications/{app_ref}/test-token"), json!({}), &fon).await;
    assert_eq!(tt["domain"], "agents.example.com");
}

async fn pbx_hotlines_are_numbers(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let ws = scope(&s).await;
    let values = vec![("line_number", "6553998".into()), ("numbers", "1005".into())];
    s.state.db.insert(&NUMBERS, ws, values, s.state.now()).await.unwrap();
    let (st, list) = s.get("/v1beta2/numbers", &fon).await;
    assert_eq!(st, 200, "{list}");
    let item = &list["items"][0];
    assert_eq!(item["telUrl"], "tel:6553998");
    assert_eq!(item["ingressHandler"], Value::Null);
    assert!(item.get("numbers").is_none(), "{item}");
    let r = item["ref"].as_str().unwrap();
    let (st, one) = s.put(&format!("/v1beta2/numbers/{r}"), json!({"name": "Hotline"}), &fon).await;
    assert_eq!((st, &one["name"], &one["telUrl"]), (200, &json!("Hotline"), &json!("tel:6553998")));
    let stored = s.state.db.get(&NUMBERS, ws, &store::Key::Ref(r.into())).await.unwrap();
    assert_eq!(stored.text("numbers"), "1005", "the PBX's target stays");
    // The same number cannot be added again from Fonoster.
    let (st, body) = s.post("/v1beta2/numbers", json!({"telUrl": "tel:6553998"}), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
}

async fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let app = json!({"name": "A", "endpoint": "https://a.example.com/hook"});
    let app_ref = post(&s, "/v1beta2/applications", app, &fon).await;

    // Applications.
    let cases = [
        (json!({"endpoint": "https://a.example.com"}), "name"),
        (json!({"name": 5, "endpoint": "https://a.example.com"}), "name"),
        (json!({"name": "", "endpoint": "https://a.example.com"}), "name"),
        (json!({"name": "A", "type": "SOMETHING", "endpoint": "https://a.example.com"}), "type"),
        (json!({"name": "A", "endpoint": "ftp://a.example.com"}), "endpoint"),
        (json!({"name": "A", "endpoint": "not a url"}), "endpoint"),
        (json!({"name": "A", "endpoint": 7}), "endpoint"),
        (json!({"name": "A"}), "endpoint"),
        (json!({"name": "A", "type": "AUTOPILOT"}), "intelligence"),
        (json!({"name": "A", "endpoint": "https://a.example.com", "textToSpeech": "google"}), "textToSpeech"),
        (
            json!({"name": "A", "endpoint": "https://a.example.com", "speechToText": {"config": 1}}),
            "speechToText.config",
        ),
        (
            json!({"name": "A", "endpoint": "https://a.example.com", "intelligence": {"credentials": "k"}}),
            "intelligence.credentials",
        ),
        (
            json!({"name": "A", "endpoint": "https://a.example.com", "intelligence": {"productRef": 1}}),
            "intelligence.productRef",
        ),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/applications", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    let (st, body) = s.put(&format!("/v1beta2/applications/{app_ref}"), json!({"endpoint": ""}), &fon).await;
    invalid(st, &body, "endpoint");
    let (st, body) =
        s.put(&format!("/v1beta2/applications/{app_ref}"), json!({"type": "AUTOPILOT"}), &fon).await;
    invalid(st, &body, "intelligence");
    let (st, body) = s.post("/v1beta2/applications", json!([1, 2]), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("INVALID_ARGUMENT")));
    let (st, _) = s.put("/v1beta2/applications/no-such-ref", json!({"name": "x"}), &fon).await;
    assert_eq!(st, 404);
    assert_eq!(count(&s, "/v1beta2/applications", &fon).await, 1);
    let (_, one) = s.get(&format!("/v1beta2/applications/{app_ref}"), &fon).await;
    assert_eq!(one["endpoint"], "https://a.example.com/hook", "nothing changed");

    // Prerequisites.
    let acl = post(&s, "/v1beta2/acls", json!({"name": "acl"}), &fon).await;
    let cred =
        post(&s, "/v1beta2/credentials", json!({"name": "c", "username": "u", "password": "p"}), &fon).await;
    let domain = post(&s, "/v1beta2/domains", json!({"name": "d", "domainUri": "d.example.com"}), &fon).await;
    post(&s, "/v1beta2/agents", json!({"name": "a", "username": "1001"}), &fon).await;
    let number = post(&s, "/v1beta2/numbers", json!({"telUrl": "tel:+15550001"}), &fon).await;

    // Numbers.
    let cases = [
        (json!({"name": "n"}), "telUrl"),
        (json!({"telUrl": "+15550002"}), "telUrl"),
        (json!({"telUrl": "tel:+1555abc"}), "telUrl"),
        (json!({"telUrl": 15550002}), "telUrl"),
        (json!({"telUrl": "tel:+15550002", "countryIsoCode": "USA"}), "countryIsoCode"),
        (
            json!({"telUrl": "tel:+15550002", "ingressHandler": {"type": "QUEUE", "ref": app_ref}}),
            "ingressHandler.type",
        ),
        (
            json!({"telUrl": "tel:+15550002", "ingressHandler": {"type": "AGENT", "ref": app_ref}}),
            "ingressHandler.ref",
        ),
        (json!({"telUrl": "tel:+15550002", "ingressHandler": {"type": "APPLICATION"}}), "ingressHandler.ref"),
        (json!({"telUrl": "tel:+15550002", "ingressHandler": "agent"}), "ingressHandler"),
        (json!({"telUrl": "tel:+15550002", "city": 3}), "city"),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/numbers", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    let (st, body) = s.post("/v1beta2/numbers", json!({"telUrl": "tel:+1 555-0001"}), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    let (st, body) = s
        .put(
            &format!("/v1beta2/numbers/{number}"),
            json!({"ingressHandler": {"type": "AGENT", "ref": "nope"}}),
            &fon,
        )
        .await;
    invalid(st, &body, "ingressHandler.ref");
    assert_eq!(count(&s, "/v1beta2/numbers", &fon).await, 1);

    // Agents.
    let cases = [
        (json!({"username": "x"}), "name"),
        (json!({"name": "x"}), "username"),
        (json!({"name": "x", "username": "with space"}), "username"),
        (json!({"name": "x", "username": "x", "domain": {"ref": "nope"}}), "domain"),
        (json!({"name": "x", "username": "x", "credentials": {"ref": acl}}), "credentials"),
        (json!({"name": "x", "username": "x", "domain": 12}), "domain"),
        (json!({"name": "x", "username": "x", "privacy": "PUBLIC"}), "privacy"),
        (json!({"name": "x", "username": "x", "enabled": "maybe"}), "enabled"),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/agents", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    let (st, body) = s.post("/v1beta2/agents", json!({"name": "dup", "username": "1001"}), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    assert_eq!(count(&s, "/v1beta2/agents", &fon).await, 1);

    // Domains.
    let cases = [
        (json!({"name": "x", "domainUri": "not a host"}), "domainUri"),
        (json!({"name": "x", "domainUri": "-x.example.com"}), "domainUri"),
        (json!({"name": "x"}), "domainUri"),
        (
            json!({"name": "x", "domainUri": "x.example.com", "accessControlList": {"ref": "nope"}}),
            "accessControlList",
        ),
        (json!({"name": "x", "domainUri": "x.example.com", "accessControlList": 5}), "accessControlList"),
        (json!({"name": "x", "domainUri": "x.example.com", "egressPolicies": "all"}), "egressPolicies"),
        (
            json!({"name": "x", "domainUri": "x.example.com", "egressPolicies": [{"rule": "(", "numberRef": number}]}),
            "egressPolicies[0].rule",
        ),
        (
            json!({"name": "x", "domainUri": "x.example.com", "egressPolicies": [{"rule": ".*", "numberRef": "nope"}]}),
            "egressPolicies[0].numberRef",
        ),
        (
            json!({"name": "x", "domainUri": "x.example.com", "egressPolicies": [{"rule": ".*"}]}),
            "egressPolicies[0].numberRef",
        ),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/domains", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    let (st, body) =
        s.post("/v1beta2/domains", json!({"name": "dup", "domainUri": "D.example.com"}), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    // A domain keeps its own URI on update.
    let (st, body) =
        s.put(&format!("/v1beta2/domains/{domain}"), json!({"domainUri": "d.example.com"}), &fon).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(count(&s, "/v1beta2/domains", &fon).await, 1);

    // Trunks.
    let cases = [
        (json!({"outboundUri": "sip:p.com"}), "name"),
        (json!({"name": "t", "outboundUri": "not a uri"}), "outboundUri"),
        (json!({"name": "t", "outboundUri": "sip:p.com:99999"}), "outboundUri"),
        (json!({"name": "t", "inboundUri": "sip:bad host"}), "inboundUri"),
        (json!({"name": "t", "outboundUri": 5}), "outboundUri"),
        (json!({"name": "t", "accessControlList": {"ref": cred}}), "accessControlList"),
        (json!({"name": "t", "inboundCredentials": {"ref": "nope"}}), "inboundCredentials"),
        (json!({"name": "t", "outboundCredentials": "nope"}), "outboundCredentials"),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/trunks", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    assert_eq!(count(&s, "/v1beta2/trunks", &fon).await, 0);
    post(&s, "/v1beta2/trunks", json!({"name": "t", "outboundUri": "203.0.113.5:5060"}), &fon).await;
    let (st, _) = s.post("/v1beta2/trunks", json!({"name": "t"}), &fon).await;
    assert_eq!(st, 409, "trunk names are unique");

    // Credentials.
    let cases = [
        (json!({"name": "c", "username": "u2"}), "password"),
        (json!({"name": "c", "username": "u2", "password": ""}), "password"),
        (json!({"name": "c", "username": "u2", "password": 1234}), "password"),
        (json!({"name": "c", "username": "a b", "password": "p"}), "username"),
        (json!({"name": "c", "password": "p"}), "username"),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/credentials", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    assert_eq!(count(&s, "/v1beta2/credentials", &fon).await, 1);

    // ACLs.
    let cases = [
        (json!({"name": "x", "allow": ["999.1.1.1"]}), "allow"),
        (json!({"name": "x", "allow": ["10.0.0.0/8", "192.168.1.0/33"]}), "allow"),
        (json!({"name": "x", "deny": ["office"]}), "deny"),
        (json!({"name": "x", "deny": [5]}), "deny"),
        (json!({"name": "x", "allow": "10.0.0.0/8"}), "allow"),
        (json!({"allow": []}), "name"),
    ];
    for (body, field) in cases {
        let (st, resp) = s.post("/v1beta2/acls", body.clone(), &fon).await;
        invalid(st, &resp, field);
    }
    let (st, body) = s.put(&format!("/v1beta2/acls/{acl}"), json!({"allow": ["nope"]}), &fon).await;
    invalid(st, &body, "allow");
    let (_, one) = s.get(&format!("/v1beta2/acls/{acl}"), &fon).await;
    assert_eq!((&one["allow"], &one["deny"]), (&json!([]), &json!([])));

    // Secrets.
    post(&s, "/v1beta2/secrets", json!({"name": "API_KEY", "secret": "v"}), &fon).await;
    let (st, body) = s.post("/v1beta2/secrets", json!({"name": "API_KEY", "secret": "w"}), &fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")));
    let (st, body) = s.post("/v1beta2/secrets", json!({"name": "OTHER"}), &fon).await;
    invalid(st, &body, "secret");
    let (st, body) = s.post("/v1beta2/secrets", json!({"name": "OTHER", "secret": {"a": 1}}), &fon).await;
    invalid(st, &body, "secret");
    let (st, body) = s.post("/v1beta2/secrets", json!({"secret": "v"}), &fon).await;
    invalid(st, &body, "name");
    assert_eq!(count(&s, "/v1beta2/secrets", &fon).await, 1);
}

async fn references_in_use_cannot_be_deleted(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let acl = post(&s, "/v1beta2/acls", json!({"name": "acl", "allow": ["10.0.0.1"]}), &fon).await;
    let cred =
        post(&s, "/v1beta2/credentials", json!({"name": "c", "username": "u", "password": "p"}), &fon).await;
    let domain = post(
        &s,
        "/v1beta2/domains",
        json!({"name": "d", "domainUri": "d.example.com", "accessControlList": {"ref": acl}}),
        &fon,
    )
    .await;
    let agent = post(
        &s,
        "/v1beta2/agents",
        json!({"name": "a", "username": "a", "credentials": {"ref": cred}, "domainRef": domain}),
        &fon,
    )
    .await;
    let app =
        post(&s, "/v1beta2/applications", json!({"name": "x", "endpoint": "http://x.example.com"}), &fon)
            .await;
    let number = post(
        &s,
        "/v1beta2/numbers",
        json!({"telUrl": "tel:+15550001", "ingressHandler": {"type": "APPLICATION", "ref": app}}),
        &fon,
    )
    .await;

    for (path, referrer) in [
        (format!("/v1beta2/credentials/{cred}"), "agent"),
        (format!("/v1beta2/acls/{acl}"), "domain"),
        (format!("/v1beta2/domains/{domain}"), "agent"),
        (format!("/v1beta2/applications/{app}"), "number"),
    ] {
        let (st, body) = s.delete(&path, &fon).await;
        assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(referrer), "{body}");
        assert_eq!(s.get(&path, &fon).await.0, 200, "still there");
    }
    // Once the referrers go, so can they.
    for path in [
        format!("/v1beta2/numbers/{number}"),
        format!("/v1beta2/applications/{app}"),
        format!("/v1beta2/agents/{agent}"),
        format!("/v1beta2/credentials/{cred}"),
        format!("/v1beta2/domains/{domain}"),
        format!("/v1beta2/acls/{acl}"),
    ] {
        assert_eq!(s.delete(&path, &fon).await.0, 200, "{path}");
    }
}

async fn quotas_are_enforced(b: Backend) {
    let mut settings = Settings::default();
    for quota in ["applications", "agents", "numbers"] {
        settings.quotas.insert(quota.into(), 1);
    }
    let Some(s) = Server::start(b, settings).await else { return };
    let fon = s.fonoster().await;
    for (path, first, second, quota) in [
        (
            "/v1beta2/applications",
            json!({"name": "a", "endpoint": "https://a.example.com"}),
            json!({"name": "b", "endpoint": "https://b.example.com"}),
            "applications",
        ),
        (
            "/v1beta2/agents",
            json!({"name": "a", "username": "a"}),
            json!({"name": "b", "username": "b"}),
            "agents",
        ),
        ("/v1beta2/numbers", json!({"telUrl": "tel:1"}), json!({"telUrl": "tel:2"}), "numbers"),
    ] {
        post(&s, path, first, &fon).await;
        let (st, body) = s.post(path, second, &fon).await;
        assert_eq!((st, body["error"]["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(quota), "{body}");
        assert_eq!(count(&s, path, &fon).await, 1);
    }
}

async fn roles_paging_and_other_workspaces(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let owner = s.owner().await;
    for i in 0..3 {
        post(&s, "/v1beta2/secrets", json!({"name": format!("S{i}"), "secret": "x"}), &fon).await;
    }
    // Paging.
    let (st, page) = s.get("/v1beta2/secrets?pageSize=2", &fon).await;
    assert_eq!((st, page["items"].as_array().unwrap().len()), (200, 2));
    let token = page["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let (_, rest) = s.get(&format!("/v1beta2/secrets?pageSize=2&pageToken={token}"), &fon).await;
    assert_eq!((rest["items"][0]["name"].as_str(), rest["nextPageToken"].as_str()), (Some("S2"), Some("")));
    let (st, _) = s.get("/v1beta2/secrets?pageToken=garbage!", &fon).await;
    assert_eq!(st, 400);

    // Members read, admins write.
    let (id, secret, _) = s.api_key(&owner, "WORKSPACE_MEMBER").await;
    let member = Auth::Basic(id, secret);
    assert_eq!(s.get("/v1beta2/secrets", &member).await.0, 200);
    let (st, body) = s.post("/v1beta2/acls", json!({"name": "x"}), &member).await;
    assert_eq!((st, body["error"]["code"].as_str()), (403, Some("PERMISSION_DENIED")));
    assert_eq!(s.get("/v1beta2/acls", &Auth::None).await.0, 401);

    // Another workspace sees none of them, and may reuse names and
    // numbers, but not a SIP domain.
    let domain = post(&s, "/v1beta2/domains", json!({"name": "d", "domainUri": "d.example.com"}), &fon).await;
    let (_, other) = s.post("/v1beta2/workspaces", json!({"name": "Other"}), &owner).await;
    let in_other = owner.in_workspace(other["accessKeyId"].as_str().unwrap());
    let (_, list) = s.get("/v1beta2/secrets", &in_other).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(s.get(&format!("/v1beta2/domains/{domain}"), &in_other).await.0, 404);
    post(&s, "/v1beta2/secrets", json!({"name": "S0", "secret": "x"}), &in_other).await;
    let (st, body) =
        s.post("/v1beta2/domains", json!({"name": "d", "domainUri": "d.example.com"}), &in_other).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    // Nor refer to the first workspace's records.
    let (st, body) = s
        .post("/v1beta2/agents", json!({"name": "a", "username": "a", "domain": {"ref": domain}}), &in_other)
        .await;
    invalid(st, &body, "domain");

    let (st, doc) = s.get("/openapi.json", &Auth::None).await;
    assert_eq!(st, 200);
    for path in ["/v1beta2/trunks/{ref}", "/v1beta2/applications/{ref}/test-token", "/v2/applications/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}
