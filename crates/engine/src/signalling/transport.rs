//! SIP over UDP and TCP: one UDP socket and one TCP listener on the SIP
//! address, many TCP connections. Packets from blacklisted or banned
//! sources are dropped before anything reads them; the rest arrive as whole
//! messages (datagrams, or messages cut from a stream) on the channel of
//! the switch shard their Call-ID belongs to.
//!
//! Sending never waits: [`Transports::send`] hands a message to the
//! socket or to its connection's bounded queue and returns, so a slow or
//! unreachable TCP peer delays nothing but itself. Connects and writes run
//! in each connection's own task with timeouts; connections are capped in
//! total and per IP address, and closed when idle or when a message takes
//! too long to arrive.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sip::transaction::{Peer, Protocol};
use sip::{Frame, Framer, Limits as SipLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::bans::Bans;
use super::datagrams::{self, BATCH};
use super::limits::Limits;
use super::shards::Picker;
use crate::ipblock::{self, Rule};
use crate::location::Transport;
use crate::throttle::Throttle;

/// One received message.
#[derive(Debug)]
pub struct Inbound {
    /// Who sent it.
    pub peer: Peer,
    /// Its bytes.
    pub bytes: Received,
}

/// A received message's bytes, counted against the budget of bytes that
/// may wait for the switch until they are dropped (read them as `&[u8]`).
#[derive(Debug)]
pub struct Received {
    bytes: Vec<u8>,
    budget: Arc<AtomicUsize>,
}

impl Received {
    /// Takes `bytes` when the budget has room for them.
    fn take(bytes: &[u8], budget: &Arc<AtomicUsize>) -> Option<Received> {
        let n = bytes.len();
        let before = budget.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) > INBOUND_BYTES {
            budget.fetch_sub(n, Ordering::AcqRel);
            return None;
        }
        Some(Received { bytes: bytes.to_vec(), budget: budget.clone() })
    }
}

impl std::ops::Deref for Received {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.bytes.len(), Ordering::AcqRel);
    }
}

/// What the listeners drop: the IP blacklist (replaced when it changes) and
/// the addresses banned for failing digest authentication.
#[derive(Debug)]
pub struct Blacklist {
    rules: RwLock<Vec<Rule>>,
    /// Addresses banned for a while.
    pub bans: Bans,
}

impl Default for Blacklist {
    fn default() -> Blacklist {
        Blacklist::new(&Limits::default())
    }
}

impl Blacklist {
    /// No rules yet, and a ban table sized by `limits`.
    pub fn new(limits: &Limits) -> Blacklist {
        Blacklist { rules: RwLock::new(Vec::new()), bans: Bans::new(limits) }
    }

    /// Replaces the rules.
    pub fn set(&self, rules: Vec<Rule>) {
        if let Ok(mut r) = self.rules.write() {
            *r = rules;
        }
    }

    /// Whether packets from `source` to our `local_port` are dropped.
    pub fn blocks(&self, source: SocketAddr, local_port: u16, transport: Transport) -> bool {
        if self.bans.is_banned(source.ip(), Instant::now()) {
            return true;
        }
        let transport = match transport {
            Transport::Udp => ipblock::Transport::Udp,
            Transport::Tcp => ipblock::Transport::Tcp,
        };
        self.rules.read().is_ok_and(|r| ipblock::is_blocked(r.iter(), source.ip(), local_port, transport))
    }
}

/// Counters of what the transports dropped or refused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TransportStats {
    /// Messages dropped because a connection's queue was full.
    pub queue_full: u64,
    /// Connections refused or sends dropped because of the caps.
    pub refused: u64,
    /// Outgoing connects that failed or timed out.
    pub connect_failed: u64,
    /// Connections closed after a write timed out or failed.
    pub write_failed: u64,
    /// Connections closed for idleness or a message that took too long.
    pub timed_out: u64,
    /// Datagrams dropped (the received queue or the send queue was full).
    pub udp_dropped: u64,
    /// TCP connections open (or connecting) now.
    pub open: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queue_full: AtomicU64,
    refused: AtomicU64,
    connect_failed: AtomicU64,
    write_failed: AtomicU64,
    timed_out: AtomicU64,
    udp_dropped: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One TCP connection (or one being made): its writer queue.
#[derive(Debug)]
struct Conn {
    id: u64,
    queue: mpsc::Sender<Vec<u8>>,
}

