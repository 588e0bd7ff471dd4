//! The HTTP server against slow and greedy clients, with raw sockets: a
//! half-sent request head is closed after the header timeout, a stalled
//! body after the idle timeout, and one address cannot hold more than its
//! share of connections while others are still served.
#![allow(missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::server::Limits;
use api::{AppState, ManualClock, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

struct Running {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

async fn start(limits: Limits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
    let db = store::Db::open(None, dir.path()).await.unwrap();
    let state = AppState::new(db, settings, Arc::new(ManualClock::default())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        api::server::serve(listener, api::router(served), limits, shutdown).await.unwrap();
    });
    Running { addr, state, stop: Some(stop), task, _dir: dir }
}

fn limits() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        per_address: 5,
        max_connections: 100,
    }
}

async fn connect_from(addr: SocketAddr, last: u8) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, last], 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads until the server closes; how long that took (or `None` if it did
/// not within `within`), and what was read.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> (Option<Duration>, String) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((start + within).into(), stream.read(&mut buf)).await {
            Err(_) => return (None, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (Some(start.elapsed()), String::from_utf8_lossy(&got).into_owned())
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends a whole GET /healthz and answers the status line.
async fn healthz(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_owned()
}

#[tokio::test]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let server = start(limits()).await;
    let mut slow = connect_from(server.addr, 1).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // Keep trickling header bytes: moving bytes does not extend the deadline.
    let trickle = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow.write_all(b"X: y\r\n").await.is_err() {
                break;
            }
        }
    };
    trickle.await;
    let (closed, _) = until_closed(&mut slow, Duration::from_secs(5)).await;
    let closed = closed.expect("the half-sent request is closed");
    assert!(closed < Duration::from_secs(5), "{closed:?}");

    // A connection that sends nothing is closed as well.
    let mut silent = connect_from(server.addr, 1).await;
    let (closed, _) = until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a silent connection is closed");

    // A whole request is answered, and the kept-alive connection closed
    // once idle past the header timeout.
    let mut good = connect_from(server.addr, 1).await;
    assert_eq!(healthz(&mut good).await, "HTTP/1.1 200 OK");
    let (closed, _) = until_closed(&mut good, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an idle kept-alive connection is closed");
}

#[tokio::test]
async fn a_stalled_body_is_closed_after_the_idle_timeout() {
    let server = start(Limits { header_read_timeout: Duration::from_secs(10), ..limits() }).await;
    let mut stalled = connect_from(server.addr, 1).await;
    stalled
        .write_all(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lo")
        .await
        .unwrap();
    let (closed, _) = until_closed(&mut stalled, Duration::from_secs(6)).await;
    let closed = closed.expect("the stalled request is closed");
    assert!(closed >= Duration::from_millis(1500), "after the idle timeout, not before: {closed:?}");
}

#[tokio::test]
async fn one_address_holds_only_its_share_of_connections() {
    let server = start(Limits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(server.addr, 1).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The sixth from the same address is closed at once, unanswered.
    let mut extra = connect_from(server.addr, 1).await;
    let (closed, read) = until_closed(&mut extra, Duration::from_secs(2)).await;
    assert!(closed.is_some() && read.is_empty(), "refused: {closed:?} {read:?}");
    // Another address is served meanwhile.
    let mut other = connect_from(server.addr, 2).await;
    assert_eq!(healthz(&mut other).await, "HTTP/1.1 200 OK");
    // The held ones still work, and once they go, the address may connect again.
    assert_eq!(healthz(&mut held[0]).await, "HTTP/1.1 200 OK");
    held.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(server.addr, 1).await;
    assert_eq!(healthz(&mut again).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn shutdown_lets_connections_finish_and_returns() {
    let mut server = start(limits()).await;
    let mut idle = connect_from(server.addr, 1).await;
    assert_eq!(healthz(&mut idle).await, "HTTP/1.1 200 OK");
    let _silent = connect_from(server.addr, 2).await;
    server.stop.take().unwrap().send(()).unwrap();
    let task = &mut server.task;
    let finished = tokio::time::timeout(Duration::from_secs(3), task).await;
    assert!(matches!(finished, Ok(Ok(()))), "serve returned: {finished:?}");
    let (closed, _) = until_closed(&mut idle, Duration::from_secs(1)).await;
    assert!(closed.is_some(), "the kept-alive connection was closed");
}

#[tokio::test]
async fn a_quiet_websocket_outlives_the_idle_timeout() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = start(limits()).await;
    let made = api::service::identity::bootstrap(&server.state, "o@example.com", Some("a long password"))
        .await
        .unwrap()
        .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("http://{}/v1beta2/auth/login", server.addr))
        .json(&serde_json::json!({"username": "o@example.com", "password": "a long password"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    let token = body["accessToken"].as_str().unwrap();
    let url = format!("ws://{}/events?token={token}&accessKeyId={}", server.addr, made.access_key_id);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // Quiet for longer than the idle timeout (2 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    ws.send(Message::Text(serde_json::json!({"type": "subscribe", "events": []}).to_string().into()))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
    assert!(matches!(answer, Ok(Some(Ok(Message::Text(_))))), "still open: {answer:?}");
}
