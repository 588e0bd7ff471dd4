//! Deleting calls: `DELETE /v1beta2/calls/{ref}` takes a finished call's
//! record and its recordings (only its own), refuses a live call (409) and
//! an unknown one (404); deleting a workspace removes its folders in the
//! data directory and hangs up its live calls.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use engine::calls::{CallCommand, CallHandle};
use serde_json::json;
use store::schema::{CDRS, WORKSPACES};
use store::{Filter, Scope, Value as V};
use support::{Backend, Server};

on_both_stores!(
    a_deleted_call_takes_its_recordings_and_nothing_else,
    a_deleted_workspace_leaves_nothing_behind
);

async fn workspace_id(s: &Server, access_key_id: &str) -> i64 {
    let filter = [Filter::eq("access_key_id", access_key_id)];
    s.state.db.find(&WORKSPACES, Scope::Global, &filter).await.unwrap().unwrap().id
}

async fn record(s: &Server, ws: i64, call: &str, recording: Option<&str>) {
    let mut values = vec![
        ("call_ref", V::from(call)),
        ("calldate", V::Int(1_700_000_000_000)),
        ("src", V::from("1001")),
        ("dst", V::from("1002")),
    ];
    if let Some(r) = recording {
        values.push(("recording", V::from(r)));
    }
    s.state.db.insert(&CDRS, Scope::Workspace(ws), values, 0).await.unwrap();
}

fn file(s: &Server, ws: i64, name: &str) -> std::path::PathBuf {
    let dir = s.state.workspace_dir("recordings", ws);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, b"RIFF").unwrap();
    path
}

async fn a_deleted_call_takes_its_recordings_and_nothing_else(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let fon = s.fonoster().await;
    let ws = workspace_id(&s, &s.workspace).await;
    record(&s, ws, "call-1", Some("call-1.wav")).await;
    record(&s, ws, "call-2", Some("call-2.wav")).await;
    let mine = [file(&s, ws, "call-1.wav"), file(&s, ws, "call-1-1.wav"), file(&s, ws, "call-1-2.wav")];
    let others = [file(&s, ws, "call-2.wav"), file(&s, ws, "call-10-1.wav"), file(&s, ws, "voice.wav")];

    let (st, body) = s.delete("/v1beta2/calls/call-1", &fon).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["ref"], "call-1");
    assert_eq!(s.get("/v1beta2/calls/call-1", &fon).await.0, 404, "the record is gone");
    assert!(mine.iter().all(|p| !p.exists()), "the call's recordings are gone");
    assert!(others.iter().all(|p| p.exists()), "other calls' files stay");
    assert_eq!(s.get("/v1beta2/calls/call-2", &fon).await.0, 200, "another call stays");
    assert_eq!(s.delete("/v1beta2/calls/call-1", &fon).await.0, 404, "deleted once");
    assert_eq!(s.delete("/v1beta2/calls/no-such-call", &fon).await.0, 404);

    // A live call is hung up first.
    let admission = s.state.calls.admit("live-1", Some(ws)).unwrap();
    let (handle, _mailbox) = CallHandle::new("live-1".into());
    admission.set_handle(handle);
    record(&s, ws, "live-1", None).await;
    let (st, body) = s.delete("/v1beta2/calls/live-1", &fon).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(s.get("/v1beta2/calls/live-1", &fon).await.0, 200);

    // Another workspace does not reach the call.
    let owner = s.owner().await;
    let (st, other) = s.post("/v1beta2/workspaces", json!({"name": "Other"}), &owner).await;
    assert_eq!(st, 201, "{other}");
    let elsewhere = s.owner().await.in_workspace(other["accessKeyId"].as_str().unwrap());
    assert_eq!(s.delete("/v1beta2/calls/call-2", &elsewhere).await.0, 404);
    assert!(others[0].exists());
}

async fn a_deleted_workspace_leaves_nothing_behind(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let owner = s.owner().await;
    let (st, made) = s.post("/v1beta2/workspaces", json!({"name": "Short lived"}), &owner).await;
    assert_eq!(st, 201, "{made}");
    let ws = workspace_id(&s, made["accessKeyId"].as_str().unwrap()).await;
    let recording = file(&s, ws, "call-9.wav");
    let media = s.state.workspace_dir("media", ws);
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("greeting.wav"), b"RIFF").unwrap();
    let admission = s.state.calls.admit("live-9", Some(ws)).unwrap();
    let (handle, mut mailbox) = CallHandle::new("live-9".into());
    admission.set_handle(handle);

    let (st, body) =
        s.delete(&format!("/v1beta2/workspaces/{}", made["ref"].as_str().unwrap()), &owner).await;
    assert_eq!(st, 200, "{body}");
    assert!(!recording.exists() && !media.exists(), "the workspace's folders are gone");
    let asked =
        tokio::time::timeout(std::time::Duration::from_secs(5), mailbox.recv()).await.unwrap().unwrap();
    assert_eq!(asked.command, CallCommand::Hangup, "its live call is hung up");
}
