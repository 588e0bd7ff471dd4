//! `calliope`: the programmable voice platform in one binary.

mod config;
mod fdlimit;
#[cfg(not(target_env = "msvc"))]
mod heap;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{LogFormat, Settings};

/// jemalloc, with its background threads purging freed pages: after a
/// burst of calls the memory goes back to the system (the system
/// allocator kept what a burst had taken), and its per-thread caches cost
/// less CPU than the system allocator's arenas under load.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Calliope: a self-hostable programmable voice platform.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the API (and, as they arrive, SIP and media) until SIGINT or SIGTERM.
    Serve {
        /// A TOML file with any of the settings below (flags and
        /// environment variables take precedence).
        #[arg(long, env = "CALLIOPE_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
}

fn main() -> anyhow::Result<()> {
    let Command::Serve { config, settings } = Cli::parse().command;
    let settings = match &config {
        Some(path) => settings.or(Settings::from_file(path)?),
        None => settings,
    };
    init_logs(&settings);
    #[cfg(not(target_env = "msvc"))]
    heap::purge_promptly();
    settings.rtp_range()?;
    let fds = fdlimit::raise();
    let shown = |n: Option<u64>| n.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    tracing::info!(limit = %shown(fds.now), was = %shown(fds.was), hard = %shown(fds.hard), "file descriptor limit");
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    #[cfg(not(target_env = "msvc"))]
    runtime.on_thread_park(heap::hand_back_cache);
    runtime.build()?.block_on(serve(settings, fds.limit()))
}

/// Starts the channel-state pushes: each workspace's stored post-event
/// URL, and `url` (the configuration's) for the default workspace unless
/// one is stored for it.
async fn start_channel_state_push(
    state: &api::AppState,
    url: Option<&str>,
    secret: Option<&str>,
) -> anyhow::Result<()> {
    let stored =
        api::load_post_events(state).await.map_err(|e| anyhow::anyhow!("loading post-event URLs: {e:?}"))?;
    if let Some(url) = url {
        let url = url::Url::parse(url).with_context(|| format!("post_event_url `{url}`"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("post_event_url `{url}` must be an http or https URL");
        }
        let secret = secret
            .filter(|s| !s.is_empty())
            .context("post_event_url needs post_event_secret, which signs the pushes")?;
        let ws = api::service::identity::system_workspace_id(state)
            .await
            .map_err(|e| anyhow::anyhow!("finding the default workspace: {e}"))?
            .context("no default workspace")?;
        if state.post_events.get(ws).is_none() {
            let secret = engine::webhooks::Secret::from_text(secret);
            state.post_events.set(ws, Some(engine::webhooks::channel_state::PostTarget { url, secret }));
            tracing::info!(workspace = ws, "channel states are pushed to the configured post-event URL");
        }
    }
    let client = engine::webhooks::Client::new(engine::webhooks::Config::default())
        .map_err(|e| anyhow::anyhow!("the channel-state client: {e}"))?;
    engine::webhooks::channel_state::start(
        &state.bus,
        std::sync::Arc::new(client),
        state.post_events.clone(),
    );
    tracing::info!(stored, "channel-state pushes ready");
    Ok(())
}

/// Installs the Prometheus recorder that every crate's metrics go to, and
/// keeps its histograms trimmed and the heap gauges fresh (every 5 s;
/// when the heap falls, its freed pages are purged, see `heap::Settle`,
/// and `db`'s idle SQLite connections give their page caches back);
/// `None` (and a warning) if it cannot be.
fn install_metrics(db: store::Db) -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => {
            engine::metrics::describe();
            #[cfg(not(target_env = "msvc"))]
            heap::describe();
            let upkeep = handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
                #[cfg(not(target_env = "msvc"))]
                let mut settle = heap::Settle::default();
                loop {
                    every.tick().await;
                    upkeep.run_upkeep();
                    #[cfg(not(target_env = "msvc"))]
                    if heap::record().is_some_and(|allocated| settle.observe(allocated)) {
                        db.release_memory().await;
                    }
                }
            });
            Some(handle)
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off: the recorder could not be installed");
            None
        }
    }
}

