//! WAV files made by the tests, and uploading them as the PBX seed's
//! clients do (multipart/form-data with a `file` part).
#![allow(dead_code, clippy::unwrap_used)]

use reqwest::Method;
use serde_json::Value;

use crate::support::{Auth, Server};

/// A mono 16-bit PCM WAV file at 8 kHz of `ms` milliseconds (a tone).
pub fn wav(ms: u32) -> Vec<u8> {
    let samples = 8 * ms;
    let data: Vec<u8> = (0..samples)
        .flat_map(|i| {
            let v = ((i as f64) * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin() * 8000.0;
            (v as i16).to_le_bytes()
        })
        .collect();
    let mut b = Vec::new();
    b.extend(b"RIFF");
    b.extend((36 + data.len() as u32).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend(16u32.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(1u16.to_le_bytes());
    b.extend(8000u32.to_le_bytes());
    b.extend(16000u32.to_le_bytes());
    b.extend(2u16.to_le_bytes());
    b.extend(16u16.to_le_bytes());
    b.extend(b"data");
    b.extend((data.len() as u32).to_le_bytes());
    b.extend(data);
    b
}

/// A multipart/form-data body with one part `part` holding `bytes`.
pub fn multipart(part: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "calliope-test-boundary-7d3f";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\n").as_bytes());
    body.extend(
        format!("Content-Disposition: form-data; name=\"{part}\"; filename=\"{file_name}\"\r\n").as_bytes(),
    );
    body.extend(b"Content-Type: audio/wav\r\n\r\n");
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `bytes` as the `file` part.
pub async fn upload(s: &Server, auth: &Auth, file_name: &str, bytes: &[u8]) -> (u16, Value) {
    upload_part(s, auth, "file", file_name, bytes).await
}

/// Uploads `bytes` as the part `part`.
pub async fn upload_part(s: &Server, auth: &Auth, part: &str, file_name: &str, bytes: &[u8]) -> (u16, Value) {
    let (content_type, body) = multipart(part, file_name, bytes);
    let rb = auth.apply(s.req(Method::POST, "/api/media")).header("Content-Type", content_type).body(body);
    s.send(rb).await
}

/// Uploads a one-second WAV file and returns its media id and path.
pub async fn uploaded(s: &Server, auth: &Auth) -> (i64, String) {
    let (st, body) = upload(s, auth, "welcome.wav", &wav(1000)).await;
    assert_eq!(st, 200, "{body}");
    (body["data"]["media_id"].as_i64().unwrap(), body["data"]["media_path"].as_str().unwrap().to_owned())
}
