//! Many datagrams per system call: `recvmmsg` and `sendmmsg` on Linux, one
//! `recv_from` or `send_to` at a time elsewhere. Both only try: they never
//! wait, and say `WouldBlock` when the socket has nothing to give or no
//! room (tokio's readiness is cleared then, so `readable`/`writable` wait
//! for the next change).

use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// The most datagrams one call receives or sends.
pub const BATCH: usize = 32;
/// The largest UDP payload.
const DATAGRAM: usize = 65_535;

/// The fewest slots a receive offers (see [`Received::try_recv`]).
const MIN_SLOTS: usize = 4;

/// Room for [`BATCH`] received datagrams and who sent them.
pub struct Received {
    /// `BATCH` slots of `DATAGRAM` bytes (pages untouched stay unmapped).
    buf: Vec<u8>,
    /// Length and sender of each datagram of the last receive.
    got: Vec<(usize, SocketAddr)>,
    /// How many slots the next receive offers: each costs a header made
    /// and cleared per receive, so only about twice what the last one
    /// got, from [`MIN_SLOTS`] up to [`BATCH`].
    slots: usize,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received").field("datagrams", &self.got.len()).field("slots", &self.slots).finish()
    }
}

impl Default for Received {
    fn default() -> Received {
        Received::new()
    }
}

impl Received {
    /// Empty buffers.
    pub fn new() -> Received {
        Received { buf: vec![0u8; BATCH * DATAGRAM], got: Vec::with_capacity(BATCH), slots: MIN_SLOTS }
    }

    /// Receives what `udp` holds now, up to [`BATCH`] datagrams, in place
    /// of the last batch; `WouldBlock` when it holds nothing. A receive
    /// that fills every slot offered doubles them for the next and one
    /// that gets fewer offers twice what it got, so a burst reaches
    /// [`BATCH`] a call within a few calls, while the quiet case (one or
    /// two datagrams, then the empty receive that clears the socket's
    /// readiness) prepares few headers.
    pub fn try_recv(&mut self, udp: &UdpSocket) -> io::Result<usize> {
        self.got.clear();
        let slots = self.slots.clamp(1, BATCH);
        let end = (slots * DATAGRAM).min(self.buf.len());
        let result = recv(udp, &mut self.buf[..end], &mut self.got);
        self.slots = next_slots(slots, self.got.len());
        result?;
        Ok(self.got.len())
    }

    /// The datagrams of the last receive, in order, with their senders.
    pub fn iter(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        self.got.iter().enumerate().map(|(i, &(len, addr))| {
            let start = i * DATAGRAM;
            (addr, self.buf.get(start..start + len.min(DATAGRAM)).unwrap_or_default())
        })
    }
}

/// The slots to offer after a receive of `got` datagrams in `offered`
/// slots (none: the socket was empty, which says nothing of the next
/// burst).
fn next_slots(offered: usize, got: usize) -> usize {
    match got {
        0 => offered,
        _ if got >= offered => (offered * 2).min(BATCH),
        _ => (got * 2).clamp(MIN_SLOTS, BATCH),
    }
}

/// Sends the first of `datagrams` (up to [`BATCH`]) to their addresses
/// and says how many left; `WouldBlock` when the socket has no room for
/// the first, any other error is the first's own (skip it and go on).
pub fn try_send(udp: &UdpSocket, datagrams: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    match datagrams {
        [] => Ok(0),
        [(addr, bytes)] => udp.try_send_to(bytes, *addr).map(|_| 1),
        _ => send(udp, datagrams),
    }
}

