//! What one workspace cannot do to another: touch the server-wide IP
//! blacklist, claim a number another holds, or refer to another's records.
//! Each refusal is in the dialect's shape, changes nothing and says nothing
//! about the other workspace.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::service::identity::{create_user, create_workspace, NewUser};
use api::Settings;
use serde_json::{json, Value};
use store::schema::{IP_RULES, NUMBERS, WORKSPACES};
use store::{Filter, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(
    ip_blacklist_belongs_to_the_system_workspace,
    a_number_belongs_to_one_workspace,
    references_stay_within_the_workspace
);

/// Another tenant: a user owning a workspace of their own, logged in as
/// (PBX token, Fonoster token in that workspace, its access key id).
async fn tenant(s: &Server, email: &str) -> (Auth, Auth, String) {
    let user = NewUser {
        email: email.into(),
        name: "T".into(),
        password: "tenant password".into(),
        avatar: String::new(),
    };
    let user = create_user(&s.state, user).await.unwrap();
    let ws = create_workspace(&s.state, "tenant", &user).await.unwrap();
    let akid = ws.text("access_key_id").to_owned();
    let (st, body) =
        s.post("/api/sessions", json!({"login": email, "password": "tenant password"}), &Auth::None).await;
    assert_eq!(st, 200, "{body}");
    let pbx = Auth::Xtra(body["data"]["token"].as_str().unwrap().to_owned());
    let (st, body) = s
        .post("/v1beta2/auth/login", json!({"username": email, "password": "tenant password"}), &Auth::None)
        .await;
    assert_eq!(st, 200, "{body}");
    let fon = Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned()).in_workspace(&akid);
    (pbx, fon, akid)
}

async fn rule_count(s: &Server) -> u64 {
    s.state.db.count(&IP_RULES, Scope::Global, &[]).await.unwrap()
}

/// The answer says nothing of the system workspace.
fn reveals_nothing(s: &Server, body: &Value) {
    let text = body.to_string();
    for secret in [s.workspace.as_str(), support::EMAIL, "default"] {
        assert!(!text.contains(secret), "{secret} revealed in {text}");
    }
}

async fn ip_blacklist_belongs_to_the_system_workspace(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let (tenant_pbx, _, tenant_ws) = tenant(&s, "t@example.com").await;
    let rule = json!({"target_ip": "10.9.9.9", "target_name": "theirs"});

    for (path, body) in [
        ("/api/iptables/add_rule", Some(&rule)),
        ("/api/iptables/clean_drop_rule", Some(&rule)),
        ("/api/iptables", None),
    ] {
        let (st, answer) = match body {
            Some(b) => s.post(path, b.clone(), &tenant_pbx).await,
            None => s.get(path, &tenant_pbx).await,
        };
        assert_eq!(
            (st, answer["code"].clone(), answer["data"].clone()),
            (403, json!(403), json!("{}")),
            "{path}: {answer}"
        );
        reveals_nothing(&s, &answer);
    }
    assert_eq!(rule_count(&s).await, 0, "nothing changed");

    // The system owner acting in another workspace is refused too.
    let owner = s.owner().await;
    let (_, other) = s.post("/v1beta2/workspaces", json!({"name": "Other"}), &owner).await;
    let pbx_in_other = s.pbx().await.in_workspace(other["accessKeyId"].as_str().unwrap());
    assert_eq!(s.post("/api/iptables/add_rule", rule.clone(), &pbx_in_other).await.0, 403);

    // The system workspace's admins manage it, and see every rule in force,
    // a rule some other workspace's row holds included.
    let pbx = s.pbx().await;
    let (st, body) = s.post("/api/iptables/add_rule", rule.clone(), &pbx).await;
    assert_eq!((st, body["data"].clone()), (200, json!(true)), "{body}");
    let tenant_scope = scope_of(&s, &tenant_ws).await;
    let legacy = vec![("target_ip", "10.7.7.7/32".into()), ("target_protocol", "all".into())];
    s.state.db.insert(&IP_RULES, tenant_scope, legacy, 0).await.unwrap();
    let (st, list) = s.get("/api/iptables", &pbx).await;
    assert_eq!(st, 200);
    let specs = list["data"].to_string();
    assert!(specs.contains("10.9.9.9") && specs.contains("10.7.7.7"), "{list}");
    let (st, _) = s.post("/api/iptables/clean_drop_rule", json!({"target_ip": "10.7.7.7"}), &pbx).await;
    assert_eq!(st, 200);
    assert_eq!(rule_count(&s).await, 1);
    // A member of the system workspace reads but does not change it.
    let (id, secret, _) = s.api_key(&s.fonoster().await, "WORKSPACE_MEMBER").await;
    let member = Auth::Basic(id, secret);
    assert_eq!(s.get("/api/iptables", &member).await.0, 200);
    assert_eq!(s.post("/api/iptables/add_rule", json!({"target_ip": "10.1.1.1"}), &member).await.0, 403);
    assert_eq!(rule_count(&s).await, 1);
}

async fn scope_of(s: &Server, akid: &str) -> Scope {
    let ws = s
        .state
        .db
        .find(&WORKSPACES, Scope::Global, &[Filter::eq("access_key_id", akid)])
        .await
        .unwrap()
        .unwrap();
    Scope::Workspace(ws.id)
}

