//! The PBX dialect: `/api/...`, `X-XTRA-AUTH-ID`, `{code, message, data}`.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::auth::flows::{self, TokenKind};
use crate::auth::ClientInfo;
use crate::error::ApiError;
use crate::extract::Json as Body;
use crate::state::AppState;

/// The dialect's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/sessions", post(login))
}

#[derive(Deserialize)]
struct Login {
    login: String,
    password: String,
}

/// `POST /api/sessions`: a login token for `X-XTRA-AUTH-ID`.
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Body(body): Body<Login>,
) -> Result<axum::Json<Json>, ApiError> {
    client.limit(&state)?;
    let user = flows::check_password(&state, &body.login, &body.password).await?;
    let (token, _) = flows::open_token(&state, &user, None, TokenKind::Session, "pbx", 0, client.0).await?;
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": {"token": token}})))
}
