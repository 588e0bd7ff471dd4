//! Relaying RTP and RTCP between the two legs of a call. Each side's
//! address is latched from its first packet (symmetric RTP, for NAT);
//! before that, packets go to the address its SDP gave. Same codec: bytes
//! are relayed as they are. PCMU on one side and PCMA on the other: the
//! payload is transcoded. RFC 4733 events keep flowing, renumbered to the
//! other side's telephone-event payload type. No packet in either direction
//! for the timeout ends the bridge.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use media::g711::Law;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Ports;

/// What one side sends and expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideMedia {
    /// Where its SDP says to send RTP (None: on hold, or not known yet).
    pub remote: Option<SocketAddr>,
    /// Its audio payload type (0 PCMU, 8 PCMA).
    pub codec: u8,
    /// Its telephone-event payload type, if it negotiated one.
    pub dtmf: Option<u8>,
}

/// Counters a test or the live channel list can read.
#[derive(Debug, Default)]
pub struct BridgeStats {
    /// RTP packets received from side A and side B.
    pub received: [AtomicU64; 2],
    /// RTP packets sent to side A and side B.
    pub sent: [AtomicU64; 2],
    /// RFC 4733 packets relayed from side A and side B.
    pub events: [AtomicU64; 2],
}

enum Control {
    Update(usize, SideMedia),
}

/// Why a bridge ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeEnd {
    /// No RTP for the timeout.
    Inactive,
}

