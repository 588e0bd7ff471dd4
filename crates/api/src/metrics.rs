//! `GET /metrics`: the server's figures in the Prometheus text format
//! (families named in `engine::metrics`), and the count of HTTP requests
//! by status.
//!
//! The figures say how busy the server is, so they are not public: with
//! `metrics_token` set, a scraper sends it as a bearer token; without
//! one, only the local host may read them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorKind};
use crate::AppState;

/// The Prometheus text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders the metrics, to a scraper allowed to read them.
pub async fn render(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let Some(handle) = state.metrics.as_ref() else {
        return Err(ApiError::new(ErrorKind::NotFound, "metrics are not enabled on this server"));
    };
    allowed(&state, &req)?;
    engine::metrics::calls_live(state.calls.calls(), state.calls.len());
    Ok(([(CONTENT_TYPE, TEXT_FORMAT)], handle.render()).into_response())
}

fn allowed(state: &AppState, req: &Request) -> Result<(), ApiError> {
    match state.settings.metrics_token.as_deref() {
        Some(token) => {
            let sent = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
                Ok(())
            } else {
                Err(ApiError::unauthenticated("a bearer token for the metrics is required"))
            }
        }
        None => {
            let local = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
            if local {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    "metrics are served to the local host only unless a metrics token is configured",
                ))
            }
        }
    }
}

/// Counts every answered request by its status.
pub async fn count(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    metrics::counter!(engine::metrics::HTTP_REQUESTS, "status" => status_label(response.status().as_u16()))
        .increment(1);
    response
}

/// The status as a label, without allocating for the common ones.
fn status_label(status: u16) -> std::borrow::Cow<'static, str> {
    let common = match status {
        200 => "200",
        201 => "201",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => return status.to_string().into(),
    };
    common.into()
}
