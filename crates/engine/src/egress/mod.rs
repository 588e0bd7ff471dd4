//! Calls leaving the switch: a routed call whose target is a gateway, a
//! trunk, a trunk group or a SIP URI becomes a [`Dial`] (the attempts and
//! destinations the call task rings), with each destination's Request-URI,
//! resolved address, From/To host and the account that answers an
//! upstream challenge.
//!
//! [`dial`] is the one entry point. Gateways and trunks are read from the
//! store at call time (their passwords are not in the routing snapshot);
//! the snapshot says which exist and which trunks a group has. A trunk
//! group gives one attempt per member, in the order
//! [`crate::router::pick_members`] gives (`RR` turns a counter per group
//! that [`Egress`] keeps across calls; `WEIGHT` draws at random), failing
//! over on the route's trouble only ([`NextOn::Unreachable`]). A member
//! that cannot be used (its address does not resolve, its password does
//! not open) is left out with a log line; the call is refused only when
//! nothing is left. What an operator sees is in `docs/trunks.md`.

pub mod gateway;
pub mod hop;
pub mod resolve;
pub mod trunk;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sip::transaction::Peer;
use sip::Uri;
use store::Db;

use crate::calls::dial::{Attempt, Destination, Dial, NextOn};
use crate::calls::leg::auth::Account;
use crate::router::{pick_members, Member, Reject, Routed, Snapshot, Strategy, Target};
use crate::secrets::Sealer;
pub use hop::NextHop;
pub use resolve::{ResolveError, Resolver};

/// What outgoing calls need besides the routing snapshot: the store (for
/// gateways' and trunks' addresses and credentials), the secrets key, a
/// resolver and the round-robin counters of trunk groups.
#[derive(Debug)]
pub struct Egress {
    db: Db,
    sealer: Arc<Sealer>,
    resolver: Resolver,
    turns: Mutex<HashMap<(i64, i64), u64>>,
}

impl Egress {
    /// Calls out with records from `db`, passwords opened with `sealer`,
    /// names resolved by the system resolver within
    /// [`resolve::DEFAULT_TIMEOUT`].
    pub fn new(db: Db, sealer: Arc<Sealer>) -> Egress {
        Egress { db, sealer, resolver: Resolver::default(), turns: Mutex::new(HashMap::new()) }
    }

    /// The same with another resolver (another timeout).
    pub fn with_resolver(mut self, resolver: Resolver) -> Egress {
        self.resolver = resolver;
        self
    }

    /// The round-robin counter of trunk group `group_id` in workspace
    /// `workspace_id`, then advanced: 0, 1, 2, ... across calls.
    pub fn next_turn(&self, workspace_id: i64, group_id: i64) -> u64 {
        let Ok(mut turns) = self.turns.lock() else { return 0 };
        if turns.len() > 100_000 {
            turns.clear();
        }
        let turn = turns.entry((workspace_id, group_id)).or_insert(0);
        let now = *turn;
        *turn = turn.wrapping_add(1);
        now
    }
}

/// Why a call cannot leave; each maps to a SIP status and a cause
/// ([`EgressError::status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The gateway, trunk or credentials named are gone.
    #[error("{0} no longer exists")]
    Gone(String),
    /// The trunk is disabled.
    #[error("{0} is disabled")]
    Disabled(String),
    /// The configured address cannot be used.
    #[error("{what}: {reason}")]
    BadAddress {
        /// Whose address.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The address's host name gives no address.
    #[error("{0}: {1}")]
    Unresolved(String, ResolveError),
    /// The called number cannot be put in a SIP URI.
    #[error("called number '{0}' cannot be the user of a SIP URI")]
    BadCallee(String),
    /// A stored password does not open with the secrets key.
    #[error("{0}: its password cannot be read ({1})")]
    Sealed(String, String),
    /// The trunk group has no enabled members.
    #[error("{0} has no enabled members")]
    NoMembers(String),
    /// Every member of the trunk group failed before ringing.
    #[error("{group}: no member can be used ({})", .reasons.join("; "))]
    NoUsableMember {
        /// The group.
        group: String,
        /// Why each member was left out.
        reasons: Vec<String>,
    },
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(String),
    /// The target does not leave through a gateway, trunk or URI.
    #[error("{0} is not an outbound destination")]
    NotOutbound(String),
}

