//! Call recordings through the PBX API (`/api/recordings`): WAV files in
//! the workspace's recordings folder are listed (with the call whose CDR
//! names them), downloaded byte for byte and deleted; another workspace's
//! files, names with folders in them and callers without credentials are
//! refused.
#![allow(missing_docs, clippy::unwrap_used)]

mod media_support;
mod support;

use std::time::{Duration, SystemTime};

use api::service::identity::{create_user, create_workspace, NewUser};
use api::Settings;
use media_support::wav;
use reqwest::Method;
use serde_json::json;
use store::schema::{CDRS, WORKSPACES};
use store::{Filter, Scope, Value as V};
use support::{Auth, Backend, Server};

on_both_stores!(recordings_listed_downloaded_deleted, recordings_stay_in_their_workspace);

/// Writes `bytes` as recording `name` of workspace `ws`, last changed
/// `age` ago.
fn place(s: &Server, ws: i64, name: &str, bytes: &[u8], age: Duration) -> std::path::PathBuf {
    let dir = s.state.workspace_dir("recordings", ws);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

async fn default_ws(s: &Server) -> i64 {
    let filter = [Filter::eq("access_key_id", s.workspace.as_str())];
    s.state.db.find(&WORKSPACES, Scope::Global, &filter).await.unwrap().unwrap().id
}

/// Status, content type and bytes of a download.
async fn fetch(s: &Server, path: &str, auth: &Auth) -> (u16, String, Vec<u8>) {
    let resp = auth.apply(s.req(Method::GET, path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype =
        resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ctype, resp.bytes().await.unwrap().to_vec())
}

async fn recordings_listed_downloaded_deleted(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ws = default_ws(&s).await;

    let (st, body) = s.get("/api/recordings", &pbx).await;
    assert_eq!((st, body["rowCount"].clone(), body["data"].clone()), (200, json!(0), json!([])), "{body}");

    // A big one (streamed in several pieces) and an older short one; a CDR
    // names the big one.
    let big = wav(30_000);
    let small = wav(1_500);
    place(&s, ws, "call-1.wav", &big, Duration::from_secs(10));
    place(&s, ws, "older.wav", &small, Duration::from_secs(3600));
    let cdr = vec![
        ("call_ref", V::from("uuid-of-call-1")),
        ("calldate", V::Int(1_700_000_000_000)),
        ("src", V::from("1001")),
        ("dst", V::from("1002")),
        ("recording", V::from("call-1.wav")),
    ];
    s.state.db.insert(&CDRS, Scope::Workspace(ws), cdr, 0).await.unwrap();

    let (st, body) = s.get("/api/recordings", &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["rowCount"].clone(), body["pageCount"].clone()), (json!(2), json!(1)), "{body}");
    let first = &body["data"][0];
    assert_eq!(first["name"], "call-1.wav", "newest first: {body}");
    assert_eq!(first["size"], json!(big.len()));
    assert_eq!(first["duration_ms"], json!(30_000));
    assert_eq!(first["url"], "/api/recordings/call-1.wav");
    assert_eq!(first["call"]["uuid"], "uuid-of-call-1");
    assert_eq!((first["call"]["src"].clone(), first["call"]["dst"].clone()), (json!("1001"), json!("1002")));
    let second = &body["data"][1];
    assert_eq!((second["name"].clone(), second["duration_ms"].clone()), (json!("older.wav"), json!(1500)));
    assert_eq!(second["call"], json!(null));

    // Fonoster users see the call's recording and where it downloads.
    let fon = s.fonoster().await;
    let (st, body) = s.get("/v1beta2/calls/uuid-of-call-1", &fon).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["recording"], "call-1.wav", "{body}");
    assert_eq!(body["recordingUrl"], "/api/recordings/call-1.wav", "{body}");
    let (st, _, bytes) = fetch(&s, body["recordingUrl"].as_str().unwrap(), &fon).await;
    assert_eq!((st, bytes == big), (200, true));

    // Paged like the other PBX lists.
    let (st, body) = s.get("/api/recordings?page=2&perPage=1", &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["page"].clone(), body["pageCount"].clone()), (json!(2), json!(2)));
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["name"], "older.wav");

    // Downloaded byte for byte, as audio/wav with its length.
    let resp = pbx.apply(s.req(Method::GET, "/api/recordings/call-1.wav")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    assert_eq!(resp.headers()["content-length"], big.len().to_string().as_str());
    assert_eq!(resp.bytes().await.unwrap().to_vec(), big);

    // Credentials are required.
    let (st, _, bytes) = fetch(&s, "/api/recordings/call-1.wav", &Auth::None).await;
    assert_eq!(st, 401);
    assert!(bytes.len() < 1000);
    let (st, _) = s.get("/api/recordings", &Auth::None).await;
    assert_eq!(st, 401);

    // Deleted: gone from disk, from the list, and from downloads.
    let (st, body) = s.delete("/api/recordings/call-1.wav", &pbx).await;
    assert_eq!((st, body["data"].clone()), (200, json!("call-1.wav")), "{body}");
    assert!(!s.state.workspace_dir("recordings", ws).join("call-1.wav").exists());
    let (st, body) = s.get("/api/recordings", &pbx).await;
    assert_eq!((st, body["rowCount"].clone()), (200, json!(1)), "{body}");
    let (st, _, _) = fetch(&s, "/api/recordings/call-1.wav", &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.delete("/api/recordings/call-1.wav", &pbx).await;
    assert_eq!(st, 404);
}

/// Another tenant: a user owning a workspace of their own; its id, PBX
/// token and a Fonoster bearer token (no workspace).
async fn tenant(s: &Server) -> (i64, Auth, Auth) {
    let user = NewUser {
        email: "t@example.com".into(),
        name: "T".into(),
        password: "tenant password".into(),
        avatar: String::new(),
    };
    let user = create_user(&s.state, user).await.unwrap();
    let ws = create_workspace(&s.state, "tenant", &user).await.unwrap();
    let login = json!({"login": "t@example.com", "password": "tenant password"});
    let (st, body) = s.post("/api/sessions", login, &Auth::None).await;
    assert_eq!(st, 200, "{body}");
    let pbx = Auth::Xtra(body["data"]["token"].as_str().unwrap().to_owned());
    let login = json!({"username": "t@example.com", "password": "tenant password"});
    let (st, body) = s.post("/v1beta2/auth/login", login, &Auth::None).await;
    assert_eq!(st, 200, "{body}");
    (ws.id, pbx, Auth::Bearer(body["accessToken"].as_str().unwrap().to_owned()))
}

async fn recordings_stay_in_their_workspace(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ws = default_ws(&s).await;
    let (other_ws, other_pbx, other_bearer) = tenant(&s).await;
    let mine = wav(500);
    let theirs = wav(700);
    place(&s, ws, "mine.wav", &mine, Duration::ZERO);
    place(&s, other_ws, "theirs.wav", &theirs, Duration::ZERO);
    // A file next to the workspaces' folders, which no name may reach.
    let outside = s.dir.path().join("recordings").join("outside.wav");
    std::fs::write(&outside, wav(100)).unwrap();

    // Each workspace sees its own file only.
    let (st, body) = s.get("/api/recordings", &other_pbx).await;
    assert_eq!(st, 200, "{body}");
    let names: Vec<&str> =
        body["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["theirs.wav"]);
    let (st, _, bytes) = fetch(&s, "/api/recordings/theirs.wav", &other_pbx).await;
    assert_eq!((st, bytes), (200, theirs.clone()));
    let (st, _, bytes) = fetch(&s, "/api/recordings/mine.wav", &other_pbx).await;
    assert_eq!(st, 404);
    assert_ne!(bytes, mine);
    let (st, _) = s.delete("/api/recordings/mine.wav", &other_pbx).await;
    assert_eq!(st, 404);
    assert!(s.state.workspace_dir("recordings", ws).join("mine.wav").exists());
    let (st, _, _) = fetch(&s, "/api/recordings/theirs.wav", &pbx).await;
    assert_eq!(st, 404);

    // A user who is no member of the workspace is refused in it.
    let stranger = other_bearer.in_workspace(&s.workspace);
    let (st, _, bytes) = fetch(&s, "/api/recordings/mine.wav", &stranger).await;
    assert!(st == 401 || st == 403, "{st}");
    assert_ne!(bytes, mine);
    let (st, _) = s.get("/api/recordings", &stranger).await;
    assert!(st == 401 || st == 403, "{st}");

    // Names with folders in them, encoded or not, are refused.
    let tries = [
        format!("..%2F{other_ws}%2Ftheirs.wav"),
        "..%2Foutside.wav".to_owned(),
        "..%5Coutside.wav".to_owned(),
        "%2Fetc%2Fpasswd".to_owned(),
        format!("%2F{}", outside.display().to_string().replace('/', "%2F")),
        ".hidden.wav".to_owned(),
    ];
    for name in &tries {
        let path = format!("/api/recordings/{name}");
        let (st, _, bytes) = fetch(&s, &path, &pbx).await;
        assert!(st == 400 || st == 404, "{path}: {st}");
        assert!(bytes.len() < 1000, "{path} served a file");
        let (st, _) = s.delete(&path, &pbx).await;
        assert!(st == 400 || st == 404, "{path}: {st}");
    }
    assert!(outside.exists());
    assert!(s.state.workspace_dir("recordings", other_ws).join("theirs.wav").exists());
}