#[cfg(target_os = "linux")]
fn recv(udp: &UdpSocket, buf: &mut [u8], got: &mut Vec<(usize, SocketAddr)>) -> io::Result<()> {
    use nix::sys::socket::{recvmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;
    let fd = udp.as_raw_fd();
    let result = udp.try_io(tokio::io::Interest::READABLE, || {
        let mut slots: Vec<[IoSliceMut<'_>; 1]> =
            buf.chunks_mut(DATAGRAM).take(BATCH).map(|slot| [IoSliceMut::new(slot)]).collect();
        let offered = slots.len();
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(offered, None);
        let received = recvmmsg(fd, &mut headers, slots.iter_mut(), MsgFlags::empty(), None)?;
        let mut count = 0;
        for datagram in received {
            count += 1;
            // A datagram cut to fit (none here: slots hold the largest) or
            // from an address family we do not speak is dropped.
            if datagram.flags.contains(MsgFlags::MSG_TRUNC) {
                continue;
            }
            if let Some(addr) = datagram.address.as_ref().and_then(socket_addr) {
                got.push((datagram.bytes, addr));
            }
        }
        if drained(offered, count) {
            // The socket is empty (or an error waits on it, which the
            // next datagram brings out): said as `WouldBlock`, tokio
            // clears the readiness, and the next wait sleeps until a
            // datagram comes instead of a receive that finds nothing.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(())
    });
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && !got.is_empty() => Ok(()),
        other => other,
    }
}

/// Whether a receive that got `count` datagrams in `offered` slots left
/// the socket empty: `recvmmsg` (non-blocking) stops early only when
/// nothing more is queued or on an error, which stays pending on the
/// socket for the next receive.
#[cfg(target_os = "linux")]
fn drained(offered: usize, count: usize) -> bool {
    count > 0 && count < offered
}

/// The sender's address as the standard library spells it.
#[cfg(target_os = "linux")]
fn socket_addr(addr: &nix::sys::socket::SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    addr.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

#[cfg(target_os = "linux")]
fn send(udp: &UdpSocket, datagrams: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    use nix::sys::socket::{sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage};
    use std::io::IoSlice;
    use std::os::fd::AsRawFd;
    let datagrams = datagrams.get(..BATCH).unwrap_or(datagrams);
    let slices: Vec<[IoSlice<'_>; 1]> = datagrams.iter().map(|(_, bytes)| [IoSlice::new(bytes)]).collect();
    let addrs: Vec<Option<SockaddrStorage>> =
        datagrams.iter().map(|(addr, _)| Some(SockaddrStorage::from(*addr))).collect();
    let fd = udp.as_raw_fd();
    udp.try_io(tokio::io::Interest::WRITABLE, || {
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(slices.len(), None);
        let none: [ControlMessage<'_>; 0] = [];
        let sent = sendmmsg(fd, &mut headers, &slices, &addrs, none, MsgFlags::empty())?;
        Ok(sent.count())
    })
}

#[cfg(not(target_os = "linux"))]
fn recv(udp: &UdpSocket, buf: &mut [u8], got: &mut Vec<(usize, SocketAddr)>) -> io::Result<()> {
    for slot in buf.chunks_mut(DATAGRAM).take(BATCH) {
        match udp.try_recv_from(slot) {
            Ok((len, addr)) => got.push((len, addr)),
            Err(e) if got.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn send(udp: &UdpSocket, datagrams: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    let mut sent = 0;
    for (addr, bytes) in datagrams.iter().take(BATCH) {
        match udp.try_send_to(bytes, *addr) {
            Ok(_) => sent += 1,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(sent)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_is_sent_and_received_in_batches_in_order() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let out: Vec<(SocketAddr, Vec<u8>)> =
            (0..50).map(|i| (to, format!("datagram {i}").into_bytes())).collect();
        let mut sent = 0;
        while sent < out.len() {
            a.writable().await.unwrap();
            match try_send(&a, &out[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        let mut got = Vec::new();
        let mut received = Received::new();
        while got.len() < out.len() {
            b.readable().await.unwrap();
            match received.try_recv(&b) {
                Ok(n) => {
                    assert!(n <= BATCH);
                    got.extend(received.iter().map(|(from, bytes)| (from, bytes.to_vec())));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        let from = a.local_addr().unwrap();
        assert!(got.iter().all(|(addr, _)| *addr == from));
        let bytes: Vec<Vec<u8>> = got.into_iter().map(|(_, b)| b).collect();
        let want: Vec<Vec<u8>> = out.into_iter().map(|(_, b)| b).collect();
        assert_eq!(bytes, want);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_short_receive_drained_the_socket() {
        assert!(drained(4, 1) && drained(BATCH, 31));
        assert!(!drained(4, 4), "a full receive may have left more");
        assert!(!drained(4, 0));
    }

    #[tokio::test]
    async fn a_datagram_after_a_short_receive_wakes_the_reader() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let mut received = Received::new();
        for i in 0..3 {
            a.send_to(format!("d{i}").as_bytes(), to).await.unwrap();
            let n = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                loop {
                    b.readable().await.unwrap();
                    match received.try_recv(&b) {
                        Ok(n) => return n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
            .await
            .expect("the reader woke for the datagram");
            assert_eq!(n, 1);
            assert_eq!(received.iter().next().unwrap().1, format!("d{i}").as_bytes());
        }
    }

    #[test]
    fn slots_follow_what_receives_get() {
        assert_eq!(next_slots(MIN_SLOTS, 1), MIN_SLOTS, "the quiet case stays small");
        assert_eq!(next_slots(MIN_SLOTS, 0), MIN_SLOTS);
        assert_eq!(next_slots(4, 4), 8, "a full receive doubles");
        assert_eq!(next_slots(16, 16), BATCH);
        assert_eq!(next_slots(BATCH, BATCH), BATCH);
        assert_eq!(next_slots(BATCH, 0), BATCH, "an empty socket keeps the size");
        assert_eq!(next_slots(BATCH, 20), BATCH);
        assert_eq!(next_slots(BATCH, 5), 10);
    }

    #[tokio::test]
    async fn a_burst_is_received_whole_as_the_slots_grow() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        for i in 0..100 {
            a.send_to(format!("d{i}").as_bytes(), to).await.unwrap();
        }
        let mut received = Received::new();
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        while got.len() < 100 {
            b.readable().await.unwrap();
            if let Ok(n) = received.try_recv(&b) {
                sizes.push(n);
                got.extend(received.iter().map(|(_, bytes)| bytes.to_vec()));
            }
        }
        assert_eq!(&sizes[..4], &[4, 8, 16, 32], "{sizes:?}");
        let want: Vec<Vec<u8>> = (0..100).map(|i| format!("d{i}").into_bytes()).collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn an_empty_socket_would_block() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = Received::new().try_recv(&a).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(try_send(&a, &[]).unwrap(), 0);
    }
}
