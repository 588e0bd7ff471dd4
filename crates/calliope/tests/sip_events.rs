//! `agent.registered` and `agent.unregistered` reach a WebSocket client of
//! `/events` when a SIPp phone registers and unregisters.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use futures_util::SinkExt;
use serde_json::json;
use support::calliope::{assert_passed, Calliope, Sipp};
use support::events::next_json;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn registration_events_reach_websocket_clients() {
    let c = Calliope::start(&[]);
    let agent = c.agent("3001", "pw3001");
    let url = format!("{}/events?token={}", c.http.replace("http://", "ws://"), c.token());
    let sip = c.sip;
    tokio::runtime::Runtime::new().unwrap().block_on(watch(url, sip, agent));
}

async fn watch(url: String, sip: std::net::SocketAddr, agent: String) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let subscribe = json!({"type": "subscribe", "events": ["agent.registered", "agent.unregistered"]});
    ws.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");

    let port = support::calliope::free_port();
    let register = |scenario: &'static str| {
        tokio::task::spawn_blocking(move || {
            Sipp::on_port(scenario, sip, port).args(&["-s", "3001", "-au", "3001", "-ap", "pw3001"]).run()
        })
    };
    assert_passed(&register("register.xml").await.unwrap(), "register");
    let event = next_json(&mut ws).await;
    assert_eq!(event["type"], "agent.registered", "{event}");
    assert_eq!(event["data"]["agentRef"], agent.as_str());
    assert_eq!(event["data"]["username"], "3001");

    assert_passed(&register("unregister.xml").await.unwrap(), "unregister");
    let event = next_json(&mut ws).await;
    assert_eq!(event["type"], "agent.unregistered", "{event}");
    assert_eq!(event["data"]["agentRef"], agent.as_str());
}