/// The live TCP connections, by peer address, with counts per IP.
#[derive(Debug, Default)]
struct Table {
    conns: HashMap<SocketAddr, Conn>,
    per_ip: HashMap<IpAddr, usize>,
    next_id: u64,
}

impl Table {
    /// Adds a connection to `addr` unless a cap forbids it; returns its id
    /// and the receiving end of its queue.
    fn open(&mut self, addr: SocketAddr, limits: &Limits) -> Option<(u64, mpsc::Receiver<Vec<u8>>)> {
        let ip_count = self.per_ip.get(&addr.ip()).copied().unwrap_or(0);
        if self.conns.len() >= limits.tcp_connections || ip_count >= limits.tcp_per_ip {
            return None;
        }
        if let Some(old) = self.conns.remove(&addr) {
            // A connection to the same address replaces the old entry.
            drop(old);
            self.release_ip(addr.ip());
        }
        self.next_id += 1;
        let id = self.next_id;
        let (queue, rx) = mpsc::channel(limits.tcp_queue.max(1));
        self.conns.insert(addr, Conn { id, queue });
        *self.per_ip.entry(addr.ip()).or_default() += 1;
        Some((id, rx))
    }

    /// Removes connection `id` to `addr`, if it is still the one listed.
    fn close(&mut self, addr: SocketAddr, id: u64) {
        if self.conns.get(&addr).is_some_and(|c| c.id == id) {
            self.conns.remove(&addr);
            self.release_ip(addr.ip());
        }
    }

    fn release_ip(&mut self, ip: IpAddr) {
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }
}

/// The SIP sockets.
#[derive(Debug)]
pub struct Transports {
    udp: Arc<UdpSocket>,
    udp_out: mpsc::Sender<(SocketAddr, Vec<u8>)>,
    local: SocketAddr,
    table: Mutex<Table>,
    /// Each switch shard's received messages.
    inbound: Vec<mpsc::Sender<Inbound>>,
    /// Which shard a message goes to.
    picker: Picker,
    /// Bytes received and not yet dropped by the switch.
    pending: Arc<AtomicUsize>,
    blacklist: Arc<Blacklist>,
    limits: Limits,
    counters: Counters,
    /// The clock of the idle timers.
    epoch: Instant,
}

/// How many received messages may wait for each switch shard.
const QUEUE: usize = 16_384;
/// How many bytes of received messages may wait for the switch: without
/// it, a flood of 64 KiB datagrams could fill the queue with 1 GiB.
const INBOUND_BYTES: usize = 32 << 20;
/// The UDP socket's receive and send buffers asked for, in bytes.
const UDP_BUFFER: usize = 8 << 20;
/// How many datagrams may wait for a busy UDP socket.
const UDP_OUT_QUEUE: usize = 4096;

impl Transports {
    /// Binds UDP and TCP on `addr` and starts receiving: what each of
    /// `picker`'s shards receives comes on its own channel.
    pub async fn bind(
        addr: SocketAddr,
        blacklist: Arc<Blacklist>,
        limits: Limits,
        picker: Picker,
    ) -> std::io::Result<(Arc<Transports>, Vec<mpsc::Receiver<Inbound>>)> {
        let (udp, tcp) = bind_pair(addr).await?;
        let local = udp.local_addr()?;
        let (tx, rx) = (0..picker.count()).map(|_| mpsc::channel(QUEUE)).unzip();
        let (udp_out, udp_out_rx) = mpsc::channel(UDP_OUT_QUEUE);
        let udp = Arc::new(udp);
        let transports = Arc::new(Transports {
            udp: udp.clone(),
            udp_out,
            local,
            table: Mutex::new(Table::default()),
            inbound: tx,
            picker,
            pending: Arc::new(AtomicUsize::new(0)),
            blacklist,
            limits,
            counters: Counters::default(),
            epoch: Instant::now(),
        });
        tokio::spawn(udp_loop(transports.clone()));
        tokio::spawn(udp_writer(udp, udp_out_rx));
        tokio::spawn(accept_loop(transports.clone(), tcp));
        Ok((transports, rx))
    }

    /// The address the sockets are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The channel of the shard of message `bytes`.
    fn inbound_for(&self, bytes: &[u8]) -> Option<&mpsc::Sender<Inbound>> {
        self.inbound.get(self.picker.of_raw(bytes))
    }

