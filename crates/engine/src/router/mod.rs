//! The router: where a call goes, decided by one pure function over an
//! in-memory snapshot of a workspace's routing configuration.
//!
//! [`Snapshot`] holds what routing reads (routes per context in a prefix
//! index, numbers, agents, lists, time windows and templates, translation
//! tables, trunks, groups, gateways, DOD numbers, route codes), built from
//! [`Tables`] of store records; [`SnapshotCache`] keeps one per workspace
//! and drops them when the configuration changes. [`route`] decides a
//! [`Plan`] for an [`Inbound`] call at a given time; the call engine and
//! `GET /api/routes?destNumber=..&context=..` both call it, so the route
//! test and a real call cannot disagree. What it chose where the seed is
//! silent is in `docs/dialplan.md`.

pub mod address;
mod cache;
mod classify;
pub mod features;
mod plan;
pub mod policies;
mod prefix;
mod route;
pub mod select;
mod snapshot;
mod sources;
mod translate;
mod trunks;

pub use cache::SnapshotCache;
pub use classify::{Matched, TrunkSource};
pub use plan::{Extension, Feature, Inbound, Plan, Reject, Ring, Routed, Source, Target};
pub use prefix::{PrefixMap, PrefixSet};
pub use route::{route, MAX_HOPS};
pub use snapshot::{
    Acl, Agent, Dest, Dod, Gateway, Group, List, Member, Number, Route, Snapshot, Strategy, Tables, Trunk,
    Window,
};
pub use sources::{SourceIndex, SourceMatch, TrunkCredentials};
pub use translate::{Rewrite, Table};
pub use trunks::pick_members;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_features;
