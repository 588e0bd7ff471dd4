//! Conference rooms through the PBX API: members joined by the engine
//! (real media sessions), listed, muted, kicked and recorded over HTTP.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use api::Settings;
use engine::conference::{JoinOptions, LeaveReason};
use engine::media::{LegId, MediaHandle, MediaSession, PortPool, RemoteMedia, SessionConfig};
use serde_json::json;
use support::{Backend, Server};

async fn member(pool: &std::sync::Arc<PortPool>, sock: &tokio::net::UdpSocket) -> MediaHandle {
    let (media, events) = MediaSession::start(SessionConfig::default());
    // The session's events are not needed here: keep them from filling.
    tokio::spawn(async move {
        let mut events = events;
        while events.recv().await.is_some() {}
    });
    let ports = pool.bind([127, 0, 0, 1].into()).await.unwrap();
    media.add_leg(LegId(1), ports).await.unwrap();
    let remote = RemoteMedia { signalling_ip: None, ..RemoteMedia::new(Some(sock.local_addr().unwrap()), 0) };
    media.set_remote(LegId(1), remote).await.unwrap();
    media
}

#[tokio::test]
async fn conferences_list_mute_kick_and_record() {
    let Some(s) = Server::start(Backend::Sqlite, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let ws =
        s.state.db.find(&store::schema::WORKSPACES, store::Scope::Global, &[]).await.unwrap().unwrap().id;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let base = 42_000 + (nanos % 1000) as u16 * 10;
    let pool = PortPool::new(base, base + 9);
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (a, b, c) = (member(&pool, &sock).await, member(&pool, &sock).await, member(&pool, &sock).await);
    let quiet = || JoinOptions { enter_sound: None, exit_sound: None, ..JoinOptions::default() };
    let call = |id: &str| JoinOptions { call_id: Some(id.into()), ..quiet() };
    let ja = s.state.rooms.join(ws, "standup", &a, LegId(1), call("call-a")).await.unwrap();
    let jb = s.state.rooms.join(ws, "standup", &b, LegId(1), call("call-b")).await.unwrap();
    // A room of another workspace is never shown.
    s.state.rooms.join(ws + 1000, "standup", &c, LegId(1), quiet()).await.unwrap();

    let (st, body) = s.get("/api/conferences", &pbx).await;
    assert_eq!(st, 200, "{body}");
    let rooms = body["data"].as_array().unwrap();
    assert_eq!(rooms.len(), 1, "{body}");
    assert_eq!((rooms[0]["name"].clone(), rooms[0]["member_count"].clone()), (json!("standup"), json!(2)));
    assert_eq!(rooms[0]["members"][0]["uuid"], "call-a");

    let (st, body) = s
        .put(&format!("/api/conferences/standup/members/{}", ja.member), json!({"action": "mute"}), &pbx)
        .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = s.put("/api/conferences/standup/members/1", json!({"action": "deaf"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let (_, body) = s.get("/api/conferences/standup", &pbx).await;
    assert_eq!(
        (body["data"]["members"][0]["mute"].clone(), body["data"]["members"][0]["deaf"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(body["data"]["members"][1]["mute"], false);

    let (st, body) = s.put("/api/conferences/standup/members/1", json!({"action": "explode"}), &pbx).await;
    assert!(st == 400 || st == 422, "{st} {body}");
    let (st, _) = s.put("/api/conferences/standup/members/99", json!({"action": "mute"}), &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/conferences/nowhere", &pbx).await;
    assert_eq!(st, 404);

    // Recording: a WAV in the workspace's recordings, complete once stopped.
    let (st, body) =
        s.post("/api/conferences/standup/recording", json!({"file_name": "standup.wav"}), &pbx).await;
    assert_eq!(st, 200, "{body}");
    let (st, _) = s.post("/api/conferences/standup/recording", json!({"file_name": "again.wav"}), &pbx).await;
    assert_eq!(st, 409);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (st, body) = s.delete("/api/conferences/standup/recording", &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert!(body["data"]["duration_ms"].as_u64().unwrap() >= 200, "{body}");
    let path = s.state.workspace_dir("recordings", ws).join("standup.wav");
    let wav = std::fs::read(&path).unwrap();
    assert_eq!((&wav[..4], &wav[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
    let u16_at = |i: usize| u16::from_le_bytes([wav[i], wav[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([wav[i], wav[i + 1], wav[i + 2], wav[i + 3]]);
    assert_eq!((u16_at(22), u32_at(24), u16_at(34)), (1, 8000, 16), "mono, 8 kHz, 16-bit");
    assert_eq!(u32_at(40) as usize, wav.len() - 44, "the header holds the final length");
    assert!(wav.len() - 44 >= 3200, "at least 200 ms");
    let (st, _) = s.delete("/api/conferences/standup/recording", &pbx).await;
    assert_eq!(st, 409, "not recording");

    // Kick B: it leaves, A stays alone.
    let (st, body) = s.delete(&format!("/api/conferences/standup/members/{}", jb.member), &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(jb.left.await.unwrap(), LeaveReason::Kicked);
    let (_, body) = s.get("/api/conferences/standup", &pbx).await;
    assert_eq!(body["data"]["member_count"], 1);
    drop(ja);
}
