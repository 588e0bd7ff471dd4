//! Every login flow of every dialect, tokens across dialects, expiry,
//! rotation, roles and workspace isolation, on SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::json;
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(
    each_login_flow_yields_tokens_every_dialect_accepts,
    access_tokens_expire_and_refresh_tokens_rotate,
    login_tokens_slide_and_api_tokens_expire,
    roles_decide_401_and_403,
    another_workspace_is_invisible,
    members_and_users,
);

async fn start(b: Backend) -> Option<Server> {
    Server::start(b, Settings::default()).await
}

async fn each_login_flow_yields_tokens_every_dialect_accepts(b: Backend) {
    let Some(s) = start(b).await else { return };
    let none = Auth::None;
    let owner = s.owner().await;

    let (akid, secret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let (st, body) =
        s.post("/v1beta2/auth/apikey", json!({"accessKeyId": akid, "accessKeySecret": secret}), &none).await;
    assert_eq!(st, 200, "{body}");
    let key_token = body["accessToken"].as_str().unwrap().to_owned();
    for field in ["idToken", "accessToken", "refreshToken"] {
        assert_eq!(body[field].as_str().unwrap().split('.').count(), 3, "{field} is a JWT");
    }

    let (st, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &none).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["message"], "Login success");
    assert!(body["user_id"].is_i64());
    let voip = body["user_token"].as_str().unwrap().to_owned();

    let (st, body) = s
        .post(
            "/v1.2/voipstudio/apitokens",
            json!({"name": "Example API App", "expiry": 604800}),
            &Auth::XAuth(voip.clone()),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["data"]["name"], "Example API App");
    assert_eq!(body["data"]["expiry"], 604800);
    assert_eq!(body["links"], json!({}));
    let apitoken = body["data"]["token"].as_str().unwrap().to_owned();

    let (st, body) = s.post("/api/sessions", json!({"login": EMAIL, "password": PASSWORD}), &none).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["code"].as_i64(), body["message"].as_str()), (Some(200), Some("success")));
    let pbx = body["data"]["token"].as_str().unwrap().to_owned();

    let Auth::Bearer(user_jwt) = owner.clone() else { unreachable!() };
    for token in [&user_jwt, &key_token, &voip, &apitoken, &pbx] {
        for auth in [Auth::Bearer(token.clone()), Auth::XAuth(token.clone()), Auth::Xtra(token.clone())] {
            for path in ["/v1beta2/workspaces", "/v1beta2/apikeys"] {
                let (st, body) = s.get(path, &auth).await;
                assert_eq!(st, 200, "{auth:?} on {path}: {body}");
            }
        }
    }
    let (st, body) = s.get("/v1beta2/apikeys", &Auth::Basic(akid.clone(), secret.clone())).await;
    assert_eq!(st, 200, "{body}");
    assert!(body["items"].as_array().unwrap().iter().any(|k| k["accessKeyId"] == akid.as_str()));
    assert!(body["items"][0].get("accessKeySecret").is_none(), "secret shown once only");

    // Wrong secrets and passwords, in each dialect's own error shape.
    let (st, body) = s.get("/v1beta2/apikeys", &Auth::Basic(akid, "SKnope".into())).await;
    assert_eq!((st, body["error"]["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (st, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": "wrong"}), &none).await;
    assert_eq!(st, 401);
    assert!(body["message"].is_string() && body["errors"].is_array(), "{body}");
    let (st, body) =
        s.post("/api/sessions", json!({"login": "nobody@example.com", "password": "x"}), &none).await;
    assert_eq!((st, body["code"].as_i64()), (401, Some(401)));
}

