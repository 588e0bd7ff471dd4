//! Sessions with real UDP sockets on 127.0.0.1 standing in for phones.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use media::rtp::{parse, RtpPacket};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::*;

/// A phone: a socket and its outgoing sequence.
pub(super) struct Phone {
    pub sock: UdpSocket,
    seq: u16,
    ssrc: u32,
}

impl Phone {
    pub async fn new() -> Self {
        Self { sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(), seq: 100, ssrc: rand::random() }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    pub async fn send(&mut self, pt: u8, payload: &[u8], to: u16) {
        let p = RtpPacket::new(pt, self.seq, u32::from(self.seq) * 160, self.ssrc, payload).to_vec().unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.sock.send_to(&p, ("127.0.0.1", to)).await.unwrap();
    }

    /// The next datagram within `ms`.
    pub async fn recv_within(&self, ms: u64) -> Option<Vec<u8>> {
        let mut buf = [0u8; 2048];
        let r = tokio::time::timeout(Duration::from_millis(ms), self.sock.recv_from(&mut buf)).await;
        r.ok().map(|r| buf[..r.unwrap().0].to_vec())
    }

    pub async fn recv(&self) -> Vec<u8> {
        self.recv_within(2000).await.expect("a packet within 2 s")
    }
}

pub(super) async fn ports(pool: &std::sync::Arc<PortPool>) -> Ports {
    pool.bind([127, 0, 0, 1].into()).await.unwrap()
}

pub(super) fn pool() -> std::sync::Arc<PortPool> {
    // A range of its own per test, so that parallel tests do not collide.
    let base = 20_000 + (rand::random::<u16>() % 2000) * 10;
    PortPool::new(base, base + 9)
}

pub(super) fn remote(phone: &Phone, codec: u8, dtmf: Option<u8>) -> RemoteMedia {
    RemoteMedia { dtmf, signalling_ip: None, ..RemoteMedia::new(Some(phone.addr()), codec) }
}

/// Two phones on a relayed call: A PCMA (events 101), B PCMU (events 96).
pub(super) async fn call() -> (MediaHandle, mpsc::Receiver<MediaEvent>, Phone, u16, Phone, u16, [AddedLeg; 2])
{
    let pool = pool();
    let (media, events) = MediaSession::start(SessionConfig::default());
    let (a, b) = (Phone::new().await, Phone::new().await);
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    let lb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap();
    media.set_remote(LegId(1), remote(&a, 8, Some(101))).await.unwrap();
    media.set_remote(LegId(2), remote(&b, 0, Some(96))).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    let (pa, pb) = (la.port, lb.port);
    (media, events, a, pa, b, pb, [la, lb])
}

pub(super) async fn next_event(events: &mut mpsc::Receiver<MediaEvent>) -> MediaEvent {
    tokio::time::timeout(Duration::from_secs(3), events.recv()).await.expect("an event in time").unwrap()
}

#[tokio::test]
async fn relays_both_ways_transcoding_and_renumbering_events() {
    let (_media, mut events, mut a, pa, mut b, pb, legs) = call().await;
    a.send(8, &[0xD5; 160], pa).await;
    let got = b.recv().await;
    let p = parse(&got).unwrap();
    assert_eq!(p.payload_type, 0);
    assert_eq!(p.payload, &[media::g711::alaw_to_ulaw(0xD5); 160][..]);

    b.send(0, &[0xFF; 160], pb).await;
    let got = a.recv().await;
    let p = parse(&got).unwrap();
    assert_eq!((p.payload_type, p.payload), (8, &[media::g711::ulaw_to_alaw(0xFF); 160][..]));

    // An RFC 4733 press from A: renumbered to 96 for B and reported once.
    for (i, flags) in [0x0a, 0x0a, 0x8a, 0x8a, 0x8a].into_iter().enumerate() {
        let p = RtpPacket::new(101, 500 + i as u16, 8000, 5, &[5, flags, 0, 160]).to_vec().unwrap();
        a.sock.send_to(&p, ("127.0.0.1", pa)).await.unwrap();
        assert_eq!(parse(&b.recv().await).unwrap().payload_type, 96);
    }
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Dtmf {
            leg: LegId(1),
            digit: Digit::from_char('5').unwrap(),
            source: DtmfSource::Rfc4733
        }
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), events.recv()).await.is_err(),
        "one event per press"
    );
    assert_eq!(LegStats::get(&legs[0].stats.rtp_in), 6);
    assert_eq!(LegStats::get(&legs[0].stats.events_in), 5);
    assert_eq!(LegStats::get(&legs[1].stats.rtp_out), 6);
}

