//! Leaving through gateways and trunks: a supervisor task registers every
//! running gateway upstream (client REGISTER with digest, refreshed before
//! it lapses, retried with a capped exponential backoff), pings gateways
//! and trunks that ask for it with OPTIONS, follows configuration changes
//! and unregisters on shutdown. [`Gateways`] is the handle the API uses to
//! show their state and to control them.

pub mod message;
pub mod ping;
pub mod register;
pub mod spec;
mod supervisor;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::Millis;
use tokio::sync::{mpsc, oneshot};

use crate::secrets::Sealer;
use crate::signalling::Switch;

pub use ping::PingStatus;
pub use register::RegState;

/// What the API may ask of a gateway (the PBX `control` actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Runs it (and registers it when it registers).
    Start,
    /// Unregisters it if registered and stops it (`killgw`).
    Stop,
    /// Registers it now, even if registered.
    Register,
    /// Removes its binding (`Expires: 0`) and stops registering.
    Unregister,
}

impl Action {
    /// The action of a PBX `action` value (`start`, `killgw` or `stop`,
    /// `register`, `unregister`).
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "start" => Some(Action::Start),
            "killgw" | "stop" => Some(Action::Stop),
            "register" => Some(Action::Register),
            "unregister" => Some(Action::Unregister),
            _ => None,
        }
    }
}

/// Why a control action was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No running gateway has that id.
    #[error("no running gateway {0}")]
    NotFound(i64),
    /// The supervisor has stopped (shutting down).
    #[error("the gateway supervisor is not running")]
    Gone,
}

/// The outcome of OPTIONS pings, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingView {
    /// `UP`, `DOWN` or `UNKNOWN`.
    pub status: PingStatus,
    /// The last round-trip time, in milliseconds.
    pub rtt_ms: Option<Millis>,
    /// When the last ping went out.
    pub last_ping: Option<Millis>,
    /// When the last answer came.
    pub last_answer: Option<Millis>,
    /// Seconds between pings.
    pub interval_s: u32,
}

impl PingView {
    fn of(p: &ping::Pinger) -> PingView {
        PingView {
            status: p.status(),
            rtt_ms: p.rtt_ms(),
            last_ping: p.last_ping(),
            last_answer: p.last_answer(),
            interval_s: p.interval_s(),
        }
    }
}

/// One running gateway's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayStatus {
    /// Its id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: String,
    /// Its registration state.
    pub state: RegState,
    /// Why the last attempt failed (or why it cannot run).
    pub last_error: Option<String>,
    /// When the binding lapses, while registered.
    pub expires_at: Option<Millis>,
    /// When the next REGISTER (refresh or retry) is due.
    pub next_attempt: Option<Millis>,
    /// When it last registered.
    pub registered_at: Option<Millis>,
    /// Failed attempts in a row.
    pub failures: u32,
    /// Its pings, when pinged.
    pub ping: Option<PingView>,
}

impl GatewayStatus {
    /// `UP` or `DOWN`: what its pings say when pinged, else `DOWN` while
    /// its registration fails.
    pub fn up(&self) -> bool {
        match &self.ping {
            Some(p) if p.status != PingStatus::Unknown => p.status == PingStatus::Up,
            _ => !matches!(self.state, RegState::Failed | RegState::FailWait),
        }
    }
}

/// One pinged trunk's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkStatus {
    /// Its id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: String,
    /// Where it is pinged (`host:port`).
    pub target: String,
    /// Its pings.
    pub ping: PingView,
}

/// What the supervisor shows of itself, refreshed after each step.
#[derive(Debug, Default)]
struct Shown {
    gateways: Vec<GatewayStatus>,
    trunks: Vec<TrunkStatus>,
}

/// The handle on the gateway and trunk supervisor; cheap to clone.
#[derive(Debug, Clone)]
pub struct Gateways {
    cmds: mpsc::Sender<supervisor::Command>,
    shown: Arc<Mutex<Shown>>,
}

impl Gateways {
    /// The running gateways of `workspace_id`, by id.
    pub fn gateways(&self, workspace_id: i64) -> Vec<GatewayStatus> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.gateways.iter().filter(|g| g.workspace_id == workspace_id).cloned().collect()
    }

    /// Running gateway `id`, if it runs.
    pub fn gateway(&self, id: i64) -> Option<GatewayStatus> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.gateways.iter().find(|g| g.id == id).cloned()
    }

    /// The pinged trunks of `workspace_id`, by id.
    pub fn trunks(&self, workspace_id: i64) -> Vec<TrunkStatus> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.trunks.iter().filter(|t| t.workspace_id == workspace_id).cloned().collect()
    }

    /// Pinged trunk `id`, if pinged.
    pub fn trunk(&self, id: i64) -> Option<TrunkStatus> {
        let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.trunks.iter().find(|t| t.id == id).cloned()
    }

    /// Reloads the configuration, then applies `action` to gateway `id`.
    /// The stored `state` (which the API writes first) says whether a
    /// gateway runs; the action then acts at once (`register` sends a
    /// REGISTER even when registered).
    pub async fn control(&self, id: i64, action: Action) -> Result<(), ControlError> {
        let (reply, answer) = oneshot::channel();
        self.cmds
            .send(supervisor::Command::Control { id, action, reply })
            .await
            .map_err(|_| ControlError::Gone)?;
        answer.await.unwrap_or(Err(ControlError::Gone))
    }

    /// Reloads the configuration now (it is also reloaded on every
    /// `config.changed` event); returns once done.
    pub async fn reload(&self) {
        let (reply, answer) = oneshot::channel();
        if self.cmds.send(supervisor::Command::Reload { reply }).await.is_ok() {
            let _ = answer.await;
        }
    }

    /// Unregisters every registered gateway (`Expires: 0`), waits up to
    /// `grace` for the answers, and stops the supervisor.
    pub async fn shutdown(&self, grace: Duration) {
        let (reply, answer) = oneshot::channel();
        if self.cmds.send(supervisor::Command::Shutdown { grace, reply }).await.is_ok() {
            let _ = answer.await;
        }
    }
}

/// Starts the supervisor over the switch `sw`; `sealer` opens gateway
/// passwords. It loads the configuration at once.
pub fn start(sw: Arc<Switch>, sealer: Arc<Sealer>) -> Gateways {
    let (cmds, rx) = mpsc::channel(64);
    let shown = Arc::new(Mutex::new(Shown::default()));
    tokio::spawn(supervisor::run(sw, sealer, rx, shown.clone()));
    Gateways { cmds, shown }
}
