//! Calliope's records and how they are kept: one generic repository over
//! SQLite (the default) or PostgreSQL, the schema and its migrations, and
//! the identity queries that authentication needs.
//!
//! Resources are described once ([`Resource`]) and stored, listed, filtered,
//! paged and checked for references by the same code for every table. This
//! crate knows nothing of HTTP or SIP; time comes in as an argument.

mod db;
mod error;
pub mod identity;
mod memory;
mod migrate;
mod query;
mod repo;
mod resource;
pub mod schema;
mod settings;
#[cfg(test)]
mod test_pg;
mod tx;
mod uuids;
mod value;
mod writes;

pub use db::{Backend, Db};
pub use error::StoreError;
pub use migrate::{latest_version, MIGRATIONS};
pub use query::{Filter, Op, Operand, Order, Page, Query};
pub use repo::{Change, Key, Step, Target};
pub use resource::{Column, Field, Kind, Link, Resource, Scope};
pub use uuids::new_uuid;
pub use value::{given, Record, Value, Values};
pub use writes::Stamp;

/// Milliseconds since the Unix epoch: how every time is stored.
pub type Millis = i64;
