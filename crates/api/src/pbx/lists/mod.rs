//! Black/white lists and their numbers (with imports), and the IP
//! blacklist.

mod blacklists;
mod iptables;
mod numbers;

use crate::routes::Api;

/// Their routes.
pub fn routes() -> Api {
    Api::new().merge(blacklists::routes()).merge(numbers::routes()).merge(iptables::routes())
}
