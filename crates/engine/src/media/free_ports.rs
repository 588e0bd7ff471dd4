//! Which RTP port a new leg gets, without sockets: the bookkeeping of the
//! [`PortPool`](super::PortPool). Every even port of the range is in
//! exactly one state: unbound (no socket), idle (a released pair kept
//! bound, per local IP, for reuse), held by another program (not tried
//! again until a retry time), or in use.
//!
//! Both queues are least recently used first: a released pair is handed
//! out again only once it has been idle [`Keep::reuse_after`], and
//! otherwise the least recently used unbound port is bound, so a port is
//! never reused at once while the range has others.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How released pairs are kept bound for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// A released pair is handed out again only after this long idle
    /// (sooner only when no unbound port is left).
    pub reuse_after: Duration,
    /// An idle pair is closed after this long, so an idle server holds
    /// few descriptors.
    pub close_after: Duration,
    /// At most this many pairs are kept idle; beyond, the oldest is closed.
    pub max_idle: usize,
    /// A port another program held is tried again after this long.
    pub retry_held_after: Duration,
}

impl Default for Keep {
    fn default() -> Self {
        Keep {
            reuse_after: Duration::from_secs(1),
            close_after: Duration::from_secs(10),
            max_idle: 8192,
            retry_held_after: Duration::from_secs(60),
        }
    }
}

/// What a new leg gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<P> {
    /// An idle pair on the IP asked for, to reuse.
    Reuse(u16, P),
    /// An unbound port to bind, after closing the idle pair given (one on
    /// another IP that held the last free port), if any.
    Bind(u16, Option<P>),
    /// Every port is in use or held by another program.
    Exhausted,
}

/// Released pairs kept bound on one local IP, least recently released first.
#[derive(Debug)]
struct IdleOn<P> {
    ip: IpAddr,
    pairs: VecDeque<Idle<P>>,
}

#[derive(Debug)]
struct Idle<P> {
    port: u16,
    since: Instant,
    pair: P,
}

/// The free ports of a range and the pairs kept bound; `P` is a bound pair.
#[derive(Debug)]
pub struct FreePorts<P> {
    keep: Keep,
    pairs: usize,
    unbound: VecDeque<u16>,
    idle: Vec<IdleOn<P>>,
    idle_pairs: usize,
    /// Ports another program held, with when to try them again, earliest first.
    held: VecDeque<(u16, Instant)>,
}

impl<P> FreePorts<P> {
    /// The even ports of `low..=high` whose odd neighbour is in range too,
    /// all unbound.
    pub fn new(low: u16, high: u16, keep: Keep) -> Self {
        let first = low.saturating_add(low % 2);
        let unbound: VecDeque<u16> = (first..high).step_by(2).collect();
        FreePorts {
            keep,
            pairs: unbound.len(),
            unbound,
            idle: Vec::new(),
            idle_pairs: 0,
            held: VecDeque::new(),
        }
    }

    /// Pairs that can be handed out: unbound or idle.
    pub fn available(&self) -> usize {
        self.unbound.len() + self.idle_pairs
    }

    /// Pairs handed out (or being bound).
    pub fn in_use(&self) -> usize {
        self.pairs.saturating_sub(self.available() + self.held.len())
    }

    /// Pairs kept bound for reuse.
    pub fn idle(&self) -> usize {
        self.idle_pairs
    }

    /// The port for a new leg on `ip` at `now`.
    pub fn take(&mut self, ip: IpAddr, now: Instant) -> Next<P> {
        let reuse_after = self.keep.reuse_after;
        let rested = self
            .queue(ip)
            .and_then(|q| q.pairs.front())
            .is_some_and(|i| now.saturating_duration_since(i.since) >= reuse_after);
        if rested {
            if let Some(i) = self.pop_idle(ip) {
                return Next::Reuse(i.port, i.pair);
            }
        }
        if let Some(port) = self.unbound.pop_front() {
            return Next::Bind(port, None);
        }
        // No unbound port left: an idle pair on this IP, however recent, or
        // the oldest on another IP, closed so that its port can be bound.
        if let Some(i) = self.pop_idle(ip) {
            return Next::Reuse(i.port, i.pair);
        }
        match self.pop_oldest_idle() {
            Some(i) => Next::Bind(i.port, Some(i.pair)),
            None => Next::Exhausted,
        }
    }

