//! The SIP side of the switch: transports, the registrar, digest
//! authentication, and the dispatch of requests to what handles them.

pub mod auth;
pub mod bans;
pub mod core;
pub mod datagrams;
pub mod limits;
pub mod registrar;
pub mod shards;
pub mod transport;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sip::digest::{AuthConfig, Authenticator};
use store::schema::IP_RULES;
use store::{Db, Scope};

use crate::accounts::Accounts;
use crate::calls::{Registry, Writer};
use crate::clock::Clock;
use crate::events::{Bus, Event};
use crate::ipblock::Rule;
use crate::location::Location;
use crate::relay::PortPool;
use crate::secrets::Sealer;
use transport::{Blacklist, Transports};

/// How the SIP side behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen, UDP and TCP.
    pub addr: SocketAddr,
    /// The address put in Contact, Via and SDP; the bound one by default.
    pub public_ip: Option<IpAddr>,
    /// The digest realm.
    pub realm: String,
    /// How long a nonce stays fresh.
    pub nonce_lifetime: Duration,
    /// How many of the nonces issued last have their nonce-counts checked
    /// (a table of four bytes per slot, allocated at start); an older nonce
    /// is stale and challenged anew.
    pub nonce_slots: usize,
    /// The digest algorithms offered, preferred first.
    pub digest_algorithms: Vec<sip::digest::Algorithm>,
    /// Registration lifetime when the REGISTER names none, in seconds.
    pub default_expires: u32,
    /// Shortest registration accepted (423 below it), in seconds.
    pub min_expires: u32,
    /// Longest registration granted, in seconds.
    pub max_expires: u32,
    /// The RTP port range.
    pub rtp_ports: (u16, u16),
    /// A call with no RTP in either direction for this long is ended.
    pub rtp_timeout: Duration,
    /// How long a callee may ring before the call is given up.
    pub ring_timeout: Duration,
    /// Caps on connections, queues, contacts and digest failures.
    pub limits: limits::Limits,
    /// Other names of this server (domains) that a digest `uri` may name,
    /// besides its addresses and the realm.
    pub domains: Vec<String>,
    /// The time zone routes' time windows are read in.
    pub time_zone: jiff::tz::TimeZone,
    /// Where recordings go, one folder per workspace (`auto_record`).
    pub recordings: Option<std::path::PathBuf>,
    /// The caps on every voicemail box.
    pub voicemail: crate::voicemail::Limits,
    /// How many switch loops share the transactions, by Call-ID (1 to
    /// [`shards::MAX`]; one a core by default).
    pub shards: usize,
    /// The key of the hash that maps Call-IDs to shards: random when not
    /// given ([`shards::Picker::keyed`]).
    pub shard_key: Option<[u64; 2]>,
}

impl Config {
    /// Defaults around `addr`.
    pub fn new(addr: SocketAddr) -> Config {
        Config {
            addr,
            public_ip: None,
            realm: "calliope".into(),
            nonce_lifetime: Duration::from_secs(300),
            nonce_slots: sip::digest::AuthConfig::default().nonce_slots,
            digest_algorithms: vec![sip::digest::Algorithm::Md5, sip::digest::Algorithm::Sha256],
            default_expires: 3600,
            min_expires: 60,
            max_expires: 7200,
            rtp_ports: (10_000, 20_000),
            rtp_timeout: Duration::from_secs(60),
            ring_timeout: crate::calls::call::RING_TIMEOUT,
            limits: limits::Limits::default(),
            domains: Vec::new(),
            time_zone: jiff::tz::TimeZone::system(),
            recordings: None,
            voicemail: crate::voicemail::Limits::default(),
            shards: shards::default_count(),
            shard_key: None,
        }
    }
}

/// What every part of the SIP side shares.
#[derive(Debug)]
pub struct Switch {
    /// The configuration.
    pub config: Config,
    /// The store.
    pub db: Db,
    /// Agents' SIP accounts.
    pub accounts: Accounts,
    /// Where registered agents are.
    pub location: Location,
    /// Digest challenges and verification.
    pub auth: Mutex<Authenticator>,
    /// Events out.
    pub bus: Bus,
    /// The sockets.
    pub transports: Arc<Transports>,
    /// The IP blacklist the sockets apply.
    pub blacklist: Arc<Blacklist>,
    /// RTP ports for calls.
    pub ports: Arc<PortPool>,
    /// Live calls and legs, with the call limits.
    pub calls: Arc<Registry>,
    /// Writes call records.
    pub cdrs: Writer,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The switch loops' commands, each to its shard; a task names its
    /// request's client transaction ([`shards::Cores::client_id`],
    /// [`core::Cmd::Send`]) without waiting for a loop.
    pub core: shards::Cores,
    /// Room for REGISTERs being worked on (`limits.registers_in_flight`).
    pub registers: tokio::sync::Semaphore,
    /// The routing snapshots and the index of trunks by source, shared
    /// with the API (`AppState.routing`).
    pub routing: Arc<crate::router::SnapshotCache>,
    /// Opens stored secrets (trunks' inbound credentials).
    pub sealer: Arc<Sealer>,
    /// Calls out through gateways and trunks (round-robin counters).
    pub egress: crate::egress::Egress,
    /// What calls running a program share (webhook client, signing
    /// secrets, speech engines, audio cache).
    pub apps: Arc<crate::calls::call::Apps>,
    /// The running conference rooms, shared with the API
    /// (`AppState.rooms`).
    pub rooms: crate::conference::Rooms,
    /// Phones watching their agent's mailbox (RFC 3842).
    pub mwi: crate::voicemail::Mwi,
}

