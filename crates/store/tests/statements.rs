//! How many SQL statements a batch of registrations costs, counted from
//! sqlx's own statement log (target `sqlx::query`), on SQLite and (when a
//! server is there) PostgreSQL. The registration writer's form
//! ([`Change::Upsert`]) must cost one statement per change; the general
//! form ([`Change::Put`]) is counted beside it for the record.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use store::schema::{AGENTS, REGISTRATIONS, USERS, WORKSPACES};
use store::{Change, Db, Filter, Scope, Value};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Statements logged by sqlx since the start.
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// A subscriber that only counts sqlx's statement events (sqlx logs from
/// its SQLite worker thread, so it is installed globally: this file holds
/// one test).
struct Count;

impl Subscriber for Count {
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.target() == "sqlx::query"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

async fn agents(db: &Db, n: usize) -> (i64, Vec<i64>) {
    let user = vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())];
    let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap().id;
    let ws = vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))];
    let ws = db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id;
    let mut ids = Vec::new();
    for i in 0..n {
        let values = vec![("name", format!("A{i}").into()), ("username", format!("{}", 3000 + i).into())];
        ids.push(db.insert(&AGENTS, Scope::Workspace(ws), values, 0).await.unwrap().id);
    }
    (ws, ids)
}

fn change(ws: i64, agent: i64, expires: i64, upsert: bool) -> Change {
    let values = vec![
        ("agent_id", Value::Int(agent)),
        ("aor", "sip:3001@calliope".into()),
        ("contact", "sip:3001@127.0.0.1:5070".into()),
        ("source", "127.0.0.1:5070".into()),
        ("transport", "udp".into()),
        ("expires_at", Value::Int(expires)),
        ("call_id", "c1".into()),
        ("cseq", Value::Int(expires)),
        ("user_agent", "sipp".into()),
    ];
    let scope = Scope::Workspace(ws);
    if upsert {
        Change::Upsert { scope, on: &["agent_id", "contact"], values, now: expires }
    } else {
        let filters = vec![Filter::eq("agent_id", agent), Filter::eq("contact", "sip:3001@127.0.0.1:5070")];
        Change::Put { scope, filters, values, now: expires }
    }
}

/// Statements that `apply` of `changes` made.
async fn counted(db: &Db, changes: &[Change]) -> u64 {
    let before = STATEMENTS.load(Ordering::SeqCst);
    assert_eq!(db.apply(&REGISTRATIONS, changes).await.unwrap(), changes.len());
    STATEMENTS.load(Ordering::SeqCst) - before
}

async fn count_on(name: &str, db: &Db) {
    let (ws, ids) = agents(db, 100).await;
    // Inserts (first batch) and updates (second), one change and 100.
    for round in 1..=2 {
        let one = counted(db, &[change(ws, ids[0], round, true)]).await;
        let many: Vec<Change> = ids.iter().map(|a| change(ws, *a, round, true)).collect();
        let hundred = counted(db, &many).await;
        let put_one = counted(db, &[change(ws, ids[0], round + 10, false)]).await;
        let many: Vec<Change> = ids.iter().map(|a| change(ws, *a, round + 10, false)).collect();
        let put_hundred = counted(db, &many).await;
        println!(
            "{name} round {round}: upsert 1 change {one} statements, 100 changes {hundred}; \
             put 1 change {put_one}, 100 changes {put_hundred}"
        );
        assert!(one <= 2, "{name}: one upsert took {one} statements");
        assert!(hundred <= 101, "{name}: 100 upserts took {hundred} statements");
        if name == "sqlite" {
            // Chunks of 64, 32 and 4 upserts, each one hand-off to SQLite.
            assert!(hundred <= 5, "{name}: 100 upserts took {hundred} hand-offs");
        }
        assert!(put_hundred > hundred, "the count sees the general form's extra reads");
    }
    let page = db.list(&REGISTRATIONS, Scope::Workspace(ws), &store::Query::default()).await.unwrap();
    assert_eq!(page.total, 100, "one registration per agent");
    assert!(page.records.iter().all(|r| r.int("expires_at") == Some(12)), "the latest write is kept");
}

#[tokio::test]
async fn a_registration_is_one_statement() {
    tracing::subscriber::set_global_default(Count).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(None, dir.path()).await.unwrap();
    count_on("sqlite", &db).await;

    let url = std::env::var("CALLIOPE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let Ok(admin) = sqlx::AnyPool::connect(&url).await else {
        assert!(std::env::var_os("CI").is_none(), "PostgreSQL is required under CI");
        return;
    };
    let name = format!("calliope_statements_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let pg = Db::open(Some(&format!("{base}/{name}")), dir.path()).await.unwrap();
    count_on("postgres", &pg).await;
    pg.close().await;
    sqlx::query(&format!("DROP DATABASE {name}")).execute(&admin).await.unwrap();
}
