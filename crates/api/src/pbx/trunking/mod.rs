//! Trunks (with import), trunk groups and their status, DID hotlines
//! and DOD numbers (with import).

mod dods;
mod groups;
mod hotlines;
mod members;
mod trunks;

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new().merge(trunks::routes()).merge(groups::routes()).merge(hotlines::routes()).merge(dods::routes())
}
