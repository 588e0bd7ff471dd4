//! Many datagrams per system call: `recvmmsg` and `sendmmsg` on Linux, one
//! `recv_from` or `send_to` at a time elsewhere. Both only try: they never
//! wait, and say `WouldBlock` when the socket has nothing to give or no
//! room (tokio's readiness is cleared then, so `readable`/`writable` wait
//! for the next change).

// The two Linux calls need raw pointers into buffers owned here; every
// `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// The most datagrams one call receives or sends.
pub const BATCH: usize = 32;
/// The largest UDP payload.
const DATAGRAM: usize = 65_535;

/// Room for [`BATCH`] received datagrams and who sent them.
pub struct Received {
    /// `BATCH` slots of `DATAGRAM` bytes (pages untouched stay unmapped).
    buf: Vec<u8>,
    /// Length and sender of each datagram of the last receive.
    got: Vec<(usize, SocketAddr)>,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received").field("datagrams", &self.got.len()).finish()
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
        Received { buf: vec![0u8; BATCH * DATAGRAM], got: Vec::with_capacity(BATCH) }
    }

    /// Receives what `udp` holds now, up to [`BATCH`] datagrams, in place
    /// of the last batch; `WouldBlock` when it holds nothing.
    pub fn try_recv(&mut self, udp: &UdpSocket) -> io::Result<usize> {
        self.got.clear();
        recv(udp, &mut self.buf, &mut self.got)?;
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
    use std::os::fd::AsRawFd;
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut names: [libc::sockaddr_storage; BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above (null pointers, zero lengths).
    let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    let slots = buf.chunks_mut(DATAGRAM).take(BATCH);
    let mut n = 0;
    for (((slot, iov), hdr), name) in slots.zip(iovs.iter_mut()).zip(hdrs.iter_mut()).zip(names.iter_mut()) {
        iov.iov_base = slot.as_mut_ptr().cast();
        iov.iov_len = slot.len();
        hdr.msg_hdr.msg_iov = iov;
        hdr.msg_hdr.msg_iovlen = 1;
        hdr.msg_hdr.msg_name = (name as *mut libc::sockaddr_storage).cast();
        hdr.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        n += 1;
    }
    let fd = udp.as_raw_fd();
    let count = udp.try_io(tokio::io::Interest::READABLE, || loop {
        // SAFETY: the first `n` headers point at `n` live iovecs, each at
        // its own slot of `buf`, and at `n` address buffers of the size
        // given; all outlive the call, and the kernel writes no more than
        // the lengths say. The socket is non-blocking.
        let r = unsafe { libc::recvmmsg(fd, hdrs.as_mut_ptr(), n as _, 0, std::ptr::null_mut()) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    })?;
    for (hdr, name) in hdrs.iter().zip(names.iter()).take(count) {
        // A datagram cut to fit (none here: slots hold the largest) or
        // from an address family we do not speak is dropped.
        if hdr.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            continue;
        }
        if let Some(addr) = socket_addr(name, hdr.msg_hdr.msg_namelen) {
            got.push((hdr.msg_len as usize, addr));
        }
    }
    Ok(())
}

/// The address the kernel wrote into `name`.
#[cfg(target_os = "linux")]
fn socket_addr(name: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    let len = len as usize;
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a `sockaddr_in`;
            // `sockaddr_storage` is larger than it and aligned for it.
            let a = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let a = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn send(udp: &UdpSocket, datagrams: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let datagrams = datagrams.get(..BATCH).unwrap_or(datagrams);
    let names: Vec<socket2::SockAddr> =
        datagrams.iter().map(|(addr, _)| socket2::SockAddr::from(*addr)).collect();
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    for ((((_, bytes), name), iov), hdr) in
        datagrams.iter().zip(&names).zip(iovs.iter_mut()).zip(hdrs.iter_mut())
    {
        // The kernel only reads through these pointers.
        iov.iov_base = bytes.as_ptr().cast_mut().cast();
        iov.iov_len = bytes.len();
        hdr.msg_hdr.msg_iov = iov;
        hdr.msg_hdr.msg_iovlen = 1;
        hdr.msg_hdr.msg_name = name.as_ptr().cast_mut().cast();
        hdr.msg_hdr.msg_namelen = name.len();
    }
    let n = datagrams.len();
    let fd = udp.as_raw_fd();
    udp.try_io(tokio::io::Interest::WRITABLE, || loop {
        // SAFETY: the first `n` headers point at live iovecs over the
        // datagrams' bytes and at their encoded addresses, all of which
        // outlive the call; `sendmmsg` reads them and writes only the
        // headers' `msg_len`. The socket is non-blocking.
        let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as _, 0) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
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

    #[tokio::test]
    async fn an_empty_socket_would_block() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = Received::new().try_recv(&a).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(try_send(&a, &[]).unwrap(), 0);
    }
}