/// Why the SIP side could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The sockets could not be bound.
    #[error("cannot listen for SIP on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Switch {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.clock.now().max(0) as u64
    }

    /// A fresh tag for To/From.
    pub fn tag(&self) -> String {
        hex::encode(rand::random::<[u8; 6]>())
    }

    /// Publishes an event.
    pub fn publish(&self, event: Event) {
        self.bus.publish(event);
    }

    /// The address others should reach us at.
    pub fn advertised(&self) -> SocketAddr {
        let local = self.transports.local_addr();
        SocketAddr::new(self.config.public_ip.unwrap_or(local.ip()), local.port())
    }

    /// Reloads the IP blacklist from the store.
    pub async fn reload_blacklist(&self) -> Result<(), store::StoreError> {
        let rows = self.db.list(&IP_RULES, Scope::Global, &store::Query::default()).await?.records;
        let rules = rows
            .iter()
            .filter_map(|r| {
                let port = r.int("target_port").filter(|p| *p > 0).map(|p| p.to_string());
                Rule::parse(r.text("target_ip"), port.as_deref(), r.text("target_protocol")).ok()
            })
            .collect();
        self.blacklist.set(rules);
        Ok(())
    }
}

/// A running SIP side.
#[derive(Debug, Clone)]
pub struct SipHandle {
    /// The shared state, for the API (live registrations, config changes).
    pub switch: Arc<Switch>,
}

impl SipHandle {
    /// Stops gracefully: new calls get 503 from now on, every live call is
    /// hung up (BYE on each leg; CANCEL or a final response while ringing)
    /// within `grace`, then the call records and registrations still
    /// queued are written.
    pub async fn shutdown(&self, grace: Duration) {
        let sw = &self.switch;
        let live = sw.calls.calls();
        let left = sw.calls.drain(grace).await;
        tracing::info!(calls = live, left, "calls ended for shutdown");
        sw.cdrs.close().await;
        tracing::info!(
            written = sw.cdrs.written(),
            lost = sw.cdrs.lost(),
            registrations = sw.cdrs.registrations(),
            "call records and registrations written"
        );
    }
}

/// Binds the SIP sockets and starts serving.
pub async fn start(
    config: Config,
    db: Db,
    sealer: Arc<Sealer>,
    bus: Bus,
    calls: Arc<Registry>,
    clock: Arc<dyn Clock>,
) -> Result<SipHandle, StartError> {
    let secret = db.setting_or_insert("sip_nonce_key", &hex::encode(rand::random::<[u8; 32]>())).await?;
    let auth_config = AuthConfig {
        nonce_lifetime_ms: config.nonce_lifetime.as_millis() as u64,
        nonce_slots: config.nonce_slots,
        // Nonces from before a restart are stale: their counts are gone.
        epoch: rand::random(),
        algorithms: config.digest_algorithms.clone(),
    };
    let auth = Authenticator::new(&config.realm, secret.as_bytes(), auth_config);
    let location = Location::load(db.clone(), clock.now()).await?;
    let blacklist = Arc::new(Blacklist::new(&config.limits));
    let picker = match config.shard_key {
        Some(key) => shards::Picker::keyed(config.shards, key),
        None => shards::Picker::new(config.shards),
    };
    let (transports, inbound) =
        Transports::bind(config.addr, blacklist.clone(), config.limits.clone(), picker.clone())
            .await
            .map_err(|e| StartError::Bind(config.addr, e))?;
    tracing::info!(addr = %transports.local_addr(), shards = picker.count(), "SIP listening on UDP and TCP");
    let n = picker.count();
    let ids: Vec<_> = (0..n).map(|s| sip::transaction::TxIds::sharded(s, n)).collect();
    let (cmds, cmd_rx): (Vec<_>, Vec<_>) = (0..n).map(|_| tokio::sync::mpsc::unbounded_channel()).unzip();
    let cores = shards::Cores::new(picker, cmds, ids.clone());
    let db_for_cdrs = db.clone();
    let backlog = location.backlog();
    let routing = Arc::new(crate::router::SnapshotCache::new(config.time_zone.clone(), &bus));
    // The data dir is where recordings' folder is (`<data>/recordings`).
    let data_dir = config.recordings.as_ref().and_then(|r| r.parent()).map(std::path::Path::to_path_buf);
    let apps = Arc::new(crate::calls::call::Apps::new(data_dir.as_deref()));
    let rooms = crate::conference::Rooms::new(bus.clone(), crate::conference::RoomsConfig::default());
    let switch = Arc::new(Switch {
        apps,
        rooms,
        accounts: Accounts::new(db.clone(), sealer.clone(), Duration::from_secs(30)),
        egress: crate::egress::Egress::new(db.clone(), sealer.clone()),
        sealer,
        routing,
        db,
        location,
        auth: Mutex::new(auth),
        bus,
        ports: PortPool::new(config.rtp_ports.0, config.rtp_ports.1),
        registers: tokio::sync::Semaphore::new(config.limits.registers_in_flight.max(1)),
        config,
        transports,
        blacklist,
        cdrs: Writer::start(db_for_cdrs, crate::calls::cdr::writer::QUEUE, Some(backlog)),
        calls,
        clock,
        core: cores,
        mwi: crate::voicemail::Mwi::default(),
    });
    switch.reload_blacklist().await?;
    guard_descriptors(&switch);
    switch.calls.guard_records(switch.cdrs.behind());
    let calls = shards::CallTables::new(n);
    for (shard, ((inbound, cmds), ids)) in inbound.into_iter().zip(cmd_rx).zip(ids).enumerate() {
        let shard = core::Shard { shard, inbound, cmds, ids, calls: calls.clone() };
        tokio::spawn(core::run(switch.clone(), shard, crate::calls::call::start));
    }
    tokio::spawn(sweep(switch.clone()));
    tokio::spawn(refresh_accounts(switch.clone()));
    tokio::spawn(follow_config(switch.clone()));
    Ok(SipHandle { switch })
}

