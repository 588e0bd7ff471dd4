//! The RTP port range: even ports handed out for RTP (the odd one above
//! each for RTCP) and taken back when a leg ends.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

/// Ports not in use, least recently used first.
#[derive(Debug)]
pub struct PortPool {
    free: Mutex<VecDeque<u16>>,
    /// How many pairs the range has.
    pairs: usize,
}

/// A bound RTP/RTCP socket pair from the pool; the ports go back on drop.
#[derive(Debug)]
pub struct Ports {
    /// The RTP socket (even port).
    pub rtp: UdpSocket,
    /// The RTCP socket (the port above).
    pub rtcp: UdpSocket,
    port: u16,
    pool: Arc<PortPool>,
}

impl Ports {
    /// The RTP port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Ports {
    fn drop(&mut self) {
        if let Ok(mut free) = self.pool.free.lock() {
            free.push_back(self.port);
        }
    }
}

impl PortPool {
    /// The even ports of `low..=high` whose odd neighbour is in range too.
    pub fn new(low: u16, high: u16) -> Arc<PortPool> {
        let first = low + (low % 2);
        let free: VecDeque<u16> = (first..high).step_by(2).collect();
        Arc::new(PortPool { pairs: free.len(), free: Mutex::new(free) })
    }

    /// How many pairs are free.
    pub fn available(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }

    /// How many sockets the pairs handed out hold (two a pair).
    pub fn sockets_in_use(&self) -> usize {
        2 * self.pairs.saturating_sub(self.available())
    }

    /// Binds the next free pair on `ip`, skipping ports another program
    /// holds; `None` when the range is exhausted.
    pub async fn bind(self: &Arc<Self>, ip: IpAddr) -> Option<Ports> {
        let tries = self.available();
        for _ in 0..tries {
            let port = self.free.lock().ok()?.pop_front()?;
            let rtp = UdpSocket::bind(SocketAddr::new(ip, port)).await;
            let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await;
            match (rtp, rtcp) {
                (Ok(rtp), Ok(rtcp)) => return Some(Ports { rtp, rtcp, port, pool: self.clone() }),
                _ => {
                    if let Ok(mut free) = self.free.lock() {
                        free.push_back(port);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_and_come_back() {
        let pool = PortPool::new(41001, 41006);
        assert_eq!((pool.available(), pool.sockets_in_use()), (2, 0));
        let a = pool.bind([127, 0, 0, 1].into()).await.unwrap();
        let b = pool.bind([127, 0, 0, 1].into()).await.unwrap();
        assert_eq!(pool.sockets_in_use(), 4);
        assert_eq!((a.port() % 2, b.port() % 2), (0, 0));
        assert!(pool.bind([127, 0, 0, 1].into()).await.is_none());
        drop(a);
        assert!(pool.bind([127, 0, 0, 1].into()).await.is_some());
    }
}
