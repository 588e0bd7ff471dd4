//! Repeated Fonoster reads are answered from memory (`api::responses`):
//! what a client sees is still what the store holds after any write (through
//! the API or to the store directly, to the listed table or to one its
//! references point at), and one workspace, caller or role never sees
//! another's answer.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use serde_json::{json, Value};
use store::schema::{AGENTS, DOMAINS};
use store::{Filter, Key, Scope};
use support::{Auth, Backend, Server};

on_both_stores!(writes_show_on_the_next_read, workspaces_and_callers_never_share_answers);

async fn names(s: &Server, auth: &Auth) -> Vec<String> {
    let (st, body) = s.get("/v1beta2/agents", auth).await;
    assert_eq!(st, 200, "{body}");
    body["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect()
}

async fn scope(s: &Server, akid: &str) -> Scope {
    let filters = [Filter::eq("access_key_id", akid)];
    let ws = s.state.db.find(&store::schema::WORKSPACES, Scope::Global, &filters).await.unwrap();
    Scope::Workspace(ws.unwrap().id)
}

async fn writes_show_on_the_next_read(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let (st, domain) =
        s.post("/v1beta2/domains", json!({"name": "d1", "domainUri": "d1.example.com"}), &fon).await;
    assert_eq!(st, 201, "{domain}");
    let body = json!({"name": "a", "username": "1001", "domain": {"ref": domain["ref"]}});
    let (st, agent) = s.post("/v1beta2/agents", body, &fon).await;
    assert_eq!(st, 201, "{agent}");
    let one = format!("/v1beta2/agents/{}", agent["ref"].as_str().unwrap());
    assert_eq!(names(&s, &fon).await, ["a"]);
    assert_eq!(names(&s, &fon).await, ["a"], "the same answer again");
    let (_, first) = s.get(&one, &fon).await;
    assert_eq!(s.get(&one, &fon).await.1, first);

    // Through the API.
    let (st, _) = s.put(&one, json!({"name": "b"}), &fon).await;
    assert_eq!(st, 200);
    assert_eq!(names(&s, &fon).await, ["b"]);
    assert_eq!(s.get(&one, &fon).await.1["name"], "b");

    // To the store directly, as the switch and other writers do.
    let ws = scope(&s, &s.workspace).await;
    let key = Key::Ref(agent["ref"].as_str().unwrap().to_owned());
    s.state.db.update(&AGENTS, ws, &key, vec![("name", "c".into())], 1).await.unwrap();
    assert_eq!(names(&s, &fon).await, ["c"]);
    assert_eq!(s.get(&one, &fon).await.1["name"], "c");
    s.state.db.insert(&AGENTS, ws, vec![("name", "d".into()), ("username", "1002".into())], 2).await.unwrap();
    assert_eq!(names(&s, &fon).await, ["c", "d"]);

    // A table the view reads besides: the agent shows its domain's name.
    assert_eq!(s.get(&one, &fon).await.1["domain"]["name"], "d1");
    let domain_key = Key::Ref(domain["ref"].as_str().unwrap().to_owned());
    s.state.db.update(&DOMAINS, ws, &domain_key, vec![("name", "d2".into())], 3).await.unwrap();
    assert_eq!(s.get(&one, &fon).await.1["domain"]["name"], "d2");
    let (_, list) = s.get("/v1beta2/agents", &fon).await;
    assert_eq!(list["items"][0]["domain"]["name"], "d2");

    // A deletion, and a page of another size.
    s.state.db.delete(&AGENTS, ws, &key).await.unwrap();
    assert_eq!(names(&s, &fon).await, ["d"]);
    assert_eq!(s.get(&one, &fon).await.0, 404);
    let (_, page) = s.get("/v1beta2/agents?pageSize=1", &fon).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // With the cache off, the same answers.
    drop(s);
    let settings = Settings { response_cache_bytes: 0, ..Settings::default() };
    let Some(s) = Server::start(b, settings).await else { return };
    let fon = s.fonoster().await;
    s.post("/v1beta2/agents", json!({"name": "a", "username": "1001"}), &fon).await;
    assert_eq!(names(&s, &fon).await, ["a"]);
    let ws = scope(&s, &s.workspace).await;
    s.state.db.insert(&AGENTS, ws, vec![("name", "b".into()), ("username", "1002".into())], 2).await.unwrap();
    assert_eq!(names(&s, &fon).await, ["a", "b"]);
}

async fn workspaces_and_callers_never_share_answers(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let in_a = owner.in_workspace(&s.workspace);
    let (st, other) = s.post("/v1beta2/workspaces", json!({"name": "B"}), &owner).await;
    assert_eq!(st, 201, "{other}");
    let in_b = owner.in_workspace(other["accessKeyId"].as_str().unwrap());
    s.post("/v1beta2/agents", json!({"name": "of a", "username": "1001"}), &in_a).await;
    s.post("/v1beta2/agents", json!({"name": "of b", "username": "2001"}), &in_b).await;

    // The same token and path: the workspace header decides.
    for _ in 0..2 {
        assert_eq!(names(&s, &in_a).await, ["of a"]);
        assert_eq!(names(&s, &in_b).await, ["of b"]);
    }

    // A member's API key of workspace A reads A's agents, never B's.
    let (id, secret, key_ref) = s.api_key(&in_a, "WORKSPACE_MEMBER").await;
    let member = Auth::Basic(id, secret);
    assert_eq!(names(&s, &member).await, ["of a"]);
    let (st, _) =
        s.get("/v1beta2/agents", &member.in_workspace(other["accessKeyId"].as_str().unwrap())).await;
    assert_eq!(st, 403, "another workspace's answer is not given to a non-member");

    // The caller is checked on every request, before the cache: a revoked
    // key is refused although its answer was kept.
    let (st, _) = s.delete(&format!("/v1beta2/apikeys/{key_ref}"), &in_a).await;
    assert_eq!(st, 200);
    assert_eq!(s.get("/v1beta2/agents", &member).await.0, 401);
    let (st, body): (u16, Value) = s.get("/v1beta2/agents", &Auth::None).await;
    assert_eq!(st, 401, "{body}");
}
