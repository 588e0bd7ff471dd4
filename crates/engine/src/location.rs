//! The location service: where each registered agent can be reached. Kept
//! in memory for the switch and written behind to the store, so that
//! registrations survive a restart.
//!
//! A change marks its binding (agent and contact) as behind the store; the
//! writer task (`calls::cdr::Writer`, which also writes the call records
//! and finishes both on shutdown) writes each marked binding once, with
//! its state at that moment. A new binding, one reached another way, and a
//! removal are written by the writer's next pass; a refresh that only
//! extends a binding waits for a pass at most [`WRITE_BACK`] later (the
//! write-back of Kamailio's and OpenSIPS's usrloc), so that refreshes cost
//! no wake-up of their own and are written together. A crash loses at
//! most that long of expiry extensions, never a binding; a graceful stop
//! writes everything. The backlog never outgrows the number of bindings.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::schema::REGISTRATIONS;
use store::{Change, Db, Filter, Millis, Op, Operand, Query, Scope, Value};
use tokio::sync::Notify;
use tokio::time::Instant;

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

/// How long a refresh may wait for the store: a REGISTER that only
/// extends a binding the store already holds (same address of record,
/// source, transport and device) is written by a pass at most this long
/// after it, with the other refreshes queued meanwhile.
pub const WRITE_BACK: Duration = Duration::from_secs(1);

/// The bindings whose row in the store is behind, with what the writer
/// needs to know about them.
#[derive(Debug, Default)]
struct Dirty {
    /// Per agent: its bindings' workspace and contact.
    keys: HashMap<i64, Vec<(i64, String)>>,
    /// Whether one of them is new, changed or removed: written at once.
    urgent: bool,
    /// When the oldest refresh waiting was queued, if one is.
    since: Option<Instant>,
}

/// The bindings to write, and the wake-ups of the writer.
#[derive(Debug, Default)]
struct Pending {
    dirty: Mutex<Dirty>,
    wake: Notify,
    /// Held while the writes taken from `dirty` are being made.
    writing: tokio::sync::Mutex<()>,
}

impl Pending {
    /// Marks the agent's binding for `contact` as behind the store: to be
    /// written by the next pass when `urgent`, else within [`WRITE_BACK`].
    /// Wakes the writer only when that makes a pass due sooner.
    fn mark(&self, workspace_id: i64, agent_id: i64, contact: &str, urgent: bool) {
        let Ok(mut dirty) = self.dirty.lock() else { return };
        let keys = dirty.keys.entry(agent_id).or_default();
        if !keys.iter().any(|(_, c)| c == contact) {
            keys.push((workspace_id, contact.to_owned()));
        }
        let wake = if urgent {
            !std::mem::replace(&mut dirty.urgent, true)
        } else {
            dirty.since.is_none() && {
                dirty.since = Some(Instant::now());
                true
            }
        };
        drop(dirty);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Every binding marked, leaving none.
    fn take(&self) -> HashMap<i64, Vec<(i64, String)>> {
        let Ok(mut dirty) = self.dirty.lock() else { return HashMap::new() };
        dirty.urgent = false;
        dirty.since = None;
        std::mem::take(&mut dirty.keys)
    }

    /// When a pass is due: now when a binding is urgent, else [`WRITE_BACK`]
    /// after the oldest refresh; `None` when nothing waits.
    fn due(&self) -> Option<Instant> {
        let dirty = self.dirty.lock().ok()?;
        if dirty.urgent {
            return Some(Instant::now());
        }
        dirty.since.map(|at| at + WRITE_BACK)
    }
}

/// The bindings and their writes, shared by the location and its writer.
#[derive(Debug, Default)]
struct Shared {
    bindings: Mutex<HashMap<i64, Vec<Binding>>>,
    pending: Pending,
}

/// Every agent's bindings.
#[derive(Debug)]
pub struct Location(Arc<Shared>);

impl Location {
    /// The bindings still valid at `now`, read from the store; their
    /// changes wait in the [`Location::backlog`] for the writer task.
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
        Ok(Location(Arc::new(Shared { bindings: Mutex::new(bindings), pending: Pending::default() })))
    }

    /// The agent's bindings valid at `now`, newest first.
    pub fn lookup(&self, agent_id: i64, now: Millis) -> Vec<Binding> {
        let Ok(map) = self.0.bindings.lock() else { return Vec::new() };
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
        let Ok(map) = self.0.bindings.lock() else { return f(&[]) };
        let mut found: Vec<&Binding> =
            map.get(&agent_id).map(|v| v.iter().filter(|b| b.expires_at > now).collect()).unwrap_or_default();
        found.sort_by_key(|b| std::cmp::Reverse(b.expires_at));
        f(&found)
    }

