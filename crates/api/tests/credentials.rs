//! Credentials die with their reason: an API key never acts above what its
//! creator may do now, and dies when the creator leaves the workspace or is
//! deleted; a password change ends every other session of the user.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{MEMBERSHIPS, USERS};
use store::{Filter, Key, Scope};
use support::{Auth, Backend, Server, EMAIL, PASSWORD};

on_both_stores!(api_keys_follow_their_creator, a_password_change_ends_other_sessions,);

const ADMIN: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "admin password";

/// Adds an admin to the default workspace; answers their user ref and a
/// Fonoster token of theirs in that workspace.
async fn admin(s: &Server, owner: &Auth) -> (String, Auth) {
    let ws_ref = workspace_ref(s, owner).await;
    let (st, body) = s
        .post(
            &format!("/v1beta2/workspaces/{ws_ref}/members"),
            json!({"email": ADMIN, "role": "WORKSPACE_ADMIN", "name": "Ad Min", "password": ADMIN_PASSWORD}),
            owner,
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let user_ref = body["userRef"].as_str().unwrap().to_owned();
    (user_ref, login(s, ADMIN, ADMIN_PASSWORD).await.1.in_workspace(&s.workspace))
}

async fn workspace_ref(s: &Server, owner: &Auth) -> String {
    let (_, list) = s.get("/v1beta2/workspaces", owner).await;
    list["items"].as_array().unwrap().iter().find(|w| w["accessKeyId"] == s.workspace.as_str()).unwrap()
        ["ref"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A Fonoster login: the whole answer and its access token.
async fn login(s: &Server, email: &str, password: &str) -> (Value, Auth) {
    let (st, body) =
        s.post("/v1beta2/auth/login", json!({"username": email, "password": password}), &Auth::None).await;
    assert_eq!(st, 200, "{body}");
    let token = Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned());
    (body, token)
}

/// The ways an API key is used: Basic, and a token traded for it.
async fn key_auths(s: &Server, id: &str, secret: &str) -> (Auth, Auth, String) {
    let basic = Auth::Basic(id.to_owned(), secret.to_owned());
    let (st, body) = s
        .post("/v1beta2/auth/apikey", json!({"accessKeyId": id, "accessKeySecret": secret}), &Auth::None)
        .await;
    assert_eq!(st, 200, "{body}");
    let jwt = Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned());
    (basic, jwt, body["refreshToken"].as_str().unwrap().to_owned())
}

/// Whether `auth` may write (create a secret).
async fn writes(s: &Server, auth: &Auth, name: &str) -> u16 {
    s.post("/v1beta2/secrets", json!({"name": name, "secret": "x"}), auth).await.0
}

async fn api_keys_follow_their_creator(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let (admin_ref, admin) = admin(&s, &owner).await;

    // An admin's admin key writes.
    let (id, secret, _) = s.api_key(&admin, "WORKSPACE_ADMIN").await;
    let (basic, jwt, refresh) = key_auths(&s, &id, &secret).await;
    assert_eq!(writes(&s, &basic, "one").await, 201);
    assert_eq!(writes(&s, &jwt, "two").await, 201);

    // Demoted to member: the key reads but no longer writes, nor makes
    // keys above its creator.
    let user = s.state.db.get(&USERS, Scope::Global, &Key::Ref(admin_ref.clone())).await.unwrap();
    let m = s
        .state
        .db
        .find(&MEMBERSHIPS, Scope::Global, &[Filter::eq("user_id", user.id)])
        .await
        .unwrap()
        .unwrap();
    s.state
        .db
        .update(&MEMBERSHIPS, Scope::Global, &Key::Id(m.id), vec![("role", "WORKSPACE_MEMBER".into())], 0)
        .await
        .unwrap();
    for auth in [&basic, &jwt] {
        assert_eq!(s.get("/v1beta2/secrets", auth).await.0, 200);
        let (st, body) = s.post("/v1beta2/secrets", json!({"name": "three", "secret": "x"}), auth).await;
        assert_eq!((st, body["error"]["code"].as_str()), (403, Some("PERMISSION_DENIED")), "{body}");
    }
    s.state
        .db
        .update(&MEMBERSHIPS, Scope::Global, &Key::Id(m.id), vec![("role", "WORKSPACE_ADMIN".into())], 0)
        .await
        .unwrap();
    assert_eq!(writes(&s, &basic, "three").await, 201);

    // Removed from the workspace: the key is dead, every way it is used.
    let ws_ref = workspace_ref(&s, &owner).await;
    let (st, _) = s.delete(&format!("/v1beta2/workspaces/{ws_ref}/members/{admin_ref}"), &owner).await;
    assert_eq!(st, 200);
    for auth in [&basic, &jwt] {
        let (st, body) = s.get("/v1beta2/secrets", auth).await;
        assert_eq!((st, body["error"]["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{body}");
        assert_eq!(writes(&s, auth, "four").await, 401);
    }
    let (st, _) = s
        .post("/v1beta2/auth/apikey", json!({"accessKeyId": id, "accessKeySecret": secret}), &Auth::None)
        .await;
    assert_eq!(st, 401);
    let (st, _) = s.post("/v1beta2/auth/refresh", json!({"refreshToken": refresh}), &Auth::None).await;
    assert_eq!(st, 401);
    // Even if the creator comes back, the key stays gone.
    let (st, _) = s
        .post(
            &format!("/v1beta2/workspaces/{ws_ref}/members"),
            json!({"email": ADMIN, "role": "WORKSPACE_ADMIN"}),
            &owner,
        )
        .await;
    assert_eq!(st, 201);
    assert_eq!(s.get("/v1beta2/secrets", &basic).await.0, 401);

    // Deleted: a key the user made since dies with them.
    let (_, admin) = login(&s, ADMIN, ADMIN_PASSWORD).await;
    let admin = admin.in_workspace(&s.workspace);
    let (id, secret, _) = s.api_key(&admin, "WORKSPACE_MEMBER").await;
    let (basic, jwt, _) = key_auths(&s, &id, &secret).await;
    assert_eq!(s.get("/v1beta2/secrets", &basic).await.0, 200);
    let (st, body) = s.delete(&format!("/v1beta2/users/{admin_ref}"), &admin).await;
    assert_eq!(st, 200, "{body}");
    for auth in [&basic, &jwt, &admin] {
        assert_eq!(s.get("/v1beta2/secrets", auth).await.0, 401);
    }
    // The owner's own keys are untouched.
    let (id, secret, _) = s.api_key(&s.fonoster().await, "WORKSPACE_ADMIN").await;
    assert_eq!(writes(&s, &Auth::Basic(id, secret), "five").await, 201);
}

async fn a_password_change_ends_other_sessions(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let none = Auth::None;
    let (this, this_token) = login(&s, EMAIL, PASSWORD).await;
    let (other, other_token) = login(&s, EMAIL, PASSWORD).await;
    let (_, body) = s.post("/api/sessions", json!({"login": EMAIL, "password": PASSWORD}), &none).await;
    let pbx = Auth::Xtra(body["data"]["token"].as_str().unwrap().to_owned());
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": PASSWORD}), &none).await;
    let voip = Auth::XAuth(body["user_token"].as_str().unwrap().to_owned());
    let (_, body) = s.post("/v1.2/voipstudio/apitokens", json!({"name": "t", "expiry": 0}), &voip).await;
    let apitoken = Auth::XAuth(body["data"]["token"].as_str().unwrap().to_owned());
    let (id, secret, _) = s.api_key(&this_token, "WORKSPACE_ADMIN").await;
    for auth in [&this_token, &other_token, &pbx, &voip, &apitoken] {
        assert_eq!(s.get("/v1beta2/workspaces", auth).await.0, 200);
    }

    // Changed from one Fonoster session.
    let (_, me) = s.get("/v1beta2/workspaces", &this_token).await;
    let user_ref = me["items"][0]["ownerRef"].as_str().unwrap().to_owned();
    let (st, body) = s
        .put(&format!("/v1beta2/users/{user_ref}"), json!({"password": "a new password"}), &this_token)
        .await;
    assert_eq!(st, 200, "{body}");
    assert!(body.get("password").is_none() && body.get("passwordHash").is_none(), "{body}");

    // That session goes on, and refreshes.
    assert_eq!(s.get("/v1beta2/workspaces", &this_token).await.0, 200);
    let (st, body) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": this["refreshToken"]}), &none).await;
    assert_eq!(st, 200, "{body}");
    let renewed = Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned());
    assert_eq!(s.get("/v1beta2/workspaces", &renewed).await.0, 200);
    // Every other one ends, in every dialect.
    for auth in [&other_token, &pbx, &voip, &apitoken] {
        assert_eq!(s.get("/v1beta2/workspaces", auth).await.0, 401, "{auth:?}");
    }
    let (st, body) = s.get("/api/hotlines", &pbx).await;
    assert_eq!((st, body["code"].clone()), (401, json!(401)));
    let (st, _) =
        s.post("/v1beta2/auth/refresh", json!({"refreshToken": other["refreshToken"]}), &none).await;
    assert_eq!(st, 401);
    // The old password is refused; the new one works. API keys stay.
    let (st, _) = s.post("/api/sessions", json!({"login": EMAIL, "password": PASSWORD}), &none).await;
    assert_eq!(st, 401);
    let (_, fresh) = login(&s, EMAIL, "a new password").await;
    assert_eq!(s.get("/v1beta2/workspaces", &fresh).await.0, 200);
    assert_eq!(s.get("/v1beta2/workspaces", &Auth::Basic(id, secret)).await.0, 200);

    // Changed again from a PBX-style opaque session: that token stays.
    let (_, body) =
        s.post("/v1.2/voipstudio/login", json!({"email": EMAIL, "password": "a new password"}), &none).await;
    let voip = Auth::XAuth(body["user_token"].as_str().unwrap().to_owned());
    let (st, body) =
        s.put(&format!("/v1beta2/users/{user_ref}"), json!({"password": "third password"}), &voip).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(s.get("/v1beta2/workspaces", &voip).await.0, 200);
    assert_eq!(s.get("/v1beta2/workspaces", &fresh).await.0, 401);
    assert_eq!(s.get("/v1beta2/workspaces", &renewed).await.0, 401, "the kept session is only kept once");
}
