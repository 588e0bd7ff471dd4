//! The events WebSocket is bounded: a socket subscribes to at most 64
//! names, and a workspace holds at most 64 sockets (then 429); a socket
//! closed gives its place back.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use support::calliope::Calliope;
use support::events::next_json;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn subscriptions_and_sockets_are_capped() {
    let c = Calliope::start(&[]);
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    tokio::runtime::Runtime::new().unwrap().block_on(async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(url.clone()).await.unwrap();
        let names: Vec<String> = (0..65).map(|i| format!("made.up.{i}")).collect();
        ws.send(Message::Text(json!({"type": "subscribe", "events": names}).to_string().into()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "error", "65 names are too many");
        let long = "x".repeat(65);
        ws.send(Message::Text(json!({"type": "subscribe", "events": [long]}).to_string().into()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "error", "a 65-character name is too long");
        ws.send(Message::Text(json!({"type": "subscribe", "events": ["*"]}).to_string().into()))
            .await
            .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "subscribed");

        // 63 more sockets fit; the 65th is refused.
        let mut open = vec![ws];
        for _ in 0..63 {
            open.push(tokio_tungstenite::connect_async(url.clone()).await.unwrap().0);
        }
        match tokio_tungstenite::connect_async(url.clone()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 429),
            other => panic!("the 65th socket was not refused: {:?}", other.map(|(_, r)| r.status())),
        }
        // Closing one makes room.
        let mut first = open.remove(0);
        first.close(None).await.unwrap();
        drop(first);
        let mut reopened = None;
        for _ in 0..50 {
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(url.clone()).await {
                reopened = Some(ws);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(reopened.is_some(), "a closed socket gave its place back");
    });
}
