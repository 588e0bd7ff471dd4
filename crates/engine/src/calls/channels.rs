//! Live call legs ("channels"), for `GET /api/channels` and for hanging one
//! up from the API.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::mpsc;

/// What the API can ask of a live leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Hang the call up.
    Hangup,
}

/// One live leg.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The leg's id.
    pub uuid: String,
    /// The call it belongs to (the caller leg's id).
    pub call_uuid: String,
    /// The workspace.
    pub workspace_id: i64,
    /// `inbound` (the caller's leg) or `outbound`.
    pub direction: &'static str,
    /// When it started (ms).
    pub created_ms: i64,
    /// `sip/<user>@<address>`.
    pub name: String,
    /// `RINGING`, `EARLY`, `ACTIVE`, `HELD`.
    pub callstate: &'static str,
    /// Caller name and number.
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
    /// The callee's name and number.
    pub callee_num: String,
    /// Where commands for this leg go.
    pub control: mpsc::Sender<Command>,
}

/// Every live leg.
#[derive(Debug, Default)]
pub struct Channels {
    legs: Mutex<HashMap<String, Channel>>,
}

impl Channels {
    /// Adds or replaces a leg.
    pub fn put(&self, channel: Channel) {
        if let Ok(mut l) = self.legs.lock() {
            l.insert(channel.uuid.clone(), channel);
        }
    }

    /// Changes a leg in place.
    pub fn update(&self, uuid: &str, change: impl FnOnce(&mut Channel)) {
        if let Ok(mut l) = self.legs.lock() {
            if let Some(c) = l.get_mut(uuid) {
                change(c);
            }
        }
    }

    /// Removes a leg.
    pub fn remove(&self, uuid: &str) {
        if let Ok(mut l) = self.legs.lock() {
            l.remove(uuid);
        }
    }

    /// The legs of a workspace, oldest first.
    pub fn of(&self, workspace_id: i64) -> Vec<Channel> {
        let mut v: Vec<Channel> = self
            .legs
            .lock()
            .map(|l| l.values().filter(|c| c.workspace_id == workspace_id).cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| (a.created_ms, &a.uuid).cmp(&(b.created_ms, &b.uuid)));
        v
    }

    /// How many legs are live.
    pub fn len(&self) -> usize {
        self.legs.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Whether no leg is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends `command` to the leg `uuid` of the workspace; false when there
    /// is no such leg.
    pub fn command(&self, workspace_id: i64, uuid: &str, command: Command) -> bool {
        let control =
            self.legs.lock().ok().and_then(|l| {
                l.get(uuid).filter(|c| c.workspace_id == workspace_id).map(|c| c.control.clone())
            });
        match control {
            Some(c) => c.try_send(command).is_ok(),
            None => false,
        }
    }
}
