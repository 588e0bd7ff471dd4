//! A route's time window switches where a trunk's call goes, on the
//! engine's test clock: the same number rings one agent at 08:00 and the
//! other at 10:00 (the window holds 09:00 to 17:00 UTC), with no sleeping
//! until a real time. The carrier and the phones are plain UDP sockets
//! speaking SIP; the configuration is written to the store.
#![allow(missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use engine::calls::Registry;
use engine::clock::{Clock, TestClock};
use engine::events::Bus;
use engine::location::{Binding, Transport};
use sip::{Message, Method, Request, Response, StatusCode};
use store::{Db, Scope, Value};
use tokio::net::UdpSocket;

async fn next_message(socket: &UdpSocket, wait: Duration) -> Option<Message> {
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf)).await.ok()?.ok()?;
    sip::parse_message(&buf[..n]).ok()
}

/// The next INVITE `phone` gets within `wait`, with where it came from.
async fn next_invite(phone: &UdpSocket, wait: Duration) -> Option<(Request, SocketAddr)> {
    let mut buf = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (n, from) = tokio::time::timeout_at(deadline, phone.recv_from(&mut buf)).await.ok()?.ok()?;
        if let Ok(Message::Request(r)) = sip::parse_message(&buf[..n]) {
            if r.method == Method::Invite {
                return Some((r, from));
            }
        }
    }
}

/// The final response the carrier gets within `wait`.
async fn final_response(carrier: &UdpSocket, wait: Duration) -> Option<Response> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_message(carrier, left).await? {
            Message::Response(r) if r.status.is_final() => return Some(r),
            _ => {}
        }
    }
}

/// An INVITE from the carrier at `from` to `number` at `to`.
fn invite(from: SocketAddr, to: SocketAddr, number: &str, call_id: &str) -> Vec<u8> {
    let sdp = "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:{number}@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bK-{call_id}\r\n\
         From: <sip:15551230000@{from}>;tag=carrier-{call_id}\r\n\
         To: <sip:{number}@{to}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:carrier@{from}>\r\n\
         Max-Forwards: 70\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

async fn insert(
    db: &Db,
    res: &'static store::Resource,
    scope: Scope,
    values: Vec<(&'static str, Value)>,
) -> i64 {
    db.insert(res, scope, values, 0).await.unwrap().id
}

#[tokio::test]
async fn a_time_window_switches_the_destination_on_the_engine_clock() {
    use store::schema::{AGENTS, ROUTES, TIME_RECURRENCES, TRUNKS, USERS, WORKSPACES};
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(None, dir.path()).await.unwrap();
    let user = insert(
        &db,
        &USERS,
        Scope::Global,
        vec![("email", "o@example.com".into()), ("name", "o".into()), ("password_hash", "x".into())],
    )
    .await;
    let ws = insert(
        &db,
        &WORKSPACES,
        Scope::Global,
        vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))],
    )
    .await;
    let scope = Scope::Workspace(ws);
    let day = insert(&db, &AGENTS, scope, vec![("name", "Day".into()), ("username", "3001".into())]).await;
    let night =
        insert(&db, &AGENTS, scope, vec![("name", "Night".into()), ("username", "3002".into())]).await;
    let carrier = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let carrier_addr = carrier.local_addr().unwrap();
    insert(
        &db,
        &TRUNKS,
        scope,
        vec![
            ("name", "carrier".into()),
            ("remote_addr", carrier_addr.to_string().into()),
            ("source", "context-2".into()),
        ],
    )
    .await;
    // Out of hours the number rings 3002; from 09:00 to 17:00 UTC, 3001.
    let route = insert(
        &db,
        &ROUTES,
        scope,
        vec![
            ("name", "sales".into()),
            ("prefix", "7".into()),
            ("max_length", Value::Int(10)),
            ("context", "context-2".into()),
            ("dest_type", "FS_DEST_USER".into()),
            ("dest_uuid", "3002".into()),
        ],
    )
    .await;
    insert(
        &db,
        &TIME_RECURRENCES,
        scope,
        vec![
            ("route_id", Value::Int(route)),
            ("time_recurrence", "20270101T090000|PT8H|daily".into()),
            ("dest_type", "FS_DEST_USER".into()),
            ("dest_uuid", "3001".into()),
        ],
    )
    .await;

    let sealer = Arc::new(engine::secrets::Sealer::new(None, dir.path()).unwrap());
    // 2027-01-15 08:00:00 UTC.
    let clock = TestClock::new(1_800_000_000_000);
    let mut config = engine::signalling::Config::new("127.0.0.1:0".parse().unwrap());
    config.rtp_ports = (47_400, 47_460);
    config.time_zone = jiff::tz::TimeZone::UTC;
    let calls = Arc::new(Registry::default());
    let sip =
        engine::signalling::start(config, db, sealer, Bus::default(), calls.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
    let sw = sip.switch.clone();
    let server = sw.transports.local_addr();
    let mut phones = Vec::new();
    for (agent, ext) in [(day, "3001"), (night, "3002")] {
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = phone.local_addr().unwrap();
        sw.location.put(Binding {
            workspace_id: ws,
            agent_id: agent,
            aor: format!("sip:{ext}@calliope"),
            contact: format!("sip:{ext}@{addr}"),
            source: addr,
            transport: Transport::Udp,
            registered_at: clock.now(),
            expires_at: clock.now() + 86_400_000,
            call_id: format!("reg-{ext}"),
            cseq: 1,
            user_agent: "test".into(),
        });
        phones.push(phone);
    }

    // Rings the number; which phone got the INVITE (it answers busy).
    async fn ring(
        carrier: &UdpSocket,
        server: SocketAddr,
        phones: &[UdpSocket],
        call_id: &str,
    ) -> (usize, Option<Response>) {
        carrier
            .send_to(&invite(carrier.local_addr().unwrap(), server, "7000", call_id), server)
            .await
            .unwrap();
        let (which, (request, from)) = tokio::select! {
            Some(got) = next_invite(&phones[0], Duration::from_secs(5)) => (0, got),
            Some(got) = next_invite(&phones[1], Duration::from_secs(5)) => (1, got),
        };
        assert_eq!(request.uri.user(), Some(if which == 0 { "3001" } else { "3002" }));
        let busy = Response::for_request(&request, StatusCode::BUSY_HERE, Some("phone"));
        phones[which].send_to(&Message::from(busy).to_bytes(), from).await.unwrap();
        (which, final_response(carrier, Duration::from_secs(5)).await)
    }

    let (which, answer) = ring(&carrier, server, &phones, "before-nine").await;
    assert_eq!(which, 1, "at 08:00 the route's own destination (3002) rings");
    assert_eq!(answer.map(|r| r.status.code()), Some(486), "the callee's busy reaches the carrier");

    clock.advance(2 * 3_600_000);
    let (which, answer) = ring(&carrier, server, &phones, "after-nine").await;
    assert_eq!(which, 0, "at 10:00 the window holds: 3001 rings");
    assert_eq!(answer.map(|r| r.status.code()), Some(486));

    clock.advance(8 * 3_600_000);
    let (which, _) = ring(&carrier, server, &phones, "evening").await;
    assert_eq!(which, 1, "at 18:00 the window is over");
    sip.shutdown(Duration::from_secs(1)).await;
    assert_eq!(calls.calls(), 0, "no call is left behind");
}