async fn a_number_belongs_to_one_workspace(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let pbx = s.pbx().await;
    let (tenant_pbx, tenant_fon, tenant_ws) = tenant(&s, "t@example.com").await;

    let (st, body) =
        s.post("/v1beta2/numbers", json!({"name": "Main", "telUrl": "tel:+15550001"}), &fon).await;
    assert_eq!(st, 201, "{body}");
    // Held here: another workspace's claim is refused, in each dialect.
    let (st, body) =
        s.post("/v1beta2/numbers", json!({"name": "Mine", "telUrl": "tel:+15550001"}), &tenant_fon).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")), "{body}");
    reveals_nothing(&s, &body);
    let theirs = body["error"]["message"].clone();
    let (st, body) =
        s.post("/api/hotlines", json!({"line_number": "+15550001", "numbers": "1001"}), &tenant_pbx).await;
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (409, json!(409), json!("{}")), "{body}");
    reveals_nothing(&s, &body);
    // The same words as a duplicate within one's own workspace.
    let (_, own) =
        s.post("/v1beta2/numbers", json!({"name": "Again", "telUrl": "tel:+15550001"}), &fon).await;
    assert_eq!(own["error"]["message"], theirs);

    // A number of its own; moving it onto the held one is refused too.
    let (st, body) =
        s.post("/api/hotlines", json!({"line_number": "+15550002", "numbers": "1001"}), &tenant_pbx).await;
    assert_eq!(st, 200, "{body}");
    let id = body["data"].as_i64().unwrap();
    let (st, body) =
        s.put(&format!("/api/hotlines/{id}"), json!({"line_number": "+15550001"}), &tenant_pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    let (_, one) = s.get(&format!("/api/hotlines/{id}"), &tenant_pbx).await;
    assert_eq!(one["line_number"], "+15550002");
    // And the first workspace cannot take the tenant's.
    let (st, _) = s.post("/api/hotlines", json!({"line_number": "+15550002"}), &pbx).await;
    assert_eq!(st, 409);

    let tenant_scope = scope_of(&s, &tenant_ws).await;
    assert_eq!(s.state.db.count(&NUMBERS, tenant_scope, &[]).await.unwrap(), 1);
    assert_eq!(s.state.db.count(&NUMBERS, Scope::Global, &[]).await.unwrap(), 2);
}

/// A 400 in the PBX shape naming `field`; its message.
fn refused(st: u16, body: &Value, field: &str) -> String {
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (400, json!(400), json!("{}")), "{body}");
    let message = body["message"].as_str().unwrap().to_owned();
    assert!(message.contains(field), "{field}: {body}");
    message
}

async fn references_stay_within_the_workspace(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (tenant_pbx, _, _) = tenant(&s, "t@example.com").await;
    let (st, body) = s.post("/api/ivrs", json!({"name": "system's"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let foreign = body["data"].as_i64().unwrap();
    let missing = foreign + 1000;

    // A block's IVR: another workspace's is as missing as one that is not.
    let (st, body) =
        s.post("/api/blocks", json!({"name": "b", "ivr_menu_id": foreign.to_string()}), &tenant_pbx).await;
    let theirs = refused(st, &body, "ivr_menu_id");
    let (st, body) =
        s.post("/api/blocks", json!({"name": "b", "ivr_menu_id": missing.to_string()}), &tenant_pbx).await;
    assert_eq!(refused(st, &body, "ivr_menu_id"), theirs);

    // A hotline's ref_id names the record of its type.
    let hotline = |ref_id: i64| json!({"line_number": "+15559999", "type": "FS_DEST_IVR", "ref_id": ref_id.to_string()});
    let (st, body) = s.post("/api/hotlines", hotline(foreign), &tenant_pbx).await;
    let theirs = refused(st, &body, "ref_id");
    let (st, body) = s.post("/api/hotlines", hotline(missing), &tenant_pbx).await;
    assert_eq!(refused(st, &body, "ref_id"), theirs);
    let (st, body) =
        s.post("/api/hotlines", json!({"line_number": "+15559999", "ref_id": "5"}), &tenant_pbx).await;
    refused(st, &body, "ref_id");
    let (st, body) =
        s.post("/api/hotlines", json!({"line_number": "+15559999", "type": "SOMETHING"}), &tenant_pbx).await;
    refused(st, &body, "type");
    let (_, list) = s.get("/api/hotlines", &tenant_pbx).await;
    assert_eq!(list["rowCount"], json!(0), "nothing written");
    let (_, list) = s.get("/api/blocks", &tenant_pbx).await;
    assert_eq!(list["rowCount"], json!(0), "nothing written");

    // Its own records it may name; then they cannot be deleted under it.
    let (_, body) = s.post("/api/ivrs", json!({"name": "mine"}), &tenant_pbx).await;
    let own = body["data"].as_i64().unwrap();
    let (st, body) =
        s.post("/api/blocks", json!({"name": "b", "ivr_menu_id": own.to_string()}), &tenant_pbx).await;
    assert_eq!(st, 200, "{body}");
    let block = body["data"].as_i64().unwrap();
    let (st, body) = s.post("/api/hotlines", hotline(own), &tenant_pbx).await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = s.delete(&format!("/api/ivrs/{own}"), &tenant_pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    // Nor may an update point them elsewhere.
    let (st, body) = s
        .put(&format!("/api/blocks/{block}"), json!({"ivr_menu_id": foreign.to_string()}), &tenant_pbx)
        .await;
    refused(st, &body, "ivr_menu_id");
    let (_, one) = s.get(&format!("/api/blocks/{block}"), &tenant_pbx).await;
    assert_eq!(one["ivr_menu_id"], json!(own.to_string()));
}
