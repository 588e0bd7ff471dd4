//! Rooms with real media: each member a media session with one leg and a
//! UDP socket on 127.0.0.1 standing in for its phone, sending a tone.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use media::detect::goertzel_power;
use media::g711::Law;
use media::rtp::{parse, RtpPacket};
use media::tone::beep;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::*;
use crate::events::Bus;
use crate::media::{
    Decoded, LegId, MediaEvent, MediaHandle, MediaSession, PortPool, RemoteMedia, SessionConfig,
};

const WS: i64 = 7;

/// One phone in its own call, its leg ready to join.
struct Party {
    media: MediaHandle,
    events: mpsc::Receiver<MediaEvent>,
    sock: Arc<UdpSocket>,
    port: u16,
    law: Law,
    /// The next RTP sequence number: one steady stream across [`talk`]s.
    seq: Arc<std::sync::atomic::AtomicU16>,
    ssrc: u32,
}

fn pool() -> Arc<PortPool> {
    let base = 30_000 + (rand::random::<u16>() % 1000) * 20;
    PortPool::new(base, base + 19)
}

async fn party(pool: &Arc<PortPool>, law: Law) -> Party {
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let (media, events) = MediaSession::start(SessionConfig::default());
    let ports = pool.bind([127, 0, 0, 1].into()).await.unwrap();
    let port = media.add_leg(LegId(1), ports).await.unwrap().port;
    let remote = RemoteMedia {
        signalling_ip: None,
        ..RemoteMedia::new(Some(sock.local_addr().unwrap()), law.payload_type())
    };
    media.set_remote(LegId(1), remote).await.unwrap();
    Party { media, events, sock, port, law, seq: Arc::default(), ssrc: rand::random() }
}

fn quiet() -> JoinOptions {
    JoinOptions { enter_sound: None, exit_sound: None, ..JoinOptions::default() }
}

/// Each party says its tone (if any) for `ms`, paced in real time, while
/// everything each one receives is decoded; returns what each heard.
async fn talk(parties: &[&Party], tones: &[Option<f32>], ms: u32) -> Vec<Vec<i16>> {
    let mut tasks = Vec::new();
    for (p, f) in parties.iter().zip(tones) {
        let (sock, port, law, f) = (p.sock.clone(), p.port, p.law, *f);
        let (next, ssrc) = (p.seq.clone(), p.ssrc);
        let send = tokio::spawn({
            let sock = sock.clone();
            async move {
                let samples = f.map_or_else(|| vec![0; ms as usize * 8], |f| beep(8000, f, ms, 6000.0));
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                for chunk in samples.chunks(160) {
                    tick.tick().await;
                    let seq = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let payload = law.encode_slice(chunk);
                    let pkt = RtpPacket::new(law.payload_type(), seq, u32::from(seq) * 160, ssrc, &payload);
                    sock.send_to(&pkt.to_vec().unwrap(), ("127.0.0.1", port)).await.unwrap();
                }
            }
        });
        let recv = tokio::spawn(async move {
            let mut heard = Vec::new();
            let mut buf = [0u8; 2048];
            let until = tokio::time::Instant::now() + Duration::from_millis(u64::from(ms));
            while let Ok(Ok((n, _))) = tokio::time::timeout_at(until, sock.recv_from(&mut buf)).await {
                if let Ok(p) = parse(&buf[..n]) {
                    heard.extend(law.decode_slice(p.payload));
                }
            }
            heard
        });
        tasks.push((send, recv));
    }
    let mut out = Vec::new();
    for (s, r) in tasks {
        s.await.unwrap();
        out.push(r.await.unwrap());
    }
    out
}

/// The amplitude of `f` in `samples` (after the first 300 ms settle).
fn level(samples: &[i16], f: f32) -> f32 {
    let x: Vec<f32> = samples.iter().skip(2400).map(|&s| f32::from(s)).collect();
    goertzel_power(&x, f, 8000).sqrt() * 2.0 / x.len().max(1) as f32
}

const F: [f32; 3] = [500.0, 900.0, 1400.0];