    /// Queues a message a shard received for shard `shard` (its Call-ID's,
    /// which the receiver could not read); dropped and counted when that
    /// shard's queue is full.
    pub fn forward(&self, shard: usize, message: Inbound) {
        let Some(queue) = self.inbound.get(shard) else { return };
        if queue.try_send(message).is_err() {
            bump(&self.counters.udp_dropped);
            tracing::debug!("SIP queue full: a forwarded message was dropped");
        }
    }

    /// What was dropped or refused so far, and the connections open now.
    pub fn stats(&self) -> TransportStats {
        let c = &self.counters;
        TransportStats {
            queue_full: c.queue_full.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            connect_failed: c.connect_failed.load(Ordering::Relaxed),
            write_failed: c.write_failed.load(Ordering::Relaxed),
            timed_out: c.timed_out.load(Ordering::Relaxed),
            udp_dropped: c.udp_dropped.load(Ordering::Relaxed),
            open: self.table.lock().map_or(0, |t| t.conns.len() as u64),
        }
    }

    /// Sends `bytes` to `peer` without waiting: a datagram, or a message
    /// queued on the peer's TCP connection (one is opened in the background
    /// when there is none). A full queue or a cap drops the message and
    /// counts it; a timeout closes the connection. A peer outside
    /// [`Limits::destinations`] gets nothing.
    pub fn send(self: &Arc<Self>, peer: Peer, bytes: Vec<u8>) {
        if !self.limits.may_send_to(peer.addr.ip()) {
            bump(&self.counters.refused);
            tracing::warn!(peer = %peer.addr, "SIP to an address outside --sip-destinations was dropped");
            return;
        }
        match peer.protocol {
            Protocol::Udp => match self.udp.try_send_to(&bytes, peer.addr) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.queue_datagram(peer.addr, bytes),
                Err(e) => tracing::debug!(peer = %peer.addr, error = %e, "UDP send failed"),
            },
            _ => self.send_tcp(peer.addr, bytes),
        }
    }

    /// Leaves a datagram to the UDP writer (the socket is full).
    fn queue_datagram(&self, addr: SocketAddr, bytes: Vec<u8>) {
        if self.udp_out.try_send((addr, bytes)).is_err() {
            bump(&self.counters.udp_dropped);
            tracing::debug!(peer = %addr, "UDP send queue full: a message was dropped");
        }
    }

    /// As [`Transports::send`], but a datagram is only added to `held`,
    /// for [`Transports::send_held`] to send with the others.
    pub fn send_or_hold(self: &Arc<Self>, peer: Peer, bytes: Vec<u8>, held: &mut Vec<(SocketAddr, Vec<u8>)>) {
        if !self.limits.may_send_to(peer.addr.ip()) {
            bump(&self.counters.refused);
            tracing::warn!(peer = %peer.addr, "SIP to an address outside --sip-destinations was dropped");
            return;
        }
        match peer.protocol {
            Protocol::Udp => held.push((peer.addr, bytes)),
            _ => self.send_tcp(peer.addr, bytes),
        }
    }

    /// Sends the datagrams `held`, in order and together (up to
    /// [`BATCH`] a system call), and empties it. Those that find the
    /// socket full wait in the UDP writer's queue (dropped and counted
    /// when that is full too).
    pub fn send_held(&self, held: &mut Vec<(SocketAddr, Vec<u8>)>) {
        let mut sent = 0;
        while let Some(rest) = held.get(sent..).filter(|r| !r.is_empty()) {
            match datagrams::try_send(&self.udp, rest) {
                Ok(n) => sent += n.max(1),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    let peer = rest.first().map(|d| d.0);
                    tracing::debug!(?peer, error = %e, "UDP send failed");
                    sent += 1;
                }
            }
        }
        for (addr, bytes) in held.drain(sent.min(held.len())..) {
            self.queue_datagram(addr, bytes);
        }
        held.clear();
    }

    fn send_tcp(self: &Arc<Self>, addr: SocketAddr, bytes: Vec<u8>) {
        let Ok(mut table) = self.table.lock() else { return };
        let mut bytes = bytes;
        let mut gone = None;
        if let Some(conn) = table.conns.get(&addr) {
            match conn.queue.try_send(bytes) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    bump(&self.counters.queue_full);
                    tracing::debug!(peer = %addr, "TCP queue full: a message was dropped");
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(back)) => {
                    bytes = back;
                    gone = Some(conn.id);
                }
            }
        }
        if let Some(id) = gone {
            table.close(addr, id);
        }
        let Some((id, rx)) = table.open(addr, &self.limits) else {
            bump(&self.counters.refused);
            tracing::debug!(peer = %addr, "TCP connection cap reached: a message was dropped");
            return;
        };
        if let Some(conn) = table.conns.get(&addr) {
            // The message that asked for the connection goes first.
            let _ = conn.queue.try_send(bytes);
        }
        drop(table);
        tokio::spawn(self.clone().connect(addr, id, rx));
    }

    /// Connects to `addr` within the connect timeout and runs the
    /// connection; on failure forgets it (queued messages are dropped).
    async fn connect(self: Arc<Self>, addr: SocketAddr, id: u64, queue: mpsc::Receiver<Vec<u8>>) {
        let guard = Listed { t: self.clone(), addr, id };
        match tokio::time::timeout(self.limits.tcp_connect, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                self.run(stream, guard, queue);
            }
            Ok(Err(e)) => {
                bump(&self.counters.connect_failed);
                tracing::debug!(peer = %addr, error = %e, "TCP connect failed");
            }
            Err(_) => {
                bump(&self.counters.connect_failed);
                tracing::debug!(peer = %addr, "TCP connect timed out");
            }
        }
    }

    /// Reads and writes a connected stream in two tasks. The reader holds
    /// the table entry: when it ends (peer closed, idle, bad framing, or
    /// aborted by a failed write) the entry goes, and with it the queue.
    fn run(self: &Arc<Self>, stream: TcpStream, guard: Listed, queue: mpsc::Receiver<Vec<u8>>) {
        let (reader, writer) = stream.into_split();
        let activity = Arc::new(AtomicU64::new(self.elapsed_ms()));
        let reader = tokio::spawn(self.clone().read_loop(reader, guard, activity.clone()));
        tokio::spawn(self.clone().write_loop(writer, queue, activity, reader));
    }

    fn elapsed_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    async fn write_loop(
        self: Arc<Self>,
        mut writer: OwnedWriteHalf,
        mut queue: mpsc::Receiver<Vec<u8>>,
        activity: Arc<AtomicU64>,
        reader: tokio::task::JoinHandle<()>,
    ) {
        while let Some(bytes) = queue.recv().await {
            match tokio::time::timeout(self.limits.tcp_write, writer.write_all(&bytes)).await {
                Ok(Ok(())) => activity.store(self.elapsed_ms(), Ordering::Relaxed),
                Ok(Err(e)) => {
                    bump(&self.counters.write_failed);
                    tracing::debug!(error = %e, "TCP write failed: closing the connection");
                    break;
                }
                Err(_) => {
                    bump(&self.counters.write_failed);
                    tracing::debug!("TCP write timed out: closing the connection");
                    break;
                }
            }
        }
        // Whatever ended the writer ends the connection.
        reader.abort();
    }

    async fn read_loop(self: Arc<Self>, mut reader: OwnedReadHalf, guard: Listed, activity: Arc<AtomicU64>) {
        let addr = guard.addr;
        let peer = Peer::tcp(addr);
        let limits = SipLimits::default();
        let mut framer = Framer::new();
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 8192];
        // When the message now in the buffer began, if one did.
        let mut partial_since: Option<Instant> = None;
        'read: loop {
            let last = Duration::from_millis(activity.load(Ordering::Relaxed));
            let mut deadline = (self.epoch + last + self.limits.tcp_idle).max(Instant::now());
            if let Some(since) = partial_since {
                deadline = deadline.min(since + self.limits.tcp_message);
            }
            let n = match tokio::time::timeout_at(deadline.into(), reader.read(&mut chunk)).await {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(n)) => n,
                Err(_) => {
                    let busy = Duration::from_millis(activity.load(Ordering::Relaxed)) > last;
                    if partial_since.is_none() && busy {
                        // Written to meanwhile: not idle.
                        continue;
                    }
                    bump(&self.counters.timed_out);
                    let why = if partial_since.is_some() { "a message took too long" } else { "idle" };
                    tracing::debug!(peer = %addr, why, "closing a TCP connection");
                    break;
                }
            };
            activity.store(self.elapsed_ms(), Ordering::Relaxed);
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            let mut start = 0;
            loop {
                let rest = buf.get(start..).unwrap_or_default();
                match framer.frame(rest, &limits) {
                    Ok(Frame::Incomplete) => break,
                    Ok(Frame::KeepAlive(n)) => {
                        if rest.starts_with(b"\r\n\r\n") {
                            self.pong(addr);
                        }
                        start += n;
                    }
                    Ok(Frame::Message(n)) => {
                        let message = rest.get(..n).unwrap_or_default();
                        start += n;
                        if self.blacklist.bans.is_banned(addr.ip(), Instant::now()) {
                            // Banned while connected: no more answers here.
                            break 'read;
                        }
                        // Over budget: wait for the switch to catch up
                        // (this connection alone is slowed down).
                        let bytes = loop {
                            match Received::take(message, &self.pending) {
                                Some(b) => break b,
                                None => tokio::time::sleep(Duration::from_millis(10)).await,
                            }
                        };
                        let Some(queue) = self.inbound_for(&bytes) else { break 'read };
                        if queue.send(Inbound { peer, bytes }).await.is_err() {
                            break 'read;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(peer = %addr, error = %e, "closing a TCP stream that cannot be framed");
                        break 'read;
                    }
                }
            }
            buf.drain(..start.min(buf.len()));
            partial_since = match (buf.is_empty(), partial_since) {
                (true, _) => None,
                (false, Some(since)) if start == 0 => Some(since),
                (false, _) => Some(Instant::now()),
            };
        }
        drop(guard);
    }

    /// Answers a CRLFCRLF ping with a CRLF pong (RFC 5626), if there is room.
    fn pong(&self, addr: SocketAddr) {
        if let Ok(table) = self.table.lock() {
            if let Some(c) = table.conns.get(&addr) {
                let _ = c.queue.try_send(b"\r\n".to_vec());
            }
        }
    }

    /// Takes an accepted connection unless a cap forbids it.
    fn accept(self: &Arc<Self>, stream: TcpStream, addr: SocketAddr) {
        let opened = self.table.lock().ok().and_then(|mut t| t.open(addr, &self.limits));
        let Some((id, queue)) = opened else {
            bump(&self.counters.refused);
            tracing::debug!(peer = %addr, "TCP connection cap reached: closing a new connection");
            return;
        };
        let _ = stream.set_nodelay(true);
        let guard = Listed { t: self.clone(), addr, id };
        self.run(stream, guard, queue);
    }
}

