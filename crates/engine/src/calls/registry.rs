//! The registry of live calls and their legs ("channels"): what
//! `GET /api/channels` lists, where commands for a call or a leg are sent,
//! and where the call limits are enforced (a global `--max-calls`, a
//! per-workspace quota, the file descriptors left: see [`Descriptors`],
//! and the store keeping up with the call records: see [`Behind`]). A call holds an [`Admission`] for its lifetime;
//! dropping it removes the call and its legs, so no entry outlives its
//! task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::call::{CallCommand, CallHandle, CommandError, CommandResult};
use super::cdr::writer::Behind;
use super::channels::Channels;
use super::descriptors::Descriptors;
use crate::throttle::Throttle;

/// One live leg.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    /// The leg's id.
    pub uuid: String,
    /// The call it belongs to.
    pub call_uuid: String,
    /// The workspace.
    pub workspace_id: i64,
    /// `inbound` (a leg that called us) or `outbound` (one we called).
    pub direction: &'static str,
    /// When it started (ms).
    pub created_ms: i64,
    /// `sip/<user>@<address>`.
    pub name: String,
    /// `DOWN`, `RINGING`, `EARLY`, `ACTIVE`, `HANGUP`.
    pub callstate: &'static str,
    /// Caller name.
    pub cid_name: String,
    /// Caller number.
    pub cid_num: String,
    /// The peer's address.
    pub ip_addr: String,
    /// The called number.
    pub dest: String,
    /// The calling context.
    pub context: String,
    /// The codec (PCMU, PCMA).
    pub codec: String,
    /// The callee's number.
    pub callee_num: String,
    /// What the leg runs (`bridge`, `transfer`, `playback`...; empty:
    /// nothing, parked).
    pub application: String,
    /// Its argument (the dial string of a bridge).
    pub application_data: String,
    /// Channel variables set on it (`set` app), in the order first set.
    pub variables: Vec<(String, String)>,
}

/// Why a new call was refused (the INVITE gets 503 with Retry-After).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The server is shutting down.
    #[error("shutting down")]
    Draining,
    /// `--max-calls` calls are live.
    #[error("too many calls")]
    Full,
    /// The workspace's `calls` quota is reached.
    #[error("the workspace's call quota is reached")]
    Quota,
    /// Too few file descriptors would be left for the calls already live
    /// (and the store, the API and SIP).
    #[error("overloaded: too few file descriptors left")]
    Overload,
    /// The store is behind: the queue of call records is nearly full.
    #[error("overloaded: call records wait for the store")]
    Behind,
}

impl Refusal {
    /// A short name for metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Draining => "draining",
            Refusal::Full => "max_calls",
            Refusal::Quota => "quota",
            Refusal::Overload => "overload",
            Refusal::Behind => "store_behind",
        }
    }

    /// Seconds the caller should wait before trying again.
    pub fn retry_after(self) -> u32 {
        match self {
            Refusal::Draining => 30,
            Refusal::Full | Refusal::Quota | Refusal::Overload | Refusal::Behind => 5,
        }
    }
}

#[derive(Debug)]
struct Entry {
    workspace_id: Option<i64>,
    handle: Option<CallHandle>,
}

#[derive(Debug, Default)]
struct Inner {
    calls: HashMap<String, Entry>,
    legs: Channels,
    per_workspace: HashMap<i64, usize>,
}

/// Every live call and leg, with the limits on them.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    /// 0: no limit.
    max_calls: AtomicUsize,
    /// 0: no limit.
    per_workspace: AtomicUsize,
    draining: AtomicBool,
    changed: Notify,
    /// The descriptor budget, once the SIP side has one.
    descriptors: OnceLock<Arc<Descriptors>>,
    /// Whether the call records' store is behind, once set.
    records: OnceLock<Behind>,
}

/// `refusal`, warned of (`why`, with the calls live) at most as often as
/// `throttle` allows.
fn overloaded(refusal: Refusal, throttle: &Throttle, live: usize, why: &str) -> Refusal {
    if let Some(held) = throttle.allow(Instant::now()) {
        tracing::warn!(live, refused_before = held, "{why}");
    }
    refusal
}

/// A live call's place in the registry; dropping it removes the call and
/// its legs.
#[derive(Debug)]
pub struct Admission {
    registry: Arc<Registry>,
    uuid: String,
}