async fn event(
    bus: &mut tokio::sync::broadcast::Receiver<Arc<crate::events::Event>>,
    name: &str,
) -> Arc<crate::events::Event> {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(3), bus.recv())
            .await
            .expect("an event in time")
            .unwrap();
        if e.name == name {
            return e;
        }
    }
}

#[tokio::test]
async fn three_members_hear_each_other_not_themselves_pcma_among_pcmu_and_the_room_records() {
    let bus = Bus::default();
    let mut sub = bus.subscribe();
    let rooms = Rooms::new(bus, RoomsConfig::default());
    let pool = pool();
    let parties =
        [party(&pool, Law::Ulaw).await, party(&pool, Law::Ulaw).await, party(&pool, Law::Alaw).await];
    for (i, p) in parties.iter().enumerate() {
        let j = rooms.join(WS, "sales", &p.media, LegId(1), quiet()).await.unwrap();
        assert_eq!(j.member, i as u64 + 1);
    }
    assert_eq!(event(&mut sub, "conference.started").await.data["conference"], "sales");
    assert_eq!(event(&mut sub, "member.joined").await.data["member"], 1);
    let info = rooms.room(WS, "sales").await.unwrap();
    assert_eq!(info.members.len(), 3);
    assert!(
        matches!(rooms.room(WS + 1, "sales").await, Err(ConferenceError::NoRoom(_))),
        "another workspace's room"
    );
    let path = std::env::temp_dir().join(format!("calliope-conf-{}.wav", rand::random::<u32>()));
    rooms.record(WS, "sales", path.clone()).await.unwrap();
    assert!(matches!(rooms.record(WS, "sales", path.clone()).await, Err(ConferenceError::Recording(_))));

    let refs: Vec<&Party> = parties.iter().collect();
    let heard = talk(&refs, &F.map(Some), 1500).await;
    for (i, h) in heard.iter().enumerate() {
        assert!(h.len() > 8000, "member {i} heard {} samples", h.len());
        for (k, f) in F.iter().enumerate() {
            let l = level(h, *f);
            if k == i {
                assert!(l < 200.0, "member {i} hears itself at {f} Hz: {l}");
            } else {
                assert!(l > 1500.0, "member {i} hears member {k} at {f} Hz: {l}");
            }
        }
    }

    let done = rooms.stop_record(WS, "sales").await.unwrap();
    assert_eq!(done.error, None);
    assert!(done.duration_ms >= 1000, "{done:?}");
    let wav = media::wav::read_channels(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(wav.channels.len(), 1);
    let rec = &wav.channels[0];
    for f in F {
        assert!(level(rec, f) > 1000.0, "the recording holds {f} Hz: {}", level(rec, f));
    }
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn can_speak_and_can_hear_lists_route_voices_by_leg() {
    let rooms = Rooms::new(Bus::default(), RoomsConfig::default());
    let pool = pool();
    let parties = [
        party(&pool, Law::Ulaw).await,
        party(&pool, Law::Alaw).await,
        party(&pool, Law::Ulaw).await,
        party(&pool, Law::Ulaw).await,
    ];
    let legs = ["leg-a", "leg-b", "leg-c", "leg-d"];
    let list = |l: &[&str]| Some(l.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    // a: heard only by b (canSpeak [b]); c: hears only a and d (canHear
    // [a, d]); b and d: no lists.
    let audiences = [
        Audience { speak_to: list(&["leg-b"]), hear_from: None },
        Audience::default(),
        Audience { speak_to: None, hear_from: list(&["leg-a", "leg-d"]) },
        Audience::default(),
    ];
    for ((p, leg), audience) in parties.iter().zip(legs).zip(audiences) {
        let options = JoinOptions { call_id: Some(leg.into()), audience, ..quiet() };
        rooms.join(WS, "r", &p.media, LegId(1), options).await.unwrap();
    }
    let info = rooms.room(WS, "r").await.unwrap();
    assert_eq!(info.members[0].audience.speak_to, list(&["leg-b"]));
    let tones = [500.0, 900.0, 1400.0, 1900.0];
    let refs: Vec<&Party> = parties.iter().collect();
    let heard = talk(&refs, &tones.map(Some), 1500).await;
    // Who hears whom: [listener][speaker].
    let expect = [
        [false, true, true, true],   // a hears everyone else
        [true, false, true, true],   // b is named by a's canSpeak
        [false, false, false, true], // c hears only a and d, and a does not speak to c
        [false, true, true, false],  // d: a does not speak to d
    ];
    for (i, row) in expect.iter().enumerate() {
        for (k, hears) in row.iter().enumerate() {
            let l = level(&heard[i], tones[k]);
            if *hears {
                assert!(l > 1500.0, "{} hears {} ({l})", legs[i], legs[k]);
            } else {
                assert!(l < 200.0, "{} does not hear {} ({l})", legs[i], legs[k]);
            }
        }
    }
    // With a gone, the others are back to everybody for b and d.
    rooms.leave(WS, "r", 1).await.unwrap();
    let heard = talk(&refs[1..], &tones[1..].iter().map(|f| Some(*f)).collect::<Vec<_>>(), 1000).await;
    assert!(level(&heard[0], tones[2]) > 1500.0 && level(&heard[0], tones[3]) > 1500.0);
    assert!(level(&heard[1], tones[1]) < 200.0 && level(&heard[1], tones[3]) > 1500.0);
}

#[tokio::test]
async fn a_muted_member_is_unheard_and_a_deaf_member_hears_nothing() {
    let rooms = Rooms::new(Bus::default(), RoomsConfig::default());
    let pool = pool();
    let parties =
        [party(&pool, Law::Ulaw).await, party(&pool, Law::Alaw).await, party(&pool, Law::Ulaw).await];
    for p in &parties {
        rooms.join(WS, "r", &p.media, LegId(1), quiet()).await.unwrap();
    }
    rooms.change(WS, "r", 2, MemberChange::Mute(true)).await.unwrap();
    rooms.change(WS, "r", 3, MemberChange::Deaf(true)).await.unwrap();
    assert!(matches!(
        rooms.change(WS, "r", 9, MemberChange::Mute(true)).await,
        Err(ConferenceError::NoMember(9))
    ));
    let info = rooms.room(WS, "r").await.unwrap();
    assert!(info.members[1].muted && info.members[2].deaf);
    let refs: Vec<&Party> = parties.iter().collect();
    let heard = talk(&refs, &F.map(Some), 1200).await;
    // 1 hears 3 but not muted 2; 2 (muted) still hears 1 and 3; 3 (deaf) hears nothing.
    assert!(level(&heard[0], F[1]) < 200.0 && level(&heard[0], F[2]) > 1500.0);
    assert!(level(&heard[1], F[0]) > 1500.0 && level(&heard[1], F[2]) > 1500.0);
    let loudest = heard[2].iter().skip(2400).map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(loudest < 100, "the deaf member hears silence: {loudest}");
    assert!(heard[2].len() > 4000, "and still gets packets");
    // Unmuted: heard again.
    rooms.change(WS, "r", 2, MemberChange::Mute(false)).await.unwrap();
    let heard = talk(&refs, &F.map(Some), 800).await;
    assert!(level(&heard[0], F[1]) > 1500.0);
}

#[tokio::test]
async fn end_on_exit_ends_the_room_for_everyone() {
    let bus = Bus::default();
    let mut sub = bus.subscribe();
    let rooms = Rooms::new(bus, RoomsConfig::default());
    let pool = pool();
    let (a, mut b) = (party(&pool, Law::Ulaw).await, party(&pool, Law::Ulaw).await);
    let boss = JoinOptions { flags: MemberFlags { end_on_exit: true, ..MemberFlags::default() }, ..quiet() };
    let ja = rooms.join(WS, "r", &a.media, LegId(1), boss).await.unwrap();
    let jb = rooms.join(WS, "r", &b.media, LegId(1), quiet()).await.unwrap();
    rooms.leave(WS, "r", ja.member).await.unwrap();
    assert_eq!(ja.left.await.unwrap(), LeaveReason::Left);
    assert_eq!(jb.left.await.unwrap(), LeaveReason::RoomEnded);
    let e = event(&mut sub, "conference.ended").await;
    assert_eq!((e.workspace_id, &e.data["conference"]), (WS, &serde_json::json!("r")));
    // B's playback of the room ended: its call goes on.
    loop {
        match tokio::time::timeout(Duration::from_secs(2), b.events.recv()).await.unwrap().unwrap() {
            MediaEvent::PlaybackFinished { id, .. } => {
                assert_eq!(id, jb.playback);
                break;
            }
            _ => continue,
        }
    }
    assert!(rooms.list(WS).await.is_empty());
}

#[tokio::test]
async fn alone_hears_hold_music_until_someone_joins_and_kick_removes() {
    let rooms = Rooms::new(Bus::default(), RoomsConfig::default());
    let pool = pool();
    let (a, b) = (party(&pool, Law::Ulaw).await, party(&pool, Law::Alaw).await);
    let hold = crate::media::open_player("tone_stream://v=-10;%(1000,0,350);loops=-1").await.unwrap();
    rooms.join(WS, "r", &a.media, LegId(1), JoinOptions { hold_music: Some(hold), ..quiet() }).await.unwrap();
    let heard = talk(&[&a], &[Some(F[0])], 800).await;
    assert!(level(&heard[0], 350.0) > 1000.0, "hold music while alone: {}", level(&heard[0], 350.0));
    let jb = rooms.join(WS, "r", &b.media, LegId(1), quiet()).await.unwrap();
    let heard = talk(&[&a, &b], &[Some(F[0]), Some(F[1])], 1000).await;
    assert!(level(&heard[0], 350.0) < 200.0, "no hold music with company");
    assert!(level(&heard[0], F[1]) > 1500.0 && level(&heard[1], F[0]) > 1500.0);
    rooms.change(WS, "r", jb.member, MemberChange::Kick).await.unwrap();
    assert_eq!(jb.left.await.unwrap(), LeaveReason::Kicked);
    assert_eq!(rooms.room(WS, "r").await.unwrap().members.len(), 1);
}

#[tokio::test]
async fn start_on_enter_waits_and_entry_tones_are_heard() {
    let rooms = Rooms::new(Bus::default(), RoomsConfig::default());
    let pool = pool();
    let (a, b, c) =
        (party(&pool, Law::Ulaw).await, party(&pool, Law::Ulaw).await, party(&pool, Law::Ulaw).await);
    let waiting =
        || JoinOptions { flags: MemberFlags { start_on_enter: false, ..MemberFlags::default() }, ..quiet() };
    rooms.join(WS, "w", &a.media, LegId(1), waiting()).await.unwrap();
    rooms.join(WS, "w", &b.media, LegId(1), waiting()).await.unwrap();
    assert!(!rooms.room(WS, "w").await.unwrap().started);
    let heard = talk(&[&a, &b], &[Some(F[0]), Some(F[1])], 800).await;
    assert!(level(&heard[0], F[1]) < 200.0, "not started: nobody is mixed");
    // The host joins with the default entry tone (500+600+700 Hz, 200 ms).
    rooms.join(WS, "w", &c.media, LegId(1), JoinOptions::default()).await.unwrap();
    let heard = talk(&[&a, &b, &c], &[None, Some(F[1]), None], 1000).await;
    assert!(level(&heard[0], F[1]) > 1500.0, "started: A hears B");
    let first: Vec<i16> = heard[0].iter().take(1600).copied().collect();
    let x: Vec<f32> = first.iter().map(|&s| f32::from(s)).collect();
    let tone = goertzel_power(&x, 600.0, 8000).sqrt() * 2.0 / x.len() as f32;
    assert!(tone > 200.0, "the entry tone was heard: {tone}");
}

#[tokio::test]
async fn bad_input_is_a_clear_error() {
    let rooms = Rooms::new(Bus::default(), RoomsConfig { max_rooms: 1, max_members: 1 });
    let pool = pool();
    let (a, b) = (party(&pool, Law::Ulaw).await, party(&pool, Law::Ulaw).await);
    assert!(matches!(
        rooms.join(WS, "", &a.media, LegId(1), quiet()).await,
        Err(ConferenceError::BadName(_))
    ));
    let bad = JoinOptions { enter_sound: Some("tone_stream://nonsense(".into()), ..quiet() };
    assert!(matches!(
        rooms.join(WS, "r", &a.media, LegId(1), bad).await,
        Err(ConferenceError::BadTone { .. })
    ));
    assert!(matches!(rooms.join(WS, "r", &a.media, LegId(9), quiet()).await, Err(ConferenceError::Media(_))));
    rooms.join(WS, "r", &a.media, LegId(1), quiet()).await.unwrap();
    assert!(matches!(
        rooms.join(WS, "r", &b.media, LegId(1), quiet()).await,
        Err(ConferenceError::RoomFull(1))
    ));
    assert!(matches!(
        rooms.join(WS, "other", &b.media, LegId(1), quiet()).await,
        Err(ConferenceError::TooManyRooms(1))
    ));
    // Refused before B's leg was touched: a prompt playing to it goes on.
    let prompt = b
        .media
        .play(LegId(1), crate::media::open_player("silence_stream://5000").await.unwrap())
        .await
        .unwrap();
    assert!(matches!(
        rooms.join(WS, "r", &b.media, LegId(1), quiet()).await,
        Err(ConferenceError::RoomFull(1))
    ));
    assert!(b.media.stop_play(LegId(1)).await.unwrap(), "the prompt {prompt:?} still played");
    assert!(matches!(rooms.stop_record(WS, "r").await, Err(ConferenceError::Recording(_))));
    assert!(matches!(rooms.leave(WS, "nope", 1).await, Err(ConferenceError::NoRoom(_))));
}

/// A member whose session takes nothing loses frames (counted) while the
/// others keep hearing the room on time.
#[tokio::test]
async fn a_stalled_member_never_stalls_the_room() {
    use super::room::{Command, NewMember, Room};
    let map = Arc::default();
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(Room::new(WS, "r".into(), 1, None, 10, Bus::default(), map).run(rx));
    let mut feeds = Vec::new();
    let mut voices = Vec::new();
    for _ in 0..2 {
        let (voice_tx, voice) = mpsc::channel(8);
        let (feed, heard) = mpsc::channel(4);
        let (left, _l) = tokio::sync::oneshot::channel();
        let member = NewMember {
            flags: MemberFlags::default(),
            audience: Audience::default(),
            call_id: None,
            voice,
            feed,
            enter: None,
            exit: None,
            left,
        };
        let (reply, r) = tokio::sync::oneshot::channel();
        tx.send(Command::Join { member: Box::new(member), reply }).await.unwrap();
        assert!(r.await.unwrap().is_ok());
        feeds.push(heard);
        voices.push((voice_tx, _l));
    }
    // Member 1 says a steady level; member 2's session never reads.
    let mut got = 0;
    let start = tokio::time::Instant::now();
    while start.elapsed() < Duration::from_millis(600) {
        let _ = voices[0].0.try_send(Decoded { frame: [1000; 160], concealed: false });
        let _ = voices[1].0.try_send(Decoded { frame: [-2000; 160], concealed: false });
        if let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(40), feeds[0].recv()).await {
            got += 1;
            assert!(f.iter().all(|&s| s == 0 || s == -2000), "member 1 hears member 2 only");
        }
    }
    assert!(got >= 20, "member 1 kept hearing the room: {got} frames in 600 ms");
    let (reply, r) = tokio::sync::oneshot::channel();
    tx.send(Command::Info { reply }).await.unwrap();
    let info = r.await.unwrap();
    assert!(
        info.members[1].dropped >= 15,
        "the stalled member's frames are dropped and counted: {:?}",
        info.members[1]
    );
    assert_eq!(info.members[0].dropped, 0);
}

/// A room its first joiner never reached does not linger.
#[tokio::test]
async fn a_room_nobody_joined_ends_after_a_second() {
    let bus = Bus::default();
    let mut sub = bus.subscribe();
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(super::room::Room::new(WS, "empty".into(), 1, None, 10, bus, Arc::default()).run(rx));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!tx.is_closed(), "still there after half a second");
    event(&mut sub, "conference.ended").await;
    assert!(tx.is_closed());
}