#[tokio::test]
async fn a_stranger_is_not_followed_and_media_keeps_flowing() {
    let (_media, mut events, mut a, pa, mut b, pb, legs) = call().await;
    a.send(8, &[0xD5; 160], pa).await;
    b.recv().await;
    b.send(0, &[0xFF; 160], pb).await;
    a.recv().await;
    // A stranger sprays RTP (and RTCP) at both ports of the call.
    let mut stranger = Phone::new().await;
    for _ in 0..50 {
        stranger.send(0, &[0x11; 160], pb).await;
        stranger.send(8, &[0x11; 160], pa).await;
    }
    stranger.sock.send_to(&[0x80, 200, 0, 1, 0, 0, 0, 1], ("127.0.0.1", pb + 1)).await.unwrap();
    match next_event(&mut events).await {
        MediaEvent::Strangers { from, .. } => assert_eq!(from, stranger.addr()),
        e => panic!("unexpected {e:?}"),
    }
    // The real phones still hear each other; the stranger hears nothing.
    for _ in 0..20 {
        a.send(8, &[0xD5; 160], pa).await;
        b.send(0, &[0xFF; 160], pb).await;
    }
    let mut to_b = 0;
    while let Some(p) = b.recv_within(300).await {
        assert_eq!(
            parse(&p).unwrap().payload[0],
            media::g711::alaw_to_ulaw(0xD5),
            "B got the stranger's audio"
        );
        to_b += 1;
    }
    let mut to_a = 0;
    while a.recv_within(100).await.is_some() {
        to_a += 1;
    }
    assert_eq!((to_a, to_b), (20, 20));
    assert!(stranger.recv_within(200).await.is_none(), "the stranger received media");
    assert_eq!(LegStats::get(&legs[0].stats.strangers), 50);
    assert_eq!(LegStats::get(&legs[1].stats.strangers), 51);
}

#[tokio::test]
async fn a_nat_source_on_the_signalling_ip_is_learnt_in_the_window_then_locked() {
    let pool = pool();
    let (media, _events) = MediaSession::start(SessionConfig::default());
    let (mut a, b) = (Phone::new().await, Phone::new().await);
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    let lb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap();
    // A's SDP names a private address; its packets come from its socket
    // on the IP its SIP came from.
    let sdp: SocketAddr = "192.168.77.7:4000".parse().unwrap();
    let nat = RemoteMedia { signalling_ip: Some([127, 0, 0, 1].into()), ..RemoteMedia::new(Some(sdp), 0) };
    media.set_remote(LegId(1), nat).await.unwrap();
    media.set_remote(LegId(2), remote(&b, 0, None)).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    a.send(0, &[1; 160], la.port).await;
    b.recv().await;
    // B's audio goes to where A's packets came from.
    let mut b = b;
    b.send(0, &[2; 160], lb.port).await;
    assert_eq!(parse(&a.recv().await).unwrap().payload, &[2; 160][..]);
    // Another socket on the same IP cannot take over once locked.
    let mut other = Phone::new().await;
    other.send(0, &[3; 160], la.port).await;
    b.send(0, &[4; 160], lb.port).await;
    assert_eq!(parse(&a.recv().await).unwrap().payload, &[4; 160][..]);
    assert!(other.recv_within(200).await.is_none());
    assert_eq!(LegStats::get(&la.stats.strangers), 1);
}

