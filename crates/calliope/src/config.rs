//! Settings from flags, environment variables and a TOML file, in that
//! order of precedence, over the defaults of `design/API.md`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for machines.
    Json,
}

/// Every setting of `calliope serve`. Each is a flag, an environment
/// variable and a key of the `--config` file.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP API address [default: 0.0.0.0:8080].
    #[arg(long, env = "CALLIOPE_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// gRPC address [default: 0.0.0.0:50051].
    #[arg(long, env = "CALLIOPE_GRPC_ADDR")]
    pub grpc_addr: Option<SocketAddr>,
    /// SIP address, UDP and TCP [default: 0.0.0.0:5060].
    #[arg(long, env = "CALLIOPE_SIP_ADDR")]
    pub sip_addr: Option<SocketAddr>,
    /// RTP port range [default: 10000-20000].
    #[arg(long, env = "CALLIOPE_RTP_PORTS")]
    pub rtp_ports: Option<String>,
    /// Where the SQLite database, recordings and media live [default: ./calliope-data].
    #[arg(long, env = "CALLIOPE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Key that encrypts stored secrets, 64 hex digits [default: made once in DATA_DIR/secrets.key].
    #[arg(long, env = "CALLIOPE_SECRETS_KEY", hide_env_values = true)]
    pub secrets_key: Option<String>,
    /// postgres://... to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, env = "CALLIOPE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The address peers should send SIP and RTP to.
    #[arg(long, env = "CALLIOPE_PUBLIC_IP")]
    pub public_ip: Option<std::net::IpAddr>,
    /// SIP digest realm [default: calliope].
    #[arg(long, env = "CALLIOPE_SIP_REALM")]
    pub sip_realm: Option<String>,
    /// Digest algorithms offered, preferred first: md5, sha-256 [default: md5,sha-256].
    /// Some phones (baresip 1.0) fail on any SHA-256 challenge: offer md5 alone for them.
    #[arg(long, env = "CALLIOPE_SIP_DIGEST", value_delimiter = ',')]
    pub sip_digest: Option<Vec<String>>,
    /// Seconds a digest nonce stays fresh [default: 300].
    #[arg(long, env = "CALLIOPE_SIP_NONCE_TTL")]
    pub sip_nonce_ttl: Option<u64>,
    /// Other names of this server a SIP digest `uri` may name, besides its
    /// addresses and the realm (comma-separated domains).
    #[arg(long, env = "CALLIOPE_SIP_DOMAINS", value_delimiter = ',')]
    pub sip_domains: Option<Vec<String>>,
    /// Networks SIP may be sent to (comma-separated, e.g. 10.0.0.0/8);
    /// anything else is dropped [default: anywhere].
    #[arg(long, env = "CALLIOPE_SIP_DESTINATIONS", value_delimiter = ',')]
    pub sip_destinations: Option<Vec<String>>,
    /// Contacts one SIP address of record may register [default: 10].
    #[arg(long, env = "CALLIOPE_SIP_MAX_CONTACTS")]
    pub sip_max_contacts: Option<usize>,
    /// Digest failures a minute from one IP address that ban it for ten
    /// minutes [default: 10].
    #[arg(long, env = "CALLIOPE_SIP_AUTH_FAILURES")]
    pub sip_auth_failures: Option<u32>,
    /// Seconds after which an idle SIP TCP connection is closed [default: 300].
    #[arg(long, env = "CALLIOPE_SIP_TCP_IDLE")]
    pub sip_tcp_idle: Option<u64>,
    /// SIP switch loops sharing the transactions by Call-ID, 1 to 16
    /// [default: one a core, at most 16].
    #[arg(long, env = "CALLIOPE_SIP_SHARDS")]
    pub sip_shards: Option<usize>,
    /// The key of the hash that maps Call-IDs to SIP shards (for tests and
    /// benchmarks that must know where a Call-ID goes) [default: random].
    #[arg(long, env = "CALLIOPE_SIP_SHARD_KEY", hide = true)]
    pub sip_shard_key: Option<u64>,
    /// Seconds without RTP after which a call is ended [default: 60].
    #[arg(long, env = "CALLIOPE_RTP_TIMEOUT")]
    pub rtp_timeout: Option<u64>,
    /// Email of the first owner, made on first start [default: admin@calliope.local].
    #[arg(long, env = "CALLIOPE_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the first owner; a random one is printed when not given.
    #[arg(long, env = "CALLIOPE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Log format [default: text].
    #[arg(long, env = "CALLIOPE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, as RUST_LOG [default: info].
    #[arg(long, env = "CALLIOPE_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// API requests per minute per credential [default: 1000].
    #[arg(long, env = "CALLIOPE_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// Largest request body in bytes [default: 1048576].
    #[arg(long, env = "CALLIOPE_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// Lifetime of access tokens, in seconds [default: 900].
    #[arg(long, env = "CALLIOPE_ACCESS_TOKEN_TTL")]
    pub access_token_ttl: Option<i64>,
    /// Lifetime of refresh tokens, in seconds [default: 86400].
    #[arg(long, env = "CALLIOPE_REFRESH_TOKEN_TTL")]
    pub refresh_token_ttl: Option<i64>,
    /// Idle seconds after which a login token expires [default: 1800].
    #[arg(long, env = "CALLIOPE_SESSION_IDLE")]
    pub session_idle: Option<i64>,
    /// Seconds a callee may ring before the call is given up [default: 60].
    #[arg(long, env = "CALLIOPE_RING_TIMEOUT")]
    pub ring_timeout: Option<u64>,
    /// Messages one voicemail box holds at most; a full box takes no more [default: 100].
    #[arg(long, env = "CALLIOPE_VOICEMAIL_MAX_MESSAGES")]
    pub voicemail_max_messages: Option<u64>,
    /// The longest voicemail message, in seconds [default: 180].
    #[arg(long, env = "CALLIOPE_VOICEMAIL_MAX_SECONDS")]
    pub voicemail_max_seconds: Option<u64>,
    /// Most live calls in all; beyond them a new INVITE gets 503 [default: 0, no limit].
    #[arg(long, env = "CALLIOPE_MAX_CALLS")]
    pub max_calls: Option<usize>,
    /// File descriptors kept free for the store, the API and SIP: a new
    /// call is refused (503) when fewer would be left [default: a tenth of
    /// the limit, at least 64].
    #[arg(long, env = "CALLIOPE_FD_RESERVE")]
    pub fd_reserve: Option<usize>,
    /// Seconds live calls get to hang up on SIGTERM before the process exits [default: 10].
    #[arg(long, env = "CALLIOPE_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<u64>,
    /// Workspace quotas as NAME=N, comma-separated (applications, agents,
    /// numbers, workspaces, calls: live calls per workspace) [default: applications=100,agents=1000,numbers=100,workspaces=10].
    #[arg(long, env = "CALLIOPE_QUOTAS", value_parser = parse_quotas)]
    #[serde(default, deserialize_with = "quota_table")]
    pub quotas: Option<Quotas>,
    /// IANA time zone of routes' time windows, such as Europe/Paris [default: the system's].
    #[arg(long, env = "CALLIOPE_TIMEZONE")]
    pub timezone: Option<String>,
    /// URL that receives the default workspace's PBX channel states
    /// (`ai::channel-state` JSON: ringing, early, answered, hangup) [default: none].
    #[arg(long, env = "CALLIOPE_POST_EVENT_URL")]
    pub post_event_url: Option<String>,
    /// Secret that signs the channel-state pushes (`X-Calliope-Signature`);
    /// required with `post_event_url`.
    #[arg(long, env = "CALLIOPE_POST_EVENT_SECRET")]
    pub post_event_secret: Option<String>,
    /// Bearer token that `GET /metrics` asks for [default: none: only the
    /// local host may read the metrics].
    #[arg(long, env = "CALLIOPE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// MiB of rendered answers to repeated API reads kept in memory, each
    /// while the tables it was read from are unchanged; 0 turns the cache
    /// off [default: 32].
    #[arg(long, env = "CALLIOPE_RESPONSE_CACHE")]
    pub response_cache: Option<usize>,
}