    /// Whether the agent has any valid binding at `now`.
    pub fn is_registered(&self, agent_id: i64, now: Millis) -> bool {
        let Ok(map) = self.0.bindings.lock() else { return false };
        map.get(&agent_id).is_some_and(|v| v.iter().any(|b| b.expires_at > now))
    }

    /// Adds or refreshes `binding` (same agent and contact URI).
    pub fn put(&self, binding: Binding) {
        self.put_capped(binding, usize::MAX);
    }

    /// [`Location::put`] unless the agent already has `max` other valid
    /// bindings; returns whether it was put. A refresh (see
    /// [`WRITE_BACK`]) reaches the store within that bound, anything else
    /// with the writer's next pass.
    pub fn put_capped(&self, binding: Binding, max: usize) -> bool {
        let (workspace_id, agent_id) = (binding.workspace_id, binding.agent_id);
        let Ok(mut map) = self.0.bindings.lock() else { return false };
        let list = map.entry(agent_id).or_default();
        let others = list
            .iter()
            .filter(|b| b.contact != binding.contact && b.expires_at > binding.registered_at)
            .count();
        if others >= max {
            return false;
        }
        let (refresh, at) = match list.iter().position(|b| b.contact == binding.contact) {
            Some(at) => {
                let refresh = is_refresh(&list[at], &binding);
                list[at] = binding;
                (refresh, at)
            }
            None => {
                list.push(binding);
                (false, list.len() - 1)
            }
        };
        self.0.pending.mark(workspace_id, agent_id, &list[at].contact, !refresh);
        true
    }

    /// Removes the agent's binding for `contact`; returns whether there was one.
    pub fn remove(&self, workspace_id: i64, agent_id: i64, contact: &str) -> bool {
        let removed = match self.0.bindings.lock() {
            Ok(mut map) => {
                let list = map.entry(agent_id).or_default();
                let before = list.len();
                list.retain(|b| b.contact != contact);
                before != list.len()
            }
            Err(_) => false,
        };
        self.0.pending.mark(workspace_id, agent_id, contact, true);
        removed
    }

    /// The bindings waiting to be written, for the writer task that owns
    /// the store's writes (`calls::cdr::Writer`).
    pub fn backlog(&self) -> Backlog {
        Backlog(self.0.clone())
    }

    /// Drops every binding that lapsed by `now` and returns them.
    pub fn sweep(&self, now: Millis) -> Vec<Binding> {
        let mut gone = Vec::new();
        if let Ok(mut map) = self.0.bindings.lock() {
            for list in map.values_mut() {
                let (keep, lapsed): (Vec<Binding>, Vec<Binding>) =
                    list.drain(..).partition(|b| b.expires_at > now);
                *list = keep;
                gone.extend(lapsed);
            }
            map.retain(|_, v| !v.is_empty());
        }
        for b in &gone {
            self.0.pending.mark(b.workspace_id, b.agent_id, &b.contact, true);
        }
        gone
    }
}

/// Whether `new` only extends `old` in the store's eyes: a binding still
/// valid, reached the same way, by the same device. Its Call-ID and CSeq
/// may move with the expiry.
fn is_refresh(old: &Binding, new: &Binding) -> bool {
    old.expires_at > new.registered_at
        && old.source == new.source
        && old.transport == new.transport
        && old.workspace_id == new.workspace_id
        && old.aor == new.aor
        && old.user_agent == new.user_agent
}

/// The registrations waiting to be written; the writer task takes them.
#[derive(Debug, Clone)]
pub struct Backlog(Arc<Shared>);

