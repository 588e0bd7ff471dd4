//! Egress tests: the order of trunk-group attempts, the failover policy,
//! and whole dials built from records in a real (SQLite) store.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use jiff::tz::TimeZone;
use sip::transaction::Protocol;
use store::schema::{
    CREDENTIALS, GATEWAYS, PARAMS, TRUNKS, TRUNK_GROUPS, TRUNK_GROUP_MEMBERS, USERS, WORKSPACES,
};
use store::{Scope, Value};

use super::*;
use crate::router::{Inbound, Plan, Source, Tables};

fn m(trunk_id: i64, weight: u32) -> Member {
    Member { trunk_id, weight, priority: 0 }
}

#[tokio::test]
async fn round_robin_turns_across_calls_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(None, dir.path()).await.unwrap();
    let sealer = Arc::new(Sealer::new(Some(&"11".repeat(32)), dir.path()).unwrap());
    let egress = Egress::new(db, sealer);
    let members = [m(10, 1), m(11, 1), m(12, 1)];
    let mut firsts = HashMap::new();
    for _ in 0..30 {
        let order = group_order(&members, Strategy::RoundRobin, egress.next_turn(1, 4), 0);
        assert_eq!(order.len(), 3, "every member is an attempt");
        *firsts.entry(order[0]).or_insert(0) += 1;
    }
    assert_eq!(firsts, HashMap::from([(10, 10), (11, 10), (12, 10)]));
    assert_eq!(egress.next_turn(1, 5), 0, "another group has its own counter");
    assert_eq!(egress.next_turn(2, 4), 0, "so has another workspace");
    assert_eq!(group_order(&members, Strategy::RoundRobin, 4, 0), [11, 12, 10]);
}

#[test]
fn weights_choose_the_first_member_and_the_rest_follow() {
    let members = [m(10, 1), m(11, 3)];
    let mut firsts = HashMap::new();
    for r in 0..4000u64 {
        let order = group_order(&members, Strategy::Weight, 0, r.wrapping_mul(2_654_435_761));
        assert_eq!(order.len(), 2);
        *firsts.entry(order[0]).or_insert(0) += 1;
    }
    assert_eq!(firsts[&10] + firsts[&11], 4000);
    assert!((900..=1100).contains(&firsts[&10]), "{firsts:?}");
    assert!(group_order(&[], Strategy::Weight, 0, 0).is_empty());
}

#[test]
fn refusals_map_to_statuses_and_causes() {
    let not_found = ResolveError::NotFound { host: "x.invalid".into(), reason: "no".into() };
    let timeout = ResolveError::Timeout { host: "slow".into(), timeout: std::time::Duration::from_secs(3) };
    let cases = [
        (EgressError::Gone("gateway 3".into()), 410),
        (EgressError::Disabled("trunk 1".into()), 503),
        (EgressError::Unresolved("trunk 1".into(), not_found), 502),
        (EgressError::Unresolved("trunk 1".into(), timeout), 503),
        (EgressError::BadCallee("a b".into()), 484),
        (EgressError::NoMembers("trunk group 2".into()), 503),
        (EgressError::NotOutbound("Ivr(1)".into()), 501),
    ];
    for (e, status) in cases {
        assert_eq!(e.status().0, status, "{e}");
    }
    let e = EgressError::NoUsableMember {
        group: "trunk group 2 (g)".into(),
        reasons: vec!["a".into(), "b".into()],
    };
    assert_eq!(e.to_string(), "trunk group 2 (g): no member can be used (a; b)");
}

#[test]
fn uris_keep_their_user_or_take_the_callee() {
    let out = uri_leaving("sip:2000@10.0.0.2:5070", "999").unwrap();
    assert_eq!(out.uri.to_string(), "sip:2000@10.0.0.2:5070");
    let out = uri_leaving("10.0.0.2", "999").unwrap();
    assert_eq!(out.uri.to_string(), "sip:999@10.0.0.2");
    assert_eq!(out.account, None);
}

/// A store with one workspace, a sealer, and the egress over them.
struct World {
    _dir: tempfile::TempDir,
    db: Db,
    sealer: Arc<Sealer>,
    ws: i64,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let user = db
            .insert(
                &USERS,
                Scope::Global,
                vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())],
                0,
            )
            .await
            .unwrap()
            .id;
        let ws = db
            .insert(
                &WORKSPACES,
                Scope::Global,
                vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))],
                0,
            )
            .await
            .unwrap()
            .id;
        let sealer = Arc::new(Sealer::new(Some(&"22".repeat(32)), dir.path()).unwrap());
        World { _dir: dir, db, sealer, ws }
    }

    async fn add(&self, res: &'static store::Resource, values: store::Values) -> i64 {
        self.db.insert(res, Scope::Workspace(self.ws), values, 0).await.unwrap().id
    }

    async fn snapshot(&self) -> Snapshot {
        let tables = Tables::load(&self.db, self.ws).await.unwrap();
        Snapshot::build(self.ws, &tables, TimeZone::UTC)
    }

    fn egress(&self) -> Egress {
        Egress::new(self.db.clone(), self.sealer.clone())
    }
}

