//! Uploaded media (`/api/media`): real WAV files are stored on disk and
//! in the media table; anything else is refused; a file an IVR still
//! plays cannot be deleted.
#![allow(missing_docs, clippy::unwrap_used)]

mod media_support;
mod support;

use api::Settings;
use media_support::{upload, upload_part, uploaded, wav};
use serde_json::json;
use support::{Auth, Backend, Server};

on_both_stores!(media_upload_list_get_delete, media_refuses_bad_uploads, media_in_use_is_kept);

fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
}

async fn media_upload_list_get_delete(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let bytes = wav(1500);

    let (st, body) = upload(&s, &pbx, "welcome.wav", &bytes).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["code"].clone(), body["message"].clone()), (json!(200), json!("success")));
    let data = &body["data"];
    let id = data["media_id"].as_i64().unwrap();
    assert_eq!(data["media_type"], "UPLOAD");
    let path = data["media_path"].as_str().unwrap().to_owned();
    assert!(path.starts_with(s.dir.path().to_str().unwrap()), "{path}");
    assert!(path.contains("upload-") && path.ends_with(".wav"), "{path}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    let (st, list) = s.get("/api/media", &pbx).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["page"].clone(), list["rowCount"].clone(), list["pageCount"].clone()),
        (json!(1), json!(1), json!(1))
    );
    let row = &list["data"][0];
    assert_eq!(row["id"], json!(id));
    assert_eq!(row["name"], "welcome.wav");
    assert_eq!(row["media_path"], json!(path));
    assert_eq!(row["media_type"], "UPLOAD");
    assert_eq!(row["size"], json!(bytes.len()));
    assert_eq!(row["duration_ms"], json!(1500));
    assert_eq!(row["deleted_at"], "");

    let (st, one) = s.get(&format!("/api/media/{id}"), &pbx).await;
    assert_eq!((st, one["id"].clone(), one["media_path"].clone()), (200, json!(id), json!(path)));

    let (st, body) = s.delete(&format!("/api/media/{id}"), &pbx).await;
    assert_eq!((st, body["data"].clone()), (200, json!(id.to_string())));
    assert!(!std::path::Path::new(&path).exists());
    let (st, body) = s.get(&format!("/api/media/{id}"), &pbx).await;
    assert_eq!((st, body["code"].clone(), body["data"].clone()), (404, json!(404), json!("{}")));
    let (st, _) = s.delete(&format!("/api/media/{id}"), &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/media/abc", &pbx).await;
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/media", &Auth::None).await;
    assert_eq!(st, 401);
}

async fn media_refuses_bad_uploads(b: Backend) {
    let settings = Settings { body_limit_bytes: 64 * 1024, ..Settings::default() };
    let Some(s) = Server::start(b, settings).await else { return };
    let pbx = s.pbx().await;
    let media_dir = s.dir.path().join("media");

    let mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x0fnot really an mp3 but not a wav either".to_vec();
    let mut truncated = wav(1000);
    truncated.truncate(100);
    let mut not_wave = wav(100);
    not_wave[8..12].copy_from_slice(b"AVI ");
    for (what, bytes) in [("mp3", mp3), ("truncated", truncated), ("avi", not_wave), ("empty", Vec::new())] {
        let (st, body) = upload(&s, &pbx, "x.wav", &bytes).await;
        assert_eq!(
            (st, body["code"].clone(), body["data"].clone()),
            (400, json!(400), json!("{}")),
            "{what}: {body}"
        );
        assert!(body["message"].as_str().unwrap().contains("file"), "{what}: {body}");
    }

    let (st, body) = upload_part(&s, &pbx, "upload", "x.wav", &wav(100)).await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = s.post("/api/media", json!({"file": "welcome.wav"}), &pbx).await;
    assert_eq!((st, body["code"].clone()), (400, json!(400)), "{body}");

    let (st, body) = upload(&s, &pbx, "long.wav", &wav(10_000)).await;
    assert_eq!((st, body["code"].clone()), (413, json!(413)), "{body}");

    let (st, _) = upload(&s, &Auth::None, "x.wav", &wav(100)).await;
    assert_eq!(st, 401);

    let (_, list) = s.get("/api/media", &pbx).await;
    assert_eq!(list["rowCount"], 0, "{list}");
    assert_eq!(files_under(&media_dir), 0);
}

async fn media_in_use_is_kept(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let pbx = s.pbx().await;
    let (media, path) = uploaded(&s, &pbx).await;
    let (_, body) = s.post("/api/ivrs", json!({"name": "welcome"}), &pbx).await;
    let ivr = body["data"].as_i64().unwrap();
    let sound = json!({"media_id": media, "media_path": path, "media_type": "UPLOAD"}).to_string();
    let (st, body) = s.put(&format!("/api/ivrs/{ivr}"), json!({"exit_sound": sound}), &pbx).await;
    assert_eq!(st, 200, "{body}");

    let (st, body) = s.delete(&format!("/api/media/{media}"), &pbx).await;
    assert_eq!((st, body["code"].clone()), (409, json!(409)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("exit_sound"), "{body}");
    assert!(std::path::Path::new(&path).exists());

    let (st, _) = s.put(&format!("/api/ivrs/{ivr}"), json!({"exit_sound": ""}), &pbx).await;
    assert_eq!(st, 200);
    let action = json!({"digits": "0", "action": "IVR_PLAY", "args": media});
    let (st, body) = s.post(&format!("/api/ivrs/{ivr}/actions"), action, &pbx).await;
    assert_eq!(st, 200, "{body}");
    let action_id = body["data"].as_i64().unwrap();
    let (st, body) = s.delete(&format!("/api/media/{media}"), &pbx).await;
    assert_eq!(st, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("action"), "{body}");

    let (st, _) = s.delete(&format!("/api/ivrs/{ivr}/actions/{action_id}"), &pbx).await;
    assert_eq!(st, 200);
    let (st, body) = s.delete(&format!("/api/media/{media}"), &pbx).await;
    assert_eq!(st, 200, "{body}");
    assert!(!std::path::Path::new(&path).exists());
}
