//! The engine on a test clock: a call placed to a phone that rings and
//! never answers is given up exactly when the engine's clock passes the
//! ring timeout, however little real time went by. The phone is a plain
//! UDP socket speaking SIP; the agent is bound in the location service
//! directly.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use engine::calls::{originate, Destination, Originate, Registry};
use engine::clock::{Clock, TestClock};
use engine::events::Bus;
use engine::location::{Binding, Transport};
use sip::{Message, Method, Request, Response, StatusCode};
use store::{Db, Scope, Value};
use tokio::net::UdpSocket;

async fn next_request(phone: &UdpSocket, wait: Duration) -> Option<(Request, std::net::SocketAddr)> {
    let mut buf = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (n, from) = tokio::time::timeout_at(deadline, phone.recv_from(&mut buf)).await.ok()?.ok()?;
        if let Ok(Message::Request(r)) = sip::parse_message(&buf[..n]) {
            return Some((r, from));
        }
    }
}

async fn send(phone: &UdpSocket, to: std::net::SocketAddr, resp: Response) {
    phone.send_to(&Message::from(resp).to_bytes(), to).await.unwrap();
}

#[tokio::test]
async fn an_unanswered_call_rings_out_on_the_engine_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(None, dir.path()).await.unwrap();
    let user = db
        .insert(
            &store::schema::USERS,
            Scope::Global,
            vec![("email", "o@example.com".into()), ("name", "o".into()), ("password_hash", "x".into())],
            0,
        )
        .await
        .unwrap()
        .id;
    let ws = db
        .insert(
            &store::schema::WORKSPACES,
            Scope::Global,
            vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))],
            0,
        )
        .await
        .unwrap()
        .id;
    let agent = db
        .insert(
            &store::schema::AGENTS,
            Scope::Workspace(ws),
            vec![("name", "Agent".into()), ("username", "3001".into())],
            0,
        )
        .await
        .unwrap()
        .id;
    let sealer = Arc::new(engine::secrets::Sealer::new(None, dir.path()).unwrap());
    let clock = TestClock::new(1_800_000_000_000);
    let mut config = engine::signalling::Config::new("127.0.0.1:0".parse().unwrap());
    config.rtp_ports = (47_200, 47_260);
    let calls = Arc::new(Registry::default());
    let sip =
        engine::signalling::start(config, db, sealer, Bus::default(), calls.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
    let sw = sip.switch.clone();
    let mut events = sw.bus.subscribe();

    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = phone.local_addr().unwrap();
    sw.location.put(Binding {
        workspace_id: ws,
        agent_id: agent,
        aor: "sip:3001@calliope".into(),
        contact: format!("sip:3001@{addr}"),
        source: addr,
        transport: Transport::Udp,
        registered_at: clock.now(),
        expires_at: clock.now() + 3_600_000,
        call_id: "reg".into(),
        cseq: 1,
        user_agent: "test".into(),
    });

    let order = Originate {
        workspace_id: ws,
        caller_id: "100".into(),
        destination: Destination::Agent { extension: "3001".into() },
        ring_timeout: Duration::from_secs(30),
        then: Vec::new(),
    };
    let handle = originate(&sw, order).await.unwrap();
    let (invite, server) = next_request(&phone, Duration::from_secs(5)).await.expect("an INVITE");
    assert_eq!(invite.method, Method::Invite);
    send(&phone, server, Response::for_request(&invite, StatusCode::RINGING, Some("phone"))).await;

    // 29 s on the engine's clock: still ringing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    clock.advance(29_000);
    let early = next_request(&phone, Duration::from_millis(300)).await;
    let method = early.map(|(r, _)| r.method);
    assert!(
        method.as_ref().is_none_or(|m| *m == Method::Invite),
        "nothing but retransmissions yet: {method:?}"
    );
    assert_eq!(calls.of(ws).first().map(|c| c.callstate), Some("RINGING"));

    // One more second: the call gives up at once, in real time.
    clock.advance(1_000);
    let cancel = loop {
        let (r, _) = next_request(&phone, Duration::from_secs(2))
            .await
            .expect("a CANCEL once the ring timeout passed");
        if r.method == Method::Cancel {
            break r;
        }
    };
    send(&phone, server, Response::for_request(&cancel, StatusCode::OK, Some("phone"))).await;
    send(&phone, server, Response::for_request(&invite, StatusCode::REQUEST_TERMINATED, Some("phone"))).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = events.recv().await.unwrap();
            if e.name == "call.ended" {
                return e;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(ended.data["cause"], "NO_ANSWER");
    assert_eq!(ended.data["ref"], handle.uuid.as_str());
    assert_eq!(ended.at, 1_800_000_030_000, "the call ended at the engine's time, not the wall clock's");
    sip.shutdown(Duration::from_secs(1)).await;
    assert_eq!(calls.calls(), 0);
}
