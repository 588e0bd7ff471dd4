//! Trunks (with import), trunk groups and their status, DID hotlines
//! and DOD numbers (with import).

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
}