async fn access_tokens_expire_and_refresh_tokens_rotate(b: Backend) {
    let Some(s) = start(b).await else { return };
    let (st, first) =
        s.post("/v1beta2/auth/login", json!({"username": EMAIL, "password": PASSWORD}), &Auth::None).await;
    assert_eq!(st, 200);
    let access = Auth::Bearer(first["accessToken"].as_str().unwrap().into());
    assert_eq!(s.get("/v1beta2/workspaces", &access).await.0, 200);

    s.clock.advance_secs(15 * 60 + 1);
    let (st, body) = s.get("/v1beta2/workspaces", &access).await;
    assert_eq!((st, body["error"]["code"].as_str()), (401, Some("UNAUTHENTICATED")));

    let old_refresh = first["refreshToken"].clone();
    let (st, second) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": old_refresh}), &Auth::None).await;
    assert_eq!(st, 200, "{second}");
    assert_ne!(second["refreshToken"], old_refresh);
    let access = Auth::Bearer(second["accessToken"].as_str().unwrap().into());
    assert_eq!(s.get("/v1beta2/workspaces", &access).await.0, 200);

    // The old refresh token is spent; using it again also revokes the new one.
    let (st, _) = s.post("/v1beta2/auth/refresh", json!({"refreshToken": old_refresh}), &Auth::None).await;
    assert_eq!(st, 401);
    let (st, _) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": second["refreshToken"]}), &Auth::None).await;
    assert_eq!(st, 401);
    // An access token is not a refresh token, nor a forged one anything.
    let (st, _) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": second["accessToken"]}), &Auth::None).await;
    assert_eq!(st, 401);
    let forged = format!("{}x", second["accessToken"].as_str().unwrap());
    assert_eq!(s.get("/v1beta2/workspaces", &Auth::Bearer(forged)).await.0, 401);
    // Refresh tokens expire too.
    let (_, third) =
        s.post("/v1beta2/auth/login", json!({"username": EMAIL, "password": PASSWORD}), &Auth::None).await;
    s.clock.advance_secs(24 * 3600 + 1);
    let (st, _) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": third["refreshToken"]}), &Auth::None).await;
    assert_eq!(st, 401);
}

async fn login_tokens_slide_and_api_tokens_expire(b: Backend) {
    let Some(s) = start(b).await else { return };
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let login = Auth::XAuth(body["user_token"].as_str().unwrap().into());
    let (_, body) =
        s.post("/v1.2/voipstudio/apitokens", json!({"name": "hour", "expiry": 3600}), &login).await;
    let hour = Auth::XAuth(body["data"]["token"].as_str().unwrap().into());
    let (_, body) =
        s.post("/v1.2/voipstudio/apitokens", json!({"name": "forever", "expiry": 0}), &login).await;
    let forever = Auth::XAuth(body["data"]["token"].as_str().unwrap().into());

    // Each request restarts the 30-minute idle timer.
    for _ in 0..3 {
        s.clock.advance_secs(20 * 60);
        assert_eq!(s.get("/v1.2/voipstudio/apitokens", &login).await.0, 200);
    }
    assert_eq!(s.get("/v1.2/voipstudio/apitokens", &hour).await.0, 401, "an hour has passed");
    s.clock.advance_secs(31 * 60);
    let (st, body) = s.get("/v1.2/voipstudio/apitokens", &login).await;
    assert_eq!(st, 401, "{body}");
    assert!(body["errors"].is_array());
    s.clock.advance_secs(3 * 365 * 24 * 3600);
    assert_eq!(s.get("/v1.2/voipstudio/apitokens", &forever).await.0, 200, "expiry 0 never expires");
}