fn routed(target: Target, callee: &str) -> Routed {
    Routed {
        route_id: Some(9),
        number_id: None,
        window_id: None,
        target,
        body: String::new(),
        callee: callee.into(),
        caller: "1001".into(),
        caller_name: String::new(),
        record: false,
        proxy_media: true,
        codecs: Vec::new(),
        ring_timeout: None,
        headers: vec![("X-Route".into(), "9".into())],
        hops: 1,
        forward_busy: None,
        forward_no_answer: None,
    }
}

#[tokio::test]
async fn a_gateway_call_carries_the_realm_domain_and_account() {
    let w = World::new().await;
    let sealed = w.sealer.seal("gw-pass").unwrap();
    let gw = w
        .add(
            &GATEWAYS,
            vec![
                ("name", "carrier".into()),
                ("realm", "127.0.0.1:5090".into()),
                ("username", "1001".into()),
                ("password_enc", sealed.into()),
            ],
        )
        .await;
    w.add(
        &PARAMS,
        vec![
            ("realm", "GATEWAY".into()),
            ("ref_id", Value::Int(gw)),
            ("k", "from-domain".into()),
            ("v", "example.com".into()),
        ],
    )
    .await;
    w.add(
        &PARAMS,
        vec![
            ("realm", "GATEWAY".into()),
            ("ref_id", Value::Int(gw)),
            ("k", "auth-username".into()),
            ("v", "off".into()),
            ("disabled", Value::Int(1)),
        ],
    )
    .await;
    let snap = w.snapshot().await;
    let target = Target::Gateway { gateway_id: gw, name: "carrier".into(), realm: "127.0.0.1:5090".into() };
    let d = dial(&routed(target, "5551234"), &snap, &w.egress()).await.unwrap();
    assert_eq!(d.attempts.len(), 1);
    let dest = &d.attempts[0].destinations[0];
    assert_eq!(dest.uri.to_string(), "sip:5551234@127.0.0.1:5090");
    assert_eq!(dest.peer, Peer::udp("127.0.0.1:5090".parse().unwrap()));
    assert_eq!(dest.host.as_deref(), Some("example.com"));
    assert_eq!(
        dest.account,
        Some(Account { username: "1001".into(), password: "gw-pass".into() }),
        "disabled param ignored"
    );
    assert!(dest.headers.is_empty(), "the call task adds the route's headers itself");

    let gone = Target::Gateway { gateway_id: gw + 100, name: "x".into(), realm: String::new() };
    let r = dial(&routed(gone, "1"), &snap, &w.egress()).await.unwrap_err();
    assert_eq!((r.status, r.cause, r.route_id), (410, "NUMBER_CHANGED", Some(9)));
    assert!(r.reason.contains(&format!("gateway {}", gw + 100)), "{}", r.reason);
}

