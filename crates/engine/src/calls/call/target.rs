//! From the router's [`Target`] to the [`Dial`] the call rings: agents'
//! registered contacts (one agent, extensions together or in turn), a SIP
//! URI at an IP address, and (through [`Call::egress_dial`]) gateways,
//! trunks, trunk groups and URIs naming a host. Targets that run a program
//! (application, IVR menu, block, conference room) are run by `app/`
//! before a dial is built, for a call routed there and for a call
//! forwarded there alike; asked to ring one (a program's dial, a placed
//! call) they are refused here with 501. Destination types Calliope does
//! not support (queues, CTI, distributors, multicast, timed meetings,
//! system, last intercept: [`Target::Other`]) are refused with 501 too.

use std::net::{IpAddr, SocketAddr};

use sip::transaction::{Peer, Protocol};

use super::Call;
use crate::calls::dial::{Attempt, Destination, Dial, NextOn};
use crate::router::{Reject, Ring, Routed, Snapshot, Target};

/// A refusal for the call path (no route taken).
fn refusal(status: u16, cause: &'static str, reason: String, route_id: Option<i64>) -> Reject {
    Reject { status, cause, reason, route_id }
}

/// Whether the target leaves through a trunk or gateway (a call `TO_PSTN`).
pub(super) fn leaves(target: &Target) -> bool {
    matches!(
        target,
        Target::Gateway { .. } | Target::Trunk { .. } | Target::TrunkGroup { .. } | Target::Uri(_)
    )
}

/// A `sip:` URI whose host is an IP address: the destination it names
/// (port 5060 when it names none; `transport=tcp` for TCP). `None` for
/// anything else (a host name, another scheme, garbage).
pub(super) fn ip_destination(text: &str) -> Option<Destination> {
    let uri = sip::Uri::parse(text.trim()).ok()?;
    let sip::Uri::Sip(u) = &uri else { return None };
    if u.scheme != sip::uri::Scheme::Sip {
        return None;
    }
    let ip: IpAddr = u.host.ip()?;
    let tcp = u.params.get("transport").is_some_and(|t| t.eq_ignore_ascii_case("tcp"));
    let peer = Peer {
        addr: SocketAddr::new(ip, u.port.unwrap_or(5060)),
        protocol: if tcp { Protocol::Tcp } else { Protocol::Udp },
    };
    let host = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    Some(Destination { uri, peer, host: Some(host), account: None, headers: Vec::new() })
}

impl Call {
    /// What `routed` rings, or why it cannot be rung.
    pub(super) async fn dial_for(&self, routed: &Routed, snapshot: &Snapshot) -> Result<Dial, Reject> {
        let route_id = routed.route_id;
        match &routed.target {
            Target::Agent { agent_id, extension } => {
                Ok(Dial { attempts: vec![self.agent_attempt(*agent_id, extension, NextOn::AnyFailure)] })
            }
            Target::Extensions { ring, extensions } => {
                let agents: Vec<(i64, &str)> = extensions
                    .iter()
                    .filter_map(|e| {
                        if e.agent_id.is_none() {
                            tracing::info!(extension = %e.extension, "no agent has this extension: skipped");
                        }
                        e.agent_id.map(|id| (id, e.extension.as_str()))
                    })
                    .collect();
                if agents.is_empty() {
                    let reason = "none of the extensions to ring belongs to an agent".to_owned();
                    return Err(refusal(404, "UNALLOCATED_NUMBER", reason, route_id));
                }
                let attempts = match ring {
                    Ring::Together => {
                        let mut all = Attempt {
                            destinations: Vec::new(),
                            next_on: NextOn::AnyFailure,
                            ring_timeout: None,
                            label: format!("extensions {}", label(&agents)),
                        };
                        for (id, ext) in &agents {
                            all.destinations
                                .extend(self.agent_attempt(*id, ext, NextOn::AnyFailure).destinations);
                        }
                        vec![all]
                    }
                    Ring::Sequential => agents
                        .iter()
                        .map(|(id, ext)| self.agent_attempt(*id, ext, NextOn::AnyFailure))
                        .collect(),
                };
                Ok(Dial { attempts })
            }
            Target::Uri(text) => match ip_destination(text) {
                Some(d) => Ok(Dial {
                    attempts: vec![Attempt {
                        destinations: vec![d],
                        next_on: NextOn::Unreachable,
                        ring_timeout: None,
                        label: format!("uri {text}"),
                    }],
                }),
                None if text.trim().starts_with("sip:") || text.trim().starts_with("sips:") => {
                    self.egress_dial(routed, snapshot).await
                }
                None => {
                    let reason = format!("the destination URI '{text}' is not a SIP URI");
                    Err(refusal(410, "NO_ROUTE_DESTINATION", reason, route_id))
                }
            },
            Target::Gateway { .. } | Target::Trunk { .. } | Target::TrunkGroup { .. } => {
                self.egress_dial(routed, snapshot).await
            }
            Target::Ivr(id) => Err(runs_a_program(format!("IVR menu {id}"), route_id)),
            Target::Block(id) => Err(runs_a_program(format!("call flow (block) {id}"), route_id)),
            Target::Application(id) => Err(runs_a_program(format!("application {id}"), route_id)),
            Target::Conference { kind, room } => {
                Err(runs_a_program(format!("conference {room} ({kind})"), route_id))
            }
            Target::Other { dest_type, dest_uuid } => Err(unsupported(dest_type, dest_uuid, route_id)),
        }
    }

