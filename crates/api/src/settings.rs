//! What the API's behaviour depends on, from configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// API behaviour settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests per minute allowed per credential (and per address for
    /// logins).
    pub rate_limit_per_minute: u32,
    /// Largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Lifetime of Fonoster access and id tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of Fonoster refresh tokens, in seconds.
    pub refresh_token_ttl_secs: i64,
    /// Idle time after which a login token (VoIPstudio, PBX) expires, in
    /// seconds; each request restarts it.
    pub session_idle_secs: i64,
    /// Per-workspace limits by resource quota name (`applications`,
    /// `agents`, `numbers`, ...), and `workspaces` per user.
    pub quotas: BTreeMap<String, u64>,
    /// Where uploaded media, recordings and the secrets key file live.
    pub data_dir: PathBuf,
    /// The key that encrypts stored secrets (64 hex digits); when not
    /// given, one is made once and kept in `data_dir/secrets.key`.
    pub secrets_key: Option<String>,
    /// The IANA time zone routes' time windows are read in (`--timezone`);
    /// `None` for the system's.
    pub time_zone: Option<String>,
    /// The bearer token `GET /metrics` asks for (`--metrics-token`);
    /// without one, only the local host may read the metrics.
    pub metrics_token: Option<String>,
    /// Bytes of rendered answers to repeated reads kept in memory
    /// (`--response-cache`, in MiB; see [`crate::responses`]); 0 turns the
    /// cache off.
    pub response_cache_bytes: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            rate_limit_per_minute: 1000,
            body_limit_bytes: 1024 * 1024,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 24 * 3600,
            session_idle_secs: 30 * 60,
            quotas: default_quotas(),
            data_dir: PathBuf::from("calliope-data"),
            secrets_key: None,
            time_zone: None,
            metrics_token: None,
            response_cache_bytes: 32 << 20,
        }
    }
}

/// The documented default quotas.
pub fn default_quotas() -> BTreeMap<String, u64> {
    [("applications", 100), ("agents", 1000), ("numbers", 100), ("workspaces", 10)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

impl Settings {
    /// The quota called `name`, if one is configured.
    pub fn quota(&self, name: &str) -> Option<u64> {
        self.quotas.get(name).copied()
    }
}
