//! The CDR and registration writer: one task owns the writes of call
//! records, fed by a bounded queue, and of registrations (the location
//! service's backlog, one pending write per binding, due at once or, for
//! refreshes, within `location::WRITE_BACK`). It takes whatever
//! is waiting (up to a batch) and writes it in one transaction (CDRs: one
//! per workspace; registrations: one for all that are pending, through
//! [`store::Db::apply`]); when a batch fails for a reason that may pass
//! (the database busy, out of files or space, its connection lost) it is
//! tried again with growing pauses for up to [`RETRY_FOR`], and when it
//! fails otherwise it falls back to one record at a time so that one bad
//! record never costs the others. A record that is not written in the end
//! is logged and counted (`calliope_store_records_lost_total`): never a
//! silent loss. A full queue loses nothing: the records wait for room,
//! and while the queue is three quarters full ([`Behind`]) new calls are
//! refused, so that what waits stays bounded by the calls already up. On
//! shutdown [`Writer::close`] waits until every queued record and
//! registration is written. Under load, writes are at least [`GATHER`]
//! apart, so that each commits what came meanwhile.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use store::schema::CDRS;
use store::{Db, Scope};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Cdr;
use crate::location::Backlog;
use crate::throttle::Throttle;

/// How many calls' records may wait for the store.
pub const QUEUE: usize = 8192;
/// Most calls written in one batch.
pub const BATCH: usize = 256;
/// How long a batch that failed for a passing reason is tried again.
pub const RETRY_FOR: Duration = Duration::from_secs(60);
/// The first pause before trying such a batch again (doubled each time,
/// up to 5 s).
const FIRST_PAUSE: Duration = Duration::from_millis(100);
/// Least time from the end of one write to the start of the next, unless
/// a full batch of call records waits: under load what arrives meanwhile
/// goes in one transaction (and a binding refreshed meanwhile is written
/// once), instead of a commit for every few records.
pub const GATHER: Duration = Duration::from_millis(20);

/// Why records were not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriterError {
    /// The writer was closed (the server is stopping).
    #[error("the CDR writer is closed")]
    Closed,
}

/// Whether the store is behind the calls: set while the queue of call
/// records is at least three quarters full (see
/// [`crate::calls::Registry::guard_records`]). Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Behind(Arc<AtomicBool>);

impl Behind {
    /// Whether it is.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Reads it from the queue: `queued` calls waiting of `capacity`.
    fn update(&self, queued: usize, capacity: usize) {
        self.0.store(queued * 4 >= capacity * 3, Ordering::Relaxed);
    }
}

/// The handle to the writer task.
#[derive(Debug)]
pub struct Writer {
    tx: Mutex<Option<mpsc::Sender<Vec<Cdr>>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    lost: AtomicU64,
    written: std::sync::Arc<AtomicU64>,
    registrations: std::sync::Arc<AtomicU64>,
    behind: Behind,
}

impl Writer {
    /// Starts the writer over `db` with a queue of `capacity` calls, and
    /// the registrations of `backlog` when given.
    pub fn start(db: Db, capacity: usize, backlog: Option<Backlog>) -> Writer {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let written = std::sync::Arc::new(AtomicU64::new(0));
        let registrations = std::sync::Arc::new(AtomicU64::new(0));
        let behind = Behind::default();
        let task = tokio::spawn(run(db, rx, backlog, written.clone(), registrations.clone(), behind.clone()));
        Writer {
            tx: Mutex::new(Some(tx)),
            task: tokio::sync::Mutex::new(Some(task)),
            lost: AtomicU64::new(0),
            written,
            registrations,
            behind,
        }
    }

    /// Whether the store is behind the calls, as it changes.
    pub fn behind(&self) -> Behind {
        self.behind.clone()
    }

    /// Registration changes written since the start.
    pub fn registrations(&self) -> u64 {
        self.registrations.load(Ordering::Relaxed)
    }

