//! The Fonoster v1beta2 dialect: `/v1beta2/...`, camelCase, refs,
//! `{items, nextPageToken}` lists and `{error:{code,message,details}}`.

mod apikeys;
mod auth;
mod users;
mod workspaces;

use axum::routing::{delete, get, post};
use axum::Router;

use crate::state::AppState;

/// The dialect's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1beta2/auth/login", post(auth::login))
        .route("/v1beta2/auth/apikey", post(auth::login_api_key))
        .route("/v1beta2/auth/refresh", post(auth::refresh))
        .route("/v1beta2/workspaces", get(workspaces::list).post(workspaces::create))
        .route(
            "/v1beta2/workspaces/{ref}",
            get(workspaces::get).put(workspaces::update).delete(workspaces::delete),
        )
        .route("/v1beta2/workspaces/{ref}/members", get(workspaces::members).post(workspaces::invite))
        .route("/v1beta2/workspaces/{ref}/members/{user_ref}", delete(workspaces::remove))
        .route("/v1beta2/users", post(users::create))
        .route("/v1beta2/users/{ref}", get(users::get).put(users::update).delete(users::delete))
        .route("/v1beta2/apikeys", get(apikeys::list).post(apikeys::create))
        .route("/v1beta2/apikeys/{ref}", get(apikeys::get).delete(apikeys::delete))
        .route("/v1beta2/apikeys/{ref}/regenerate", post(apikeys::regenerate))
}
