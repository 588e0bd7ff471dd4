//! The Vonage Applications v2 dialect: `/v2/applications`, HTTP Basic with
//! an API key, HAL lists, RFC 7807 errors.

mod applications;
mod capabilities;
mod keys;
mod links;

use crate::routes::{Api, Body, Reply};

/// What a create or update body holds.
const APPLICATION: Body = Body::Props(&[("name", "string"), ("capabilities", "object"), ("keys", "object")]);

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .get("/v2/applications", "List applications", applications::list)
        .reply(Reply::Schema(applications::page_schema))
        .post("/v2/applications", "Create an application", APPLICATION, applications::create)
        .reply(Reply::Status("201", applications::created_schema))
        .get("/v2/applications/{id}", "Get an application", applications::get)
        .reply(Reply::Schema(applications::schema))
        .put("/v2/applications/{id}", "Update an application", APPLICATION, applications::update)
        .reply(Reply::Schema(applications::schema))
        .delete("/v2/applications/{id}", "Delete an application", applications::delete)
        .reply(Reply::NoContent)
}