    /// Queues one call's records, to be written together. When the queue
    /// is full they wait for room in a task of their own (the caller does
    /// not wait), and [`Writer::close`] waits for them too.
    pub fn submit(&self, records: Vec<Cdr>) -> Result<(), WriterError> {
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len() as u64;
        for r in &records {
            crate::metrics::call_ended(&r.hangup_cause);
        }
        let result = match self.tx.lock().ok().and_then(|t| t.clone()) {
            Some(tx) => {
                let sent = match tx.try_send(records) {
                    Ok(()) => Ok(()),
                    Err(mpsc::error::TrySendError::Full(records)) => {
                        static FULL: Throttle = Throttle::new(Duration::from_secs(10));
                        if let Some(before) = FULL.allow(Instant::now()) {
                            tracing::warn!(
                                waited_before = before,
                                "the call-record queue is full: records wait for the store, new calls are refused"
                            );
                        }
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            if tx.send(records).await.is_err() {
                                metrics::counter!(crate::metrics::STORE_LOST).increment(n);
                                tracing::error!(
                                    lost = n,
                                    "call records were not written: the writer stopped"
                                );
                            }
                        });
                        Ok(())
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => Err(WriterError::Closed),
                };
                let queued = tx.max_capacity() - tx.capacity();
                self.behind.update(queued, tx.max_capacity());
                crate::metrics::store_queue(queued);
                sent
            }
            None => Err(WriterError::Closed),
        };
        if let Err(e) = result {
            metrics::counter!(crate::metrics::STORE_LOST).increment(n);
            let total = self.lost.fetch_add(n, Ordering::Relaxed) + n;
            tracing::error!(error = %e, lost = n, lost_total = total, "call records were not written");
        }
        result
    }

    /// Records that could not be queued since the start.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Records written since the start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Stops taking records and waits until every queued one is written.
    pub async fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(
    db: Db,
    mut rx: mpsc::Receiver<Vec<Cdr>>,
    backlog: Option<Backlog>,
    written: std::sync::Arc<AtomicU64>,
    registrations: std::sync::Arc<AtomicU64>,
    behind: Behind,
) {
    let mut last_write: Option<Instant> = None;
    loop {
        if let Some(at) = last_write {
            if rx.len() < BATCH {
                tokio::time::sleep_until((at + GATHER).into()).await;
            }
        }
        let registered = async {
            match &backlog {
                Some(b) => b.ready().await,
                None => std::future::pending().await,
            }
        };
        let first = tokio::select! {
            first = rx.recv() => first,
            _ = registered => {
                if let Some(b) = &backlog {
                    let started = std::time::Instant::now();
                    let n = b.write(&db).await;
                    crate::metrics::store_batch("registrations", started.elapsed());
                    registrations.fetch_add(n as u64, Ordering::Relaxed);
                }
                last_write = Some(Instant::now());
                continue;
            }
        };
        // Closed and drained: write the last registrations and stop.
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        crate::metrics::store_queue(rx.len());
        behind.update(rx.len(), rx.max_capacity());
        let records: Vec<Cdr> = batch.into_iter().flatten().collect();
        let started = std::time::Instant::now();
        let n = write_batch(&db, records).await;
        crate::metrics::store_batch("cdrs", started.elapsed());
        written.fetch_add(n, Ordering::Relaxed);
        last_write = Some(Instant::now());
    }
    if let Some(b) = &backlog {
        let n = b.write(&db).await;
        registrations.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Writes `records`, one transaction per workspace; returns how many were
/// written.
async fn write_batch(db: &Db, records: Vec<Cdr>) -> u64 {
    let mut by_workspace: BTreeMap<i64, Vec<Cdr>> = BTreeMap::new();
    for r in records {
        by_workspace.entry(r.workspace_id).or_default().push(r);
    }
    let mut written = 0;
    for (ws, group) in by_workspace {
        let now = group.iter().map(|r| r.end).max().unwrap_or_default();
        let rows: Vec<store::Values> = group.iter().map(Cdr::values).collect();
        let (started, mut pause) = (Instant::now(), FIRST_PAUSE);
        let outcome = loop {
            match db.insert_rows(&CDRS, Scope::Workspace(ws), &rows, now).await {
                Ok(done) => break Ok(done as u64),
                Err(e) if e.is_transient() && started.elapsed() < RETRY_FOR => {
                    tracing::warn!(error = %e, workspace = ws, retry_in = ?pause, "call records could not be written yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                Err(e) => break Err(e),
            }
        };
        let e = match outcome {
            Ok(done) => {
                written += done;
                continue;
            }
            Err(e) => e,
        };
        tracing::warn!(error = %e, workspace = ws, "a batch of call records failed; writing them one by one");
        for r in &group {
            match r.write(db).await {
                Ok(()) => written += 1,
                Err(e) => {
                    metrics::counter!(crate::metrics::STORE_LOST).increment(1);
                    tracing::error!(error = %e, call = %r.leg_ref, "could not write a call record")
                }
            }
        }
    }
    written
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use store::Query;

    fn cdr(ws: i64, leg: &str) -> Cdr {
        Cdr {
            workspace_id: ws,
            leg_ref: leg.into(),
            src: "2001".into(),
            dst: "2002".into(),
            direction: "INTRA_COMPANY",
            kind: "AGENT",
            disposition: "ANSWERED",
            hangup_cause: "NORMAL_CLEARING".into(),
            start: 1_000,
            answer: Some(2_000),
            end: 5_000,
            ..Cdr::default()
        }
    }

    async fn db() -> (Db, tempfile::TempDir, i64) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let user = db
            .insert(
                &store::schema::USERS,
                Scope::Global,
                vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())],
                0,
            )
            .await
            .unwrap()
            .id;
        let ws = db
            .insert(
                &store::schema::WORKSPACES,
                Scope::Global,
                vec![
                    ("name", "w".into()),
                    ("access_key_id", "WO1".into()),
                    ("owner_id", store::Value::Int(user)),
                ],
                0,
            )
            .await
            .unwrap()
            .id;
        (db, dir, ws)
    }

    /// A new agent "3001" in workspace `ws`: its id.
    async fn agent(db: &Db, ws: i64) -> i64 {
        let fields = vec![("name", "A".into()), ("username", "3001".into())];
        db.insert(&store::schema::AGENTS, Scope::Workspace(ws), fields, 0).await.unwrap().id
    }

    /// A UDP binding of agent `agent_id` at 127.0.0.1:`port`.
    fn binding(ws: i64, agent_id: i64, port: u16) -> crate::location::Binding {
        crate::location::Binding {
            workspace_id: ws,
            agent_id,
            aor: "sip:3001@calliope".into(),
            contact: format!("sip:3001@127.0.0.1:{port}"),
            source: format!("127.0.0.1:{port}").parse().unwrap(),
            transport: crate::location::Transport::Udp,
            registered_at: 1,
            expires_at: 10_000_000,
            call_id: "c".into(),
            cseq: 1,
            user_agent: String::new(),
        }
    }

    #[tokio::test]
    async fn close_writes_everything_queued() {
        let (db, _dir, ws) = db().await;
        let writer = Writer::start(db.clone(), 64, None);
        for i in 0..40 {
            writer.submit(vec![cdr(ws, &format!("a{i}")), cdr(ws, &format!("b{i}"))]).unwrap();
        }
        writer.close().await;
        assert_eq!(writer.written(), 80);
        let page =
            db.list(&CDRS, Scope::Workspace(ws), &Query { limit: Some(500), ..Query::default() }).await;
        assert_eq!(page.unwrap().records.len(), 80);
        assert_eq!(writer.submit(vec![cdr(ws, "late")]), Err(WriterError::Closed));
        assert_eq!(writer.lost(), 1, "a refused record is counted");
    }

    #[tokio::test]
    async fn a_full_queue_loses_nothing_and_says_it_is_behind() {
        let (db, _dir, ws) = db().await;
        let writer = Writer::start(db, 4, None);
        let behind = writer.behind();
        for i in 0..200 {
            writer.submit(vec![cdr(ws, &format!("x{i}"))]).unwrap();
        }
        assert!(behind.get(), "200 records at once overflow a queue of 4");
        writer.close().await;
        assert_eq!((writer.written(), writer.lost()), (200, 0), "the overflow waited for room");
        assert!(!behind.get(), "drained");
    }

    #[tokio::test]
    async fn new_calls_are_refused_while_the_store_is_behind() {
        let (db, _dir, ws) = db().await;
        let writer = Writer::start(db, 4, None);
        let calls = std::sync::Arc::new(crate::calls::Registry::default());
        calls.guard_records(writer.behind());
        let up = calls.admit("up", None).expect("nothing queued");
        for i in 0..8 {
            writer.submit(vec![cdr(ws, &format!("y{i}"))]).unwrap();
        }
        assert_eq!(calls.admit("new", None).err(), Some(crate::calls::Refusal::Behind));
        writer.close().await;
        assert!(calls.admit("later", None).is_ok(), "written: calls are taken again");
        drop(up);
    }

    #[test]
    fn behind_from_three_quarters_of_the_queue() {
        let behind = Behind::default();
        for (queued, expected) in [(0, false), (5, false), (6, true), (8, true), (2, false)] {
            behind.update(queued, 8);
            assert_eq!(behind.get(), expected, "{queued} of 8");
        }
    }

    #[tokio::test]
    async fn registrations_queued_before_close_are_written() {
        let (db, _dir, ws) = db().await;
        let agent = agent(&db, ws).await;
        let location = crate::location::Location::load(db.clone(), 0).await.unwrap();
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        for port in [5070, 5072] {
            location.put(binding(ws, agent, port));
        }
        writer.close().await;
        assert_eq!(writer.registrations(), 2);
        let again = crate::location::Location::load(db, 2).await.unwrap();
        assert_eq!(again.lookup(agent, 2).len(), 2, "both bindings are in the store");
    }

    /// The store's expiry of the agent's only binding, as a restart reads it.
    async fn stored_expiry(db: &Db, agent: i64) -> Option<i64> {
        let again = crate::location::Location::load(db.clone(), 2).await.unwrap();
        again.lookup(agent, 2).first().map(|b| b.expires_at)
    }

    #[tokio::test]
    async fn a_new_binding_is_written_at_once_and_a_refresh_within_the_write_back() {
        use crate::location::WRITE_BACK;
        let (db, _dir, ws) = db().await;
        let agent = agent(&db, ws).await;
        let location = crate::location::Location::load(db.clone(), 0).await.unwrap();
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        let written = |n: u64, within: Duration| {
            let writer = &writer;
            async move {
                let started = Instant::now();
                while writer.registrations() < n && started.elapsed() < within {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                writer.registrations() >= n
            }
        };
        location.put(binding(ws, agent, 5070));
        assert!(written(1, WRITE_BACK / 4).await, "a new binding is written at once");
        assert_eq!(stored_expiry(&db, agent).await, Some(10_000_000));

        let mut refresh = binding(ws, agent, 5070);
        refresh.registered_at = 2;
        refresh.expires_at = 20_000_000;
        let refreshed = Instant::now();
        location.put(refresh);
        tokio::time::sleep(WRITE_BACK / 4).await;
        assert_eq!(writer.registrations(), 1, "a refresh waits");
        assert_eq!(stored_expiry(&db, agent).await, Some(10_000_000));
        assert!(written(2, 2 * WRITE_BACK).await, "a refresh is written within the write-back");
        assert!(refreshed.elapsed() >= WRITE_BACK - Duration::from_millis(5), "{:?}", refreshed.elapsed());
        assert_eq!(stored_expiry(&db, agent).await, Some(20_000_000));
        writer.close().await;
    }

    #[tokio::test]
    async fn close_writes_the_refreshes_waiting_and_a_restart_reads_them() {
        let (db, _dir, ws) = db().await;
        let agent = agent(&db, ws).await;
        let location = crate::location::Location::load(db.clone(), 0).await.unwrap();
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        location.put(binding(ws, agent, 5070));
        while writer.registrations() < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut refresh = binding(ws, agent, 5070);
        refresh.registered_at = 2;
        refresh.expires_at = 30_000_000;
        location.put(refresh);
        writer.close().await;
        assert_eq!(writer.registrations(), 2);
        assert_eq!(stored_expiry(&db, agent).await, Some(30_000_000), "the refresh is in the store");
    }

    #[tokio::test]
    async fn writes_under_load_are_gathered() {
        let (db, _dir, ws) = db().await;
        let agent = agent(&db, ws).await;
        let location = crate::location::Location::load(db.clone(), 0).await.unwrap();
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        let put = |port: u16| location.put(binding(ws, agent, port));
        let written = |n: u64| {
            let writer = &writer;
            async move {
                while writer.registrations() < n {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Instant::now()
            }
        };
        put(5070);
        let first = written(1).await;
        put(5072);
        let second = written(2).await;
        assert!(
            second - first >= GATHER - Duration::from_millis(2),
            "the next write waited {:?}",
            second - first
        );
        writer.close().await;
    }

    #[tokio::test]
    async fn a_batch_of_registrations_is_one_write_and_a_bad_one_costs_no_other() {
        let (db, _dir, ws) = db().await;
        let agent = agent(&db, ws).await;
        let location = crate::location::Location::load(db.clone(), 0).await.unwrap();
        for port in 6000..6100 {
            location.put(binding(ws, agent, port));
        }
        // An agent that is not in the store: the batch fails, the writer
        // falls back to one write at a time, and only this one is lost.
        location.put(binding(ws, agent + 1000, 7000));
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        writer.close().await;
        assert_eq!(writer.registrations(), 101, "every queued change was taken");
        let again = crate::location::Location::load(db.clone(), 2).await.unwrap();
        assert_eq!(again.lookup(agent, 2).len(), 100, "the good bindings are in the store");

        // A second batch of refreshes and removals, now without a bad one.
        let location = crate::location::Location::load(db.clone(), 2).await.unwrap();
        for port in 6000..6050 {
            let mut b = binding(ws, agent, port);
            b.expires_at = 20_000_000;
            location.put(b);
        }
        location.sweep(i64::MAX - 1);
        let writer = Writer::start(db.clone(), 8, Some(location.backlog()));
        writer.close().await;
        let again = crate::location::Location::load(db, 2).await.unwrap();
        assert!(again.lookup(agent, 2).is_empty(), "the sweep removed every binding in one batch");
    }
}
