//! The Vonage Applications v2 dialect: `/v2/...`, HTTP Basic with an API
//! key, RFC 7807 errors. Its resources arrive with the configuration API.

use axum::Router;

use crate::state::AppState;

/// The dialect's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
