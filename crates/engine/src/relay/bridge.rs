//! Relaying between the two legs of an agent-to-agent call: a thin wrapper
//! over a [`MediaSession`] with two connected legs. Same codec: bytes
//! relayed; PCMU on one side and PCMA on the other: transcoded; RFC 4733
//! events renumbered. Latching is the session's: a side's peer is its SDP
//! address (or a port on its IP, in the learning window), locked on the
//! first packet from it; strangers are dropped.
//! No packet in either direction for the timeout ends the bridge.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::Ports;
use crate::media::session::Command;
use crate::media::{LegId, LegStats, MediaEvent, MediaHandle, MediaSession, RemoteMedia, SessionConfig};

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

impl SideMedia {
    /// The bridge does not know the SIP peer's address, so the SDP's IP
    /// stands in for it: a source on that IP (any port) may be learnt in
    /// the window, which covers phones that send from another port than
    /// the one they announce (SIPp's pcap player does).
    fn remote_media(self) -> RemoteMedia {
        let signalling_ip = self.remote.map(|a| a.ip());
        RemoteMedia { dtmf: self.dtmf, signalling_ip, ..RemoteMedia::new(self.remote, self.codec) }
    }
}

/// Counters of the two sides (A, B).
#[derive(Debug)]
pub struct BridgeStats {
    /// Side A's and side B's counters.
    pub legs: [Arc<LegStats>; 2],
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
    media: MediaHandle,
    ports: [u16; 2],
    codecs: std::sync::Mutex<[u8; 2]>,
    /// Its counters.
    pub stats: Arc<BridgeStats>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

const LEGS: [LegId; 2] = [LegId(0), LegId(1)];

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
        let config = SessionConfig { inactivity: Some(timeout), ..SessionConfig::default() };
        let (media, mut events) = MediaSession::start(config);
        let ports = [a.port(), b.port()];
        let stats = Arc::new(BridgeStats { legs: [Arc::default(), Arc::default()] });
        // A fresh queue has room for these five commands.
        for (i, (p, m)) in [(a, a_media), (b, b_media)].into_iter().enumerate() {
            let (reply, _) = oneshot::channel();
            let stats = stats.legs[i].clone();
            let _ = media.try_command(Command::AddLeg { leg: LEGS[i], ports: p, stats, reply });
            let (reply, _) = oneshot::channel();
            let _ = media.try_command(Command::SetRemote { leg: LEGS[i], remote: m.remote_media(), reply });
        }
        let (reply, _) = oneshot::channel();
        let _ = media.try_command(Command::Connect { a: LEGS[0], b: LEGS[1], reply });
        let (end_tx, end_rx) = oneshot::channel();
        let watcher = tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                if e == MediaEvent::Inactive {
                    let _ = end_tx.send(BridgeEnd::Inactive);
                    return;
                }
            }
        });
        let codecs = std::sync::Mutex::new([a_media.codec, b_media.codec]);
        (Bridge { media, ports, codecs, stats, watcher }, end_rx)
    }

    /// Changes what a side (0 A, 1 B) sends and expects, after a re-INVITE.
    pub async fn update(&self, side: usize, media: SideMedia) {
        if let Ok(mut c) = self.codecs.lock() {
            c[side.min(1)] = media.codec;
        }
        let _ = self.media.set_remote(LEGS[side.min(1)], media.remote_media()).await;
    }

    /// The RTP port of a side.
    pub fn port(&self, side: usize) -> u16 {
        self.ports[side.min(1)]
    }

    /// The audio payload type a side uses.
    pub fn codec(&self, side: usize) -> u8 {
        self.codecs.lock().map_or(0, |c| c[side.min(1)])
    }

    /// The media session behind the bridge.
    pub fn media(&self) -> &MediaHandle {
        &self.media
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::net::UdpSocket;

    use super::*;
    use crate::media::PortPool;

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
    async fn transcodes_renumbers_events_and_times_out() {
        let pool = PortPool::new(42100, 42120);
        let ip = [127, 0, 0, 1].into();
        let (pa, pb) = (pool.bind(ip).await.unwrap(), pool.bind(ip).await.unwrap());
        let (a_port, b_port) = (pa.port(), pb.port());
        let phone_a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let phone_b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // A speaks PCMA with events on 101; B PCMU with events on 96.
        let a = SideMedia { remote: Some(phone_a.local_addr().unwrap()), codec: 8, dtmf: Some(101) };
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

        phone_b.send_to(&rtp(0, 9, &[0xFF; 160]), ("127.0.0.1", b_port)).await.unwrap();
        let got = recv(&phone_a).await;
        assert_eq!(media::rtp::parse(&got).unwrap().payload_type, 8);
        assert_eq!(LegStats::get(&bridge.stats.legs[0].rtp_in), 2);
        assert_eq!(LegStats::get(&bridge.stats.legs[0].events_in), 1);

        assert_eq!(
            tokio::time::timeout(Duration::from_secs(2), ended).await.unwrap().unwrap(),
            BridgeEnd::Inactive
        );
    }
}
