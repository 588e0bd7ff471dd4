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
