//! The Fonoster v1beta2 dialect: `/v1beta2/...`, camelCase, refs,
//! `{items, nextPageToken}` lists and `{error:{code,message,details}}`.

mod apikeys;
mod auth;
mod calls;
mod place;
mod replies;
pub(crate) mod resources;
mod track;
mod users;
mod workspaces;

use store::schema::{API_KEYS, WORKSPACES};

use crate::input::Casing;
use crate::routes::{Api, Body, Reply};

const LOGIN: Body = Body::Props(&[("username", "string"), ("password", "string")]);
const API_KEY: Body = Body::Props(&[("accessKeyId", "string"), ("accessKeySecret", "string")]);
const REFRESH: Body = Body::Props(&[("refreshToken", "string")]);
const WORKSPACE: Body = Body::Fields(&WORKSPACES, &["name"], Casing::Camel);
const USER: Body =
    Body::Props(&[("name", "string"), ("email", "string"), ("password", "string"), ("avatar", "string")]);
const MEMBER: Body =
    Body::Props(&[("email", "string"), ("name", "string"), ("role", "string"), ("password", "string")]);
const NEW_CALL: Body =
    Body::Props(&[("from", "string"), ("to", "string"), ("appRef", "string"), ("timeout", "integer")]);
const ROLE: Body = Body::Props(&[("role", "string"), ("expiresAt", "integer")]);

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .post("/v1beta2/auth/login", "Log in with a username and password", LOGIN, auth::login)
        .public()
        .reply(Reply::Schema(replies::tokens))
        .post("/v1beta2/auth/apikey", "Log in with an API key", API_KEY, auth::login_api_key)
        .public()
        .reply(Reply::Schema(replies::tokens))
        .post("/v1beta2/auth/refresh", "Exchange a refresh token", REFRESH, auth::refresh)
        .public()
        .reply(Reply::Schema(replies::tokens))
        .get("/v1beta2/workspaces", "List your workspaces", workspaces::list)
        .reply(Reply::Schema(replies::workspaces))
        .post("/v1beta2/workspaces", "Create a workspace", WORKSPACE, workspaces::create)
        .reply(Reply::Status("201", replies::workspace))
        .get("/v1beta2/workspaces/{ref}", "Get a workspace", workspaces::get)
        .reply(Reply::Schema(replies::workspace))
        .put("/v1beta2/workspaces/{ref}", "Rename a workspace", WORKSPACE, workspaces::update)
        .reply(Reply::Schema(replies::workspace))
        .delete("/v1beta2/workspaces/{ref}", "Delete a workspace", workspaces::delete)
        .reply(Reply::Schema(replies::deleted))
        .get("/v1beta2/workspaces/{ref}/members", "List a workspace's members", workspaces::members)
        .reply(Reply::Schema(replies::members))
        .post("/v1beta2/workspaces/{ref}/members", "Add a member", MEMBER, workspaces::invite)
        .reply(Reply::Status("201", replies::member))
        .delete("/v1beta2/workspaces/{ref}/members/{user_ref}", "Remove a member", workspaces::remove)
        .reply(Reply::Schema(replies::removed_member))
        .post("/v1beta2/users", "Create a user in your workspace", USER, users::create)
        .reply(Reply::Status("201", replies::user))
        .get("/v1beta2/users/{ref}", "Get a user", users::get)
        .reply(Reply::Schema(replies::user))
        .put("/v1beta2/users/{ref}", "Update yourself", USER, users::update)
        .reply(Reply::Schema(replies::user))
        .delete("/v1beta2/users/{ref}", "Delete yourself", users::delete)
        .reply(Reply::Schema(replies::deleted))
        .get("/v1beta2/apikeys", "List API keys", apikeys::list)
        .reply(Reply::Page(&API_KEYS))
        .post("/v1beta2/apikeys", "Create an API key", ROLE, apikeys::create)
        .reply(Reply::Status("201", replies::key_with_secret))
        .get("/v1beta2/apikeys/{ref}", "Get an API key", apikeys::get)
        .reply(Reply::Record(&API_KEYS))
        .delete("/v1beta2/apikeys/{ref}", "Delete an API key", apikeys::delete)
        .reply(Reply::Schema(replies::deleted))
        .post(
            "/v1beta2/apikeys/{ref}/regenerate",
            "Regenerate an API key's secret",
            Body::None,
            apikeys::regenerate,
        )
        .reply(Reply::Schema(replies::key_with_secret))
        .get("/v1beta2/calls", "List calls", calls::list)
        .reply(Reply::Schema(replies::calls))
        .get("/v1beta2/calls/{ref}", "Get a call", calls::get)
        .reply(Reply::Schema(replies::call))
        .delete("/v1beta2/calls/{ref}", "Delete a finished call and its recordings", calls::delete)
        .reply(Reply::Changed)
        .post("/v1beta2/calls", "Place a call", NEW_CALL, place::create)
        .reply(Reply::Schema(replies::placed))
        .get("/v1beta2/calls/{ref}/track", "Track a call's statuses (server-sent events)", track::track)
        .reply(Reply::Schema(replies::track))
        .merge(resources::routes())
}