/// A running bridge; dropping it stops the relay and frees the ports.
#[derive(Debug)]
pub struct Bridge {
    control: mpsc::Sender<Control>,
    ports: [u16; 2],
    codecs: std::sync::Mutex<[u8; 2]>,
    /// Its counters.
    pub stats: Arc<BridgeStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Bridge {
    /// Starts relaying between side A (`a`, `a_media`) and side B; the
    /// receiver fires if the bridge ends by itself.
    pub fn start(
        a: Ports,
        a_media: SideMedia,
        b: Ports,
        b_media: SideMedia,
        timeout: Duration,
    ) -> (Bridge, oneshot::Receiver<BridgeEnd>) {
        let (control, rx) = mpsc::channel(8);
        let ports = [a.port(), b.port()];
        let codecs = std::sync::Mutex::new([a_media.codec, b_media.codec]);
        let (end_tx, end_rx) = oneshot::channel();
        let stats = Arc::new(BridgeStats::default());
        let task = tokio::spawn(run([a, b], [a_media, b_media], timeout, rx, end_tx, stats.clone()));
        (Bridge { control, ports, codecs, stats, task }, end_rx)
    }

    /// Changes what a side (0 A, 1 B) sends and expects, after a re-INVITE.
    pub async fn update(&self, side: usize, media: SideMedia) {
        if let Ok(mut c) = self.codecs.lock() {
            c[side.min(1)] = media.codec;
        }
        let _ = self.control.send(Control::Update(side.min(1), media)).await;
    }

    /// The RTP port of a side.
    pub fn port(&self, side: usize) -> u16 {
        self.ports[side.min(1)]
    }

    /// The audio payload type a side uses.
    pub fn codec(&self, side: usize) -> u8 {
        self.codecs.lock().map_or(0, |c| c[side.min(1)])
    }
}

struct Side {
    media: SideMedia,
    /// Where RTP from this side came from last (latched).
    latched: Option<SocketAddr>,
    latched_rtcp: Option<SocketAddr>,
}

impl Side {
    fn rtp_target(&self) -> Option<SocketAddr> {
        self.latched.or(self.media.remote)
    }
    fn rtcp_target(&self) -> Option<SocketAddr> {
        self.latched_rtcp
            .or_else(|| self.media.remote.map(|r| SocketAddr::new(r.ip(), r.port().saturating_add(1))))
    }
}

async fn run(
    ports: [Ports; 2],
    media: [SideMedia; 2],
    timeout: Duration,
    mut control: mpsc::Receiver<Control>,
    end: oneshot::Sender<BridgeEnd>,
    stats: Arc<BridgeStats>,
) {
    let mut sides = media.map(|m| Side { media: m, latched: None, latched_rtcp: None });
    let mut buf_a = vec![0u8; 2048];
    let mut buf_b = vec![0u8; 2048];
    let mut rtcp_a = vec![0u8; 2048];
    let mut rtcp_b = vec![0u8; 2048];
    let mut last = Instant::now();
    loop {
        let deadline = last + timeout;
        tokio::select! {
            r = ports[0].rtp.recv_from(&mut buf_a) => if let Ok((n, from)) = r {
                last = Instant::now();
                forward(0, &mut buf_a, n, from, &mut sides, &ports, &stats).await;
            },
            r = ports[1].rtp.recv_from(&mut buf_b) => if let Ok((n, from)) = r {
                last = Instant::now();
                forward(1, &mut buf_b, n, from, &mut sides, &ports, &stats).await;
            },
            r = ports[0].rtcp.recv_from(&mut rtcp_a) => if let Ok((n, from)) = r {
                sides[0].latched_rtcp = Some(from);
                if let Some(to) = sides[1].rtcp_target() {
                    let _ = ports[1].rtcp.send_to(rtcp_a.get(..n).unwrap_or_default(), to).await;
                }
            },
            r = ports[1].rtcp.recv_from(&mut rtcp_b) => if let Ok((n, from)) = r {
                sides[1].latched_rtcp = Some(from);
                if let Some(to) = sides[0].rtcp_target() {
                    let _ = ports[0].rtcp.send_to(rtcp_b.get(..n).unwrap_or_default(), to).await;
                }
            },
            c = control.recv() => match c {
                Some(Control::Update(side, m)) => {
                    let s = &mut sides[side];
                    if s.media.remote != m.remote {
                        s.latched = None;
                        s.latched_rtcp = None;
                    }
                    s.media = m;
                }
                None => return,
            },
            _ = tokio::time::sleep_until(deadline) => {
                let _ = end.send(BridgeEnd::Inactive);
                return;
            }
        }
    }
}

/// Relays one RTP packet that side `from_side` sent.
async fn forward(
    from_side: usize,
    buf: &mut [u8],
    n: usize,
    from: SocketAddr,
    sides: &mut [Side; 2],
    ports: &[Ports; 2],
    stats: &BridgeStats,
) {
    let to_side = 1 - from_side;
    let Some(packet) = buf.get_mut(..n) else { return };
    let Ok(parsed) = media::rtp::parse(packet) else { return };
    let pt = parsed.payload_type;
    let header = parsed.header_len();
    let payload_len = parsed.payload.len();
    stats.received[from_side].fetch_add(1, Ordering::Relaxed);
    sides[from_side].latched = Some(from);
    let (src, dst) = (sides[from_side].media, sides[to_side].media);
    let new_pt = if Some(pt) == src.dtmf {
        stats.events[from_side].fetch_add(1, Ordering::Relaxed);
        match dst.dtmf {
            Some(d) => d,
            None => return,
        }
    } else if pt == src.codec && src.codec != dst.codec {
        match (Law::from_payload_type(src.codec), Law::from_payload_type(dst.codec)) {
            (Some(law), Some(_)) => {
                if let Some(payload) = packet.get_mut(header..header + payload_len) {
                    law.transcode_in_place(payload);
                }
                dst.codec
            }
            _ => return,
        }
    } else {
        pt
    };
    if let Some(b) = packet.get_mut(1) {
        *b = (*b & 0x80) | (new_pt & 0x7f);
    }
    let Some(to) = sides[to_side].rtp_target() else { return };
    if ports[to_side].rtp.send_to(packet, to).await.is_ok() {
        stats.sent[to_side].fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::net::UdpSocket;

    use super::*;
    use crate::relay::PortPool;

    async fn recv(s: &UdpSocket) -> Vec<u8> {
        let mut buf = [0u8; 2048];
        let (n, _) =
            tokio::time::timeout(Duration::from_secs(2), s.recv_from(&mut buf)).await.unwrap().unwrap();
        buf[..n].to_vec()
    }

    fn rtp(pt: u8, seq: u16, payload: &[u8]) -> Vec<u8> {
        media::rtp::RtpPacket::new(pt, seq, u32::from(seq) * 160, 7, payload).to_vec().unwrap()
    }

    #[tokio::test]
    async fn transcodes_renumbers_events_latches_and_times_out() {
        let pool = PortPool::new(42100, 42120);
        let ip = [127, 0, 0, 1].into();
        let (pa, pb) = (pool.bind(ip).await.unwrap(), pool.bind(ip).await.unwrap());
        let (a_port, b_port) = (pa.port(), pb.port());
        let phone_a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let phone_b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // A speaks PCMA with events on 101; B PCMU with events on 96. B's
        // SDP names its socket; A's is learnt by latching.
        let a = SideMedia { remote: None, codec: 8, dtmf: Some(101) };
        let b = SideMedia { remote: Some(phone_b.local_addr().unwrap()), codec: 0, dtmf: Some(96) };
        let (bridge, ended) = Bridge::start(pa, a, pb, b, Duration::from_millis(400));

        let alaw = vec![0xD5u8; 160];
        phone_a.send_to(&rtp(8, 1, &alaw), ("127.0.0.1", a_port)).await.unwrap();
        let got = recv(&phone_b).await;
        let p = media::rtp::parse(&got).unwrap();
        assert_eq!(p.payload_type, 0);
        assert_eq!(p.payload, &vec![media::g711::alaw_to_ulaw(0xD5); 160][..]);

        phone_a.send_to(&rtp(101, 2, &[1, 0x0a, 0, 160]), ("127.0.0.1", a_port)).await.unwrap();
        let got = recv(&phone_b).await;
        assert_eq!(media::rtp::parse(&got).unwrap().payload_type, 96);

        // B answers; it reaches A where A's packets came from.
        phone_b.send_to(&rtp(0, 9, &[0xFF; 160]), ("127.0.0.1", b_port)).await.unwrap();
        let got = recv(&phone_a).await;
        assert_eq!(media::rtp::parse(&got).unwrap().payload_type, 8);
        assert_eq!(bridge.stats.received[0].load(Ordering::Relaxed), 2);
        assert_eq!(bridge.stats.events[0].load(Ordering::Relaxed), 1);

        assert_eq!(
            tokio::time::timeout(Duration::from_secs(2), ended).await.unwrap().unwrap(),
            BridgeEnd::Inactive
        );
    }
}
