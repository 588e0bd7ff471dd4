//! The snapshots of every workspace, and the index of trunks by source
//! across workspaces, built on first use and dropped when the
//! configuration changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jiff::tz::TimeZone;
use store::{Db, StoreError};
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::snapshot::{Snapshot, Tables};
use super::sources::SourceIndex;
use crate::events::{Bus, Event};
use crate::signalling::CONFIG_CHANGED;

/// Snapshots by workspace. Every lookup first reads the configuration
/// changes published since the last one ([`Bus::config_changes`], not the
/// calls' events): a change (or a lagged receiver, which may have missed
/// one) drops every snapshot, so the next call rebuilds.
/// The API publishes the change before it answers the write, so a request
/// that follows a write always sees it. One build runs at a time: calls
/// that miss together wait for it rather than each reading every table.
#[derive(Debug)]
pub struct SnapshotCache {
    tz: TimeZone,
    snapshots: RwLock<HashMap<i64, Arc<Snapshot>>>,
    sources: RwLock<Option<Arc<SourceIndex>>>,
    events: Mutex<broadcast::Receiver<Arc<Event>>>,
    /// Held while a snapshot or the source index is built.
    building: tokio::sync::Mutex<()>,
    /// Bumped on every drop, so a snapshot built from rows read before a
    /// change is not kept.
    generation: std::sync::atomic::AtomicU64,
}

impl SnapshotCache {
    /// A cache reading time windows in `tz`, following `bus`.
    pub fn new(tz: TimeZone, bus: &Bus) -> SnapshotCache {
        SnapshotCache {
            tz,
            snapshots: RwLock::default(),
            sources: RwLock::default(),
            events: Mutex::new(bus.config_changes()),
            building: tokio::sync::Mutex::new(()),
            generation: Default::default(),
        }
    }

    /// The time zone windows are read in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Drops every snapshot.
    pub fn clear(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut map) = self.snapshots.write() {
            map.clear();
        }
        if let Ok(mut sources) = self.sources.write() {
            *sources = None;
        }
    }

    /// Reads the changes waiting; drops everything on one. Also for the
    /// switch's sweep: the bus keeps each change until every subscriber
    /// has read it, and this one reads only on lookups.
    pub fn follow(&self) {
        let Ok(mut events) = self.events.lock() else { return };
        let mut changed = false;
        loop {
            match events.try_recv() {
                Ok(e) if e.name == CONFIG_CHANGED => changed = true,
                Ok(_) => {}
                Err(TryRecvError::Lagged(_)) => changed = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if changed {
            self.clear();
        }
    }

    /// The snapshot of `workspace_id`, built from `db` when there is none.
    pub async fn get(&self, db: &Db, workspace_id: i64) -> Result<Arc<Snapshot>, StoreError> {
        self.follow();
        if let Some(s) = self.snapshots.read().ok().and_then(|m| m.get(&workspace_id).cloned()) {
            return Ok(s);
        }
        let _building = self.building.lock().await;
        // Perhaps built while this waited.
        self.follow();
        if let Some(s) = self.snapshots.read().ok().and_then(|m| m.get(&workspace_id).cloned()) {
            return Ok(s);
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let tables = Tables::load(db, workspace_id).await?;
        let snapshot = Arc::new(Snapshot::build(workspace_id, &tables, self.tz.clone()));
        for line in &snapshot.skipped {
            tracing::warn!(workspace = workspace_id, "routing: {line}");
        }
        self.follow();
        if self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
            if let Ok(mut map) = self.snapshots.write() {
                map.insert(workspace_id, snapshot.clone());
            }
        }
        Ok(snapshot)
    }
}

impl SnapshotCache {
    /// The index of [`SnapshotCache::sources`] when it is built: a look
    /// that needs no wait.
    pub fn cached_sources(&self) -> Option<Arc<SourceIndex>> {
        self.follow();
        self.sources.read().ok().and_then(|s| s.clone())
    }

    /// The index of every workspace's trunks by source address, ACL and
    /// inbound credentials (and of numbers by workspace), built from `db`
    /// when there is none.
    pub async fn sources(&self, db: &Db) -> Result<Arc<SourceIndex>, StoreError> {
        use store::schema::{ACLS, CREDENTIALS, NUMBERS, TRUNKS};
        if let Some(s) = self.cached_sources() {
            return Ok(s);
        }
        let _building = self.building.lock().await;
        // Perhaps built while this waited.
        self.follow();
        if let Some(s) = self.sources.read().ok().and_then(|s| s.clone()) {
            return Ok(s);
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let all = |res: &'static store::Resource| async move {
            Ok::<_, StoreError>(db.list(res, store::Scope::Global, &store::Query::default()).await?.records)
        };
        let trunks = all(&TRUNKS).await?;
        let acls = all(&ACLS).await?;
        let credentials = all(&CREDENTIALS).await?;
        let numbers = all(&NUMBERS).await?;
        let index = Arc::new(SourceIndex::build(&trunks, &acls, &credentials, &numbers));
        self.follow();
        if self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
            if let Ok(mut sources) = self.sources.write() {
                *sources = Some(index.clone());
            }
        }
        Ok(index)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cached(cache: &SnapshotCache) -> usize {
        cache.snapshots.read().map_or(0, |m| m.len())
    }

    fn fill(cache: &SnapshotCache) {
        let snapshot = Arc::new(Snapshot::build(1, &Tables::default(), TimeZone::UTC));
        if let Ok(mut m) = cache.snapshots.write() {
            m.insert(1, snapshot);
        }
    }

    fn event(name: &'static str) -> Event {
        Event { name, workspace_id: 0, at: 0, data: serde_json::Value::Null }
    }

    #[test]
    fn changes_and_lagging_drop_every_snapshot() {
        let bus = Bus::new(2);
        let cache = SnapshotCache::new(TimeZone::UTC, &bus);
        fill(&cache);
        bus.publish(event("call.answered"));
        cache.follow();
        assert_eq!(cached(&cache), 1, "other events keep the snapshots");
        if let Ok(mut sources) = cache.sources.write() {
            *sources = Some(Arc::new(SourceIndex::default()));
        }
        bus.publish(event(CONFIG_CHANGED));
        cache.follow();
        assert_eq!(cached(&cache), 0, "a change drops them");
        assert!(cache.sources.read().unwrap().is_none(), "and the index of trunks by source");
        fill(&cache);
        for _ in 0..5 {
            bus.publish(event("call.answered"));
        }
        cache.follow();
        assert_eq!(cached(&cache), 1, "the calls' events do not reach it: no lag");
        for _ in 0..5 {
            bus.publish(event(CONFIG_CHANGED));
        }
        fill(&cache);
        cache.follow();
        assert_eq!(cached(&cache), 0, "a lagged receiver may have missed a change: drop all");
    }

    #[test]
    fn events_are_let_go_once_followed() {
        let bus = Bus::new(16);
        let cache = SnapshotCache::new(TimeZone::UTC, &bus);
        let mut other = bus.subscribe();
        bus.publish(event("call.answered"));
        let seen = other.try_recv().unwrap();
        assert_eq!(Arc::strong_count(&seen), 1, "a call's event is not kept for the cache");
        bus.publish(event(CONFIG_CHANGED));
        let seen = other.try_recv().unwrap();
        assert_eq!(Arc::strong_count(&seen), 2, "a change is kept for the cache, in its own channel");
        cache.follow();
        assert_eq!(Arc::strong_count(&seen), 1, "read by the cache: that channel let it go");
    }
}
