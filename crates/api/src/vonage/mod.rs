//! The Vonage dialect: Applications v2 (`/v2/applications`, HTTP Basic
//! with an API key, HAL lists, RFC 7807 errors) and the Voice API's call
//! control (`/v1/calls`, an application's RS256 JWT).

mod applications;
mod call_control;
mod call_program;
mod call_schemas;
mod calls;
mod capabilities;
pub mod jwt;
mod keys;
mod links;

use crate::routes::{Api, Body, Reply};

/// What a create or update body holds.
const APPLICATION: Body = Body::Props(&[("name", "string"), ("capabilities", "object"), ("keys", "object")]);

/// A Voice API request body (read by each handler).
const ANY: Body = Body::Any;

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .get("/v1/calls", "List calls", calls::list)
        .reply(Reply::Schema(call_schemas::list_schema))
        .post("/v1/calls", "Place a call", ANY, calls::create)
        .reply(Reply::Status("201", call_schemas::created_schema))
        .get("/v1/calls/{uuid}", "Get a call", calls::get)
        .reply(Reply::Schema(call_schemas::call_schema))
        .put("/v1/calls/{uuid}", "Modify a live call", ANY, call_control::modify)
        .reply(Reply::NoContent)
        .put("/v1/calls/{uuid}/dtmf", "Send DTMF into a call", ANY, call_control::dtmf)
        .reply(Reply::Schema(call_schemas::dtmf_schema))
        .put("/v1/calls/{uuid}/talk", "Speak text into a call", ANY, call_control::talk)
        .reply(Reply::Schema(call_schemas::dtmf_schema))
        .delete("/v1/calls/{uuid}/talk", "Stop speaking into a call", call_control::stop_talk)
        .reply(Reply::Schema(call_schemas::dtmf_schema))
        .put("/v1/calls/{uuid}/stream", "Play audio into a call", ANY, call_control::stream)
        .reply(Reply::Schema(call_schemas::dtmf_schema))
        .delete("/v1/calls/{uuid}/stream", "Stop playing audio into a call", call_control::stop_stream)
        .reply(Reply::Schema(call_schemas::dtmf_schema))
        .get("/v2/applications", "List applications", applications::list)
        .reply(Reply::Schema(applications::page_schema))
        .post("/v2/applications", "Create an application", APPLICATION, applications::create)
        .reply(Reply::Status("201", applications::created_schema))
        .get("/v2/applications/{id}", "Get an application", applications::get)
        .reply(Reply::Schema(applications::schema))
        .get(
            "/v2/applications/{id}/webhook-secret",
            "Get the secret that signs an application's webhooks",
            applications::webhook_secret,
        )
        .reply(Reply::Schema(applications::secret_schema))
        .put("/v2/applications/{id}", "Update an application", APPLICATION, applications::update)
        .reply(Reply::Schema(applications::schema))
        .delete("/v2/applications/{id}", "Delete an application", applications::delete)
        .reply(Reply::NoContent)
}