/// Quota overrides by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quotas(pub BTreeMap<String, u64>);

const QUOTA_NAMES: &[&str] = &["applications", "agents", "numbers", "workspaces", "calls"];

fn check_quota_name(name: &str) -> Result<(), String> {
    if QUOTA_NAMES.contains(&name) {
        Ok(())
    } else {
        Err(format!("unknown quota `{name}`, expected one of {}", QUOTA_NAMES.join(", ")))
    }
}

fn parse_quotas(text: &str) -> Result<Quotas, String> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, n) = part.split_once('=').ok_or_else(|| format!("`{part}` is not NAME=N"))?;
        check_quota_name(name.trim())?;
        let n = n.trim().parse().map_err(|_| format!("quota `{name}` must be a whole number"))?;
        out.insert(name.trim().to_owned(), n);
    }
    Ok(Quotas(out))
}

fn quota_table<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Quotas>, D::Error> {
    let table = BTreeMap::<String, u64>::deserialize(d)?;
    for name in table.keys() {
        check_quota_name(name).map_err(serde::de::Error::custom)?;
    }
    Ok(Some(Quotas(table)))
}

macro_rules! merge {
    ($a:ident, $b:ident, $($f:ident),*) => { Settings { $($f: $a.$f.or($b.$f)),* } };
}