    /// Calls leaving through a gateway, trunk, trunk group or a URI naming
    /// a host: the egress module's `Dial` (accounts, failover).
    pub(super) async fn egress_dial(&self, routed: &Routed, snapshot: &Snapshot) -> Result<Dial, Reject> {
        crate::egress::dial(routed, snapshot, &self.sw.egress).await
    }
}

/// A 501 for a destination that runs a program (or a room) where only
/// something that can be rung will do.
fn runs_a_program(what: String, route_id: Option<i64>) -> Reject {
    let reason = format!("{what} runs a program and cannot be rung from here");
    refusal(501, "FACILITY_NOT_IMPLEMENTED", reason, route_id)
}

/// A 501 for a destination type Calliope does not support.
fn unsupported(dest_type: &str, dest_uuid: &str, route_id: Option<i64>) -> Reject {
    let named = if dest_uuid.is_empty() { String::new() } else { format!(" ('{dest_uuid}')") };
    let reason = format!("destination type {dest_type}{named} is not supported");
    refusal(501, "FACILITY_NOT_IMPLEMENTED", reason, route_id)
}

fn label(agents: &[(i64, &str)]) -> String {
    agents.iter().map(|(_, e)| *e).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uris_at_an_ip_address_become_destinations() {
        let d = ip_destination("sip:1000@127.0.0.1:5080").unwrap();
        assert_eq!(d.peer.addr, "127.0.0.1:5080".parse().unwrap());
        assert_eq!(d.peer.protocol, Protocol::Udp);
        assert_eq!(d.host.as_deref(), Some("127.0.0.1"));
        let d = ip_destination("sip:1000@[::1];transport=TCP").unwrap();
        assert_eq!(d.peer.addr, "[::1]:5060".parse().unwrap());
        assert_eq!(d.peer.protocol, Protocol::Tcp);
        assert!(ip_destination("sip:1000@carrier.example").is_none(), "host names go to egress");
        assert!(ip_destination("sips:1000@127.0.0.1").is_none());
        assert!(ip_destination("tel:+15551234").is_none());
        assert!(ip_destination("not a uri").is_none());
        assert!(ip_destination("").is_none());
    }

    #[test]
    fn unsupported_destination_types_are_refused_with_a_clear_reason() {
        let r = unsupported("FS_DEST_CTI", "7", Some(3));
        assert_eq!((r.status, r.cause, r.route_id), (501, "FACILITY_NOT_IMPLEMENTED", Some(3)));
        assert_eq!(r.reason, "destination type FS_DEST_CTI ('7') is not supported");
        assert_eq!(
            unsupported("FS_DEST_SYSTEM", "", None).reason,
            "destination type FS_DEST_SYSTEM is not supported"
        );
        let r = runs_a_program("IVR menu 4".into(), None);
        assert_eq!(
            (r.status, r.reason.as_str()),
            (501, "IVR menu 4 runs a program and cannot be rung from here")
        );
    }
}
