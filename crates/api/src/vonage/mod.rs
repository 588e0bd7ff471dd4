//! The Vonage Applications v2 dialect: `/v2/applications`, HTTP Basic with
//! an API key, HAL lists, RFC 7807 errors.

use crate::routes::Api;

/// The dialect's routes.
pub fn routes() -> Api {
    Api::new()
}
