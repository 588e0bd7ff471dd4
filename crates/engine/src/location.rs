//! The location service: where each registered agent can be reached. Kept
//! in memory for the switch and written behind to the store, so that
//! registrations survive a restart.
//!
//! The writes wait in a map with one entry per binding (agent and contact)
//! until the writer task (`calls::cdr::Writer`, which also writes the
//! call records and finishes both on shutdown) takes them: a binding
//! refreshed again before its last write reached the store is written
//! once, with its latest state. So the
//! backlog never outgrows the number of bindings when REGISTERs come
//! faster than the store takes them, and the store lags by one pass at most.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use store::schema::REGISTRATIONS;
use store::{Change, Db, Filter, Millis, Op, Operand, Query, Scope, Value};
use tokio::sync::Notify;

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

impl Binding {
    /// Where requests for this contact go: the Contact URI's address when
    /// it is an IP on the host the REGISTER came from (a phone, or a
    /// registration made for another process on that host), else the
    /// REGISTER's source (the contact is behind NAT, or not an address).
    pub fn target(&self) -> SocketAddr {
        let contact = self.contact.strip_prefix("sip:").unwrap_or(&self.contact);
        let host_port = contact.split(['@']).next_back().unwrap_or("");
        let host_port = host_port.split([';', '?', '>']).next().unwrap_or("");
        match host_port.parse::<SocketAddr>() {
            Ok(addr) if addr.ip() == self.source.ip() => addr,
            _ => match host_port.parse::<std::net::IpAddr>() {
                Ok(ip) if ip == self.source.ip() => SocketAddr::new(ip, 5060),
                _ => self.source,
            },
        }
    }
}

enum Write {
    Put(Binding),
    Remove { agent_id: i64, workspace_id: i64, contact: String },
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

/// Writes not yet in the store: the latest one per (agent, contact).
#[derive(Debug, Default)]
struct Pending {
    writes: Mutex<HashMap<(i64, String), Write>>,
    wake: Notify,
    /// Held while writes taken from the queue are being made.
    writing: tokio::sync::Mutex<()>,
}

impl Pending {
    /// Queues `write`, replacing an older one for the same binding.
    fn push(&self, agent_id: i64, contact: String, write: Write) {
        if let Ok(mut w) = self.writes.lock() {
            w.insert((agent_id, contact), write);
        }
        self.wake.notify_one();
    }

    /// Everything queued, leaving the queue empty.
    fn take(&self) -> HashMap<(i64, String), Write> {
        self.writes.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default()
    }
}

/// Every agent's bindings.
#[derive(Debug)]
pub struct Location {
    bindings: Mutex<HashMap<i64, Vec<Binding>>>,
    pending: Arc<Pending>,
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
        let pending = Arc::new(Pending::default());
        Ok(Location { bindings: Mutex::new(bindings), pending })
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

    /// What `f` makes of the agent's bindings valid at `now`, newest first,
    /// seen in place: [`Location::lookup`] without copying them. `f` runs
    /// under the location's lock, so it must be short.
    pub fn with_bindings<R>(&self, agent_id: i64, now: Millis, f: impl FnOnce(&[&Binding]) -> R) -> R {
        let Ok(map) = self.bindings.lock() else { return f(&[]) };
        let mut found: Vec<&Binding> =
            map.get(&agent_id).map(|v| v.iter().filter(|b| b.expires_at > now).collect()).unwrap_or_default();
        found.sort_by_key(|b| std::cmp::Reverse(b.expires_at));
        f(&found)
    }

    /// Whether the agent has any valid binding at `now`.
    pub fn is_registered(&self, agent_id: i64, now: Millis) -> bool {
        let Ok(map) = self.bindings.lock() else { return false };
        map.get(&agent_id).is_some_and(|v| v.iter().any(|b| b.expires_at > now))
    }

    /// Adds or refreshes `binding` (same agent and contact URI).
    pub fn put(&self, binding: Binding) {
        if let Ok(mut map) = self.bindings.lock() {
            let list = map.entry(binding.agent_id).or_default();
            list.retain(|b| b.contact != binding.contact);
            list.push(binding.clone());
        }
        self.pending.push(binding.agent_id, binding.contact.clone(), Write::Put(binding));
    }

    /// [`Location::put`] unless the agent already has `max` other valid
    /// bindings; returns whether it was put.
    pub fn put_capped(&self, binding: Binding, max: usize) -> bool {
        if let Ok(mut map) = self.bindings.lock() {
            let list = map.entry(binding.agent_id).or_default();
            let others = list
                .iter()
                .filter(|b| b.contact != binding.contact && b.expires_at > binding.registered_at)
                .count();
            if others >= max {
                return false;
            }
            list.retain(|b| b.contact != binding.contact);
            list.push(binding.clone());
        } else {
            return false;
        }
        self.pending.push(binding.agent_id, binding.contact.clone(), Write::Put(binding));
        true
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
        let write = Write::Remove { agent_id, workspace_id, contact: contact.to_owned() };
        self.pending.push(agent_id, contact.to_owned(), write);
        removed
    }

