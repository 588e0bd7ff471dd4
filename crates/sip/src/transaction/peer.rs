//! Where messages go: the remote end of a transaction and the bytes for it.

use std::fmt;
use std::net::SocketAddr;

use crate::header::Transport;

/// How a peer is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// UDP: unreliable, so requests and final INVITE responses are
    /// retransmitted.
    Udp,
    /// TCP: reliable, no retransmissions.
    Tcp,
    /// TLS over TCP: reliable, no retransmissions.
    Tls,
}

impl Protocol {
    /// True for TCP and TLS: the transport retransmits, the layer does not.
    pub fn is_reliable(self) -> bool {
        !matches!(self, Protocol::Udp)
    }

    /// The token for a Via header.
    pub fn via_transport(self) -> Transport {
        match self {
            Protocol::Udp => Transport::Udp,
            Protocol::Tcp => Transport::Tcp,
            Protocol::Tls => Transport::Tls,
        }
    }
}

/// The remote end of a message: its socket address and the protocol that
/// reaches it. For TCP and TLS the address names the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// The remote address (for received requests: their source).
    pub addr: SocketAddr,
    /// How it is reached.
    pub protocol: Protocol,
}

impl Peer {
    /// A peer reached over UDP.
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer { addr, protocol: Protocol::Udp }
    }

    /// A peer reached over TCP.
    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer { addr, protocol: Protocol::Tcp }
    }

    /// True when the transport is reliable (no retransmission timers).
    pub fn is_reliable(&self) -> bool {
        self.protocol.is_reliable()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.protocol.via_transport())
    }
}

/// Bytes that the caller must send to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub peer: Peer,
    /// One whole message.
    pub bytes: Vec<u8>,
}
