//! The Fonoster configuration resources: applications, numbers, agents,
//! domains, trunks, credentials, ACLs and secrets.

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new()
}
