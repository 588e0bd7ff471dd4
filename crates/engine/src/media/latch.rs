//! Where a leg's peer is, learnt without being hijackable.
//!
//! The peer's address is its SDP's until a packet arrives. During a
//! learning window after the SDP is set, the first packet from either the
//! SDP address itself or an address on the IP of the leg's SIP signalling
//! peer (a phone behind NAT) locks the latch on its source; after the
//! window only the SDP address can still lock it. Once locked, only the
//! locked source is accepted, and the latch moves at most once per window.
//! Packets from anywhere else are strangers: dropped and counted, never
//! followed. A new SDP address starts over ([`Latch::reset`]); the same
//! address again (a re-INVITE) keeps the lock but opens a new window
//! ([`Latch::reopen`]), so a phone whose NAT mapping changed is learnt
//! again.

use std::net::{IpAddr, SocketAddr};

/// What [`Latch::accept`] decided about a packet's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the peer: handle it.
    Accept,
    /// From the peer, and the latch just locked on it.
    Locked,
    /// From someone else: drop it.
    Stranger,
}

/// One latch (RTP or RTCP) of one leg. Times are milliseconds on the
/// session's clock.
#[derive(Debug, Clone, Default)]
pub struct Latch {
    expected: Option<SocketAddr>,
    signalling_ip: Option<IpAddr>,
    window_ends_ms: u64,
    locked: Option<SocketAddr>,
    /// Whether the latch moved in the current window.
    moved: bool,
}

impl Latch {
    /// Starts over with a new SDP address (`None`: not known or on hold)
    /// and the signalling peer's IP; the window lasts until
    /// `window_ends_ms`.
    pub fn reset(
        &mut self,
        expected: Option<SocketAddr>,
        signalling_ip: Option<IpAddr>,
        window_ends_ms: u64,
    ) {
        *self = Latch { expected, signalling_ip, window_ends_ms, locked: None, moved: false };
    }

    /// Opens a new learning window until `window_ends_ms`, keeping the
    /// lock (the same SDP again).
    pub fn reopen(&mut self, signalling_ip: Option<IpAddr>, window_ends_ms: u64) {
        self.signalling_ip = signalling_ip;
        self.window_ends_ms = window_ends_ms;
        self.moved = false;
    }

    /// Judges a packet from `from` arriving at `now_ms`.
    pub fn accept(&mut self, from: SocketAddr, now_ms: u64) -> Verdict {
        if self.locked == Some(from) {
            return Verdict::Accept;
        }
        let in_window = now_ms <= self.window_ends_ms;
        let known = self.expected == Some(from)
            || (in_window && self.signalling_ip.is_some_and(|ip| same_ip(ip, from.ip())));
        if known && !self.moved {
            self.locked = Some(from);
            self.moved = true;
            Verdict::Locked
        } else {
            Verdict::Stranger
        }
    }

    /// Where to send: the locked source, else the SDP address.
    pub fn target(&self) -> Option<SocketAddr> {
        self.locked.or(self.expected)
    }

    /// The source it locked on, if any.
    pub fn locked(&self) -> Option<SocketAddr> {
        self.locked
    }
}

/// Equal IPs, seeing an IPv4-mapped IPv6 address as its IPv4 one.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sdp_address_locks_and_strangers_are_refused() {
        let mut l = Latch::default();
        l.reset(Some(a("10.0.0.5:4000")), Some("10.0.0.5".parse().unwrap()), 2000);
        assert_eq!(l.target(), Some(a("10.0.0.5:4000")));
        assert_eq!(l.accept(a("6.6.6.6:4000"), 10), Verdict::Stranger);
        assert_eq!(l.accept(a("10.0.0.5:4000"), 20), Verdict::Locked);
        assert_eq!(l.accept(a("10.0.0.5:4000"), 30), Verdict::Accept);
        assert_eq!(l.accept(a("10.0.0.5:4002"), 40), Verdict::Stranger);
        assert_eq!(l.target(), Some(a("10.0.0.5:4000")));
    }

    #[test]
    fn nat_source_on_the_signalling_ip_locks_only_in_the_window() {
        let mut l = Latch::default();
        l.reset(Some(a("192.168.1.9:4000")), Some("203.0.113.7".parse().unwrap()), 2000);
        assert_eq!(l.accept(a("198.51.100.1:9"), 5), Verdict::Stranger);
        assert_eq!(l.accept(a("203.0.113.7:61000"), 100), Verdict::Locked);
        assert_eq!(l.target(), Some(a("203.0.113.7:61000")));
        // The SDP address itself is now a stranger too: the latch is locked.
        assert_eq!(l.accept(a("192.168.1.9:4000"), 200), Verdict::Stranger);

        l.reset(Some(a("192.168.1.9:4000")), Some("203.0.113.7".parse().unwrap()), 2000);
        assert_eq!(l.accept(a("203.0.113.7:61000"), 2001), Verdict::Stranger);
        assert_eq!(l.target(), Some(a("192.168.1.9:4000")));
    }

    #[test]
    fn a_reinvite_with_the_same_sdp_relearns_a_moved_nat_mapping_once() {
        let sdp = Some(a("192.168.1.9:4000"));
        let sig = Some("203.0.113.7".parse().unwrap());
        let mut l = Latch::default();
        l.reset(sdp, sig, 2000);
        assert_eq!(l.accept(a("203.0.113.7:61000"), 100), Verdict::Locked);
        // The NAT mapping changes; out of the window the new port is refused.
        assert_eq!(l.accept(a("203.0.113.7:62000"), 5000), Verdict::Stranger);
        l.reopen(sig, 7000);
        assert_eq!(l.accept(a("203.0.113.7:61000"), 5100), Verdict::Accept);
        assert_eq!(l.accept(a("203.0.113.7:62000"), 5200), Verdict::Locked);
        assert_eq!(l.target(), Some(a("203.0.113.7:62000")));
        // It moved once in this window: the old port cannot take it back.
        assert_eq!(l.accept(a("203.0.113.7:61000"), 5300), Verdict::Stranger);
        assert_eq!(l.accept(a("198.51.100.1:62000"), 5400), Verdict::Stranger);
    }

    #[test]
    fn no_sdp_no_signalling_accepts_nobody() {
        let mut l = Latch::default();
        assert_eq!(l.accept(a("127.0.0.1:5000"), 0), Verdict::Stranger);
        assert_eq!(l.target(), None);
        l.reset(None, Some("::ffff:127.0.0.1".parse().unwrap()), 100);
        assert_eq!(l.accept(a("127.0.0.1:5000"), 50), Verdict::Locked);
    }
}
