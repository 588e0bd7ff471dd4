//! The SIP accounts of agents: who may register and call, with what
//! password, found by digest username or by extension. Cached briefly so
//! that a registration storm does not become a query storm; any change to
//! the configuration clears the cache. An entry refreshed to what it
//! already held keeps its first copy: one made during a load would outlive
//! it, each piece pinning a page of the allocator among short-lived
//! allocations (fragmentation that stays after the load).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use store::schema::{AGENTS, CREDENTIALS, DOMAINS};
use store::{Db, Filter, Key, Record, Scope};

use crate::secrets::Sealer;

/// An agent that can authenticate over SIP.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The agent's workspace.
    pub workspace_id: i64,
    /// The agent's id.
    pub agent_id: i64,
    /// The agent's ref.
    pub agent_ref: String,
    /// Its extension (the user part of its address of record).
    pub extension: String,
    /// The digest username.
    pub auth_username: String,
    /// The digest password.
    pub password: String,
    /// Its domain's host name, if it has a domain.
    pub domain: Option<String>,
    /// The calling context of its calls.
    pub context: String,
    /// Disabled agents can neither register nor call.
    pub enabled: bool,
    /// Whether its phone may act on other agents' calls (eavesdrop,
    /// whisper, barge, force breakdown).
    pub supervisor: bool,
}

/// Accounts found for a name, when, and whether a lookup used them since.
#[derive(Debug)]
struct Cached {
    at: Instant,
    found: Arc<Vec<Account>>,
    used: bool,
}

/// The agent found for (workspace, extension), or that there is none, and when.
type CachedAgent = (Instant, Option<Record>);

/// Most entries a cache holds; past that it starts again empty.
const MAX_CACHED: usize = 100_000;

/// Lifetimes for which an expired digest account is still served while
/// it is reloaded (see [`Accounts::cached_by_auth_username`]).
pub const STALE_TTLS: u32 = 10;

/// Finds accounts, with a short-lived cache.
#[derive(Debug)]
pub struct Accounts {
    db: Db,
    sealer: Arc<Sealer>,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
    agents: Mutex<HashMap<(i64, String), CachedAgent>>,
    /// Bumped by [`Accounts::invalidate`]: a lookup begun before a change
    /// does not cache what it read.
    generation: AtomicU64,
}

