//! `GET /events`: subscribe over a WebSocket and receive the workspace's
//! events, with the token in a header or in the query string.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use api::Settings;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{Auth, Backend, Server};
use tokio_tungstenite::tungstenite::Message;

on_both_stores!(subscribed_events_arrive);

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn subscribed_events_arrive(b: Backend) {
    let Some(s) = Server::start(b, Settings::default()).await else { return };
    let Auth::Bearer(token) = s.owner().await else { panic!() };
    let ws_url = s.url.replace("http://", "ws://");

    let (st, _) = s.get("/events", &Auth::None).await;
    assert_eq!(st, 401);

    let url = format!("{ws_url}/events?token={token}&accessKeyId={}", s.workspace);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(json!({"type": "subscribe", "events": ["agent.registered"]}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");

    let ws_id =
        s.state.db.find(&store::schema::WORKSPACES, store::Scope::Global, &[]).await.unwrap().unwrap().id;
    let event =
        |name, workspace_id| engine::events::Event { name, workspace_id, at: 0, data: json!({"n": name}) };
    s.state.bus.publish(event("call.created", ws_id));
    s.state.bus.publish(event("agent.registered", ws_id + 1000));
    s.state.bus.publish(event("agent.registered", ws_id));
    let got = next_json(&mut ws).await;
    assert_eq!(
        got,
        json!({"type": "agent.registered", "at": "1970-01-01T00:00:00Z", "data": {"n": "agent.registered"}})
    );

    ws.send(Message::Text("nonsense".into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "error");
}

/// A socket subscribed to every event of the owner's workspace; the
/// workspace's id.
async fn subscribe_all(
    s: &Server,
) -> (tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, i64) {
    let Auth::Bearer(token) = s.owner().await else { panic!() };
    let url =
        format!("{}/events?token={token}&accessKeyId={}", s.url.replace("http://", "ws://"), s.workspace);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(json!({"type": "subscribe", "events": ["*"]}).to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let ws_id =
        s.state.db.find(&store::schema::WORKSPACES, store::Scope::Global, &[]).await.unwrap().unwrap().id;
    (ws, ws_id)
}

fn numbered(workspace_id: i64, n: u64) -> engine::events::Event {
    engine::events::Event { name: "call.dtmf", workspace_id, at: 0, data: json!({"n": n}) }
}

/// Reads the socket until it is quiet for a second: the events' `n`, in
/// order, and the `events.lost` notices' data.
async fn read_until_quiet<S>(ws: &mut S) -> (Vec<u64>, Vec<Value>)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let (mut got, mut notices) = (Vec::new(), Vec::new());
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(&t).unwrap();
        match v["type"].as_str() {
            Some("call.dtmf") => got.push(v["data"]["n"].as_u64().unwrap()),
            Some("events.lost") => notices.push(v["data"].clone()),
            other => panic!("unexpected {other:?}: {v}"),
        }
    }
    (got, notices)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_events_reaches_a_subscriber_whole_and_in_order() {
    let Some(s) = Server::start(Backend::Sqlite, Settings::default()).await else { return };
    let (mut ws, ws_id) = subscribe_all(&s).await;
    // Far more than the old bus kept (4096), published at once.
    const BURST: u64 = 50_000;
    for n in 0..BURST {
        s.state.bus.publish(numbered(ws_id, n));
    }
    let (got, notices) = read_until_quiet(&mut ws).await;
    assert!(notices.is_empty(), "nothing lost: {notices:?}");
    assert_eq!(got.len() as u64, BURST);
    assert!(got.iter().enumerate().all(|(i, n)| *n == i as u64), "in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_does_not_read_is_told_how_many_events_it_lost() {
    let Some(s) = Server::start(Backend::Sqlite, Settings::default()).await else { return };
    let (mut ws, ws_id) = subscribe_all(&s).await;
    // The client reads nothing while 120,000 events of half a kilobyte go
    // out: more than its queue (65,536) and the socket's buffers hold.
    const SENT: u64 = 120_000;
    let pad = "x".repeat(512);
    for chunk in 0..SENT / 1000 {
        for n in chunk * 1000..(chunk + 1) * 1000 {
            let data = json!({"n": n, "pad": pad});
            s.state.bus.publish(engine::events::Event {
                name: "call.dtmf",
                workspace_id: ws_id,
                at: 0,
                data,
            });
        }
        // Lets the socket's task keep up with the bus.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (got, notices) = read_until_quiet(&mut ws).await;
    assert!(!notices.is_empty(), "the loss is announced ({} events got)", got.len());
    assert!((got.len() as u64) < SENT, "{} events got", got.len());
    assert!(got.windows(2).all(|w| w[0] < w[1]), "what arrives is in order");
    let counted: u64 = notices.iter().map(|n| n["count"].as_u64().unwrap()).sum();
    // Unless the socket's task fell behind the bus itself (a slow test
    // machine), every event arrived or was counted as lost.
    if notices.iter().all(|n| n["bus_overrun"].is_null()) {
        assert_eq!(got.len() as u64 + counted, SENT, "every event arrived or was counted: {notices:?}");
    }
    // Events after the loss arrive again.
    s.state.bus.publish(numbered(ws_id, SENT));
    let (after, _) = read_until_quiet(&mut ws).await;
    assert_eq!(after, [SENT]);
}