async fn roles_decide_401_and_403(b: Backend) {
    let Some(s) = start(b).await else { return };
    let owner = s.owner().await;
    assert_eq!(s.get("/v1beta2/apikeys", &Auth::None).await.0, 401);
    assert_eq!(s.get("/v1beta2/apikeys", &Auth::Bearer("not-a-token".into())).await.0, 401);
    let (st, body) = s.get("/api/sessions", &Auth::None).await;
    assert_eq!(st, 405, "{body}");

    let (mid, msecret, _) = s.api_key(&owner, "WORKSPACE_MEMBER").await;
    let member = Auth::Basic(mid, msecret);
    let (st, body) = s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_MEMBER"}), &member).await;
    assert_eq!((st, body["error"]["code"].as_str()), (403, Some("PERMISSION_DENIED")));
    assert_eq!(s.get("/v1beta2/apikeys", &member).await.0, 403);
    assert_eq!(s.get("/v1beta2/workspaces", &member).await.0, 200, "members can read");

    let (aid, asecret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let admin = Auth::Basic(aid, asecret);
    assert_eq!(s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_MEMBER"}), &admin).await.0, 201);
    assert_eq!(
        s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_OWNER"}), &admin).await.0,
        403,
        "no escalation"
    );

    // Deleting a key revokes it at once.
    let (did, dsecret, dref) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    assert_eq!(s.delete(&format!("/v1beta2/apikeys/{dref}"), &owner).await.0, 200);
    assert_eq!(s.get("/v1beta2/workspaces", &Auth::Basic(did, dsecret)).await.0, 401);

    // An expired key is refused.
    let soon = api::view::rfc3339(s.state.now() + 60_000);
    let (st, body) =
        s.post("/v1beta2/apikeys", json!({"role": "WORKSPACE_ADMIN", "expiresAt": soon}), &owner).await;
    assert_eq!(st, 201, "{body}");
    let short = Auth::Basic(
        body["accessKeyId"].as_str().unwrap().into(),
        body["accessKeySecret"].as_str().unwrap().into(),
    );
    assert_eq!(s.get("/v1beta2/workspaces", &short).await.0, 200);
    s.clock.advance_secs(61);
    assert_eq!(s.get("/v1beta2/workspaces", &short).await.0, 401);

    // Regenerating a key keeps its id and replaces its secret.
    let (rid, rsecret, rref) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let (st, body) = s.post(&format!("/v1beta2/apikeys/{rref}/regenerate"), json!({}), &owner).await;
    assert_eq!((st, body["accessKeyId"].as_str()), (200, Some(rid.as_str())));
    assert_eq!(s.get("/v1beta2/workspaces", &Auth::Basic(rid.clone(), rsecret)).await.0, 401);
    let fresh = body["accessKeySecret"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/v1beta2/workspaces", &Auth::Basic(rid, fresh)).await.0, 200);
}

async fn another_workspace_is_invisible(b: Backend) {
    let Some(s) = start(b).await else { return };
    let owner = s.owner().await;
    let (st, other) = s.post("/v1beta2/workspaces", json!({"name": "My Company"}), &owner).await;
    assert_eq!(st, 201, "{other}");
    let other_akid = other["accessKeyId"].as_str().unwrap().to_owned();
    assert!(other_akid.starts_with("WO") && other_akid.len() == 34);
    let in_other = owner.in_workspace(&other_akid);
    let (_, _, other_key_ref) = s.api_key(&in_other, "WORKSPACE_ADMIN").await;

    let (id, secret, _) = s.api_key(&owner, "WORKSPACE_ADMIN").await;
    let key_a = Auth::Basic(id, secret);
    let (st, body) = s.get(&format!("/v1beta2/apikeys/{other_key_ref}"), &key_a).await;
    assert_eq!((st, body["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    assert_eq!(s.delete(&format!("/v1beta2/apikeys/{other_key_ref}"), &key_a).await.0, 404);
    let other_ref = other["ref"].as_str().unwrap();
    assert_eq!(s.get(&format!("/v1beta2/workspaces/{other_ref}"), &key_a).await.0, 404);
    // A key of one workspace cannot act in another.
    let (st, _) = s.get("/v1beta2/apikeys", &key_a.in_workspace(&other_akid)).await;
    assert_eq!(st, 403);
    let (st, body) = s.get("/v1beta2/workspaces", &key_a).await;
    assert_eq!(st, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["accessKeyId"], s.workspace.as_str());
    // The owner sees both, each with its own keys.
    let (_, body) = s.get("/v1beta2/workspaces", &owner).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let (_, body) = s.get("/v1beta2/apikeys", &in_other).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);

    // Another user's VoIPstudio token is not there for this user.
    let (st, _) = s.post(&format!("/v1beta2/workspaces/{other_ref}/members"), json!({"email": "bob@example.com", "name": "Bob", "password": "bobs password", "role": "WORKSPACE_MEMBER"}), &owner).await;
    assert_eq!(st, 201);
    let (_, body) = s
        .post(
            "/v1.2/voipstudio/login",
            json!({"email": "bob@example.com", "password": "bobs password"}),
            &Auth::None,
        )
        .await;
    let bob = Auth::XAuth(body["user_token"].as_str().unwrap().into());
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &Auth::None).await;
    let me = Auth::XAuth(body["user_token"].as_str().unwrap().into());
    let (_, body) = s.post("/v1.2/voipstudio/apitokens", json!({"name": "mine"}), &me).await;
    let mine = body["data"]["id"].as_i64().unwrap();
    assert_eq!(s.get(&format!("/v1.2/voipstudio/apitokens/{mine}"), &bob).await.0, 404);
    assert_eq!(s.delete(&format!("/v1.2/voipstudio/apitokens/{mine}"), &bob).await.0, 404);
    assert_eq!(s.get(&format!("/v1.2/voipstudio/apitokens/{mine}"), &me).await.0, 200);
    // Bob is a member of the other workspace only: no rights in the default one.
    assert_eq!(s.get("/v1beta2/apikeys", &bob.in_workspace(&s.workspace)).await.0, 403);
}

async fn members_and_users(b: Backend) {
    let Some(s) = start(b).await else { return };
    let owner = s.owner().await;
    let (st, user) = s.post("/v1beta2/users", json!({"name": "John Doe", "email": "John@Company.com", "password": "securepassword", "avatar": "https://example.com/avatar.jpg"}), &owner).await;
    assert_eq!(st, 201, "{user}");
    assert_eq!(user["email"], "john@company.com");
    assert!(user.get("password").is_none() && user.get("passwordHash").is_none());
    let uref = user["ref"].as_str().unwrap().to_owned();
    let (st, body) = s
        .post(
            "/v1beta2/users",
            json!({"name": "Again", "email": "john@company.com", "password": "securepassword"}),
            &owner,
        )
        .await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("ALREADY_EXISTS")));
    assert_eq!(s.get(&format!("/v1beta2/users/{uref}"), &owner).await.0, 200);

    let (_, john) = s
        .post(
            "/v1beta2/auth/login",
            json!({"username": "john@company.com", "password": "securepassword"}),
            &Auth::None,
        )
        .await;
    let john = Auth::Bearer(john["accessToken"].as_str().unwrap().into());
    let (st, body) = s
        .send(
            john.apply(s.req(reqwest::Method::PUT, &format!("/v1beta2/users/{uref}")))
                .json(&json!({"name": "John D.", "password": "another password"})),
        )
        .await;
    assert_eq!((st, body["name"].as_str()), (200, Some("John D.")));
    let (st, _) = s
        .post(
            "/v1beta2/auth/login",
            json!({"username": "john@company.com", "password": "another password"}),
            &Auth::None,
        )
        .await;
    assert_eq!(st, 200);

    let (_, ws) = s.get("/v1beta2/workspaces", &owner).await;
    let wref = ws["items"][0]["ref"].as_str().unwrap().to_owned();
    let (_, members) = s.get(&format!("/v1beta2/workspaces/{wref}/members"), &owner).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let (st, _) = s.delete(&format!("/v1beta2/workspaces/{wref}/members/{uref}"), &owner).await;
    assert_eq!(st, 200);
    assert_eq!(s.get("/v1beta2/apikeys", &john.in_workspace(&s.workspace)).await.0, 403);
    let owner_ref = ws["items"][0]["ownerRef"].as_str().unwrap();
    let (st, _) = s.delete(&format!("/v1beta2/workspaces/{wref}/members/{owner_ref}"), &owner).await;
    assert_eq!(st, 409, "the owner stays");
    // A user who owns a workspace cannot be deleted; the 409 names it.
    let (st, body) = s.delete(&format!("/v1beta2/users/{owner_ref}"), &owner).await;
    assert_eq!(st, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("workspace"), "{body}");
}
