//! The CDR writer against a real store: on PostgreSQL, its connections
//! are cut (`pg_terminate_backend`) again and again while calls are
//! written, and every record still arrives, once; and (ignored, a
//! measurement: `cargo test --release -p engine --test cdr_writer --
//! --ignored --nocapture`) how many calls a second it writes on SQLite.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use engine::calls::cdr::{Cdr, Writer, CALLEE_SIDE, CALLER_SIDE};
use sqlx::{Connection, Executor, Row};
use store::{Db, Scope, Value};

fn pg_admin_url() -> String {
    std::env::var("CALLIOPE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn workspace(db: &Db) -> i64 {
    let user = vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())];
    let user = db.insert(&store::schema::USERS, Scope::Global, user, 0).await.unwrap().id;
    let ws = vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))];
    db.insert(&store::schema::WORKSPACES, Scope::Global, ws, 0).await.unwrap().id
}

/// One call's two legs.
fn call(ws: i64, i: usize) -> Vec<Cdr> {
    let leg = |side: &'static str| Cdr {
        workspace_id: ws,
        call_ref: format!("call-{i}"),
        leg_ref: format!("call-{i}-{side}"),
        leg: side,
        src: "2001".into(),
        dst: "2002".into(),
        direction: "INTRA_COMPANY",
        kind: "AGENT",
        disposition: "ANSWERED",
        hangup_cause: "NORMAL_CLEARING".into(),
        start: 1_000,
        answer: Some(2_000),
        end: 5_000 + i as i64,
        codec: "PCMU".into(),
        ..Cdr::default()
    };
    vec![leg(CALLER_SIDE), leg(CALLEE_SIDE)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_while_calls_are_written_lose_no_record() {
    let admin_url = pg_admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("skipping: PostgreSQL not reachable at {admin_url}: {e}");
            return;
        }
        Err(e) => panic!("PostgreSQL is required under CI: {e}"),
    };
    let name = format!("calliope_cdr_cut_{}", std::process::id());
    admin.execute(format!("DROP DATABASE IF EXISTS {name}").as_str()).await.unwrap();
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(Some(&format!("{base}/{name}")), dir.path()).await.unwrap();
    let ws = workspace(&db).await;

    const CALLS: usize = 6_000;
    let writer = Writer::start(db.clone(), CALLS, None);
    let mut cuts = 0;
    for i in 0..CALLS {
        writer.submit(call(ws, i)).unwrap();
        if i % 500 == 250 {
            // Cut every connection of the store, in whatever state it is.
            let killed = sqlx::query(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()) AS t",
            )
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap()
            .get::<i64, _>(0);
            cuts += killed;
        }
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    writer.close().await;
    assert!(cuts > 0, "some connections were cut");
    assert_eq!(writer.lost(), 0, "nothing refused");
    assert_eq!(writer.written(), 2 * CALLS as u64, "every record written");

    let mut conn = sqlx::PgConnection::connect(&format!("{base}/{name}")).await.unwrap();
    let row = sqlx::query("SELECT count(*), count(DISTINCT leg_ref) FROM cdrs WHERE workspace_id = $1")
        .bind(ws)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let (rows, legs): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!((rows, legs), (2 * CALLS as i64, 2 * CALLS as i64), "every record in the store, once");
    conn.close().await.unwrap();
    db.close().await;
    admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: run it with --release --ignored --nocapture"]
async fn sqlite_writer_calls_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(None, dir.path()).await.unwrap();
    let ws = workspace(&db).await;
    let calls: usize = std::env::var("CDR_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let writer = Writer::start(db.clone(), calls, None);
    let started = Instant::now();
    for i in 0..calls {
        writer.submit(call(ws, i)).unwrap();
    }
    writer.close().await;
    let took = started.elapsed();
    let wal = std::fs::metadata(dir.path().join("calliope.db-wal")).map_or(0, |m| m.len());
    println!(
        "{calls} calls ({} records) in {:.2} s: {:.0} calls/s, lost {}, WAL {} KiB",
        writer.written(),
        took.as_secs_f64(),
        calls as f64 / took.as_secs_f64(),
        writer.lost(),
        wal / 1024
    );
    assert_eq!(writer.written(), 2 * calls as u64);
}
