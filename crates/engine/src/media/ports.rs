//! The RTP port range: even ports handed out for RTP (the odd one above
//! each for RTCP) and taken back when a leg ends.
//!
//! A pair taken back stays bound and registered with the runtime for a
//! while, and is handed out again instead of binding new sockets (which
//! costs a `socket`, a `bind`, two `epoll_ctl` and a `close` a socket);
//! which port comes next is [`FreePorts`]' decision. A reused pair carries
//! nothing of its last leg: every datagram queued on it is discarded before
//! it is handed out, and where the peer is (the latch) belongs to the leg,
//! not to the sockets.

use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

pub use super::free_ports::Keep;
use super::free_ports::{FreePorts, Next};
use crate::throttle::Throttle;

/// Datagrams discarded from a socket before a reuse, at most; a socket
/// still receiving after that many is closed instead.
const MAX_DRAINED: usize = 256;

/// The free ports of the range and the pairs kept bound for reuse.
#[derive(Debug)]
pub struct PortPool {
    free: Mutex<FreePorts<Pair>>,
    /// The warning that the range is exhausted (calls are refused 503).
    exhausted: Throttle,
}

/// At most one "exhausted" warning in this long.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A bound RTP/RTCP socket pair.
#[derive(Debug)]
struct Pair {
    // In `Arc`s only so that dropping [`Ports`] can hand them back to the
    // pool; never shared.
    rtp: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
}

/// A bound RTP/RTCP socket pair from the pool; it goes back on drop.
#[derive(Debug)]
pub struct Ports {
    pair: Pair,
    ip: IpAddr,
    port: u16,
    pool: Arc<PortPool>,
}

impl Ports {
    /// The RTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The RTP socket (even port).
    pub fn rtp(&self) -> &UdpSocket {
        &self.pair.rtp
    }

    /// The RTCP socket (the port above).
    pub fn rtcp(&self) -> &UdpSocket {
        &self.pair.rtcp
    }
}

impl Drop for Ports {
    fn drop(&mut self) {
        let pair = Pair { rtp: self.pair.rtp.clone(), rtcp: self.pair.rtcp.clone() };
        let closed = self.pool.lock().release(self.ip, self.port, pair, Instant::now());
        drop(closed);
    }
}

impl Pair {
    /// Binds `port` and the one above on `ip`.
    async fn bind(ip: IpAddr, port: u16) -> io::Result<Pair> {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, port)).await?;
        let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await?;
        Ok(Pair { rtp: Arc::new(rtp), rtcp: Arc::new(rtcp) })
    }

    /// Discards every datagram (and pending ICMP error) queued on both
    /// sockets; `false` if one keeps receiving.
    fn drain(&self) -> bool {
        drain(&self.rtp) && drain(&self.rtcp)
    }
}

/// Reads `socket` until it would block, from the kernel itself (tokio's
/// readiness may not have seen the last datagrams yet).
fn drain(socket: &UdpSocket) -> bool {
    let socket = socket2::SockRef::from(socket);
    let mut byte = [MaybeUninit::<u8>::uninit(); 1];
    for _ in 0..MAX_DRAINED {
        match socket.recv(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            // A datagram (truncated to a byte: the rest is dropped too), or
            // an error that was pending on the socket: gone either way.
            Ok(_) | Err(_) => {}
        }
    }
    false
}

/// Whether a failed bind means another program holds the port (rather than
/// no descriptor being left or the address not being ours).
fn held_elsewhere(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied)
}

impl PortPool {
    /// The even ports of `low..=high` whose odd neighbour is in range too,
    /// released pairs kept as [`Keep::default`] says.
    pub fn new(low: u16, high: u16) -> Arc<PortPool> {
        Self::keeping(low, high, Keep::default())
    }