    /// Takes back the pair of `port` on `ip`, released at `now`; returns
    /// the pair to close when more than [`Keep::max_idle`] are kept.
    pub fn release(&mut self, ip: IpAddr, port: u16, pair: P, now: Instant) -> Option<P> {
        let idle = Idle { port, since: now, pair };
        match self.idle.iter_mut().find(|q| q.ip == ip) {
            Some(q) => q.pairs.push_back(idle),
            None => self.idle.push(IdleOn { ip, pairs: VecDeque::from([idle]) }),
        }
        self.idle_pairs += 1;
        if self.idle_pairs > self.keep.max_idle {
            return self.close_oldest();
        }
        None
    }

    /// Takes back `port` with no socket (its pair was closed): it goes last.
    pub fn unbind(&mut self, port: u16) {
        self.unbound.push_back(port);
    }

    /// Binding `port` failed: another program holds it (`held`), so it is
    /// left alone until the retry time; otherwise (no descriptor left, an
    /// address not ours) it goes back first, for the next call.
    pub fn bind_failed(&mut self, port: u16, held: bool, now: Instant) {
        if held {
            self.held.push_back((port, now + self.keep.retry_held_after));
        } else {
            self.unbound.push_front(port);
        }
    }

    /// Closes the pairs idle for [`Keep::close_after`] and gives back the
    /// held ports due for a retry; returns the pairs to close.
    pub fn tidy(&mut self, now: Instant) -> Vec<P> {
        let close_after = self.keep.close_after;
        let mut closed = Vec::new();
        for q in &mut self.idle {
            while q.pairs.front().is_some_and(|i| now.saturating_duration_since(i.since) >= close_after) {
                if let Some(i) = q.pairs.pop_front() {
                    self.unbound.push_back(i.port);
                    closed.push(i.pair);
                }
            }
        }
        self.idle_pairs -= closed.len();
        self.idle.retain(|q| !q.pairs.is_empty());
        while self.held.front().is_some_and(|(_, retry)| *retry <= now) {
            if let Some((port, _)) = self.held.pop_front() {
                self.unbound.push_back(port);
            }
        }
        closed
    }

    /// Closes up to `n` idle pairs, oldest first; returns them.
    pub fn trim(&mut self, n: usize) -> Vec<P> {
        std::iter::from_fn(|| self.close_oldest()).take(n).collect()
    }

    fn close_oldest(&mut self) -> Option<P> {
        let i = self.pop_oldest_idle()?;
        self.unbound.push_back(i.port);
        Some(i.pair)
    }

    fn queue(&self, ip: IpAddr) -> Option<&IdleOn<P>> {
        self.idle.iter().find(|q| q.ip == ip)
    }

    fn pop_idle(&mut self, ip: IpAddr) -> Option<Idle<P>> {
        let at = self.idle.iter().position(|q| q.ip == ip)?;
        self.pop_idle_at(at)
    }

    fn pop_oldest_idle(&mut self) -> Option<Idle<P>> {
        let at = (0..self.idle.len()).min_by_key(|&at| self.idle[at].pairs.front().map(|i| i.since))?;
        self.pop_idle_at(at)
    }

