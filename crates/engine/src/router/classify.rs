//! Who is calling, the pure part: which trunk a source address belongs to.
//!
//! Precedence (what the call engine does with it, `docs/dialplan.md`): an
//! INVITE that carries digest credentials of an agent is the agent's call;
//! otherwise its source is looked up here: a trunk whose `remote_addr` or
//! inbound URI names that address and port, then one that names the
//! address without a port, then a trunk whose ACL allows the address.
//! Nothing found: the engine challenges or answers 403.

use std::net::SocketAddr;

use super::snapshot::Snapshot;

/// How a source matched a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// Its address and port.
    AddressAndPort,
    /// Its address, the trunk naming no port.
    Address,
    /// The trunk's ACL.
    Acl,
}

/// A source address classified as a trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkSource {
    /// The trunk.
    pub trunk_id: i64,
    /// The context its calls are routed in (`source`).
    pub context: String,
    /// How it matched.
    pub matched: Matched,
}

impl Snapshot {
    /// The enabled trunk that `source` belongs to, if any. Host names in a
    /// trunk's address are not resolved here and match nothing.
    pub fn trunk_for(&self, source: SocketAddr) -> Option<TrunkSource> {
        let ip = source.ip().to_canonical();
        let found = self.trunk_addrs.get(&ip).and_then(|at| {
            at.iter().find_map(|(port, id)| match port {
                Some(p) if *p == source.port() => Some((*id, Matched::AddressAndPort)),
                None => Some((*id, Matched::Address)),
                Some(_) => None,
            })
        });
        let found = found.or_else(|| {
            self.acl_trunks.iter().find(|(_, acl)| acl.allows(ip)).map(|(id, _)| (*id, Matched::Acl))
        });
        let (trunk_id, matched) = found?;
        let trunk = self.trunk(trunk_id)?;
        Some(TrunkSource { trunk_id, context: trunk.context.clone(), matched })
    }
}
