//! The engine in process on a test clock, with plain UDP sockets as
//! phones and gateways. A call placed to a phone that rings and
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

struct Setup {
    _dir: tempfile::TempDir,
    sip: engine::signalling::SipHandle,
    ws: i64,
    agent: i64,
    clock: TestClock,
    calls: Arc<Registry>,
}

/// A switch on a test clock over a fresh store with one workspace and
/// agent 3001.
async fn setup(rtp: (u16, u16)) -> Setup {
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
    config.rtp_ports = rtp;
    let calls = Arc::new(Registry::default());
    let sip =
        engine::signalling::start(config, db, sealer, Bus::default(), calls.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
    Setup { _dir: dir, sip, ws, agent, clock, calls }
}

#[tokio::test]
async fn an_unanswered_call_rings_out_on_the_engine_clock() {
    let Setup { _dir, sip, ws, agent, clock, calls } = setup((47_200, 47_260)).await;
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
        program: None,
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

#[tokio::test]
async fn a_call_to_a_sip_uri_answers_the_upstream_challenge_and_hangs_up_on_command() {
    use sip::digest::{AuthConfig, Authenticator, Outcome, Secret};
    let Setup { _dir, sip, ws, calls, .. } = setup((47_300, 47_360)).await;
    let sw = sip.switch.clone();
    let gateway = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = gateway.local_addr().unwrap();
    let order = Originate {
        workspace_id: ws,
        caller_id: "100".into(),
        destination: Destination::Uri {
            uri: format!("sip:5551234@{addr}"),
            account: Some(engine::calls::leg::auth::Account {
                username: "trunk".into(),
                password: "s3cret".into(),
            }),
        },
        ring_timeout: Duration::from_secs(30),
        then: Vec::new(),
        program: None,
    };
    let handle = originate(&sw, order).await.unwrap();
    // A hang-up before the answer would be fine; other commands do not fit yet.
    let play = engine::calls::CallCommand::Play { uri: "silence_stream://100".into() };
    assert!(matches!(handle.send(play).await, Err(engine::calls::CommandError::NotInPhase(_))));

    let mut upstream = Authenticator::new("upstream", b"gateway-key", AuthConfig::default());
    let (invite, server) = next_request(&gateway, Duration::from_secs(5)).await.expect("an INVITE");
    let mut challenge = Response::for_request(&invite, StatusCode::PROXY_AUTHENTICATION_REQUIRED, Some("gw"));
    for c in upstream.challenges(1, [3; sip::digest::NONCE_RANDOM_BYTES], false) {
        challenge.head.headers.push(sip::HeaderName::ProxyAuthenticate, c.to_string());
    }
    send(&gateway, server, challenge).await;
    let again = loop {
        let (r, _) = next_request(&gateway, Duration::from_secs(5)).await.expect("the INVITE again");
        if r.method == Method::Invite && r.head.cseq.seq > invite.head.cseq.seq {
            break r;
        }
    };
    let creds = again.head.proxy_authorization(Some("upstream")).expect("credentials").unwrap();
    let outcome = upstream.verify(&creds, &Method::Invite, &again.uri, Secret::Password("s3cret"), 2);
    assert_eq!(outcome, Outcome::Ok, "the credentials are the account's");
    let ear = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sdp = format!(
        "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
        ear.local_addr().unwrap().port()
    );
    let mut ok = Response::for_request(&again, StatusCode::OK, Some("gw"));
    ok.head.headers.push(sip::HeaderName::Contact, format!("<sip:gw@{addr}>"));
    let ok = ok.with_body(&sip::MediaType::sdp(), sdp.into_bytes());
    send(&gateway, server, ok).await;
    let ack = loop {
        let (r, _) = next_request(&gateway, Duration::from_secs(5)).await.expect("the ACK");
        if r.method == Method::Ack {
            break r;
        }
    };
    assert_eq!(ack.head.cseq.seq, again.head.cseq.seq);
    for _ in 0..50 {
        if calls.of(ws).first().map(|c| c.callstate) == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.of(ws).first().map(|c| c.callstate), Some("ACTIVE"));
    // Keys sent by command arrive as RFC 4733 events on the callee's type.
    let dtmf = engine::calls::CallCommand::Dtmf { digits: "5".into() };
    assert_eq!(handle.send(dtmf).await, Ok(()));
    let bad = engine::calls::CallCommand::Dtmf { digits: "5x".into() };
    assert!(matches!(handle.send(bad).await, Err(engine::calls::CommandError::Media(_))));
    let mut buf = [0u8; 2048];
    let event = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            let (n, _) = ear.recv_from(&mut buf).await.unwrap();
            if n > 12 && buf[1] & 0x7f == 101 {
                return buf[12];
            }
        }
    })
    .await
    .expect("an RFC 4733 packet");
    assert_eq!(event, 5, "the event is the key 5");
    let hangup = tokio::spawn({
        let handle = handle.clone();
        async move { handle.send(engine::calls::CallCommand::Hangup).await }
    });
    let bye = loop {
        let (r, _) = next_request(&gateway, Duration::from_secs(5)).await.expect("a BYE");
        if r.method == Method::Bye {
            break r;
        }
    };
    send(&gateway, server, Response::for_request(&bye, StatusCode::OK, None)).await;
    assert_eq!(hangup.await.unwrap(), Ok(()));
    sip.shutdown(Duration::from_secs(2)).await;
    assert_eq!(calls.calls(), 0);
    let again = handle.send(engine::calls::CallCommand::Hangup).await;
    assert_eq!(again, Err(engine::calls::CommandError::Gone), "a finished call says so");
}