impl Accounts {
    /// Accounts read from `db`, passwords opened with `sealer`, cached for `ttl`.
    pub fn new(db: Db, sealer: Arc<Sealer>, ttl: Duration) -> Accounts {
        Accounts {
            db,
            sealer,
            ttl,
            cache: Mutex::new(HashMap::new()),
            agents: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Forgets everything cached (the configuration changed).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
        if let Ok(mut c) = self.agents.lock() {
            c.clear();
        }
    }

    /// Every account whose digest username is `name`, when cached: a
    /// lookup that needs no wait. An entry past its lifetime is still
    /// answered for up to [`STALE_TTLS`] lifetimes, and marked for
    /// [`Accounts::refresh_ahead`] to reload, as a fresh one used is: a
    /// configuration change through the API clears the cache at once, so
    /// what it serves late is only what changed behind Calliope's back.
    pub fn cached_by_auth_username(&self, name: &str) -> Option<Arc<Vec<Account>>> {
        let mut c = self.cache.lock().ok()?;
        let entry = c.get_mut(name)?;
        if entry.at.elapsed() >= self.ttl * STALE_TTLS {
            return None;
        }
        entry.used = true;
        Some(entry.found.clone())
    }

    /// Every account whose digest username is `name`.
    pub async fn by_auth_username(&self, name: &str) -> Result<Arc<Vec<Account>>, store::StoreError> {
        if let Some(found) = self.cached_by_auth_username(name) {
            return Ok(found);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = self.load_by_auth_username(name).await?;
        Ok(self.keep(name, generation, found))
    }

    /// How often [`Accounts::refresh_ahead`] should run: each entry then
    /// gets two chances before it expires.
    pub fn refresh_period(&self) -> Duration {
        self.ttl / 6
    }

    /// Reloads the digest accounts that lookups used since they were
    /// loaded, from the last third of their life on (and forgets those
    /// too old to be served): under steady registrations a name never
    /// reaches the store on the REGISTER's path, and the entries of many
    /// phones loaded together do not all expire at once (a burst of
    /// lookups that would fill the REGISTERs in flight). Returns how many
    /// it reloaded.
    pub async fn refresh_ahead(&self) -> Result<usize, store::StoreError> {
        let due = self.ttl - self.ttl / 3;
        let names: Vec<String> = match self.cache.lock() {
            Ok(mut c) => {
                c.retain(|_, e| e.at.elapsed() < self.ttl * STALE_TTLS);
                c.iter().filter(|(_, e)| e.used && e.at.elapsed() >= due).map(|(n, _)| n.clone()).collect()
            }
            Err(_) => return Ok(0),
        };
        for name in &names {
            let generation = self.generation.load(Ordering::SeqCst);
            let found = self.load_by_auth_username(name).await?;
            self.keep(name, generation, found);
        }
        Ok(names.len())
    }

    /// The accounts of digest username `name`, from the store.
    async fn load_by_auth_username(&self, name: &str) -> Result<Vec<Account>, store::StoreError> {
        let mut found = Vec::new();
        for cred in self.db.select(&CREDENTIALS, Scope::Global, &query(Filter::eq("username", name))).await? {
            let scope = Scope::Workspace(cred.workspace_id.unwrap_or_default());
            let agents =
                self.db.select(&AGENTS, scope, &query(Filter::eq("credentials_id", cred.id))).await?;
            for agent in agents {
                if let Some(account) = self.account(&agent, &cred).await? {
                    found.push(account);
                }
            }
        }
        Ok(found)
    }

    /// Caches `found`, the accounts of `name` read since `generation`, as
    /// not used yet (a name looked up once, a typo or a scan, is not
    /// reloaded), and returns them (the copy cached before when nothing
    /// changed).
    fn keep(&self, name: &str, generation: u64, found: Vec<Account>) -> Arc<Vec<Account>> {
        // Checked under the lock that `invalidate` clears under, after
        // its bump: what a change made stale is never cached.
        let Ok(mut c) = self.cache.lock() else { return Arc::new(found) };
        if self.generation.load(Ordering::SeqCst) != generation {
            return Arc::new(found);
        }
        if let Some(entry) = c.get_mut(name) {
            entry.at = Instant::now();
            entry.used = false;
            if *entry.found != found {
                entry.found = Arc::new(found);
            }
            return entry.found.clone();
        }
        if c.len() > MAX_CACHED {
            c.clear();
        }
        let found = Arc::new(found);
        c.insert(name.to_owned(), Cached { at: Instant::now(), found: found.clone(), used: false });
        found
    }

    /// The agent with extension `extension` in the workspace (the callee
    /// of a call), cached like the accounts: a call's setup makes no query
    /// for a callee looked up within the last `ttl`.
    pub async fn by_extension(
        &self,
        workspace_id: i64,
        extension: &str,
    ) -> Result<Option<Record>, store::StoreError> {
        let key = (workspace_id, extension.to_owned());
        if let Ok(c) = self.agents.lock() {
            if let Some((at, found)) = c.get(&key) {
                if at.elapsed() < self.ttl {
                    return Ok(found.clone());
                }
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = self
            .db
            .find(&AGENTS, Scope::Workspace(workspace_id), &[Filter::eq("username", extension)])
            .await?;
        // Checked under the lock that `invalidate` clears under, after
        // its bump: what a change made stale is never cached.
        if let Ok(mut c) = self.agents.lock() {
            if self.generation.load(Ordering::SeqCst) != generation {
                return Ok(found);
            }
            if let Some((at, cached)) = c.get_mut(&key) {
                *at = Instant::now();
                if *cached != found {
                    cached.clone_from(&found);
                }
                return Ok(found);
            }
            if c.len() > MAX_CACHED {
                c.clear();
            }
            c.insert(key, (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    async fn account(&self, agent: &Record, cred: &Record) -> Result<Option<Account>, store::StoreError> {
        let Ok(password) = self.sealer.open(cred.text("password_enc")) else {
            tracing::warn!(credentials = %cred.r#ref, "credentials do not open with the secrets key");
            return Ok(None);
        };
        let domain = match agent.int("domain_id") {
            Some(id) => {
                Some(self.db.get(&DOMAINS, Scope::Global, &Key::Id(id)).await?.text("domain_uri").to_owned())
            }
            None => None,
        };
        Ok(Some(Account {
            workspace_id: agent.workspace_id.unwrap_or_default(),
            agent_id: agent.id,
            agent_ref: agent.r#ref.clone(),
            extension: agent.text("username").to_owned(),
            auth_username: cred.text("username").to_owned(),
            password,
            domain,
            context: match agent.text("context") {
                "" => "context-1".to_owned(),
                c => c.to_owned(),
            },
            enabled: agent.int("enabled") != Some(0),
            supervisor: agent.int("supervisor").unwrap_or(0) != 0,
        }))
    }
}

fn query(filter: Filter) -> store::Query {
    store::Query { filters: vec![filter], ..store::Query::default() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use store::schema::{USERS, WORKSPACES};
    use store::Value;

    /// A fresh store with one user and one workspace (its id).
    async fn workspace() -> (tempfile::TempDir, Db, i64) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        let user = vec![("email", "a@b.c".into()), ("name", "a".into()), ("password_hash", "x".into())];
        let user = db.insert(&USERS, Scope::Global, user, 0).await.unwrap().id;
        let ws = vec![("name", "w".into()), ("access_key_id", "WO1".into()), ("owner_id", Value::Int(user))];
        let ws = db.insert(&WORKSPACES, Scope::Global, ws, 0).await.unwrap().id;
        (dir, db, ws)
    }

    #[tokio::test]
    async fn callees_are_cached_until_the_configuration_changes() {
        let (dir, db, ws) = workspace().await;
        let agent = vec![("name", "A".into()), ("username", "3001".into())];
        let agent = db.insert(&AGENTS, Scope::Workspace(ws), agent, 0).await.unwrap();
        let sealer = Arc::new(Sealer::new(None, dir.path()).unwrap());
        let accounts = Accounts::new(db.clone(), sealer, Duration::from_secs(60));

        let found = accounts.by_extension(ws, "3001").await.unwrap().map(|r| r.id);
        assert_eq!(found, Some(agent.id));
        assert_eq!(accounts.by_extension(ws, "3002").await.unwrap(), None);

        // Changed behind the cache's back: still the cached answers.
        db.delete(&AGENTS, Scope::Workspace(ws), &Key::Id(agent.id)).await.unwrap();
        let other = vec![("name", "B".into()), ("username", "3002".into())];
        let other = db.insert(&AGENTS, Scope::Workspace(ws), other, 0).await.unwrap();
        assert_eq!(accounts.by_extension(ws, "3001").await.unwrap().map(|r| r.id), Some(agent.id));
        assert_eq!(accounts.by_extension(ws, "3002").await.unwrap(), None, "a miss is cached too");
        assert_eq!(accounts.by_extension(ws + 1, "3001").await.unwrap(), None, "per workspace");

        // A configuration change clears it.
        accounts.invalidate();
        assert_eq!(accounts.by_extension(ws, "3001").await.unwrap(), None);
        assert_eq!(accounts.by_extension(ws, "3002").await.unwrap().map(|r| r.id), Some(other.id));
    }

    #[tokio::test]
    async fn a_refresh_that_finds_the_same_keeps_the_first_copy() {
        let (dir, db, ws) = workspace().await;
        let sealer = Arc::new(Sealer::new(None, dir.path()).unwrap());
        let cred = vec![
            ("name", "c".into()),
            ("username", "alice".into()),
            ("password_enc", sealer.seal("secret").unwrap().into()),
        ];
        let cred = db.insert(&CREDENTIALS, Scope::Workspace(ws), cred, 0).await.unwrap();
        let agent =
            vec![("name", "A".into()), ("username", "3001".into()), ("credentials_id", Value::Int(cred.id))];
        db.insert(&AGENTS, Scope::Workspace(ws), agent, 0).await.unwrap();
        // Every lookup is a refresh.
        let accounts = Accounts::new(db.clone(), sealer, Duration::ZERO);

        let first = accounts.by_auth_username("alice").await.unwrap();
        assert_eq!(first.len(), 1);
        let again = accounts.by_auth_username("alice").await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "unchanged: the first copy is kept");

        let change = vec![("context", "other".into())];
        db.update(&AGENTS, Scope::Workspace(ws), &Key::Id(first[0].agent_id), change, 1).await.unwrap();
        let changed = accounts.by_auth_username("alice").await.unwrap();
        assert!(!Arc::ptr_eq(&first, &changed), "changed: the new copy replaces it");
        assert_eq!(changed[0].context, "other");
    }

    #[tokio::test]
    async fn names_in_use_are_reloaded_before_they_expire() {
        let (dir, db, ws) = workspace().await;
        let sealer = Arc::new(Sealer::new(None, dir.path()).unwrap());
        for (name, ext) in [("alice", "3001"), ("bob", "3002")] {
            let cred = vec![
                ("name", name.into()),
                ("username", name.into()),
                ("password_enc", sealer.seal("secret").unwrap().into()),
            ];
            let cred = db.insert(&CREDENTIALS, Scope::Workspace(ws), cred, 0).await.unwrap();
            let agent = vec![
                ("name", name.into()),
                ("username", ext.into()),
                ("credentials_id", Value::Int(cred.id)),
            ];
            db.insert(&AGENTS, Scope::Workspace(ws), agent, 0).await.unwrap();
        }
        let ttl = Duration::from_millis(900);
        let accounts = Accounts::new(db.clone(), sealer, ttl);
        let pause = || tokio::time::sleep(Duration::from_millis(650));

        accounts.by_auth_username("alice").await.unwrap();
        accounts.by_auth_username("bob").await.unwrap();
        pause().await;
        assert_eq!(accounts.refresh_ahead().await.unwrap(), 0, "loaded, not used since");
        accounts.by_auth_username("alice").await.unwrap();
        accounts.by_auth_username("bob").await.unwrap();
        assert_eq!(accounts.refresh_ahead().await.unwrap(), 2, "both were used");
        assert!(accounts.cached_by_auth_username("alice").is_some());
        pause().await;
        assert_eq!(accounts.refresh_ahead().await.unwrap(), 1, "only alice was used since");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(accounts.cached_by_auth_username("alice").is_some(), "reloaded: still fresh");
        assert!(accounts.cached_by_auth_username("bob").is_some(), "expired, served while reloaded");
        assert_eq!(accounts.refresh_ahead().await.unwrap(), 1, "bob is reloaded, alice is young");

        // Past STALE_TTLS lifetimes an entry is neither served nor kept.
        let brief = Accounts::new(db.clone(), Arc::new(Sealer::new(None, dir.path()).unwrap()), ttl / 30);
        brief.by_auth_username("alice").await.unwrap();
        tokio::time::sleep(ttl / 30 * (STALE_TTLS + 1)).await;
        assert!(brief.cached_by_auth_username("alice").is_none());
        assert_eq!(brief.refresh_ahead().await.unwrap(), 0);
        assert!(brief.cache.lock().unwrap().is_empty(), "forgotten");
    }
}