impl Backlog {
    /// Resolves when a pass is due: at once after a new, changed or
    /// removed binding, [`WRITE_BACK`] after the first refresh otherwise.
    pub async fn ready(&self) {
        loop {
            let notified = self.0.pending.wake.notified();
            match self.0.pending.due() {
                Some(at) if at <= Instant::now() => return,
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => return,
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Writes every binding that is behind the store, with its state now
    /// (its removal when it is gone); returns how many.
    pub async fn write(&self, db: &Db) -> usize {
        let _pass = self.0.pending.writing.lock().await;
        let keys = self.0.pending.take();
        let changes = self.changes(keys);
        let n = changes.len();
        write_all(db, changes).await;
        n
    }

    /// The store changes that bring the bindings named by `keys` up to date.
    fn changes(&self, keys: HashMap<i64, Vec<(i64, String)>>) -> Vec<Change> {
        let Ok(map) = self.0.bindings.lock() else { return Vec::new() };
        let mut changes = Vec::with_capacity(keys.values().map(Vec::len).sum());
        for (agent_id, contacts) in keys {
            let list = map.get(&agent_id);
            for (workspace_id, contact) in contacts {
                changes.push(match list.and_then(|l| l.iter().find(|b| b.contact == contact)) {
                    Some(b) => upsert(b),
                    None => Change::Remove {
                        scope: Scope::Workspace(workspace_id),
                        filters: vec![Filter::eq("agent_id", agent_id), Filter::eq("contact", contact)],
                    },
                });
            }
        }
        changes
    }
}

/// Writes `changes` in one transaction; when that fails, one at a time so
/// that one bad write never costs the others.
async fn write_all(db: &Db, changes: Vec<Change>) {
    if changes.is_empty() {
        return;
    }
    let Err(e) = db.apply(&REGISTRATIONS, &changes).await else { return };
    tracing::warn!(error = %e, count = changes.len(), "a batch of registrations failed; writing them one by one");
    for change in changes {
        if let Err(e) = db.apply(&REGISTRATIONS, std::slice::from_ref(&change)).await {
            tracing::warn!(error = %e, "could not store a registration");
        }
    }
}

/// The store change that writes binding `b`: one statement, as
/// `registrations` is unique on (agent_id, contact).
fn upsert(b: &Binding) -> Change {
    let values = vec![
        ("agent_id", Value::Int(b.agent_id)),
        ("aor", Value::Text(b.aor.clone())),
        ("contact", Value::Text(b.contact.clone())),
        ("source", Value::Text(b.source.to_string())),
        ("transport", b.transport.as_str().into()),
        ("expires_at", Value::Int(b.expires_at)),
        ("call_id", Value::Text(b.call_id.clone())),
        ("cseq", Value::Int(b.cseq as i64)),
        ("user_agent", Value::Text(b.user_agent.clone())),
    ];
    Change::Upsert {
        scope: Scope::Workspace(b.workspace_id),
        on: &["agent_id", "contact"],
        values,
        now: b.registered_at,
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

    fn location() -> Location {
        Location(Arc::new(Shared::default()))
    }

    /// The changes a pass would write now, leaving none.
    fn taken(loc: &Location) -> Vec<Change> {
        let backlog = loc.backlog();
        backlog.changes(loc.0.pending.take())
    }

    fn expires_of(change: &Change) -> Option<i64> {
        let Change::Upsert { values, .. } = change else { return None };
        values.iter().find(|(n, _)| *n == "expires_at").and_then(|(_, v)| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        })
    }

    #[tokio::test]
    async fn a_refresh_waits_for_the_write_back_and_the_rest_is_written_at_once() {
        let loc = location();
        let mut first = binding("sip:1001@127.0.0.1:5080", "127.0.0.1:5080");
        first.expires_at = 10_000;
        loc.put(first.clone());
        let due = loc.0.pending.due().unwrap();
        assert!(due <= Instant::now(), "a new binding is due at once");
        assert_eq!(taken(&loc).len(), 1);
        assert!(loc.0.pending.due().is_none(), "nothing waits after a pass");

        let mut refresh = first.clone();
        refresh.registered_at = 1_000;
        refresh.expires_at = 20_000;
        refresh.call_id = "another".into();
        refresh.cseq = 7;
        loc.put(refresh.clone());
        let due = loc.0.pending.due().unwrap();
        assert!(due > Instant::now() + WRITE_BACK / 2, "a refresh waits for the write-back pass");
        refresh.expires_at = 30_000;
        loc.put(refresh.clone());
        let changes = taken(&loc);
        assert_eq!(changes.len(), 1, "refreshes of one binding are written once");
        assert_eq!(expires_of(&changes[0]), Some(30_000), "with its latest expiry");

        let mut moved = refresh.clone();
        moved.source = "127.0.0.1:6000".parse().unwrap();
        loc.put(moved.clone());
        assert!(loc.0.pending.due().unwrap() <= Instant::now(), "a new source is written at once");
        taken(&loc);

        let mut lapsed = moved;
        lapsed.registered_at = 40_000;
        lapsed.expires_at = 50_000;
        loc.put(lapsed);
        assert!(loc.0.pending.due().unwrap() <= Instant::now(), "so is a binding that had lapsed");
        taken(&loc);

        loc.put(refresh.clone());
        assert!(loc.remove(1, 1, &refresh.contact));
        assert!(loc.0.pending.due().unwrap() <= Instant::now(), "a removal is written at once");
        let changes = taken(&loc);
        assert!(matches!(changes.as_slice(), [Change::Remove { .. }]), "the latest state: gone");
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
