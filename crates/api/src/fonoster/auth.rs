//! `POST /v1beta2/auth/{login,apikey,refresh}`.

use axum::extract::State;
use serde::Deserialize;

use crate::auth::flows::{self, Subject, TokenSet};
use crate::auth::ClientInfo;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct Login {
    username: String,
    password: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<Login>,
) -> Result<axum::Json<TokenSet>, ApiError> {
    client.limit(&state)?;
    let user = flows::check_password(&state, &client, &body.username, &body.password).await?;
    Ok(axum::Json(flows::issue(&state, Subject::User(&user), None).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApiKeyLogin {
    access_key_id: String,
    access_key_secret: String,
}

pub(super) async fn login_api_key(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<ApiKeyLogin>,
) -> Result<axum::Json<TokenSet>, ApiError> {
    client.limit(&state)?;
    Ok(axum::Json(flows::login_api_key(&state, &body.access_key_id, &body.access_key_secret).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Refresh {
    refresh_token: String,
}

pub(super) async fn refresh(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<Refresh>,
) -> Result<axum::Json<TokenSet>, ApiError> {
    client.limit(&state)?;
    Ok(axum::Json(flows::refresh(&state, &body.refresh_token).await?))
}
