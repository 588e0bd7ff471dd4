//! Who is calling, across workspaces: which workspace's trunk a source
//! address belongs to, and which trunks accept a digest username as their
//! inbound credentials. Built from every workspace's trunks, ACLs and
//! credentials; a lookup reads hash maps (by address, by network for each
//! prefix length in use, by username) and never scans the trunks.
//!
//! Precedence over all workspaces, as within one ([`super::classify`]): a
//! trunk naming the address and port, then one naming the address without
//! a port, then one whose ACL allows the address; ties go to the lowest
//! workspace id, then trunk id.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

use store::Record;

use super::address::SipAddress;
use super::classify::Matched;
use super::snapshot::{flag, networks, Acl};

/// A trunk a source matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceMatch {
    /// The trunk's workspace.
    pub workspace_id: i64,
    /// The trunk.
    pub trunk_id: i64,
    /// How it matched.
    pub matched: Matched,
}

/// A trunk's inbound credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkCredentials {
    /// The trunk's workspace.
    pub workspace_id: i64,
    /// The trunk.
    pub trunk_id: i64,
    /// The sealed password (`password_enc`), opened when a digest is
    /// checked.
    pub password_enc: String,
}

/// A trunk that a network of its ACL names: (workspace, trunk, index of
/// its ACL).
type AclTrunk = (i64, i64, usize);

/// Trunks of every workspace by source address, network and username.
#[derive(Debug, Default)]
pub struct SourceIndex {
    /// By address: (port when the trunk names one, workspace, trunk),
    /// ports first.
    addrs: HashMap<IpAddr, Vec<(Option<u16>, i64, i64)>>,
    /// ACL networks by (IPv4?, prefix length), then the masked network:
    /// (workspace, trunk, index into `acls`).
    nets: HashMap<(bool, u8), HashMap<IpAddr, Vec<AclTrunk>>>,
    /// The prefix lengths in `nets`, longest first.
    lens: BTreeSet<(bool, std::cmp::Reverse<u8>)>,
    acls: Vec<Acl>,
    /// Inbound credentials by digest username.
    credentials: HashMap<String, Vec<TrunkCredentials>>,
}

impl SourceIndex {
    /// The index of `trunks`, `acls` and `credentials` rows (of every
    /// workspace). Disabled trunks are left out; host names match nothing.
    pub fn build(trunks: &[Record], acls: &[Record], credentials: &[Record]) -> SourceIndex {
        let mut index = SourceIndex::default();
        let acl_rows: HashMap<i64, Acl> = acls
            .iter()
            .map(|a| (a.id, Acl { allow: networks(a, "allow"), deny: networks(a, "deny") }))
            .collect();
        let creds: HashMap<i64, &Record> = credentials.iter().map(|c| (c.id, c)).collect();
        let mut ordered: Vec<&Record> = trunks.iter().filter(|t| flag(t, "enabled", true)).collect();
        ordered.sort_by_key(|t| (t.workspace_id.unwrap_or_default(), t.id));
        for t in ordered {
            let ws = t.workspace_id.unwrap_or_default();
            for field in ["remote_addr", "inbound_uri"] {
                let Ok(addr) = SipAddress::parse(t.text(field).trim()) else { continue };
                if let Some(ip) = addr.ip() {
                    let at = index.addrs.entry(ip.to_canonical()).or_default();
                    if !at.contains(&(addr.port, ws, t.id)) {
                        at.push((addr.port, ws, t.id));
                    }
                }
            }
            if let Some(acl) = t.int("acl_id").and_then(|a| acl_rows.get(&a)) {
                let n = index.acls.len();
                index.acls.push(acl.clone());
                for net in &acl.allow {
                    let net = net.trunc();
                    let key = (net.addr().is_ipv4(), net.prefix_len());
                    index.lens.insert((key.0, std::cmp::Reverse(key.1)));
                    index.nets.entry(key).or_default().entry(net.addr()).or_default().push((ws, t.id, n));
                }
            }
            if let Some(c) = t.int("inbound_credentials_id").and_then(|c| creds.get(&c)) {
                index.credentials.entry(c.text("username").to_owned()).or_default().push(TrunkCredentials {
                    workspace_id: ws,
                    trunk_id: t.id,
                    password_enc: c.text("password_enc").to_owned(),
                });
            }
        }
        for at in index.addrs.values_mut() {
            // Stable: within a kind, the workspace and trunk order stays.
            at.sort_by_key(|(port, _, _)| port.is_none());
        }
        index
    }