impl EgressError {
    /// The SIP status and the hangup cause (Q.850 name) of the refusal.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            EgressError::Gone(_) => (410, "NUMBER_CHANGED"),
            EgressError::BadAddress { .. } => (502, "DESTINATION_OUT_OF_ORDER"),
            EgressError::Unresolved(_, ResolveError::NotFound { .. }) => (502, "NO_ROUTE_DESTINATION"),
            EgressError::BadCallee(_) => (484, "INVALID_NUMBER_FORMAT"),
            EgressError::NotOutbound(_) => (501, "SERVICE_NOT_IMPLEMENTED"),
            EgressError::Disabled(_)
            | EgressError::Unresolved(_, ResolveError::Timeout { .. })
            | EgressError::Sealed(..)
            | EgressError::NoMembers(_)
            | EgressError::NoUsableMember { .. }
            | EgressError::Store(_) => (503, "NORMAL_TEMPORARY_FAILURE"),
        }
    }
}

/// How a call leaves through one gateway, trunk or URI, before the next
/// hop is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaving {
    /// What it is ("gateway 2 (carrier)"), for the log and the CDR.
    pub label: String,
    /// The Request-URI.
    pub uri: Uri,
    /// Where the INVITE is sent.
    pub send_to: NextHop,
    /// The host of From and To.
    pub host: String,
    /// The account that answers a 401/407.
    pub account: Option<Account>,
}

/// Whether [`dial`] is the one to make `target` into a [`Dial`]: gateways,
/// trunks, trunk groups and SIP URIs.
pub fn handles(target: &Target) -> bool {
    matches!(
        target,
        Target::Gateway { .. } | Target::Trunk { .. } | Target::TrunkGroup { .. } | Target::Uri(_)
    )
}

/// The [`Dial`] of a call `routed` out through a gateway, trunk, trunk
/// group or SIP URI of `snapshot`'s workspace: the rewritten callee in the
/// Request-URI, the resolved next hop, the From/To host, an account for a
/// challenge. The route's own headers (`Routed.headers`) are not copied
/// into the destinations: the call task adds them to every INVITE. A refusal carries its status, cause and reason (also
/// logged).
pub async fn dial(routed: &Routed, snapshot: &Snapshot, ctx: &Egress) -> Result<Dial, Reject> {
    dial_inner(routed, snapshot, ctx).await.map_err(|e| {
        let (status, cause) = e.status();
        let route = routed.route_id.map_or_else(String::new, |r| format!("route {r}: "));
        let reason = format!("{route}call to {} cannot leave: {e}", routed.callee);
        tracing::warn!(workspace = snapshot.workspace_id, status, cause, "{reason}");
        Reject { status, cause, reason, route_id: routed.route_id }
    })
}

async fn dial_inner(routed: &Routed, snapshot: &Snapshot, ctx: &Egress) -> Result<Dial, EgressError> {
    let ws = snapshot.workspace_id;
    let callee = routed.callee.as_str();
    let leaving = match &routed.target {
        Target::Gateway { gateway_id, .. } => {
            gateway::load(&ctx.db, &ctx.sealer, ws, *gateway_id).await?.leaving(callee)?
        }
        Target::Trunk { trunk_id, .. } => {
            trunk::load(&ctx.db, &ctx.sealer, ws, *trunk_id).await?.leaving(callee)?
        }
        Target::Uri(text) => uri_leaving(text, callee)?,
        Target::TrunkGroup { group_id, strategy, members } => {
            let name = snapshot.group(*group_id).map_or_else(String::new, |g| g.name.clone());
            let group = format!("trunk group {group_id} ({name})");
            let counter = match strategy {
                Strategy::RoundRobin => ctx.next_turn(ws, *group_id),
                Strategy::Weight => 0,
            };
            let order = group_order(members, *strategy, counter, rand::random());
            return group_dial(routed, ctx, ws, group, &order).await;
        }
        other => return Err(EgressError::NotOutbound(format!("{other:?}"))),
    };
    let attempt = attempt(&ctx.resolver, leaving).await?;
    Ok(Dial { attempts: vec![attempt] })
}

