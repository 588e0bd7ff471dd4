//! The caps that keep the SIP side's memory and work bounded whatever
//! peers send: TCP connections, per-connection queues, contacts per
//! address of record, registrations in progress, and the ban on addresses
//! that keep failing digest authentication.

use std::time::Duration;

/// Caps and timeouts of the SIP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most TCP connections at once, both directions, connecting ones
    /// included. Past it an accepted connection is closed at once and a
    /// send that needs a new one is dropped.
    pub tcp_connections: usize,
    /// Most TCP connections at once with one IP address.
    pub tcp_per_ip: usize,
    /// A TCP connection with nothing read or written for this long is
    /// closed (CRLF keep-alives count as reads).
    pub tcp_idle: Duration,
    /// A message begun on a TCP connection must be complete within this.
    pub tcp_message: Duration,
    /// How long an outgoing TCP connect may take.
    pub tcp_connect: Duration,
    /// How long one write to a TCP connection may take; past it the
    /// connection is closed.
    pub tcp_write: Duration,
    /// Messages waiting to be written on one TCP connection; a message to
    /// a connection whose queue is full is dropped and counted.
    pub tcp_queue: usize,
    /// Contacts one address of record may have registered; a REGISTER that
    /// would add more is refused (503).
    pub contacts_per_aor: usize,
    /// REGISTERs being worked on at once (account lookups and writes);
    /// more are answered 503 with Retry-After.
    pub registers_in_flight: usize,
    /// Digest failures (403) from one IP address within
    /// [`Limits::auth_failure_window`] that get it banned.
    pub auth_failures: u32,
    /// The window in which failures are counted.
    pub auth_failure_window: Duration,
    /// How long a banned address gets no answer at all.
    pub ban: Duration,
    /// Addresses the failure table tracks; the oldest entry makes room.
    pub ban_table: usize,
    /// Where SIP may be sent (networks); empty: anywhere. A message to any
    /// other address is dropped, counted and logged, so that a tenant's
    /// trunk, gateway or SIP URI cannot point the server at a network the
    /// operator keeps it away from.
    pub destinations: Vec<ipnet::IpNet>,
    /// The process's file descriptor limit; `None`: descriptors are not
    /// checked. A new call is refused (503) while the descriptors in use
    /// would leave fewer than [`Limits::fd_reserve`] free.
    pub fd_limit: Option<usize>,
    /// Descriptors kept free for the store, the HTTP API and SIP; `None`:
    /// a tenth of the limit, at least 64.
    pub fd_reserve: Option<usize>,
}

impl Limits {
    /// Whether SIP may be sent to `ip`.
    pub fn may_send_to(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.destinations.is_empty() || self.destinations.iter().any(|n| n.contains(&ip))
    }
}

impl Default for Limits {
    /// 4096 TCP connections, 64 per IP, closed after 5 minutes idle or 30 s
    /// in one message; 3 s to connect, 5 s per write, 64 queued messages;
    /// 10 contacts per address of record; 256 REGISTERs in flight; 10
    /// failures a minute ban an address for 10 minutes, 16 384 addresses
    /// tracked; SIP sent anywhere; descriptors not checked.
    fn default() -> Limits {
        Limits {
            tcp_connections: 4096,
            tcp_per_ip: 64,
            tcp_idle: Duration::from_secs(300),
            tcp_message: Duration::from_secs(30),
            tcp_connect: Duration::from_secs(3),
            tcp_write: Duration::from_secs(5),
            tcp_queue: 64,
            contacts_per_aor: 10,
            registers_in_flight: 256,
            auth_failures: 10,
            auth_failure_window: Duration::from_secs(60),
            ban: Duration::from_secs(600),
            ban_table: 16_384,
            fd_limit: None,
            fd_reserve: None,
            destinations: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn destinations_limit_where_sip_goes() {
        let mut l = Limits::default();
        assert!(l.may_send_to("203.0.113.9".parse().unwrap()), "no list: anywhere");
        l.destinations = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        assert!(l.may_send_to("127.0.0.2".parse().unwrap()));
        assert!(l.may_send_to("::ffff:127.0.0.1".parse().unwrap()), "mapped IPv4 counts as IPv4");
        assert!(l.may_send_to("::1".parse().unwrap()));
        assert!(!l.may_send_to("203.0.113.9".parse().unwrap()));
    }
}
