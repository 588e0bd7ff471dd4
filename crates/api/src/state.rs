//! What every handler shares.

use std::sync::Arc;

use store::{Db, Millis, StoreError};

use crate::auth::jwt::Keys;
use crate::auth::sealer::{KeyError, Sealer};
use crate::auth::secret;
use crate::clock::Clock;
use crate::ratelimit::{LoginGuard, RateLimiter};
use crate::settings::Settings;

/// Why the state could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The secrets key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The webhook signing key is unusable.
    #[error(transparent)]
    WebhookKey(#[from] engine::webhooks::SecretKeyError),
    /// The configured time zone is unknown.
    #[error("unknown time zone '{0}': use an IANA name such as Europe/Paris")]
    TimeZone(String),
}

/// The API's shared state; cheap to clone (one reference count: every
/// request clones it several times on its way through the layers).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields are read through the state.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The store.
    pub db: Db,
    /// Behaviour settings.
    pub settings: Arc<Settings>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The token-signing key.
    pub keys: Arc<Keys>,
    /// The per-credential rate limiter.
    pub limiter: Arc<RateLimiter>,
    /// Failed logins per account and address.
    pub logins: Arc<LoginGuard>,
    /// Encrypts and decrypts stored secrets.
    pub sealer: Arc<Sealer>,
    /// Calls' and agents' events, from the switch.
    pub bus: engine::events::Bus,
    /// Live calls and legs, kept by the switch.
    pub calls: Arc<engine::calls::Registry>,
    /// The SIP side, once it runs (to place calls).
    pub sip: Arc<std::sync::OnceLock<Arc<engine::signalling::Switch>>>,
    /// Routing snapshots per workspace, dropped on configuration changes.
    pub routing: Arc<engine::router::SnapshotCache>,
    /// The gateway and trunk supervisor, once it runs (registration and
    /// ping state, gateway control).
    pub gateways: Arc<std::sync::OnceLock<engine::trunks::Gateways>>,
    /// Running conference rooms.
    pub rooms: engine::conference::Rooms,
    /// Authenticated callers, kept briefly; cleared by every write.
    pub callers: Arc<crate::auth::cache::CallerCache>,
    /// Rendered answers to reads, kept while the tables they read are
    /// unchanged.
    pub responses: Arc<crate::responses::ResponseCache>,
    /// Derives applications' webhook signing secrets (from
    /// `data_dir/webhook-signing.key`, as the switch does).
    pub webhook_secrets: Arc<engine::webhooks::SecretKeeper>,
    /// Renders the metrics (`GET /metrics`), when the binary installed a
    /// recorder.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Each workspace's post-event URL (PBX channel-state pushes).
    pub post_events: engine::webhooks::channel_state::PostEvents,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The shared fields to change while the state is set up (on a copy
    /// when the state was cloned already).
    pub fn edit(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// A workspace's own folder `kind` in the data directory (`media` for
    /// uploads, `recordings`): one workspace never reads or overwrites
    /// another's files.
    pub fn workspace_dir(&self, kind: &str, workspace_id: i64) -> std::path::PathBuf {
        self.settings.data_dir.join(kind).join(workspace_id.to_string())
    }

    /// State over `db`; the signing key is made on first start and kept in
    /// the store, so tokens outlive a restart and every node shares it.
    pub async fn new(db: Db, settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StateError> {
        let key = db.setting_or_insert("jwt_signing_key", &secret::random_hex(32)).await?;
        let sealer = Sealer::new(settings.secrets_key.as_deref(), &settings.data_dir)?;
        let tz = match settings.time_zone.as_deref() {
            None => jiff::tz::TimeZone::system(),
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| StateError::TimeZone(name.to_owned()))?,
        };
        let webhook_secrets = Arc::new(engine::webhooks::SecretKeeper::open(None, &settings.data_dir)?);
        let bus = engine::events::Bus::default();
        let responses = Arc::new(crate::responses::ResponseCache::new(settings.response_cache_bytes));
        Ok(AppState(Arc::new(Shared {
            sealer: Arc::new(sealer),
            routing: Arc::new(engine::router::SnapshotCache::new(tz, &bus)),
            rooms: engine::conference::Rooms::new(bus.clone(), engine::conference::RoomsConfig::default()),
            bus,
            calls: Arc::default(),
            sip: Arc::default(),
            gateways: Arc::default(),
            db,
            limiter: Arc::new(RateLimiter::new(settings.rate_limit_per_minute)),
            logins: Arc::default(),
            settings: Arc::new(settings),
            clock,
            keys: Arc::new(Keys::new(key.as_bytes())),
            callers: Arc::default(),
            responses,
            webhook_secrets,
            metrics: None,
            post_events: Default::default(),
        })))
    }

    /// The current time.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }
}