impl Settings {
    /// These settings, with gaps filled from `file`.
    pub fn or(self, file: Settings) -> Settings {
        merge!(
            self,
            file,
            http_addr,
            grpc_addr,
            sip_addr,
            rtp_ports,
            data_dir,
            secrets_key,
            database_url,
            public_ip,
            sip_realm,
            sip_digest,
            sip_nonce_ttl,
            sip_domains,
            sip_destinations,
            sip_max_contacts,
            sip_auth_failures,
            sip_tcp_idle,
            sip_shards,
            sip_shard_key,
            rtp_timeout,
            admin_email,
            admin_password,
            log_format,
            log_level,
            rate_limit,
            body_limit,
            access_token_ttl,
            refresh_token_ttl,
            session_idle,
            ring_timeout,
            voicemail_max_messages,
            voicemail_max_seconds,
            max_calls,
            fd_reserve,
            shutdown_grace,
            quotas,
            timezone,
            post_event_url,
            post_event_secret,
            metrics_token,
            response_cache
        )
    }

    /// Reads a TOML file; unknown keys are an error that names them.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Settings> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// The RTP port range, checked.
    pub fn rtp_range(&self) -> anyhow::Result<(u16, u16)> {
        let text = self.rtp_ports.as_deref().unwrap_or("10000-20000");
        let (lo, hi) = text.split_once('-').context("rtp_ports must be LOW-HIGH")?;
        let (lo, hi): (u16, u16) = (lo.trim().parse()?, hi.trim().parse()?);
        if lo >= hi {
            bail!("rtp_ports: {lo} must be below {hi}");
        }
        Ok((lo, hi))
    }

