//! Host names of gateways and trunks resolved to a socket address, with a
//! bound on the time it may take: a call never hangs on DNS.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::router::address::Host;

/// How long a lookup may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a host gave no address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The name does not resolve (or resolves to nothing).
    #[error("host {host} does not resolve: {reason}")]
    NotFound {
        /// The name.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The lookup took longer than allowed.
    #[error("resolving host {host} took longer than {timeout:?}")]
    Timeout {
        /// The name.
        host: String,
        /// The bound.
        timeout: Duration,
    },
}

/// Resolves names with the system resolver (A and AAAA records, the
/// hosts file), each lookup bounded by a timeout. IPv4 addresses are
/// preferred, since the SIP sockets are usually bound to IPv4.
#[derive(Debug, Clone)]
pub struct Resolver {
    timeout: Duration,
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::new(DEFAULT_TIMEOUT)
    }
}

impl Resolver {
    /// A resolver whose lookups give up after `timeout`.
    pub fn new(timeout: Duration) -> Resolver {
        Resolver { timeout }
    }

    /// The address to send to for `host` and `port`: an IP address as
    /// is, a name looked up.
    pub async fn resolve(&self, host: &Host, port: u16) -> Result<SocketAddr, ResolveError> {
        let name = match host {
            Host::Ip(ip) => return Ok(SocketAddr::new(*ip, port)),
            Host::Name(name) => name.as_str(),
        };
        let lookup = tokio::net::lookup_host((name, port));
        match tokio::time::timeout(self.timeout, lookup).await {
            Err(_) => Err(ResolveError::Timeout { host: name.to_owned(), timeout: self.timeout }),
            Ok(Err(e)) => Err(ResolveError::NotFound { host: name.to_owned(), reason: e.to_string() }),
            Ok(Ok(addrs)) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                prefer_v4(&addrs).ok_or_else(|| ResolveError::NotFound {
                    host: name.to_owned(),
                    reason: "no addresses".to_owned(),
                })
            }
        }
    }
}

/// The first IPv4 address, else the first address.
fn prefer_v4(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    addrs.iter().find(|a| matches!(a.ip(), IpAddr::V4(_))).or_else(|| addrs.first()).copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn addresses_pass_names_resolve_and_bad_names_fail_in_time() {
        let r = Resolver::new(Duration::from_secs(5));
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(r.resolve(&Host::Ip(ip), 5070).await.unwrap(), SocketAddr::new(ip, 5070));
        let local = r.resolve(&Host::Name("localhost".into()), 5080).await.unwrap();
        assert!(local.ip().is_loopback() && local.port() == 5080, "{local}");
        // RFC 6761: .invalid never resolves.
        let started = std::time::Instant::now();
        let e = r.resolve(&Host::Name("gateway.invalid".into()), 5060).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(6));
        assert!(e.to_string().contains("gateway.invalid"), "{e}");
    }

    #[test]
    fn ipv4_is_preferred() {
        let v6: SocketAddr = "[::1]:5060".parse().unwrap();
        let v4: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert_eq!(prefer_v4(&[v6, v4]), Some(v4));
        assert_eq!(prefer_v4(&[v6]), Some(v6));
        assert_eq!(prefer_v4(&[]), None);
    }
}