/// The trunks of a group in the order a call tries them.
pub fn group_order(members: &[Member], strategy: Strategy, counter: u64, random: u64) -> Vec<i64> {
    pick_members(members, strategy, counter, random)
        .into_iter()
        .filter_map(|i| members.get(i))
        .map(|m| m.trunk_id)
        .collect()
}

async fn group_dial(
    routed: &Routed,
    ctx: &Egress,
    ws: i64,
    group: String,
    order: &[i64],
) -> Result<Dial, EgressError> {
    if order.is_empty() {
        return Err(EgressError::NoMembers(group));
    }
    // Members are read and resolved at once, so that slow names cost one
    // lookup timeout, not one per member.
    let mut set = tokio::task::JoinSet::new();
    for (i, trunk_id) in order.iter().copied().enumerate() {
        let (db, sealer, resolver) = (ctx.db.clone(), ctx.sealer.clone(), ctx.resolver.clone());
        let callee = routed.callee.clone();
        set.spawn(async move {
            let one = async {
                let leaving = trunk::load(&db, &sealer, ws, trunk_id).await?.leaving(&callee)?;
                attempt(&resolver, leaving).await
            };
            (i, one.await)
        });
    }
    let mut results: Vec<Option<Result<Attempt, EgressError>>> = vec![None; order.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    let mut attempts = Vec::with_capacity(order.len());
    let mut reasons = Vec::new();
    for (trunk_id, result) in order.iter().zip(results) {
        let result =
            result.unwrap_or_else(|| Err(EgressError::Store(format!("trunk {trunk_id}: lookup failed"))));
        match result {
            Ok(a) => attempts.push(a),
            // A bad number is bad for every member.
            Err(e @ EgressError::BadCallee(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(
                    workspace = ws,
                    "{group}: member left out of the call to {}: {e}",
                    routed.callee
                );
                reasons.push(e.to_string());
            }
        }
    }
    if attempts.is_empty() {
        return Err(EgressError::NoUsableMember { group, reasons });
    }
    Ok(Dial { attempts })
}

/// An `FS_DEST_IP` URI (or any SIP URI a route names): its user, else the
/// callee, at its host.
fn uri_leaving(text: &str, callee: &str) -> Result<Leaving, EgressError> {
    let label = format!("SIP URI {text}");
    let send_to = NextHop::parse(&label, text, None)?;
    let user = send_to.user.clone().unwrap_or_else(|| callee.to_owned());
    let uri = send_to.request_uri(&user)?;
    Ok(Leaving { host: send_to.hostport(), label, uri, send_to, account: None })
}

/// One attempt with one destination: `leaving` with its next hop resolved.
async fn attempt(resolver: &Resolver, leaving: Leaving) -> Result<Attempt, EgressError> {
    let hop = &leaving.send_to;
    let addr = resolver
        .resolve(&hop.host, hop.port())
        .await
        .map_err(|e| EgressError::Unresolved(leaving.label.clone(), e))?;
    let destination = Destination {
        uri: leaving.uri,
        peer: Peer { addr, protocol: hop.protocol },
        host: Some(leaving.host),
        account: leaving.account,
        headers: Vec::new(),
    };
    Ok(Attempt {
        destinations: vec![destination],
        next_on: NextOn::Unreachable,
        ring_timeout: None,
        label: leaving.label,
    })
}

#[cfg(test)]
mod tests;