    /// The SIP side's settings.
    pub fn sip(&self) -> anyhow::Result<engine::signalling::Config> {
        let addr = self.sip_addr.unwrap_or_else(|| ([0, 0, 0, 0], 5060).into());
        let mut c = engine::signalling::Config::new(addr);
        c.public_ip = self.public_ip;
        c.rtp_ports = self.rtp_range()?;
        if let Some(realm) = &self.sip_realm {
            c.realm = realm.clone();
        }
        if let Some(names) = &self.sip_digest {
            c.digest_algorithms = names
                .iter()
                .map(|n| {
                    sip::digest::Algorithm::parse(n.trim())
                        .map_err(|_| anyhow::anyhow!("sip_digest: unknown algorithm {n}"))
                })
                .collect::<anyhow::Result<_>>()?;
            if c.digest_algorithms.is_empty() {
                bail!("sip_digest: name at least one algorithm");
            }
        }
        if let Some(secs) = self.sip_nonce_ttl {
            c.nonce_lifetime = std::time::Duration::from_secs(secs.max(1));
        }
        if let Some(secs) = self.rtp_timeout {
            c.rtp_timeout = std::time::Duration::from_secs(secs.max(1));
        }
        if let Some(secs) = self.ring_timeout {
            c.ring_timeout = std::time::Duration::from_secs(secs.clamp(1, 3600));
        }
        if let Some(n) = self.voicemail_max_messages {
            c.voicemail.max_messages = n;
        }
        if let Some(secs) = self.voicemail_max_seconds {
            c.voicemail.max_message = std::time::Duration::from_secs(secs.clamp(1, 3600));
        }
        if let Some(domains) = &self.sip_domains {
            c.domains = domains.iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect();
        }
        if let Some(nets) = &self.sip_destinations {
            c.limits.destinations = nets
                .iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                .map(|n| {
                    n.parse::<ipnet::IpNet>()
                        .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| anyhow::anyhow!("sip_destinations: '{n}' is not a network or address"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(n) = self.sip_max_contacts {
            c.limits.contacts_per_aor = n.max(1);
        }
        if let Some(n) = self.sip_auth_failures {
            c.limits.auth_failures = n.max(1);
        }
        if let Some(secs) = self.sip_tcp_idle {
            c.limits.tcp_idle = std::time::Duration::from_secs(secs.max(1));
        }
        if let Some(n) = self.sip_shards {
            if !(1..=engine::signalling::shards::MAX).contains(&n) {
                bail!("sip_shards: {n} is not between 1 and {}", engine::signalling::shards::MAX);
            }
            c.shards = n;
        }
        c.shard_key = self.sip_shard_key.map(|k| [k, 0]);
        c.limits.fd_reserve = self.fd_reserve;
        Ok(c)
    }

    /// The call limits: most live calls in all and per workspace (0: no
    /// limit).
    pub fn call_limits(&self) -> (usize, usize) {
        let per_workspace = self.quotas.as_ref().and_then(|q| q.0.get("calls").copied()).unwrap_or(0);
        (self.max_calls.unwrap_or(0), usize::try_from(per_workspace).unwrap_or(usize::MAX))
    }

    /// How long live calls get to end on shutdown.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_grace.unwrap_or(10).min(600))
    }

    /// The API's settings.
    pub fn api(&self) -> api::Settings {
        let d = api::Settings::default();
        let mut quotas = d.quotas.clone();
        if let Some(q) = &self.quotas {
            quotas.extend(q.0.clone());
        }
        api::Settings {
            rate_limit_per_minute: self.rate_limit.unwrap_or(d.rate_limit_per_minute),
            body_limit_bytes: self.body_limit.unwrap_or(d.body_limit_bytes),
            access_token_ttl_secs: self.access_token_ttl.unwrap_or(d.access_token_ttl_secs),
            refresh_token_ttl_secs: self.refresh_token_ttl.unwrap_or(d.refresh_token_ttl_secs),
            session_idle_secs: self.session_idle.unwrap_or(d.session_idle_secs),
            quotas,
            data_dir: self.data_dir.clone().unwrap_or(d.data_dir),
            secrets_key: self.secrets_key.clone(),
            time_zone: self.timezone.clone(),
            metrics_token: self.metrics_token.clone().filter(|t| !t.is_empty()),
            response_cache_bytes: self
                .response_cache
                .map_or(d.response_cache_bytes, |mib| mib.saturating_mul(1 << 20)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_file_keys_are_named() {
        let err = toml::from_str::<Settings>("http_addr = \"127.0.0.1:1\"\nhttp_adr = 1\n").unwrap_err();
        assert!(err.to_string().contains("http_adr"), "{err}");
        let err = toml::from_str::<Settings>("[quotas]\nagentz = 3\n").unwrap_err();
        assert!(err.to_string().contains("agentz"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: Settings =
            toml::from_str("rate_limit = 5\nbody_limit = 10\n[quotas]\nagents = 3\n").expect("toml");
        let cli = Settings { rate_limit: Some(7), ..Settings::default() };
        let s = cli.or(file).api();
        assert_eq!((s.rate_limit_per_minute, s.body_limit_bytes), (7, 10));
        assert_eq!((s.quota("agents"), s.quota("numbers")), (Some(3), Some(100)));
    }

    #[test]
    fn call_limits_come_from_the_flag_and_the_quota() {
        let file: Settings =
            toml::from_str("max_calls = 20\nfd_reserve = 500\n[quotas]\ncalls = 3\n").expect("toml");
        let s = Settings::default().or(file);
        assert_eq!(s.call_limits(), (20, 3));
        assert_eq!(s.sip().expect("sip").limits.fd_reserve, Some(500));
        assert_eq!(Settings::default().call_limits(), (0, 0));
        assert_eq!(parse_quotas("calls=5").map(|q| q.0.get("calls").copied()), Ok(Some(5)));
    }

    #[test]
    fn quota_lists_parse() {
        assert_eq!(parse_quotas("agents=2, numbers=3").map(|q| q.0.len()), Ok(2));
        assert!(parse_quotas("agents").is_err());
        assert!(parse_quotas("planets=1").is_err());
    }
}
