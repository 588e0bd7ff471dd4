//! Rendered answers to authenticated reads, kept while what they were read
//! from is unchanged: a client repeating a list or a get is answered from
//! memory, without a query, a view or a serialisation.
//!
//! Only reads that depend on nothing but the store are kept (the Fonoster
//! generic list and get; a view that read the live calls, the registrations
//! in memory or the clock would not be). The caller is checked (and
//! rate-limited) on every request before the cache is asked. An answer is
//! keyed by everything that decides its bytes: the caller's workspace, role
//! and identity (user or API key), and the path with its query; so one
//! workspace or role never sees another's. It is kept while
//! [`store::Db::unchanged_since`] the stamp taken before it was read (every
//! write through this process to one of the tables it read drops it, from
//! the API, the switch or anything else), and at most [`TTL`]: writes by
//! another process to the same database (another node on a shared
//! PostgreSQL, an admin command) are seen within that time.
//!
//! Memory is bounded: at most [`MAX_ENTRIES`] answers and the configured
//! bytes (`response_cache_bytes`; 0 turns the cache off), the oldest
//! dropped first.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;
use store::{Millis, Stamp};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest an answer is kept, however quiet the store: it bounds how
/// late another process's writes are seen.
pub const TTL: Millis = 5_000;

/// Most answers kept at once.
pub const MAX_ENTRIES: usize = 10_000;

/// What decides the bytes of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseKey {
    workspace: i64,
    role: Option<Role>,
    user: Option<i64>,
    api_key: Option<i64>,
    /// The path and query, as sent.
    target: String,
}

impl ResponseKey {
    /// The key of a read of `uri` by `caller`; `None` without a workspace.
    pub fn new(caller: &Caller, uri: &Uri) -> Option<ResponseKey> {
        Some(ResponseKey {
            workspace: caller.workspace.as_ref()?.id,
            role: caller.role,
            user: caller.user.as_ref().map(|u| u.id),
            api_key: caller.api_key.as_ref().map(|k| k.id),
            target: uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

/// A kept answer.
#[derive(Debug)]
struct Entry {
    stamp: Stamp,
    at: Millis,
    body: Bytes,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<ResponseKey, Entry>,
    /// The keys of `entries`, oldest first.
    order: VecDeque<ResponseKey>,
    bytes: usize,
}

/// The cache; one per server, in the API state.
#[derive(Debug, Default)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

impl ResponseCache {
    /// A cache of at most `max_bytes` of answers; 0 keeps none.
    pub fn new(max_bytes: usize) -> ResponseCache {
        ResponseCache { inner: Mutex::default(), max_bytes }
    }

    /// Whether answers are kept at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The answer kept under `key`, if what it was read from is unchanged
    /// in `db` and it is younger than [`TTL`] at `now`.
    pub fn get(&self, key: &ResponseKey, db: &store::Db, now: Millis) -> Option<Bytes> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(key)?;
        let fresh = now >= entry.at && now - entry.at < TTL && db.unchanged_since(&entry.stamp);
        fresh.then(|| entry.body.clone())
    }

    /// Keeps `body`, read at `now` from what `stamp` was taken of, under
    /// `key`; drops the oldest answers to stay within the bounds.
    pub fn put(&self, key: ResponseKey, stamp: Stamp, now: Millis, body: Bytes) {
        let size = body.len() + key.target.len();
        if size > self.max_bytes / 4 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        let inner = &mut *inner;
        let entry = Entry { stamp, at: now, body };
        match inner.entries.get_mut(&key) {
            Some(old) => {
                inner.bytes = inner.bytes.saturating_sub(old.body.len() + key.target.len()) + size;
                *old = entry;
            }
            None => {
                inner.bytes += size;
                inner.order.push_back(key.clone());
                inner.entries.insert(key, entry);
            }
        }
        while inner.bytes > self.max_bytes || inner.entries.len() > MAX_ENTRIES {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes = inner.bytes.saturating_sub(gone.body.len() + oldest.target.len());
            }
        }
    }
}

/// The answer to a read of `uri` by `caller`: from the cache when it holds
/// one still good, else `render`ed (after taking `stamp` of what it reads)
/// and kept when it succeeds. The caller must be checked already.
pub async fn cached<Fut>(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    stamp: impl FnOnce() -> Stamp,
    render: impl FnOnce() -> Fut,
) -> Result<Response, ApiError>
where
    Fut: Future<Output = Result<Json, ApiError>>,
{
    let cache = &state.responses;
    let key = if cache.enabled() { ResponseKey::new(caller, uri) } else { None };
    let now = state.now();
    if let Some(body) = key.as_ref().and_then(|k| cache.get(k, &state.db, now)) {
        return Ok(json(body));
    }
    let stamp = key.as_ref().map(|_| stamp());
    let value = render().await?;
    let body = Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
    if let (Some(key), Some(stamp)) = (key, stamp) {
        cache.put(key, stamp, now, body.clone());
    }
    Ok(json(body))
}

/// `body` as a JSON answer, as `axum::Json` makes it.
fn json(body: Bytes) -> Response {
    ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_are_kept_while_their_tables_are_unchanged_and_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let db = store::Db::open(None, dir.path()).await.unwrap();
        let key = |ws: i64, target: &str| ResponseKey {
            workspace: ws,
            role: Some(Role::Member),
            user: Some(1),
            api_key: None,
            target: target.to_owned(),
        };
        let cache = ResponseCache::new(1000);
        cache.put(key(1, "/a"), db.stamp(["agents"]), 0, Bytes::from_static(b"one"));
        assert_eq!(cache.get(&key(1, "/a"), &db, 1).as_deref(), Some(&b"one"[..]));
        assert!(cache.get(&key(2, "/a"), &db, 1).is_none(), "another workspace");
        let mut admin = key(1, "/a");
        admin.role = Some(Role::Admin);
        assert!(cache.get(&admin, &db, 1).is_none(), "another role");
        assert!(cache.get(&key(1, "/a"), &db, TTL).is_none(), "too old");

        // Bounded in bytes: the oldest go first.
        for i in 0..10 {
            cache.put(key(1, &format!("/{i}")), db.stamp(["agents"]), 0, Bytes::from(vec![b'x'; 200]));
        }
        let kept = (0..10).filter(|i| cache.get(&key(1, &format!("/{i}")), &db, 1).is_some()).count();
        assert!(kept <= 5 && cache.get(&key(1, "/9"), &db, 1).is_some(), "{kept}");
        assert!(cache.inner.lock().unwrap().bytes <= 1000);
        assert!(!ResponseCache::new(0).enabled());
    }
}