#[tokio::test]
async fn nothing_is_accepted_before_the_sdp_and_bad_headers_are_counted() {
    let pool = pool();
    let (media, _events) = MediaSession::start(SessionConfig::default());
    let mut a = Phone::new().await;
    let b = Phone::new().await;
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    let lb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap();
    media.set_remote(LegId(2), remote(&b, 0, None)).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    a.send(0, &[1; 160], la.port).await;
    assert!(b.recv_within(200).await.is_none());
    assert_eq!(LegStats::get(&la.stats.strangers), 1);
    media.set_remote(LegId(1), remote(&a, 0, None)).await.unwrap();
    // Garbage, a version-1 header and a truncated CSRC list: dropped.
    for bad in
        [&b"hello"[..], &[0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], &[0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9]]
    {
        a.sock.send_to(bad, ("127.0.0.1", la.port)).await.unwrap();
    }
    a.send(0, &[7; 160], la.port).await;
    assert_eq!(parse(&b.recv().await).unwrap().payload, &[7; 160][..]);
    assert_eq!(LegStats::get(&la.stats.bad_packets), 3);
    assert_eq!(LegStats::get(&lb.stats.rtp_out), 1);
    // Unsupported codecs and unknown legs are clear errors.
    assert_eq!(media.set_remote(LegId(1), remote(&a, 18, None)).await, Err(MediaError::UnsupportedCodec(18)));
    assert_eq!(media.connect(LegId(1), LegId(9)).await, Err(MediaError::UnknownLeg(LegId(9))));
}

#[tokio::test]
async fn inactivity_is_reported_once_and_not_while_held() {
    let pool = pool();
    // Margins wide enough for a loaded machine: a packet every 50 ms against
    // a 1 s timeout.
    let config = SessionConfig { inactivity: Some(Duration::from_secs(1)), ..SessionConfig::default() };
    let (media, mut events) = MediaSession::start(config);
    let mut a = Phone::new().await;
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    media.set_remote(LegId(1), remote(&a, 0, None)).await.unwrap();
    for _ in 0..12 {
        a.send(0, &[0; 160], la.port).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(events.try_recv().is_err(), "no timeout while RTP flows");
    assert_eq!(next_event(&mut events).await, MediaEvent::Inactive);
    // On hold (the peer receives only): quiet is fine.
    let held = RemoteMedia { direction: Direction::RecvOnly, ..remote(&a, 0, None) };
    media.set_remote(LegId(1), held).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(2000), events.recv()).await.is_err());
}

