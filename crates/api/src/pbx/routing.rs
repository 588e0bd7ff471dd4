//! Dial plan: route type dictionary, routes and their params, time
//! recurrences and templates, contexts, route codes and feature codes.

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
}