/// A connection's entry in the table, removed when this is dropped.
#[derive(Debug)]
struct Listed {
    t: Arc<Transports>,
    addr: SocketAddr,
    id: u64,
}

impl Drop for Listed {
    fn drop(&mut self) {
        if let Ok(mut table) = self.t.table.lock() {
            table.close(self.addr, self.id);
        }
    }
}

/// UDP and TCP on the same address. For port 0 the system picks the UDP
/// port, whose TCP twin may be taken: then another is tried.
async fn bind_pair(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut tries = if addr.port() == 0 { 20 } else { 1 };
    loop {
        let udp = UdpSocket::bind(addr).await?;
        // Room for bursts while the switch is busy (the system may grant
        // less: net.core.rmem_max / wmem_max).
        let sock = socket2::SockRef::from(&udp);
        let _ = sock.set_recv_buffer_size(UDP_BUFFER);
        let _ = sock.set_send_buffer_size(UDP_BUFFER);
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if tries <= 1 => return Err(e),
            Err(_) => tries -= 1,
        }
    }
}

/// Sends the datagrams that found the socket busy, together when several
/// wait.
async fn udp_writer(udp: Arc<UdpSocket>, mut queue: mpsc::Receiver<(SocketAddr, Vec<u8>)>) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut sent = 0;
        while let Some(rest) = batch.get(sent..).filter(|r| !r.is_empty()) {
            if udp.writable().await.is_err() {
                return;
            }
            match datagrams::try_send(&udp, rest) {
                Ok(n) => sent += n.max(1),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => {
                    let peer = rest.first().map(|d| d.0);
                    tracing::debug!(?peer, error = %e, "UDP send failed");
                    sent += 1;
                }
            }
        }
        batch.clear();
    }
}

