//! Calliope's HTTP API. One module per dialect (Fonoster, PBX, Vonage,
//! VoIPstudio), each a thin mapping of its wire format onto the shared
//! machinery: authentication, input validation, views, lists and errors.

pub mod auth;
pub mod clock;
pub mod crud;
pub mod dialect;
pub mod error;
pub mod events;
pub mod extract;
mod fonoster;
pub mod input;
pub mod list;
pub mod metrics;
pub mod openapi;
mod pbx;
pub mod ratelimit;
pub mod responses;
pub mod routes;
pub mod server;
pub mod service;
pub mod settings;
pub mod state;
pub mod view;
mod voipstudio;
mod vonage;

use axum::extract::State;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use dialect::Dialect;
pub use error::ApiError;
pub use pbx::post_events::load as load_post_events;
pub use settings::Settings;
pub use state::AppState;

use crate::error::ErrorKind;

/// Every dialect's routes and `/healthz`, with errors rendered in the
/// dialect of the path they were asked on.
pub fn router(state: AppState) -> axum::Router {
    let body_limit = state.settings.body_limit_bytes;
    let (routes, doc) = api().finish();
    let doc = std::sync::Arc::new(doc);
    routes
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/openapi.json", get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/events", get(events::stream).layer(from_fn(events::query_credentials)))
        .route("/metrics", get(metrics::render))
        .fallback(|| async { ApiError::new(ErrorKind::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorKind::MethodNotAllowed, "method not allowed")
        })
        .layer(from_fn_with_state(state.clone(), announce_changes))
        .layer(from_fn(render_errors))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            ApiError::new(ErrorKind::Internal, "internal error").into_response()
        }))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .layer(from_fn(metrics::count))
        .with_state(state)
}

/// Every documented endpoint of every dialect.
pub fn api() -> routes::Api {
    routes::Api::new()
        .merge(fonoster::routes())
        .merge(pbx::routes())
        .merge(vonage::routes())
        .merge(voipstudio::routes())
}

/// Tells the switch that the configuration changed after every successful
/// write, so that it drops what it cached.
async fn announce_changes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let write = req.method() != axum::http::Method::GET;
    let response = next.run(req).await;
    if write && response.status().is_success() {
        state.callers.clear();
        state.bus.publish(engine::events::Event {
            name: engine::signalling::CONFIG_CHANGED,
            workspace_id: 0,
            at: state.now(),
            data: serde_json::Value::Null,
        });
    }
    response
}

async fn render_errors(req: Request, next: Next) -> Response {
    let dialect = Dialect::for_path(req.uri().path());
    dialect.rerender(next.run(req).await).await
}