#[tokio::test]
async fn a_trunk_group_fails_over_in_order_and_leaves_out_what_cannot_be_used() {
    let w = World::new().await;
    let cred = w
        .add(
            &CREDENTIALS,
            vec![
                ("name", "c".into()),
                ("username", "acme".into()),
                ("password_enc", w.sealer.seal("pw").unwrap().into()),
            ],
        )
        .await;
    let t1 = w
        .add(
            &TRUNKS,
            vec![
                ("name", "t1".into()),
                ("remote_addr", "127.0.0.1:6001".into()),
                ("protocol", "TCP".into()),
                ("outbound_credentials_id", Value::Int(cred)),
            ],
        )
        .await;
    let t2 = w.add(&TRUNKS, vec![("name", "t2".into()), ("remote_addr", "localhost:6002".into())]).await;
    let t3 = w.add(&TRUNKS, vec![("name", "t3".into()), ("remote_addr", "trunk.invalid".into())]).await;
    let g = w.add(&TRUNK_GROUPS, vec![("name", "g".into()), ("strategy", "RR".into())]).await;
    for (p, t) in [(1, t1), (2, t2), (3, t3)] {
        w.add(
            &TRUNK_GROUP_MEMBERS,
            vec![("group_id", Value::Int(g)), ("trunk_id", Value::Int(t)), ("priority", Value::Int(p))],
        )
        .await;
    }
    let snap = w.snapshot().await;
    let members = snap.group(g).unwrap().members.clone();
    let target = Target::TrunkGroup { group_id: g, strategy: Strategy::RoundRobin, members };
    let egress = w.egress().with_resolver(Resolver::new(std::time::Duration::from_secs(4)));
    let d = dial(&routed(target.clone(), "0044"), &snap, &egress).await.unwrap();
    assert_eq!(d.attempts.len(), 2, "the unresolvable member is left out");
    assert!(d.attempts.iter().all(|a| a.next_on == NextOn::Unreachable));
    let first = &d.attempts[0].destinations[0];
    assert_eq!(first.uri.to_string(), "sip:0044@127.0.0.1:6001;transport=tcp");
    assert_eq!(first.peer.protocol, Protocol::Tcp);
    assert_eq!(first.account, Some(Account { username: "acme".into(), password: "pw".into() }));
    assert_eq!(d.attempts[0].label, format!("trunk {t1} (t1)"));
    let second = &d.attempts[1].destinations[0];
    assert!(second.peer.addr.ip().is_loopback() && second.peer.addr.port() == 6002, "{:?}", second.peer);
    assert_eq!(second.account, None);

    // The next call starts at the next member.
    let d = dial(&routed(target, "0044"), &snap, &egress).await.unwrap();
    assert_eq!(d.attempts[0].label, format!("trunk {t2} (t2)"));
    assert_eq!(d.attempts[1].label, format!("trunk {t1} (t1)"));

    let empty = Target::TrunkGroup { group_id: g, strategy: Strategy::RoundRobin, members: Vec::new() };
    let r = dial(&routed(empty, "0044"), &snap, &egress).await.unwrap_err();
    assert_eq!((r.status, r.cause), (503, "NORMAL_TEMPORARY_FAILURE"));
    assert!(r.reason.contains("has no enabled members"), "{}", r.reason);

    let only_bad =
        Target::TrunkGroup { group_id: g, strategy: Strategy::RoundRobin, members: vec![m(t3, 1)] };
    let r = dial(&routed(only_bad, "0044"), &snap, &egress).await.unwrap_err();
    assert_eq!(r.status, 503);
    assert!(r.reason.contains("trunk.invalid"), "{}", r.reason);
}

#[tokio::test]
async fn a_disabled_trunk_refuses_and_the_router_and_egress_agree_on_route_codes() {
    let w = World::new().await;
    let off = w
        .add(
            &TRUNKS,
            vec![("name", "off".into()), ("remote_addr", "127.0.0.1".into()), ("enabled", Value::Int(0))],
        )
        .await;
    let r = dial(
        &routed(Target::Trunk { trunk_id: off, remote_addr: String::new() }, "1"),
        &w.snapshot().await,
        &w.egress(),
    )
    .await
    .unwrap_err();
    assert_eq!((r.status, r.cause), (503, "NORMAL_TEMPORARY_FAILURE"));

    let on = w.add(&TRUNKS, vec![("name", "on".into()), ("remote_addr", "127.0.0.1:7000".into())]).await;
    let g = w.add(&TRUNK_GROUPS, vec![("name", "g".into()), ("strategy", "RR".into())]).await;
    w.add(&TRUNK_GROUP_MEMBERS, vec![("group_id", Value::Int(g)), ("trunk_id", Value::Int(on))]).await;
    w.add(&store::schema::ROUTE_CODES, vec![("code", "77".into()), ("tg_id", Value::Int(g))]).await;
    w.add(
        &store::schema::ROUTES,
        vec![
            ("name", "out".into()),
            ("prefix", "9".into()),
            ("max_length", Value::Int(20)),
            ("context", "context-1".into()),
            ("dest_type", "FS_DEST_CLUSTER_TRUNK_GROUP".into()),
            ("body", "77".into()),
            ("dnc", "1:".into()),
        ],
    )
    .await;
    let snap = w.snapshot().await;
    let call = Inbound::new(Source::Test, "context-1", "1001", "90123");
    let Plan::Route(routed) = crate::router::route(&snap, &call, 0) else { panic!("routed") };
    let d = dial(&routed, &snap, &w.egress()).await.unwrap();
    let dest = &d.attempts[0].destinations[0];
    assert_eq!(dest.uri.to_string(), "sip:0123@127.0.0.1:7000", "the route code's group, dnc applied");
    assert_eq!(dest.peer.addr, "127.0.0.1:7000".parse::<SocketAddr>().unwrap());
}