/// Receives datagrams, many a system call, and queues them for the switch
/// (one wake-up of it per batch at most).
async fn udp_loop(t: Arc<Transports>) {
    let mut batch = datagrams::Received::new();
    loop {
        if t.udp.readable().await.is_err() {
            return;
        }
        match batch.try_recv(&t.udp) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => {
                // ICMP errors from earlier sends surface here on some systems.
                tracing::trace!(error = %e, "UDP receive error");
                continue;
            }
        }
        for (addr, bytes) in batch.iter() {
            t.take_datagram(addr, bytes);
        }
    }
}

impl Transports {
    /// Queues a received datagram for the switch unless its source is
    /// blocked, it is a keep-alive, or there is no room.
    fn take_datagram(&self, addr: SocketAddr, bytes: &[u8]) {
        if self.blacklist.blocks(addr, self.local.port(), Transport::Udp) {
            return;
        }
        // Keep-alives (CRLF) carry no message.
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return;
        }
        let peer = Peer::udp(addr);
        let shard = self.picker.of_raw(bytes);
        let Some(queue) = self.inbound.get(shard) else { return };
        let Some(bytes) = Received::take(bytes, &self.pending) else {
            bump(&self.counters.udp_dropped);
            static SPENT: Throttle = Throttle::new(Duration::from_secs(10));
            if let Some(held) = SPENT.allow(Instant::now()) {
                tracing::warn!(dropped_before = held, "SIP receive budget spent: a datagram was dropped");
            }
            return;
        };
        if queue.try_send(Inbound { peer, bytes }).is_err() {
            bump(&self.counters.udp_dropped);
            static FULL: Throttle = Throttle::new(Duration::from_secs(10));
            if let Some(held) = FULL.allow(Instant::now()) {
                tracing::warn!(dropped_before = held, shard, "SIP queue full: a datagram was dropped");
            }
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
                t.accept(stream, addr);
            }
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { tcp_connections: 3, tcp_per_ip: 2, tcp_queue: 2, ..Limits::default() }
    }

    #[test]
    fn the_table_caps_connections_in_total_and_per_ip() {
        let mut t = Table::default();
        let a: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let b: SocketAddr = "192.0.2.1:5061".parse().unwrap();
        let c: SocketAddr = "192.0.2.1:5062".parse().unwrap();
        let d: SocketAddr = "192.0.2.2:5060".parse().unwrap();
        let e: SocketAddr = "192.0.2.3:5060".parse().unwrap();
        let (ia, _ra) = t.open(a, &limits()).unwrap();
        let (_ib, _rb) = t.open(b, &limits()).unwrap();
        assert!(t.open(c, &limits()).is_none(), "a third from one IP");
        let (_id, _rd) = t.open(d, &limits()).unwrap();
        assert!(t.open(e, &limits()).is_none(), "a fourth in all");
        t.close(a, ia + 100);
        assert_eq!(t.conns.len(), 3, "another id does not close it");
        t.close(a, ia);
        assert_eq!(t.per_ip.get(&a.ip()), Some(&1));
        assert!(t.open(c, &limits()).is_some(), "room again");
    }

    #[test]
    fn received_bytes_are_held_to_a_budget_and_given_back() {
        let budget = Arc::new(AtomicUsize::new(0));
        let big = vec![0u8; 60_000];
        let mut held = Vec::new();
        while let Some(r) = Received::take(&big, &budget) {
            held.push(r);
        }
        assert_eq!(held.len(), INBOUND_BYTES / 60_000);
        assert!(budget.load(Ordering::Acquire) <= INBOUND_BYTES);
        held.pop();
        assert!(Received::take(&big, &budget).is_some(), "room again once one is dropped");
        held.clear();
        assert_eq!(budget.load(Ordering::Acquire), 0);
        assert_eq!(&*Received::take(b"abc", &budget).unwrap(), b"abc");
    }

    #[tokio::test]
    async fn a_peer_that_never_reads_costs_a_bounded_queue_and_never_blocks_send() {
        let (t, _rx) = Transports::bind(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Blacklist::default()),
            limits(),
            Picker::new(1),
        )
        .await
        .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Instant::now();
        for _ in 0..2000 {
            t.send(Peer::tcp(addr), vec![b'x'; 64 * 1024]);
        }
        assert!(started.elapsed() < Duration::from_secs(1), "sending waited: {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stats = t.stats();
        assert!(stats.queue_full > 1000, "{stats:?}");
        assert_eq!(stats.open, 1);
        drop(listener);
    }
}
