//! The PBX dialect: `/api/...`, `X-XTRA-AUTH-ID`, `{code, message, data}`.

mod cdrs;
mod channels;
mod check;
mod checked;
mod conferences;
mod import;
mod lists;
mod menus;
pub mod post_events;
pub(crate) mod recordings;
mod replies;
mod routing;
mod trunking;
mod voicemail;

use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::auth::flows::{self, TokenKind};
use crate::auth::ClientInfo;
use crate::error::ApiError;
use crate::extract::Json as JsonBody;
use crate::routes::{Api, Body, Reply};
use crate::state::AppState;

const LOGIN: Body = Body::Props(&[("login", "string"), ("password", "string")]);

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .post("/api/sessions", "Log in for an X-XTRA-AUTH-ID token", LOGIN, login)
        .reply(Reply::Schema(crate::pbx::replies::login))
        .public()
        .merge(cdrs::routes())
        .merge(channels::routes())
        .merge(routing::routes())
        .merge(menus::routes())
        .merge(lists::routes())
        .merge(trunking::routes())
        .merge(conferences::routes())
        .merge(recordings::routes())
        .merge(post_events::routes())
        .merge(voicemail::routes())
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
    JsonBody(body): JsonBody<Login>,
) -> Result<axum::Json<Json>, ApiError> {
    client.limit(&state)?;
    let user = flows::check_password(&state, &client, &body.login, &body.password).await?;
    let (token, _) = flows::open_token(&state, &user, None, TokenKind::Session, "pbx", 0, client.0).await?;
    Ok(axum::Json(json!({"code": 200, "message": "success", "data": {"token": token}})))
}