/// Has new calls refused while too few file descriptors are left, when
/// the limit is known.
fn guard_descriptors(sw: &Switch) {
    let Some(limit) = sw.config.limits.fd_limit else { return };
    let reserve =
        sw.config.limits.fd_reserve.unwrap_or_else(|| crate::calls::descriptors::default_reserve(limit));
    let budget = Arc::new(crate::calls::Descriptors::new(limit, reserve, sw.ports.clone()));
    let room = limit.saturating_sub(budget.in_use(0) + reserve) / crate::calls::descriptors::PER_CALL;
    if room == 0 {
        tracing::warn!(
            limit,
            reserve,
            in_use = budget.in_use(0),
            "too few file descriptors: every call will be refused"
        );
    } else {
        tracing::info!(
            limit,
            reserve,
            in_use = budget.in_use(0),
            calls = room,
            "file descriptors: room for about this many calls"
        );
    }
    crate::calls::descriptors::watch(&sw.calls, budget.clone());
    sw.calls.guard_descriptors(budget);
}

/// The methods Calliope answers.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, REFER, NOTIFY, SUBSCRIBE";

/// Drops lapsed registrations every few seconds and says so; lets the
/// routing cache read the events published since its last lookup.
async fn sweep(sw: Arc<Switch>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        sw.ports.tidy();
        sw.routing.follow();
        let now = sw.now_ms() as i64;
        for b in sw.location.sweep(now) {
            if !sw.location.is_registered(b.agent_id, now) {
                let data =
                    serde_json::json!({"agentId": b.agent_id, "contacts": [b.contact], "reason": "expired"});
                sw.publish(Event { name: "agent.unregistered", workspace_id: b.workspace_id, at: now, data });
            }
        }
    }
}

/// Reloads the digest accounts in use before they expire (see
/// [`Accounts::refresh_ahead`]).
async fn refresh_accounts(sw: Arc<Switch>) {
    let mut tick = tokio::time::interval(sw.accounts.refresh_period().max(Duration::from_millis(100)));
    loop {
        tick.tick().await;
        if let Err(e) = sw.accounts.refresh_ahead().await {
            tracing::warn!(error = %e, "could not reload digest accounts ahead of their expiry");
        }
    }
}

/// Clears caches and reloads the blacklist when the configuration changes,
/// and also when events were missed (one of them may have been a change).
async fn follow_config(sw: Arc<Switch>) {
    let mut events = sw.bus.config_changes();
    loop {
        match events.recv().await {
            Ok(e) if e.name == CONFIG_CHANGED => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(missed = n, "events missed: reloading the configuration");
            }
            Ok(_) => continue,
            Err(_) => return,
        }
        sw.accounts.invalidate();
        if let Err(e) = sw.reload_blacklist().await {
            tracing::warn!(error = %e, "could not reload the IP blacklist");
        }
    }
}

/// The event the API publishes after any configuration write.
pub const CONFIG_CHANGED: &str = "config.changed";
