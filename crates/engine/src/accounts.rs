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

/// Accounts found for a name, and when.
type Cached = (Instant, Arc<Vec<Account>>);

/// The agent found for (workspace, extension), or that there is none, and when.
type CachedAgent = (Instant, Option<Record>);

/// Most entries a cache holds; past that it starts again empty.
const MAX_CACHED: usize = 100_000;

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

    /// Every account whose digest username is `name`, when cached (and
    /// fresh): a lookup that needs no wait.
    pub fn cached_by_auth_username(&self, name: &str) -> Option<Arc<Vec<Account>>> {
        let c = self.cache.lock().ok()?;
        let (at, found) = c.get(name)?;
        (at.elapsed() < self.ttl).then(|| found.clone())
    }

    /// Every account whose digest username is `name`.
    pub async fn by_auth_username(&self, name: &str) -> Result<Arc<Vec<Account>>, store::StoreError> {
        if let Some(found) = self.cached_by_auth_username(name) {
            return Ok(found);
        }
        let generation = self.generation.load(Ordering::SeqCst);
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
        let found = Arc::new(found);
        // Checked under the lock that `invalidate` clears under, after
        // its bump: what a change made stale is never cached.
        if let Ok(mut c) = self.cache.lock() {
            if self.generation.load(Ordering::SeqCst) != generation {
                return Ok(found);
            }
            if let Some((at, cached)) = c.get_mut(name) {
                *at = Instant::now();
                if **cached != *found {
                    *cached = found.clone();
                }
                return Ok(cached.clone());
            }
            if c.len() > MAX_CACHED {
                c.clear();
            }
            c.insert(name.to_owned(), (Instant::now(), found.clone()));
        }
        Ok(found)
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
}
