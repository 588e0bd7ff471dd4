//! The fields the official Fonoster SDK carries beyond the seed's REST
//! examples, stored and shown over REST in both forms a reference takes
//! (`{"domain": {"ref": ...}}` and `domainRef`): agents' `maxContacts`
//! and `expires`, trunks' `uris` and `sendRegister`, numbers' `appRef`
//! (and `trunkRef` once the store has it), applications' `textToSpeech`
//! and `speechToText`; on SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use support::{Auth, Backend, Server};

on_both_stores!(
    agents_keep_sdk_fields_in_both_reference_forms,
    trunks_keep_uris_and_send_register,
    numbers_take_app_ref_and_trunk_ref,
    applications_keep_speech_settings,
);

fn invalid(st: u16, body: &Value, field: &str) {
    assert_eq!((st, body["error"]["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert!(details.iter().any(|d| d["field"] == field), "{field} named in {body}");
}

async fn made(s: &Server, path: &str, body: Value, auth: &Auth) -> Value {
    let (st, out) = s.post(path, body, auth).await;
    assert_eq!(st, 201, "{out}");
    out
}

fn r(v: &Value) -> String {
    v["ref"].as_str().unwrap().to_owned()
}

async fn agents_keep_sdk_fields_in_both_reference_forms(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let domain = made(&s, "/v1beta2/domains", json!({"name": "D", "domainUri": "d.example.com"}), &fon).await;
    let cred =
        made(&s, "/v1beta2/credentials", json!({"name": "C", "username": "c1", "password": "pw-1234"}), &fon)
            .await;

    // The SDK's form.
    let sdk = made(
        &s,
        "/v1beta2/agents",
        json!({"name": "SDK", "username": "sdk", "privacy": "NONE", "enabled": true,
               "maxContacts": 3, "expires": 600, "domainRef": r(&domain), "credentialsRef": r(&cred)}),
        &fon,
    )
    .await;
    // The seed's form.
    let seed = made(
        &s,
        "/v1beta2/agents",
        json!({"name": "Seed", "username": "seed", "domain": {"ref": r(&domain)}, "credentials": {"ref": r(&cred)}}),
        &fon,
    )
    .await;
    let (_, got) = s.get(&format!("/v1beta2/agents/{}", r(&sdk)), &fon).await;
    assert_eq!((got["maxContacts"].clone(), got["expires"].clone()), (json!(3), json!(600)), "{got}");
    for agent in [&got, &seed] {
        assert_eq!(agent["domain"]["ref"], json!(r(&domain)), "{agent}");
        assert_eq!(agent["credentials"]["ref"], json!(r(&cred)), "{agent}");
    }
    assert_eq!(seed["maxContacts"], Value::Null, "unset is null: {seed}");

    let (st, up) = s
        .put(&format!("/v1beta2/agents/{}", r(&seed)), json!({"maxContacts": 5, "domainRef": null}), &fon)
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!((up["maxContacts"].clone(), up["domain"].clone()), (json!(5), Value::Null));

    let (st, body) = s
        .put(&format!("/v1beta2/agents/{}", r(&sdk)), json!({"maxContacts": 1000, "expires": -1}), &fon)
        .await;
    invalid(st, &body, "maxContacts");
    invalid(st, &body, "expires");
    let (st, body) = s
        .post(
            "/v1beta2/agents",
            json!({"name": "X", "username": "x", "domainRef": "00000000-0000-4000-8000-000000000000"}),
            &fon,
        )
        .await;
    invalid(st, &body, "domain");
    let (_, still) = s.get(&format!("/v1beta2/agents/{}", r(&sdk)), &fon).await;
    assert_eq!(still["maxContacts"], 3);
}

async fn trunks_keep_uris_and_send_register(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let acl = made(&s, "/v1beta2/acls", json!({"name": "A", "allow": ["10.0.0.0/8"]}), &fon).await;
    let cred =
        made(&s, "/v1beta2/credentials", json!({"name": "C", "username": "c1", "password": "pw-1234"}), &fon)
            .await;
    let uris = json!([
        {"host": "backup.example.com", "port": 5060, "transport": "UDP", "weight": 1, "priority": 20, "enabled": true},
        {"host": "main.example.com", "port": 5080, "transport": "TCP", "user": "acct", "weight": 10, "priority": 10, "enabled": true},
    ]);
    let trunk = made(
        &s,
        "/v1beta2/trunks",
        json!({"name": "SDK trunk", "sendRegister": true, "inboundUri": "sip:in.example.com",
               "accessControlListRef": r(&acl), "inboundCredentialsRef": r(&cred),
               "outboundCredentialsRef": r(&cred), "uris": uris}),
        &fon,
    )
    .await;
    assert_eq!(trunk["sendRegister"], true, "{trunk}");
    assert_eq!(trunk["uris"], uris, "{trunk}");
    assert_eq!(trunk["outboundUri"], "sip:acct@main.example.com:5080;transport=tcp", "{trunk}");
    assert_eq!(trunk["accessControlList"]["ref"], json!(r(&acl)));
    assert_eq!(trunk["inboundCredentials"]["ref"], json!(r(&cred)));
    assert!(trunk.get("register").is_none(), "{trunk}");

    // The PBX reads the same record: its register flag and remote address.
    let pbx = s.pbx().await;
    let (_, rows) = s.get("/api/trunks?page=1&perPage=100", &pbx).await;
    let row = rows["data"].as_array().unwrap().iter().find(|t| t["name"] == "SDK trunk").unwrap().clone();
    assert_eq!(row["register"], true, "{row}");
    assert_eq!(row["remote_addr"], "sip:acct@main.example.com:5080;transport=tcp", "{row}");
    assert!(row.get("uris").is_none(), "{row}");

    // A trunk made the seed's way shows its outbound URI as one URI.
    let seed = made(
        &s,
        "/v1beta2/trunks",
        json!({"name": "Seed trunk", "outboundUri": "sip:carrier.example.com:5070"}),
        &fon,
    )
    .await;
    assert_eq!(seed["uris"][0]["host"], "carrier.example.com", "{seed}");
    assert_eq!(seed["uris"][0]["port"], 5070);
    assert_eq!(seed["sendRegister"], false, "{seed}");

    // Updates: sendRegister off; bad URIs named by index, nothing changed.
    let (st, up) =
        s.put(&format!("/v1beta2/trunks/{}", r(&trunk)), json!({"sendRegister": false}), &fon).await;
    assert_eq!((st, up["sendRegister"].clone()), (200, json!(false)), "{up}");
    let (st, body) = s
        .put(
            &format!("/v1beta2/trunks/{}", r(&trunk)),
            json!({"uris": [{"host": "ok.example.com"}, {"host": "x y", "port": 0}]}),
            &fon,
        )
        .await;
    invalid(st, &body, "uris[1].host");
    invalid(st, &body, "uris[1].port");
    let (st, body) =
        s.put(&format!("/v1beta2/trunks/{}", r(&trunk)), json!({"sendRegister": "yes"}), &fon).await;
    invalid(st, &body, "sendRegister");
    let (_, still) = s.get(&format!("/v1beta2/trunks/{}", r(&trunk)), &fon).await;
    assert_eq!(still["uris"], uris);

    // The OpenAPI document lists the SDK's names.
    let (_, doc) = s.get("/openapi.json", &Auth::None).await;
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
            .clone()
    };
    let trunks = body("/v1beta2/trunks");
    for name in [
        "uris",
        "sendRegister",
        "outboundUri",
        "accessControlList",
        "accessControlListRef",
        "inboundCredentialsRef",
    ] {
        assert!(trunks[name].is_object(), "{name}: {trunks}");
    }
    assert!(body("/v1beta2/numbers")["appRef"].is_object());
    let agents = body("/v1beta2/agents");
    assert_eq!(agents["maxContacts"]["anyOf"][0]["maximum"], 100, "{agents}");
    for name in ["domain", "domainRef", "credentials", "credentialsRef"] {
        assert!(agents[name].is_object(), "{name}: {agents}");
    }
}

async fn numbers_take_app_ref_and_trunk_ref(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let app = made(
        &s,
        "/v1beta2/applications",
        json!({"name": "App", "type": "EXTERNAL", "endpoint": "https://example.com/a"}),
        &fon,
    )
    .await;
    let agent = made(&s, "/v1beta2/agents", json!({"name": "Ag", "username": "ag"}), &fon).await;
    let trunk =
        made(&s, "/v1beta2/trunks", json!({"name": "T", "outboundUri": "sip:t.example.com"}), &fon).await;
    let with_trunk = store::schema::NUMBERS.field("trunk_id").is_some();
    let mut body = json!({"name": "N", "telUrl": "tel:+17853178070", "city": "Topeka", "country": "USA",
                          "countryIsoCode": "US", "appRef": r(&app)});
    if with_trunk {
        body["trunkRef"] = json!(r(&trunk));
    }
    let number = made(&s, "/v1beta2/numbers", body, &fon).await;
    assert_eq!(number["appRef"], json!(r(&app)), "{number}");
    assert_eq!(number["ingressHandler"], json!({"type": "APPLICATION", "ref": r(&app)}));
    if with_trunk {
        assert_eq!(number["trunk"]["ref"], json!(r(&trunk)), "{number}");
    }
    // An agent as handler clears appRef; appRef again replaces the agent.
    let n = r(&number);
    let (_, up) = s
        .put(
            &format!("/v1beta2/numbers/{n}"),
            json!({"ingressHandler": {"type": "AGENT", "ref": r(&agent)}}),
            &fon,
        )
        .await;
    assert_eq!(up["appRef"], Value::Null, "{up}");
    let (_, up) = s.put(&format!("/v1beta2/numbers/{n}"), json!({"appRef": r(&app)}), &fon).await;
    assert_eq!(up["ingressHandler"], json!({"type": "APPLICATION", "ref": r(&app)}), "{up}");
    let (st, body) = s.put(&format!("/v1beta2/numbers/{n}"), json!({"appRef": r(&agent)}), &fon).await;
    invalid(st, &body, "appRef");
    let (_, up) = s.put(&format!("/v1beta2/numbers/{n}"), json!({"appRef": null}), &fon).await;
    assert_eq!((up["appRef"].clone(), up["ingressHandler"].clone()), (Value::Null, Value::Null), "{up}");
    // The application is in use while a number names it.
    let (_, _) = s.put(&format!("/v1beta2/numbers/{n}"), json!({"appRef": r(&app)}), &fon).await;
    let (st, _) = s.delete(&format!("/v1beta2/applications/{}", r(&app)), &fon).await;
    assert_eq!(st, 409);
}

async fn applications_keep_speech_settings(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let tts = json!({"productRef": "tts.google", "config": {"voice": "en-US-Casual-K"}});
    let stt = json!({"productRef": "stt.deepgram", "config": {"model": "nova-2", "languageCode": "en-US"}});
    let app = made(
        &s,
        "/v1beta2/applications",
        json!({"name": "Speech", "type": "EXTERNAL", "endpoint": "https://example.com/a",
               "textToSpeech": tts, "speechToText": stt}),
        &fon,
    )
    .await;
    let (_, got) = s.get(&format!("/v1beta2/applications/{}", r(&app)), &fon).await;
    assert_eq!((got["textToSpeech"].clone(), got["speechToText"].clone()), (tts, stt), "{got}");
    let (st, body) = s
        .put(
            &format!("/v1beta2/applications/{}", r(&app)),
            json!({"textToSpeech": {"productRef": 7, "config": []}}),
            &fon,
        )
        .await;
    invalid(st, &body, "textToSpeech.productRef");
    invalid(st, &body, "textToSpeech.config");
}