impl Registry {
    /// Sets the limits: at most `max_calls` live calls in all (0: none)
    /// and `per_workspace` in one workspace (0: none).
    pub fn set_limits(&self, max_calls: usize, per_workspace: usize) {
        self.max_calls.store(max_calls, Ordering::Relaxed);
        self.per_workspace.store(per_workspace, Ordering::Relaxed);
    }

    /// Refuses new calls from now on while `descriptors` has no room for
    /// one; a second budget is ignored.
    pub fn guard_descriptors(&self, descriptors: Arc<Descriptors>) {
        let _ = self.descriptors.set(descriptors);
    }

    /// Refuses new calls from now on while `behind` says the store is
    /// behind the call records; a second one is ignored.
    pub fn guard_records(&self, behind: Behind) {
        let _ = self.records.set(behind);
    }

    /// The descriptor budget, if one is set.
    pub fn descriptors(&self) -> Option<&Arc<Descriptors>> {
        self.descriptors.get()
    }

    /// Admits a new call with id `uuid` (its workspace, when known, is
    /// checked against its quota), or says why not.
    pub fn admit(self: &Arc<Self>, uuid: &str, workspace_id: Option<i64>) -> Result<Admission, Refusal> {
        let admitted = self.try_admit(uuid, workspace_id);
        match &admitted {
            Ok(_) => metrics::counter!(crate::metrics::CALL_SETUPS).increment(1),
            Err(r) => metrics::counter!(crate::metrics::CALLS_REFUSED, "reason" => r.reason()).increment(1),
        }
        admitted
    }

    fn try_admit(self: &Arc<Self>, uuid: &str, workspace_id: Option<i64>) -> Result<Admission, Refusal> {
        if self.draining.load(Ordering::Acquire) {
            return Err(Refusal::Draining);
        }
        let mut inner = self.inner.lock().map_err(|_| Refusal::Full)?;
        let max = self.max_calls.load(Ordering::Relaxed);
        if max > 0 && inner.calls.len() >= max {
            return Err(Refusal::Full);
        }
        if self.descriptors.get().is_some_and(|d| !d.has_room(inner.calls.len())) {
            static SHORT: Throttle = Throttle::new(Duration::from_secs(10));
            let why = "too few file descriptors left: new calls refused (raise the open-files limit)";
            return Err(overloaded(Refusal::Overload, &SHORT, inner.calls.len(), why));
        }
        if self.records.get().is_some_and(Behind::get) {
            static BEHIND: Throttle = Throttle::new(Duration::from_secs(10));
            let why = "the store is behind the call records: new calls refused";
            return Err(overloaded(Refusal::Behind, &BEHIND, inner.calls.len(), why));
        }
        if let Some(ws) = workspace_id {
            self.check_quota(&inner, ws)?;
            *inner.per_workspace.entry(ws).or_default() += 1;
        }
        inner.calls.insert(uuid.to_owned(), Entry { workspace_id, handle: None });
        drop(inner);
        Ok(Admission { registry: self.clone(), uuid: uuid.to_owned() })
    }

    fn check_quota(&self, inner: &Inner, ws: i64) -> Result<(), Refusal> {
        let quota = self.per_workspace.load(Ordering::Relaxed);
        if quota > 0 && inner.per_workspace.get(&ws).copied().unwrap_or(0) >= quota {
            return Err(Refusal::Quota);
        }
        Ok(())
    }

    /// How many calls are live.
    pub fn calls(&self) -> usize {
        self.inner.lock().map(|i| i.calls.len()).unwrap_or(0)
    }