    fn pop_idle_at(&mut self, at: usize) -> Option<Idle<P>> {
        let q = self.idle.get_mut(at)?;
        let i = q.pairs.pop_front()?;
        if q.pairs.is_empty() {
            self.idle.swap_remove(at);
        }
        self.idle_pairs -= 1;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn keep() -> Keep {
        Keep { reuse_after: ms(1000), close_after: ms(10_000), max_idle: 2, retry_held_after: ms(60_000) }
    }

    #[test]
    fn ports_are_even_and_bound_least_recently_used_first() {
        let mut f: FreePorts<&str> = FreePorts::new(41001, 41008, keep());
        let t = Instant::now();
        assert_eq!((f.available(), f.in_use()), (3, 0));
        assert_eq!(f.take(A, t), Next::Bind(41002, None));
        assert_eq!(f.release(A, 41002, "a", t), None);
        // Released just now: the next unbound port is bound instead.
        assert_eq!(f.take(A, t + ms(999)), Next::Bind(41004, None));
        assert_eq!((f.available(), f.in_use(), f.idle()), (2, 1, 1));
        // Rested: reused, bound as it is.
        assert_eq!(f.take(A, t + ms(1000)), Next::Reuse(41002, "a"));
        assert_eq!(f.take(A, t + ms(1000)), Next::Bind(41006, None));
        assert_eq!(f.take(A, t + ms(1000)), Next::Exhausted);
    }

    #[test]
    fn without_unbound_ports_a_recent_pair_is_reused_or_another_ip_s_closed() {
        let mut f: FreePorts<&str> = FreePorts::new(41000, 41003, keep());
        let t = Instant::now();
        assert_eq!(f.take(A, t), Next::Bind(41000, None));
        assert_eq!(f.take(A, t), Next::Bind(41002, None));
        f.release(A, 41000, "a0", t);
        f.release(B, 41002, "b2", t + ms(1));
        assert_eq!(f.take(A, t + ms(2)), Next::Reuse(41000, "a0"));
        assert_eq!(f.take(A, t + ms(3)), Next::Bind(41002, Some("b2")));
        assert_eq!((f.idle(), f.in_use()), (0, 2));
    }

    #[test]
    fn idle_pairs_are_bounded_and_closed_after_a_while() {
        let mut f: FreePorts<u16> = FreePorts::new(41000, 41009, keep());
        let t = Instant::now();
        for _ in 0..3 {
            assert!(matches!(f.take(A, t), Next::Bind(..)));
        }
        assert_eq!(f.release(A, 41000, 41000, t), None);
        assert_eq!(f.release(A, 41002, 41002, t + ms(5000)), None);
        assert_eq!(f.release(A, 41004, 41004, t + ms(6000)), Some(41000), "the oldest beyond two");
        assert_eq!(f.tidy(t + ms(14_999)), Vec::<u16>::new());
        assert_eq!(f.tidy(t + ms(15_000)), vec![41002]);
        assert_eq!((f.idle(), f.available(), f.in_use()), (1, 5, 0));
        assert_eq!(f.trim(5), vec![41004]);
        // Closed ports come back unbound, after those never used.
        let order: Vec<_> = std::iter::from_fn(|| match f.take(A, t + ms(20_000)) {
            Next::Bind(p, None) => Some(p),
            _ => None,
        })
        .collect();
        assert_eq!(order, [41006, 41008, 41000, 41002, 41004]);
    }

    #[test]
    fn a_port_another_program_holds_is_not_tried_again_until_its_retry() {
        let mut f: FreePorts<()> = FreePorts::new(41000, 41005, keep());
        let t = Instant::now();
        assert_eq!(f.take(A, t), Next::Bind(41000, None));
        f.bind_failed(41000, true, t);
        assert_eq!((f.available(), f.in_use()), (2, 0));
        assert_eq!(f.take(A, t), Next::Bind(41002, None));
        f.bind_failed(41002, false, t);
        assert_eq!(f.take(A, t), Next::Bind(41002, None), "not held: first again");
        assert_eq!(f.take(A, t), Next::Bind(41004, None));
        assert_eq!(f.take(A, t + ms(59_999)), Next::Exhausted);
        assert!(f.tidy(t + ms(60_000)).is_empty());
        assert_eq!(f.take(A, t + ms(60_000)), Next::Bind(41000, None));
    }
}
