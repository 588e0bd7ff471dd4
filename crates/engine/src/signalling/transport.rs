//! SIP over UDP and TCP: one UDP socket and one TCP listener on the SIP
//! address, many TCP connections. Packets from blacklisted sources are
//! dropped before anything reads them; the rest arrive as whole messages
//! (datagrams, or messages cut from a stream) on one channel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use sip::transaction::{Peer, Protocol};
use sip::{frame, Frame, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::ipblock::{self, Rule};
use crate::location::Transport;

/// One received message.
#[derive(Debug)]
pub struct Inbound {
    /// Who sent it.
    pub peer: Peer,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The IP blacklist the listeners apply, replaced when it changes.
#[derive(Debug, Default)]
pub struct Blacklist {
    rules: RwLock<Vec<Rule>>,
}

impl Blacklist {
    /// Replaces the rules.
    pub fn set(&self, rules: Vec<Rule>) {
        if let Ok(mut r) = self.rules.write() {
            *r = rules;
        }
    }

    /// Whether packets from `source` to our `local_port` are dropped.
    pub fn blocks(&self, source: SocketAddr, local_port: u16, transport: Transport) -> bool {
        let transport = match transport {
            Transport::Udp => ipblock::Transport::Udp,
            Transport::Tcp => ipblock::Transport::Tcp,
        };
        self.rules.read().is_ok_and(|r| ipblock::is_blocked(r.iter(), source.ip(), local_port, transport))
    }
}

/// The SIP sockets.
#[derive(Debug)]
pub struct Transports {
    udp: Arc<UdpSocket>,
    local: SocketAddr,
    connections: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    inbound: mpsc::Sender<Inbound>,
    blacklist: Arc<Blacklist>,
}

/// How many received messages may wait for the switch.
const QUEUE: usize = 16_384;
/// Largest buffer a TCP connection may hold without a whole message.
const MAX_STREAM_BUFFER: usize = 256 * 1024;

impl Transports {
    /// Binds UDP and TCP on `addr` and starts receiving.
    pub async fn bind(
        addr: SocketAddr,
        blacklist: Arc<Blacklist>,
    ) -> std::io::Result<(Arc<Transports>, mpsc::Receiver<Inbound>)> {
        let (udp, tcp) = bind_pair(addr).await?;
        let local = udp.local_addr()?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let transports = Arc::new(Transports {
            udp: Arc::new(udp),
            local,
            connections: Mutex::new(HashMap::new()),
            inbound: tx,
            blacklist,
        });
        tokio::spawn(udp_loop(transports.clone()));
        tokio::spawn(accept_loop(transports.clone(), tcp));
        Ok((transports, rx))
    }

    /// The address the sockets are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends `bytes` to `peer`: a datagram, or on the peer's TCP connection
    /// (opened when there is none).
    pub async fn send(self: &Arc<Self>, peer: Peer, bytes: Vec<u8>) {
        match peer.protocol {
            Protocol::Udp => {
                if let Err(e) = self.udp.send_to(&bytes, peer.addr).await {
                    tracing::debug!(peer = %peer.addr, error = %e, "UDP send failed");
                }
            }
            _ => {
                let existing = self.connections.lock().ok().and_then(|c| c.get(&peer.addr).cloned());
                let sender = match existing {
                    Some(s) => s,
                    None => match TcpStream::connect(peer.addr).await {
                        Ok(stream) => self.clone().adopt(stream, peer.addr),
                        Err(e) => {
                            tracing::debug!(peer = %peer.addr, error = %e, "TCP connect failed");
                            return;
                        }
                    },
                };
                let _ = sender.send(bytes).await;
            }
        }
    }

    /// Starts reading and writing a TCP connection; returns its writer.
    fn adopt(self: Arc<Self>, stream: TcpStream, addr: SocketAddr) -> mpsc::Sender<Vec<u8>> {
        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(256);
        if let Ok(mut c) = self.connections.lock() {
            c.insert(addr, out_tx.clone());
        }
        let (mut reader, mut writer) = stream.into_split();
        tokio::spawn(async move {
            while let Some(bytes) = out_rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let me = self.clone();
        let pong = out_tx.clone();
        tokio::spawn(async move {
            let peer = Peer::tcp(addr);
            let limits = Limits::default();
            let mut buf: Vec<u8> = Vec::with_capacity(4096);
            let mut chunk = vec![0u8; 8192];
            'read: loop {
                let n = match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                loop {
                    match frame(&buf, &limits) {
                        Ok(Frame::Incomplete) => break,
                        Ok(Frame::KeepAlive(n)) => {
                            if buf.starts_with(b"\r\n\r\n") {
                                let _ = pong.try_send(b"\r\n".to_vec());
                            }
                            buf.drain(..n.min(buf.len()));
                        }
                        Ok(Frame::Message(n)) => {
                            let bytes: Vec<u8> = buf.drain(..n.min(buf.len())).collect();
                            if me.inbound.send(Inbound { peer, bytes }).await.is_err() {
                                break 'read;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(peer = %addr, error = %e, "closing a TCP stream that cannot be framed");
                            break 'read;
                        }
                    }
                }
                if buf.len() > MAX_STREAM_BUFFER {
                    break;
                }
            }
            if let Ok(mut c) = me.connections.lock() {
                c.remove(&addr);
            }
        });
        out_tx
    }
}

/// UDP and TCP on the same address. For port 0 the system picks the UDP
/// port, whose TCP twin may be taken: then another is tried.
async fn bind_pair(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut tries = if addr.port() == 0 { 20 } else { 1 };
    loop {
        let udp = UdpSocket::bind(addr).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if tries <= 1 => return Err(e),
            Err(_) => tries -= 1,
        }
    }
}

async fn udp_loop(t: Arc<Transports>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, addr) = match t.udp.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors from earlier sends surface here on some systems.
                tracing::trace!(error = %e, "UDP receive error");
                continue;
            }
        };
        if t.blacklist.blocks(addr, t.local.port(), Transport::Udp) {
            continue;
        }
        let bytes = buf.get(..n).unwrap_or_default();
        // Keep-alives (CRLF) carry no message.
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
            continue;
        }
        let peer = Peer::udp(addr);
        if t.inbound.try_send(Inbound { peer, bytes: bytes.to_vec() }).is_err() {
            tracing::warn!("SIP queue full: a datagram was dropped");
        }
    }
}

async fn accept_loop(t: Arc<Transports>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                if t.blacklist.blocks(addr, t.local.port(), Transport::Tcp) {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                t.clone().adopt(stream, addr);
            }
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
