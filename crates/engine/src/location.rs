//! The location service: where each registered agent can be reached. Kept
//! in memory for the switch and written behind to the store, so that
//! registrations survive a restart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use store::schema::REGISTRATIONS;
use store::{Db, Filter, Millis, Op, Operand, Query, Scope, Value};
use tokio::sync::mpsc;

/// How a contact is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
}

impl Transport {
    /// Its lower-case name, as stored and as in `Via`/`transport=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// One registered contact of an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The agent's workspace.
    pub workspace_id: i64,
    /// The agent's id.
    pub agent_id: i64,
    /// The address of record (`sip:user@domain`).
    pub aor: String,
    /// The Contact URI, as registered.
    pub contact: String,
    /// Where the REGISTER came from; requests go there (NAT-friendly).
    pub source: SocketAddr,
    /// Over what.
    pub transport: Transport,
    /// When it was last registered.
    pub registered_at: Millis,
    /// When the binding lapses.
    pub expires_at: Millis,
    /// The Call-ID of the REGISTERs that made it.
    pub call_id: String,
    /// Their latest CSeq.
    pub cseq: u32,
    /// The registering device.
    pub user_agent: String,
}

enum Write {
    Put(Binding),
    Remove { agent_id: i64, workspace_id: i64, contact: String },
}

/// Every agent's bindings.
#[derive(Debug)]
pub struct Location {
    bindings: Mutex<HashMap<i64, Vec<Binding>>>,
    writes: mpsc::UnboundedSender<Write>,
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

impl Location {
    /// The bindings still valid at `now`, read from the store, and a
    /// writer task that keeps the store up to date.
    pub async fn load(db: Db, now: Millis) -> Result<Location, store::StoreError> {
        let query = Query {
            filters: vec![Filter {
                column: "expires_at",
                op: Op::Gt,
                operand: Operand::One(Value::Int(now)),
            }],
            ..Query::default()
        };
        let mut bindings: HashMap<i64, Vec<Binding>> = HashMap::new();
        for rec in db.list(&REGISTRATIONS, Scope::Global, &query).await?.records {
            let Ok(source) = rec.text("source").parse() else { continue };
            let binding = Binding {
                workspace_id: rec.workspace_id.unwrap_or_default(),
                agent_id: rec.int("agent_id").unwrap_or_default(),
                aor: rec.text("aor").to_owned(),
                contact: rec.text("contact").to_owned(),
                source,
                transport: if rec.text("transport") == "tcp" { Transport::Tcp } else { Transport::Udp },
                registered_at: rec.updated_at,
                expires_at: rec.int("expires_at").unwrap_or_default(),
                call_id: rec.text("call_id").to_owned(),
                cseq: rec.int("cseq").unwrap_or_default().clamp(0, u32::MAX as i64) as u32,
                user_agent: rec.text("user_agent").to_owned(),
            };
            bindings.entry(binding.agent_id).or_default().push(binding);
        }
        let (writes, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_behind(db, rx));
        Ok(Location { bindings: Mutex::new(bindings), writes })
    }

    /// The agent's bindings valid at `now`, newest first.
    pub fn lookup(&self, agent_id: i64, now: Millis) -> Vec<Binding> {
        let Ok(map) = self.bindings.lock() else { return Vec::new() };
        let mut found: Vec<Binding> = map
            .get(&agent_id)
            .map(|v| v.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        found.sort_by_key(|b| std::cmp::Reverse(b.expires_at));
        found
    }

    /// Whether the agent has any valid binding at `now`.
    pub fn is_registered(&self, agent_id: i64, now: Millis) -> bool {
        !self.lookup(agent_id, now).is_empty()
    }

    /// Adds or refreshes `binding` (same agent and contact URI).
    pub fn put(&self, binding: Binding) {
        if let Ok(mut map) = self.bindings.lock() {
            let list = map.entry(binding.agent_id).or_default();
            list.retain(|b| b.contact != binding.contact);
            list.push(binding.clone());
        }
        let _ = self.writes.send(Write::Put(binding));
    }

    /// Removes the agent's binding for `contact`; returns whether there was one.
    pub fn remove(&self, workspace_id: i64, agent_id: i64, contact: &str) -> bool {
        let removed = match self.bindings.lock() {
            Ok(mut map) => {
                let list = map.entry(agent_id).or_default();
                let before = list.len();
                list.retain(|b| b.contact != contact);
                before != list.len()
            }
            Err(_) => false,
        };
        let _ = self.writes.send(Write::Remove { agent_id, workspace_id, contact: contact.to_owned() });
        removed
    }

    /// Drops every binding that lapsed by `now` and returns them.
    pub fn sweep(&self, now: Millis) -> Vec<Binding> {
        let mut gone = Vec::new();
        if let Ok(mut map) = self.bindings.lock() {
            for list in map.values_mut() {
                let (keep, lapsed): (Vec<Binding>, Vec<Binding>) =
                    list.drain(..).partition(|b| b.expires_at > now);
                *list = keep;
                gone.extend(lapsed);
            }
            map.retain(|_, v| !v.is_empty());
        }
        for b in &gone {
            let _ = self.writes.send(Write::Remove {
                agent_id: b.agent_id,
                workspace_id: b.workspace_id,
                contact: b.contact.clone(),
            });
        }
        gone
    }
}

async fn write_behind(db: Db, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(write) = rx.recv().await {
        let result = match write {
            Write::Put(b) => put(&db, &b).await,
            Write::Remove { agent_id, workspace_id, contact } => {
                remove(&db, Scope::Workspace(workspace_id), agent_id, &contact).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not store a registration");
        }
    }
}

async fn remove(db: &Db, scope: Scope, agent_id: i64, contact: &str) -> Result<(), store::StoreError> {
    let filters = [Filter::eq("agent_id", agent_id), Filter::eq("contact", contact)];
    if let Some(rec) = db.find(&REGISTRATIONS, scope, &filters).await? {
        db.delete(&REGISTRATIONS, scope, &store::Key::Id(rec.id)).await?;
    }
    Ok(())
}

async fn put(db: &Db, b: &Binding) -> Result<(), store::StoreError> {
    let scope = Scope::Workspace(b.workspace_id);
    let values = vec![
        ("agent_id", Value::Int(b.agent_id)),
        ("aor", b.aor.as_str().into()),
        ("contact", b.contact.as_str().into()),
        ("source", b.source.to_string().into()),
        ("transport", b.transport.as_str().into()),
        ("expires_at", Value::Int(b.expires_at)),
        ("call_id", b.call_id.as_str().into()),
        ("cseq", Value::Int(b.cseq as i64)),
        ("user_agent", b.user_agent.as_str().into()),
    ];
    let filters = [Filter::eq("agent_id", b.agent_id), Filter::eq("contact", b.contact.as_str())];
    match db.find(&REGISTRATIONS, scope, &filters).await? {
        Some(rec) => {
            db.update(&REGISTRATIONS, scope, &store::Key::Id(rec.id), values, b.registered_at).await?
        }
        None => db.insert(&REGISTRATIONS, scope, values, b.registered_at).await?,
    };
    Ok(())
}