    /// The trunk `source` belongs to, if any.
    pub fn lookup(&self, source: SocketAddr) -> Option<SourceMatch> {
        let ip = source.ip().to_canonical();
        let by_addr = self.addrs.get(&ip).and_then(|at| {
            at.iter().find_map(|(port, ws, trunk)| match port {
                Some(p) if *p == source.port() => Some((*ws, *trunk, Matched::AddressAndPort)),
                None => Some((*ws, *trunk, Matched::Address)),
                Some(_) => None,
            })
        });
        if let Some((workspace_id, trunk_id, matched)) = by_addr {
            return Some(SourceMatch { workspace_id, trunk_id, matched });
        }
        // The most specific network first; the first trunk whose whole ACL
        // (its denials too) allows the address.
        let mut best: Option<(i64, i64)> = None;
        for (v4, std::cmp::Reverse(len)) in &self.lens {
            if *v4 != ip.is_ipv4() {
                continue;
            }
            let Ok(net) = ipnet::IpNet::new(ip, *len) else { continue };
            let Some(found) = self.nets.get(&(*v4, *len)).and_then(|m| m.get(&net.trunc().addr())) else {
                continue;
            };
            for (ws, trunk, acl) in found {
                if self.acls[*acl].allows(ip) && best.is_none_or(|b| (*ws, *trunk) < b) {
                    best = Some((*ws, *trunk));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.map(|(workspace_id, trunk_id)| SourceMatch { workspace_id, trunk_id, matched: Matched::Acl })
    }

    /// The trunks whose inbound credentials have digest username `name`.
    pub fn by_username(&self, name: &str) -> &[TrunkCredentials] {
        self.credentials.get(name).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use store::Value;

    fn rec(ws: i64, id: i64, fields: &[(&'static str, Value)]) -> Record {
        let mut r = Record {
            id,
            r#ref: format!("ref-{id}"),
            workspace_id: Some(ws),
            created_at: 0,
            updated_at: 0,
            values: Default::default(),
        };
        for (k, v) in fields {
            r.values.insert(k, v.clone());
        }
        r
    }

    fn text(t: &str) -> Value {
        Value::Text(t.to_owned())
    }

    fn at(ip: &str, port: u16) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), port)
    }

    #[test]
    fn address_and_port_before_address_before_acl_across_workspaces() {
        let trunks = [
            rec(2, 20, &[("remote_addr", text("10.0.0.1"))]),
            rec(1, 10, &[("remote_addr", text("10.0.0.1:5070"))]),
            rec(3, 30, &[("acl_id", Value::Int(7))]),
            rec(4, 40, &[("acl_id", Value::Int(8))]),
            rec(5, 50, &[("remote_addr", text("10.9.9.9")), ("enabled", Value::Int(0))]),
            rec(6, 60, &[("inbound_uri", text("sip:carrier@192.0.2.7:5080"))]),
        ];
        let acls = [
            rec(3, 7, &[("allow", text(r#"["10.0.0.0/8"]"#)), ("deny", text(r#"["10.66.0.0/16"]"#))]),
            rec(4, 8, &[("allow", text(r#"["10.66.1.0/24"]"#))]),
        ];
        let index = SourceIndex::build(&trunks, &acls, &[]);
        let m = |ip, port| index.lookup(at(ip, port)).map(|m| (m.workspace_id, m.trunk_id, m.matched));
        assert_eq!(m("10.0.0.1", 5070), Some((1, 10, Matched::AddressAndPort)));
        assert_eq!(m("10.0.0.1", 5060), Some((2, 20, Matched::Address)));
        assert_eq!(m("10.1.2.3", 5060), Some((3, 30, Matched::Acl)));
        // The /24 of workspace 4 is more specific; the /8 denies it anyway.
        assert_eq!(m("10.66.1.5", 5060), Some((4, 40, Matched::Acl)));
        assert_eq!(m("10.66.2.5", 5060), None, "denied by the /8's ACL, allowed by no other");
        assert_eq!(m("10.9.9.9", 5060).map(|x| x.1), Some(30), "a disabled trunk matches nothing");
        assert_eq!(m("192.0.2.7", 5080), Some((6, 60, Matched::AddressAndPort)));
        assert_eq!(m("192.0.2.7", 5060), None);
        assert_eq!(m("::ffff:10.0.0.1", 5070), Some((1, 10, Matched::AddressAndPort)));
        assert_eq!(m("2001:db8::1", 5060), None);
    }

    #[test]
    fn inbound_credentials_by_username() {
        let trunks = [
            rec(1, 10, &[("inbound_credentials_id", Value::Int(5))]),
            rec(2, 20, &[("inbound_credentials_id", Value::Int(6)), ("enabled", Value::Int(0))]),
        ];
        let creds = [
            rec(1, 5, &[("username", text("carrier")), ("password_enc", text("sealed"))]),
            rec(2, 6, &[("username", text("carrier")), ("password_enc", text("other"))]),
        ];
        let index = SourceIndex::build(&trunks, &[], &creds);
        assert_eq!(
            index.by_username("carrier"),
            [TrunkCredentials { workspace_id: 1, trunk_id: 10, password_enc: "sealed".into() }]
        );
        assert!(index.by_username("nobody").is_empty());
    }
}
