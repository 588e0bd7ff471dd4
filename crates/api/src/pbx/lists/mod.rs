//! Black/white lists and their numbers (with imports), the IP blacklist
//! and number translation tables.

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
}