fn init_logs(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(s.log_level.as_deref().unwrap_or("info"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match s.log_format.unwrap_or(LogFormat::Text) {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Runs the server; `fd_limit` is the process's descriptor limit (`None`:
/// unlimited), which new calls are admitted against.
async fn serve(s: Settings, fd_limit: Option<usize>) -> anyhow::Result<()> {
    let stop = shutdown()?;
    let settings = s.api();
    let db =
        store::Db::open(s.database_url.as_deref(), &settings.data_dir).await.context("opening the store")?;
    tracing::info!(backend = ?db.backend(), "store ready");
    let clock: Arc<dyn api::Clock> = Arc::new(api::SystemClock);
    let mut state = api::AppState::new(db.clone(), settings, clock.clone()).await?;
    state.edit().metrics = install_metrics(db.clone());

    let email = s.admin_email.as_deref().unwrap_or("admin@calliope.local");
    if let Some(made) = api::service::identity::bootstrap(&state, email, s.admin_password.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("creating the first workspace: {e}"))?
    {
        println!(
            "Created the workspace \"default\" (AccessKeyId {}) owned by {}.",
            made.access_key_id, made.email
        );
        if let Some(password) = made.generated_password {
            println!("The owner's password, shown this once: {password}");
        }
    }

    let (max_calls, per_workspace) = s.call_limits();
    state.calls.set_limits(max_calls, per_workspace);
    let mut sip_config = s.sip()?;
    sip_config.limits.fd_limit = fd_limit;
    sip_config.time_zone = state.routing.time_zone().clone();
    sip_config.recordings = Some(state.settings.data_dir.join("recordings"));
    let sip = engine::signalling::start(
        sip_config,
        db.clone(),
        state.sealer.clone(),
        state.bus.clone(),
        state.calls.clone(),
        clock,
    )
    .await?;
    let _ = state.sip.set(sip.switch.clone());
    // One routing cache for calls and the API's route query.
    state.edit().routing = sip.switch.routing.clone();
    // One set of conference rooms for calls and the API.
    state.edit().rooms = sip.switch.rooms.clone();
    let gateways = engine::trunks::start(sip.switch.clone(), state.sealer.clone());
    start_channel_state_push(&state, s.post_event_url.as_deref(), s.post_event_secret.as_deref()).await?;
    let _ = state.gateways.set(gateways.clone());

    let addr = s.http_addr.unwrap_or_else(|| ([0, 0, 0, 0], 8080).into());
    let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, "HTTP API listening");
    let (grpc_stop, grpc_stopped) = tokio::sync::oneshot::channel::<()>();
    let grpc = serve_grpc(s.grpc_addr, state.clone(), async move {
        let _ = grpc_stopped.await;
    })
    .await?;
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(api::server::serve(
        listener,
        api::router(state),
        api::server::Limits::default(),
        async move {
            let _ = http_stopped.await;
        },
    ));
    stop.await;
    // New calls get 503, live ones BYE; records and registrations are
    // written; then the API stops and the store closes.
    // Gateways unregister (Expires: 0) while the SIP side still runs.
    gateways.shutdown(s.shutdown_grace().min(std::time::Duration::from_secs(2))).await;
    sip.shutdown(s.shutdown_grace()).await;
    let _ = http_stop.send(());
    let _ = grpc_stop.send(());
    match http.await {
        Ok(result) => result?,
        Err(e) => tracing::warn!(error = %e, "the HTTP server task failed"),
    }
    if let Some(grpc) = grpc {
        match grpc.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the gRPC server failed"),
            Err(e) => tracing::warn!(error = %e, "the gRPC server task failed"),
            Ok(Ok(())) => {}
        }
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the gRPC API (and gRPC-Web) on `addr`. A configured address that
/// cannot be bound stops the start; the default one (`0.0.0.0:50051`) only
/// warns, so that a second instance or a busy port does not keep the rest
/// of the server down.
async fn serve_grpc(
    addr: Option<std::net::SocketAddr>,
    state: api::AppState,
    stopped: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Option<tokio::task::JoinHandle<Result<(), grpc::TransportError>>>> {
    let (addr, configured) = match addr {
        Some(a) => (a, true),
        None => (([0, 0, 0, 0], 50051).into(), false),
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if !configured => {
            tracing::warn!(%addr, error = %e, "the gRPC API is off: its default address is busy");
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("binding {addr} for gRPC")),
    };
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, "gRPC API listening");
    Ok(Some(tokio::spawn(grpc::serve(listener, state, stopped))))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed here, before
/// anything listens, so that a signal never meets the default action.
fn shutdown() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}
