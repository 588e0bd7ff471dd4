//! The SIP accounts of agents: who may register and call, with what
//! password, found by digest username or by extension. Cached briefly so
//! that a registration storm does not become a query storm; any change to
//! the configuration clears the cache.

use std::collections::HashMap;
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
}

/// Accounts found for a name, and when.
type Cached = (Instant, Arc<Vec<Account>>);

/// Finds accounts, with a short-lived cache.
#[derive(Debug)]
pub struct Accounts {
    db: Db,
    sealer: Arc<Sealer>,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Accounts {
    /// Accounts read from `db`, passwords opened with `sealer`, cached for `ttl`.
    pub fn new(db: Db, sealer: Arc<Sealer>, ttl: Duration) -> Accounts {
        Accounts { db, sealer, ttl, cache: Mutex::new(HashMap::new()) }
    }

    /// Forgets everything cached (the configuration changed).
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Every account whose digest username is `name`.
    pub async fn by_auth_username(&self, name: &str) -> Result<Arc<Vec<Account>>, store::StoreError> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, found)) = c.get(name) {
                if at.elapsed() < self.ttl {
                    return Ok(found.clone());
                }
            }
        }
        let mut found = Vec::new();
        for cred in
            self.db.list(&CREDENTIALS, Scope::Global, &query(Filter::eq("username", name))).await?.records
        {
            let scope = Scope::Workspace(cred.workspace_id.unwrap_or_default());
            let agents = self.db.list(&AGENTS, scope, &query(Filter::eq("credentials_id", cred.id))).await?;
            for agent in agents.records {
                if let Some(account) = self.account(&agent, &cred).await? {
                    found.push(account);
                }
            }
        }
        let found = Arc::new(found);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 100_000 {
                c.clear();
            }
            c.insert(name.to_owned(), (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// The agent with extension `extension` in the workspace, as an
    /// account (without a password when it has no credentials).
    pub async fn by_extension(
        &self,
        workspace_id: i64,
        extension: &str,
    ) -> Result<Option<Record>, store::StoreError> {
        self.db.find(&AGENTS, Scope::Workspace(workspace_id), &[Filter::eq("username", extension)]).await
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
        }))
    }
}

fn query(filter: Filter) -> store::Query {
    store::Query { filters: vec![filter], ..store::Query::default() }
}