    /// The same, released pairs kept as `keep` says.
    pub fn keeping(low: u16, high: u16, keep: Keep) -> Arc<PortPool> {
        Arc::new(PortPool {
            free: Mutex::new(FreePorts::new(low, high, keep)),
            exhausted: Throttle::new(WARN_EVERY),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FreePorts<Pair>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many pairs can be handed out.
    pub fn available(&self) -> usize {
        self.lock().available()
    }

    /// How many sockets the pairs handed out hold (two a pair).
    pub fn sockets_in_use(&self) -> usize {
        2 * self.lock().in_use()
    }

    /// How many sockets the pairs kept for reuse hold (two a pair).
    pub fn sockets_idle(&self) -> usize {
        2 * self.lock().idle()
    }

    /// A pair on `ip`: one kept bound if one has rested long enough, else
    /// the least recently used port bound now, skipping (and remembering)
    /// ports another program holds; `None` when the range is exhausted or
    /// no socket can be made.
    pub async fn bind(self: &Arc<Self>, ip: IpAddr) -> Option<Ports> {
        loop {
            let next = self.lock().take(ip, Instant::now());
            match next {
                Next::Reuse(port, pair) => {
                    if pair.drain() {
                        return Some(Ports { pair, ip, port, pool: self.clone() });
                    }
                    tracing::debug!(port, "an idle RTP port kept receiving: closed");
                    drop(pair);
                    self.lock().unbind(port);
                }
                Next::Bind(port, close_first) => {
                    drop(close_first);
                    match Pair::bind(ip, port).await {
                        Ok(pair) => return Some(Ports { pair, ip, port, pool: self.clone() }),
                        Err(e) => {
                            let held = held_elsewhere(&e);
                            self.lock().bind_failed(port, held, Instant::now());
                            if !held {
                                tracing::warn!(port, error = %e, "cannot bind an RTP port");
                                return None;
                            }
                            tracing::debug!(port, "RTP port held by another program: skipped for now");
                        }
                    }
                }
                Next::Exhausted => {
                    if let Some(held) = self.exhausted.allow(Instant::now()) {
                        tracing::warn!(
                            refused_before = held,
                            "RTP port range exhausted: calls needing media are refused (widen the range)"
                        );
                    }
                    return None;
                }
            }
        }
    }

    /// Closes the pairs idle too long and lets held ports be tried again
    /// (call every few seconds).
    pub fn tidy(&self) {
        let closed = self.lock().tidy(Instant::now());
        drop(closed);
    }

    /// Closes up to `sockets` descriptors' worth of idle pairs, oldest
    /// first; returns how many sockets were closed.
    pub fn close_idle(&self, sockets: usize) -> usize {
        let closed = self.lock().trim(sockets.div_ceil(2));
        2 * closed.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn at_once() -> Keep {
        Keep { reuse_after: Duration::ZERO, ..Keep::default() }
    }

    #[tokio::test]
    async fn pairs_are_even_and_come_back() {
        let pool = PortPool::new(41001, 41006);
        assert_eq!((pool.available(), pool.sockets_in_use()), (2, 0));
        let a = pool.bind(LOCAL).await.unwrap();
        let b = pool.bind(LOCAL).await.unwrap();
        assert_eq!(pool.sockets_in_use(), 4);
        assert_eq!((a.port() % 2, b.port() % 2), (0, 0));
        assert!(pool.bind(LOCAL).await.is_none());
        drop(a);
        assert_eq!((pool.sockets_in_use(), pool.sockets_idle()), (2, 2));
        assert!(pool.bind(LOCAL).await.is_some());
    }

    #[tokio::test]
    async fn a_reused_pair_is_the_same_sockets_emptied() {
        let pool = PortPool::keeping(41010, 41013, at_once());
        let a = pool.bind(LOCAL).await.unwrap();
        let (port, rtp_addr) = (a.port(), a.rtp().local_addr().unwrap());
        drop(a);
        let late = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..3 {
            late.send_to(b"late rtp", ("127.0.0.1", port)).unwrap();
            late.send_to(b"late rtcp", ("127.0.0.1", port + 1)).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let b = pool.bind(LOCAL).await.unwrap();
        assert_eq!((b.port(), b.rtp().local_addr().unwrap()), (port, rtp_addr));
        assert_eq!(pool.sockets_idle(), 0);
        let mut buf = [0u8; 64];
        for s in [b.rtp(), b.rtcp()] {
            let got = tokio::time::timeout(Duration::from_millis(100), s.recv_from(&mut buf)).await;
            assert!(got.is_err(), "nothing of the last leg is left: {got:?}");
        }
        late.send_to(b"new", ("127.0.0.1", port)).unwrap();
        let (n, _) =
            tokio::time::timeout(Duration::from_secs(2), b.rtp().recv_from(&mut buf)).await.unwrap().unwrap();
        assert_eq!(&buf[..n], b"new");
    }

    #[tokio::test]
    async fn a_port_another_program_holds_is_skipped_and_remembered() {
        let squatter = std::net::UdpSocket::bind("127.0.0.1:41021").unwrap();
        let pool = PortPool::keeping(41020, 41025, at_once());
        let a = pool.bind(LOCAL).await.unwrap();
        assert_eq!(a.port(), 41022);
        assert_eq!(pool.available(), 1, "the held port is not counted free");
        drop(a);
        let b = pool.bind(LOCAL).await.unwrap();
        let c = pool.bind(LOCAL).await.unwrap();
        assert_eq!((b.port(), c.port()), (41022, 41024), "not tried again");
        assert!(pool.bind(LOCAL).await.is_none());
        drop(squatter);
    }

    #[tokio::test]
    async fn idle_pairs_are_closed_on_demand() {
        let pool = PortPool::new(41030, 41039);
        let (a, b) = (pool.bind(LOCAL).await.unwrap(), pool.bind(LOCAL).await.unwrap());
        drop((a, b));
        assert_eq!(pool.sockets_idle(), 4);
        assert_eq!(pool.close_idle(1), 2);
        assert_eq!(pool.sockets_idle(), 2);
        pool.tidy();
        assert_eq!(pool.sockets_idle(), 2, "not idle long enough to be closed");
        assert_eq!(pool.available(), 5);
    }
}
