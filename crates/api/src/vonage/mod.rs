//! The Vonage Applications v2 dialect: `/v2/applications`, HTTP Basic with
//! an API key, HAL lists, RFC 7807 errors.

mod applications;
mod capabilities;
mod keys;

use crate::routes::{Api, Body};

/// What a create or update body holds.
const APPLICATION: Body = Body::Props(&[("name", "string"), ("capabilities", "object"), ("keys", "object")]);

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
        .get("/v2/applications", "List applications", applications::list)
        .post("/v2/applications", "Create an application", APPLICATION, applications::create)
        .get("/v2/applications/{id}", "Get an application", applications::get)
        .put("/v2/applications/{id}", "Update an application", APPLICATION, applications::update)
        .delete("/v2/applications/{id}", "Delete an application", applications::delete)
}