    /// The queued writes, for the writer task that owns the store's
    /// writes (`calls::cdr::Writer`).
    pub fn backlog(&self) -> Backlog {
        Backlog(self.pending.clone())
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
            let write = Write::Remove {
                agent_id: b.agent_id,
                workspace_id: b.workspace_id,
                contact: b.contact.clone(),
            };
            self.pending.push(b.agent_id, b.contact.clone(), write);
        }
        gone
    }
}

/// The registrations waiting to be written; the writer task takes them.
#[derive(Debug, Clone)]
pub struct Backlog(Arc<Pending>);

impl Backlog {
    /// Resolves when a change was queued since the last write.
    pub async fn ready(&self) {
        self.0.wake.notified().await;
    }

    /// Writes every queued change; returns how many.
    pub async fn write(&self, db: &Db) -> usize {
        let _pass = self.0.writing.lock().await;
        let writes = self.0.take();
        let n = writes.len();
        write_all(db, writes).await;
        n
    }
}

/// Writes `writes` in one transaction; when that fails, one at a time so
/// that one bad write never costs the others.
async fn write_all(db: &Db, writes: HashMap<(i64, String), Write>) {
    if writes.is_empty() {
        return;
    }
    let changes: Vec<Change> = writes.into_values().map(|w| w.change()).collect();
    let Err(e) = db.apply(&REGISTRATIONS, &changes).await else { return };
    tracing::warn!(error = %e, count = changes.len(), "a batch of registrations failed; writing them one by one");
    for change in changes {
        if let Err(e) = db.apply(&REGISTRATIONS, std::slice::from_ref(&change)).await {
            tracing::warn!(error = %e, "could not store a registration");
        }
    }
}

impl Write {
    /// The store change that makes this write.
    fn change(self) -> Change {
        match self {
            Write::Put(b) => {
                let values = vec![
                    ("agent_id", Value::Int(b.agent_id)),
                    ("aor", Value::Text(b.aor)),
                    ("contact", Value::Text(b.contact)),
                    ("source", Value::Text(b.source.to_string())),
                    ("transport", b.transport.as_str().into()),
                    ("expires_at", Value::Int(b.expires_at)),
                    ("call_id", Value::Text(b.call_id)),
                    ("cseq", Value::Int(b.cseq as i64)),
                    ("user_agent", Value::Text(b.user_agent)),
                ];
                // One statement: `registrations` is unique on (agent_id, contact).
                Change::Upsert {
                    scope: Scope::Workspace(b.workspace_id),
                    on: &["agent_id", "contact"],
                    values,
                    now: b.registered_at,
                }
            }
            Write::Remove { agent_id, workspace_id, contact } => Change::Remove {
                scope: Scope::Workspace(workspace_id),
                filters: vec![Filter::eq("agent_id", agent_id), Filter::eq("contact", contact)],
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn binding(contact: &str, source: &str) -> Binding {
        Binding {
            workspace_id: 1,
            agent_id: 1,
            aor: "sip:1001@calliope".into(),
            contact: contact.into(),
            source: source.parse().unwrap(),
            transport: Transport::Udp,
            registered_at: 0,
            expires_at: 1,
            call_id: String::new(),
            cseq: 1,
            user_agent: String::new(),
        }
    }

    #[test]
    fn queued_writes_keep_the_latest_per_binding() {
        let pending = Pending::default();
        let mut first = binding("sip:1001@127.0.0.1:5080", "127.0.0.1:5080");
        first.expires_at = 10;
        let mut second = first.clone();
        second.expires_at = 20;
        let other = binding("sip:1001@127.0.0.1:5090", "127.0.0.1:5090");
        pending.push(1, first.contact.clone(), Write::Put(first));
        pending.push(1, other.contact.clone(), Write::Put(other.clone()));
        pending.push(1, second.contact.clone(), Write::Put(second.clone()));
        let remove = Write::Remove { agent_id: 1, workspace_id: 1, contact: other.contact.clone() };
        pending.push(1, other.contact.clone(), remove);

        let writes = pending.take();
        assert_eq!(writes.len(), 2, "one write per binding");
        match writes.get(&(1, second.contact.clone())) {
            Some(Write::Put(b)) => assert_eq!(b.expires_at, 20, "the refresh replaced the first write"),
            w => panic!("expected the latest put, got {w:?}"),
        }
        assert!(matches!(writes.get(&(1, other.contact)), Some(Write::Remove { .. })));
        assert!(pending.take().is_empty(), "taking empties the queue");
    }

    #[test]
    fn requests_go_to_the_contact_on_the_same_host_else_to_the_source() {
        let same_host = binding("sip:1001@127.0.0.1:5080;transport=udp", "127.0.0.1:6000");
        assert_eq!(same_host.target(), "127.0.0.1:5080".parse().unwrap());
        let no_port = binding("sip:1001@127.0.0.1", "127.0.0.1:6000");
        assert_eq!(no_port.target(), "127.0.0.1:5060".parse().unwrap());
        let natted = binding("sip:1001@192.168.1.20:5060", "203.0.113.9:40123");
        assert_eq!(natted.target(), "203.0.113.9:40123".parse().unwrap());
        let named = binding("sip:1001@phone.example.com", "198.51.100.1:5060");
        assert_eq!(named.target(), "198.51.100.1:5060".parse().unwrap());
    }
}
