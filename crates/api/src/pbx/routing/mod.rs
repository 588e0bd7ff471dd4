//! Dial plan: route type dictionary, routes and their params, time
//! recurrences and templates, contexts, route codes and feature codes.

mod batch;
mod codes;
mod contexts;
mod dest;
mod dialplan;
mod dicts;
mod matching;
mod params;
mod recurrences;
mod rows;
mod templates;

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
        .merge(dicts::routes())
        .merge(matching::routes())
        .merge(batch::routes())
        .merge(dialplan::routes())
        .merge(params::routes())
        .merge(recurrences::routes())
        .merge(templates::routes())
        .merge(contexts::routes())
        .merge(codes::routes())
}