#[tokio::test]
async fn a_muted_leg_still_hears_and_a_removed_leg_gives_its_ports_back() {
    let pool = pool();
    let (media, _events) = MediaSession::start(SessionConfig::default());
    let (mut a, mut b) = (Phone::new().await, Phone::new().await);
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    let lb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap();
    assert_eq!(pool.available(), 3);
    media.set_remote(LegId(1), remote(&a, 0, None)).await.unwrap();
    media.set_remote(LegId(2), remote(&b, 0, None)).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    media.mute(LegId(1), true).await.unwrap();
    a.send(0, &[1; 160], la.port).await;
    // B's stream goes on, at the same pace, carrying silence (PCMU 0xff).
    let mut silent = 0;
    let mut last_seq = None;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        let Some(packet) = b.recv_within(100).await else { break };
        let p = parse(&packet).unwrap();
        assert!(p.payload.iter().all(|&x| x == 0xff), "B heard a muted A: {:?}", &p.payload[..4]);
        if let Some(prev) = last_seq {
            assert_eq!(p.sequence, u16::wrapping_add(prev, 1), "one continuous stream");
        }
        last_seq = Some(p.sequence);
        silent += 1;
    }
    assert!(silent >= 10, "B keeps getting RTP (silence) while A is muted: {silent} packets");
    b.send(0, &[2; 160], lb.port).await;
    let heard = loop {
        let p = a.recv().await;
        if parse(&p).unwrap().payload == [2; 160] {
            break true;
        }
    };
    assert!(heard, "a muted A still hears B");
    media.mute(LegId(1), false).await.unwrap();
    a.send(0, &[3; 160], la.port).await;
    let unmuted = loop {
        let p = b.recv().await;
        let p = parse(&p).unwrap();
        if p.payload != [0xff; 160] {
            break p.payload.to_vec();
        }
    };
    assert_eq!(unmuted, vec![3; 160], "unmuted, A is heard again");
    // Disconnected: nothing flows.
    media.disconnect(LegId(2)).await.unwrap();
    a.send(0, &[4; 160], la.port).await;
    assert!(b.recv_within(200).await.is_none());
    media.remove_leg(LegId(1)).await.unwrap();
    assert_eq!(pool.available(), 4);
    assert_eq!(media.remove_leg(LegId(1)).await, Err(MediaError::UnknownLeg(LegId(1))));
    assert_eq!(
        media.add_leg(LegId(2), ports(&pool).await).await.err(),
        Some(MediaError::LegExists(LegId(2)))
    );
    drop(media);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.available(), 5, "ending the session frees every port");
}

#[tokio::test]
async fn a_late_packet_to_a_reused_port_is_not_relayed_into_the_next_call() {
    let base = 20_000 + (rand::random::<u16>() % 2000) * 10;
    let pool = PortPool::keeping(base, base + 19, Keep { reuse_after: Duration::ZERO, ..Keep::default() });
    let on_signalling_ip = |phone: &Phone| RemoteMedia {
        // What makes the hazard real: during the learning window, the
        // latch takes any source on the signalling peer's IP.
        signalling_ip: Some(phone.addr().ip()),
        ..remote(phone, 0, None)
    };
    let (mut a1, b1) = (Phone::new().await, Phone::new().await);
    let (media, _events) = MediaSession::start(SessionConfig::default());
    let pa = media.add_leg(LegId(1), ports(&pool).await).await.unwrap().port;
    let pb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap().port;
    media.set_remote(LegId(1), on_signalling_ip(&a1)).await.unwrap();
    media.set_remote(LegId(2), on_signalling_ip(&b1)).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    a1.send(0, &[1; 160], pa).await;
    b1.recv().await;
    media.remove_leg(LegId(1)).await.unwrap();
    media.remove_leg(LegId(2)).await.unwrap();
    assert_eq!(pool.sockets_idle(), 4);

    // Call 1's caller goes on sending after its call ended.
    a1.send(0, &[1; 160], pa).await;
    a1.send(0, &[1; 160], pa).await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let (mut a2, b2) = (Phone::new().await, Phone::new().await);
    let (media, _events) = MediaSession::start(SessionConfig::default());
    let la = media.add_leg(LegId(1), ports(&pool).await).await.unwrap();
    let lb = media.add_leg(LegId(2), ports(&pool).await).await.unwrap();
    assert_eq!((la.port, lb.port), (pa, pb), "the same sockets, reused");
    media.set_remote(LegId(1), on_signalling_ip(&a2)).await.unwrap();
    media.set_remote(LegId(2), on_signalling_ip(&b2)).await.unwrap();
    media.connect(LegId(1), LegId(2)).await.unwrap();
    assert_eq!(b2.recv_within(300).await, None, "call 1's packets are not heard in call 2");
    a2.send(0, &[2; 160], pa).await;
    let got = b2.recv().await;
    assert_eq!(parse(&got).unwrap().payload, &[2; 160][..], "call 2's caller is");
    assert_eq!(LegStats::get(&la.stats.rtp_in), 1);
    assert_eq!(LegStats::get(&la.stats.strangers), 0, "not even counted as strangers in call 2");
}
