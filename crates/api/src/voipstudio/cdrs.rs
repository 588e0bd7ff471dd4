//! `GET /v1.2/voipstudio/cdrs`: call records with pager, filter and
//! group_by.

use crate::routes::Api;

/// Its routes.
pub fn routes() -> Api {
    Api::new()
}