    /// How many legs are live.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.legs.len()).unwrap_or(0)
    }

    /// Whether no leg is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The legs of a workspace, oldest first.
    pub fn of(&self, workspace_id: i64) -> Vec<Channel> {
        let mut v: Vec<Channel> = self
            .inner
            .lock()
            .map(|i| i.legs.values().filter(|c| c.workspace_id == workspace_id).cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| (a.created_ms, &a.uuid).cmp(&(b.created_ms, &b.uuid)));
        v
    }

    /// Asks every live call of a workspace to hang up; returns how many
    /// were asked.
    pub fn hang_up_all(&self, workspace_id: i64) -> usize {
        let handles: Vec<CallHandle> = self
            .inner
            .lock()
            .map(|i| {
                i.calls
                    .values()
                    .filter(|e| e.workspace_id == Some(workspace_id))
                    .filter_map(|e| e.handle.clone())
                    .collect()
            })
            .unwrap_or_default();
        handles.iter().filter(|h| h.post(CallCommand::Hangup)).count()
    }

    /// The handle of the call that has leg or call id `uuid` in the
    /// workspace.
    pub fn handle(&self, workspace_id: i64, uuid: &str) -> Option<CallHandle> {
        self.target(workspace_id, uuid).map(|(h, _)| h)
    }

    /// The handle of the call that has leg or call id `uuid` in the
    /// workspace, with the leg `uuid` names when it is not the call's
    /// first (whose id is the call's).
    fn target(&self, workspace_id: i64, uuid: &str) -> Option<(CallHandle, Option<String>)> {
        let inner = self.inner.lock().ok()?;
        let (call_uuid, leg) = match inner.legs.get(uuid) {
            Some(leg) if leg.workspace_id == workspace_id => {
                let other = (leg.call_uuid != uuid).then(|| uuid.to_owned());
                (leg.call_uuid.clone(), other)
            }
            Some(_) => return None,
            None => (uuid.to_owned(), None),
        };
        let entry = inner.calls.get(&call_uuid)?;
        if entry.workspace_id != Some(workspace_id) {
            return None;
        }
        Some((entry.handle.clone()?, leg))
    }

    /// Sends `command` to the call that has leg or call id `uuid` in the
    /// workspace, and waits for its answer. A media command for a leg id
    /// acts on that leg.
    pub async fn command(&self, workspace_id: i64, uuid: &str, command: CallCommand) -> CommandResult {
        match self.target(workspace_id, uuid) {
            Some((h, leg)) => h.send_to(leg, command).await,
            None => Err(CommandError::NotFound),
        }
    }

    /// Refuses new calls from now on, asks every live call to hang up,
    /// and waits until they are gone or `grace` has passed; returns how
    /// many were still live then.
    pub async fn drain(&self, grace: Duration) -> usize {
        self.draining.store(true, Ordering::Release);
        let handles: Vec<CallHandle> = self
            .inner
            .lock()
            .map(|i| i.calls.values().filter_map(|e| e.handle.clone()).collect())
            .unwrap_or_default();
        for h in &handles {
            h.post(CallCommand::Hangup);
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let changed = self.changed.notified();
            let left = self.calls();
            if left == 0 {
                return 0;
            }
            // Calls admitted before the drain began but not yet reachable
            // (still authenticating) get the hang-up once they are.
            for h in self
                .inner
                .lock()
                .map(|i| i.calls.values().filter_map(|e| e.handle.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                h.post(CallCommand::Hangup);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.calls();
            }
        }
    }

    /// Whether new calls are refused because the server is stopping.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

impl Admission {
    /// The call's id.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Makes the call reachable for commands.
    pub fn set_handle(&self, handle: CallHandle) {
        if let Ok(mut i) = self.registry.inner.lock() {
            if let Some(e) = i.calls.get_mut(&self.uuid) {
                e.handle = Some(handle);
            }
        }
        self.registry.changed.notify_waiters();
    }

    /// Puts the call in its workspace, once known, checking the quota.
    pub fn set_workspace(&self, workspace_id: i64) -> Result<(), Refusal> {
        let mut inner = self.registry.inner.lock().map_err(|_| Refusal::Full)?;
        let current = inner.calls.get(&self.uuid).and_then(|e| e.workspace_id);
        if current == Some(workspace_id) {
            return Ok(());
        }
        self.registry.check_quota(&inner, workspace_id)?;
        if let Some(old) = current {
            if let Some(n) = inner.per_workspace.get_mut(&old) {
                *n = n.saturating_sub(1);
            }
        }
        *inner.per_workspace.entry(workspace_id).or_default() += 1;
        if let Some(e) = inner.calls.get_mut(&self.uuid) {
            e.workspace_id = Some(workspace_id);
        }
        Ok(())
    }

    /// Adds or replaces one of the call's legs.
    pub fn put_leg(&self, channel: Channel) {
        if let Ok(mut i) = self.registry.inner.lock() {
            i.legs.insert(channel);
        }
    }

    /// Changes every leg of the call.
    pub fn update_legs(&self, mut change: impl FnMut(&mut Channel)) {
        if let Ok(mut i) = self.registry.inner.lock() {
            i.legs.update_call(&self.uuid, &mut change);
        }
    }

    /// Removes one leg.
    pub fn remove_leg(&self, uuid: &str) {
        if let Ok(mut i) = self.registry.inner.lock() {
            i.legs.remove(uuid);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Ok(mut i) = self.registry.inner.lock() {
            if let Some(e) = i.calls.remove(&self.uuid) {
                if let Some(ws) = e.workspace_id {
                    if let Some(n) = i.per_workspace.get_mut(&ws) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            i.per_workspace.remove(&ws);
                        }
                    }
                }
            }
            i.legs.remove_call(&self.uuid);
        }
        self.registry.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(uuid: &str, call: &str, ws: i64) -> Channel {
        Channel {
            uuid: uuid.into(),
            call_uuid: call.into(),
            workspace_id: ws,
            direction: "inbound",
            created_ms: 1,
            callstate: "RINGING",
            ..Channel::default()
        }
    }

    #[test]
    fn limits_refuse_calls_beyond_them_and_free_on_drop() {
        let reg = Arc::new(Registry::default());
        reg.set_limits(2, 1);
        let a = reg.admit("a", Some(1)).expect("first");
        assert_eq!(reg.admit("b", Some(1)).err(), Some(Refusal::Quota), "one call per workspace");
        let b = reg.admit("b", None).expect("workspace not known yet");
        assert_eq!(b.set_workspace(1), Err(Refusal::Quota));
        assert_eq!(reg.admit("c", Some(2)).err(), Some(Refusal::Full), "two calls in all");
        drop(a);
        assert!(b.set_workspace(1).is_ok(), "the quota is free again");
        a_leg_goes_with_its_call(&reg, b);
    }

    fn a_leg_goes_with_its_call(reg: &Arc<Registry>, b: Admission) {
        b.put_leg(leg("l1", "b", 1));
        b.put_leg(leg("l2", "b", 1));
        assert_eq!(reg.of(1).len(), 2);
        assert!(reg.of(2).is_empty(), "other workspaces see nothing");
        drop(b);
        assert!(reg.is_empty());
        assert_eq!(reg.calls(), 0);
    }

    #[test]
    fn calls_are_refused_when_descriptors_run_short() {
        let reg = Arc::new(Registry::default());
        let ports = crate::media::PortPool::new(43300, 43310);
        // 10 in use and 64 kept of 79: room for one call (4), not two (a
        // live call counts 2 until its ports are bound).
        reg.guard_descriptors(Arc::new(Descriptors::fixed(79, 64, 10, ports)));
        let first = reg.admit("a", None).expect("room for one");
        assert_eq!(reg.admit("b", None).err(), Some(Refusal::Overload));
        assert_eq!(Refusal::Overload.reason(), "overload");
        drop(first);
        assert!(reg.admit("c", None).is_ok(), "room again once the call is gone");
    }

    #[tokio::test]
    async fn commands_reach_calls_by_leg_or_call_id_within_their_workspace() {
        let reg = Arc::new(Registry::default());
        let adm = reg.admit("call", Some(7)).expect("admit");
        let (handle, mut mailbox) = CallHandle::new("call".into());
        adm.set_handle(handle);
        adm.put_leg(leg("leg", "call", 7));
        adm.put_leg(leg("call", "call", 7));
        let task = tokio::spawn(async move {
            for expected in [Some("leg".to_owned()), None] {
                let env = mailbox.recv().await.expect("command");
                assert_eq!(env.leg, expected, "the leg named travels with the command");
                let _ = env.reply.send(Ok(()));
            }
        });
        assert_eq!(reg.command(7, "leg", CallCommand::Hangup).await, Ok(()));
        assert_eq!(reg.command(7, "call", CallCommand::Hangup).await, Ok(()));
        assert_eq!(reg.command(8, "leg", CallCommand::Hangup).await, Err(CommandError::NotFound));
        assert_eq!(reg.command(7, "nope", CallCommand::Hangup).await, Err(CommandError::NotFound));
        task.await.expect("task");
    }

    #[tokio::test]
    async fn draining_refuses_new_calls_and_hangs_up_live_ones() {
        let reg = Arc::new(Registry::default());
        let adm = reg.admit("call", Some(1)).expect("admit");
        let (handle, mut mailbox) = CallHandle::new("call".into());
        adm.set_handle(handle);
        let task = tokio::spawn(async move {
            let env = mailbox.recv().await.expect("hangup");
            assert_eq!(env.command, CallCommand::Hangup);
            drop(adm);
        });
        assert_eq!(reg.drain(Duration::from_secs(5)).await, 0);
        assert_eq!(reg.admit("late", None).err(), Some(Refusal::Draining));
        task.await.expect("task");
    }
}
