//! The binary's HTTP server against a greedy client, with raw sockets: one
//! address cannot hold more than 64 connections (the 2,000 a probe held
//! are refused past the cap), while another address is still served.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use support::calliope::Calliope;

/// A connection from 127.0.0.`last` to `to`.
fn connect_from(to: SocketAddr, last: u8) -> std::io::Result<TcpStream> {
    // std has no bind-then-connect: tokio's socket does it, then the
    // stream is handed back blocking.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4()?;
        s.bind(SocketAddr::from(([127, 0, 0, last], 0)))?;
        let stream = s.connect(to).await?;
        let std = stream.into_std()?;
        std.set_nonblocking(false)?;
        std.set_read_timeout(Some(Duration::from_secs(3)))?;
        Ok(std)
    })
}

/// Whether the server answers GET /healthz on `s` with 200.
fn healthy(s: &mut TcpStream) -> bool {
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    matches!(s.read(&mut buf), Ok(n) if n > 0 && buf[..n].starts_with(b"HTTP/1.1 200"))
}

#[test]
fn one_address_cannot_hold_the_server() {
    let calliope = Calliope::start(&[]);
    let addr: SocketAddr = calliope.http.trim_start_matches("http://").parse().unwrap();
    // Open them all at once (well within the 15 s header timeout, which
    // would otherwise free places), then see which the server closed.
    let all: Vec<TcpStream> = (0..100).map(|_| connect_from(addr, 1).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut held = Vec::new();
    let mut refused = 0;
    for mut s in all {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        // A refused connection is closed unread: a read sees its end.
        let mut byte = [0u8; 1];
        match s.read(&mut byte) {
            Ok(0) => refused += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => refused += 1,
            _ => held.push(s),
        }
    }
    assert_eq!(held.len(), 64, "held {} connections, {refused} refused", held.len());
    assert_eq!(refused, 36);
    // Someone else is served meanwhile, and so are the held ones.
    let mut other = connect_from(addr, 2).unwrap();
    assert!(healthy(&mut other));
    held[0].set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    assert!(healthy(&mut held[0]));
}
