//! Processing mode with real sockets: players, recordings, in-band DTMF,
//! and the stream a leg sees across relay -> play -> relay.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use media::detect::goertzel_power;
use media::g711::Law;
use media::rtp::parse;
use media::tone::{beep, dtmf_tone, silence};
use media::wav::{read_channels, write, Encoding};

use super::tests::{call, next_event, Phone};
use super::*;

/// Sends `samples` as 20 ms packets in `law`, paced in real time.
async fn speak(phone: &mut Phone, law: Law, samples: &[i16], to: u16) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for chunk in samples.chunks(160) {
        tick.tick().await;
        phone.send(law.payload_type(), &law.encode_slice(chunk), to).await;
    }
}

/// Like `speak`, but `lead` packets ahead of the session's clock: they go
/// at once, then one every 20 ms. This task shares its thread with the
/// session's, so when the thread stalls the session's overdue ticks run
/// before the sender catches up and, without a lead, play silence in the
/// middle of the audio; with one they play what is already buffered.
async fn speak_ahead(phone: &mut Phone, law: Law, samples: &[i16], to: u16, lead: usize) {
    let mut chunks = samples.chunks(160);
    for chunk in chunks.by_ref().take(lead) {
        phone.send(law.payload_type(), &law.encode_slice(chunk), to).await;
    }
    let pace = Duration::from_millis(20);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + pace, pace);
    for chunk in chunks {
        tick.tick().await;
        phone.send(law.payload_type(), &law.encode_slice(chunk), to).await;
    }
}

/// Packets a test phone sends ahead of the clock (60 ms): the session
/// plays them while the sender is stalled, and the detectors hold over
/// 100 ms of missing audio, so the test's thread may stall 160 ms in a
/// press and it is still one press.
const LEAD: usize = 3;

/// Everything `phone` receives until `ms` of quiet, as parsed packets'
/// (sequence, timestamp, ssrc, marker, decoded payload).
async fn listen(phone: &Phone, law: Law, ms: u64) -> Vec<(u16, u32, u32, bool, Vec<i16>)> {
    let mut got = Vec::new();
    while let Some(p) = phone.recv_within(ms).await {
        let p = parse(&p).unwrap();
        got.push((p.sequence, p.timestamp, p.ssrc, p.marker, law.decode_slice(p.payload)));
    }
    got
}

fn level(samples: &[i16], f: f32) -> f32 {
    let x: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
    goertzel_power(&x, f, 8000).sqrt() * 2.0 / x.len().max(1) as f32
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("calliope-media-{}-{name}", rand::random::<u32>()))
}

#[tokio::test]
async fn a_played_wav_arrives_as_the_files_audio() {
    let (media, mut events, a, _pa, _b, _pb, _legs) = call().await;
    // A 16 kHz stereo file: 440 Hz left, 440 Hz right, 0.6 s.
    let left = beep(16000, 440.0, 600, 9000.0);
    let stereo: Vec<i16> = left.iter().flat_map(|&s| [s, s]).collect();
    let mut file = media::wav::header_channels(Encoding::Pcm16, 16000, 2, (stereo.len() * 2) as u32).unwrap();
    file.extend(stereo.iter().flat_map(|s| s.to_le_bytes()));
    let path = temp_path("prompt.wav");
    std::fs::write(&path, &file).unwrap();
    let expected = media::player::PcmSource::from_wav(&file).unwrap().samples().to_vec();

    let source = open_player(path.to_str().unwrap()).await.unwrap();
    let id = media.play(LegId(1), source).await.unwrap();
    let got = listen(&a, Law::Alaw, 300).await;
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::PlaybackFinished { leg: LegId(1), id, stopped: false }
    );
    assert_eq!(got.len(), expected.len().div_ceil(160));
    let heard: Vec<i16> = got.iter().flat_map(|p| p.4.clone()).take(expected.len()).collect();
    // Compare decoded audio with the file: G.711 keeps every sample within
    // a few percent.
    let err: f64 = heard.iter().zip(&expected).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
    let energy: f64 = expected.iter().map(|&y| f64::from(y).powi(2)).sum();
    assert!(err / energy < 0.001, "relative error {}", err / energy);
    assert!(got.windows(2).all(|w| w[1].0 == w[0].0.wrapping_add(1) && w[1].1 == w[0].1.wrapping_add(160)));
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn relay_play_relay_keeps_one_ssrc_and_continuous_sequence() {
    let (media, mut events, a, _pa, mut b, pb, _legs) = call().await;
    speak(&mut b, Law::Ulaw, &beep(8000, 300.0, 200, 5000.0), pb).await;
    let mut got = listen(&a, Law::Alaw, 150).await;
    let id = media
        .play(LegId(1), Box::new(media::player::ToneSource::parse("%(200,0,1000)").unwrap()))
        .await
        .unwrap();
    // B keeps talking while A hears the tone: A must not get both.
    speak(&mut b, Law::Ulaw, &beep(8000, 300.0, 100, 5000.0), pb).await;
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::PlaybackFinished { leg: LegId(1), id, stopped: false }
    );
    speak(&mut b, Law::Ulaw, &beep(8000, 300.0, 200, 5000.0), pb).await;
    got.extend(listen(&a, Law::Alaw, 200).await);
    assert!(got.len() >= 28, "{} packets", got.len());
    let ssrc = got[0].2;
    assert!(got.iter().all(|p| p.2 == ssrc), "one SSRC");
    for w in got.windows(2) {
        assert_eq!(w[1].0, w[0].0.wrapping_add(1), "continuous sequence numbers");
        assert!(
            w[1].1.wrapping_sub(w[0].1) >= 160 && w[1].1.wrapping_sub(w[0].1) < 8000,
            "timestamps move on"
        );
    }
    // The tone is in there, between relayed speech, with markers at the switches.
    let tone: Vec<usize> = (0..got.len()).filter(|&i| level(&got[i].4, 1000.0) > 2000.0).collect();
    assert_eq!(tone.len(), 10);
    assert!(got[tone[0]].3, "marker where the player starts");
    assert!(got.get(tone[9] + 1).is_some_and(|p| p.3), "marker where the relay resumes");
}

#[tokio::test]
async fn a_stereo_recording_holds_each_side_in_its_channel() {
    let (media, mut events, mut a, pa, mut b, pb, _legs) = call().await;
    let stereo = temp_path("stereo.wav");
    let mono = temp_path("mono.wav");
    let spec =
        |path: &std::path::Path, legs: Vec<LegId>, mode| RecordSpec { legs, mode, path: path.to_path_buf() };
    let rs = media.record(spec(&stereo, vec![LegId(1)], RecordMode::Stereo)).await.unwrap();
    let rm = media.record(spec(&mono, vec![LegId(1), LegId(2)], RecordMode::Mono)).await.unwrap();
    let tone_a = beep(8000, 500.0, 1000, 8000.0);
    let tone_b = beep(8000, 1500.0, 1000, 8000.0);
    tokio::join!(speak(&mut a, Law::Alaw, &tone_a, pa), speak(&mut b, Law::Ulaw, &tone_b, pb));
    tokio::time::sleep(Duration::from_millis(100)).await;
    media.stop_record(rs).await.unwrap();
    media.stop_record(rm).await.unwrap();
    let mut done = Vec::new();
    for _ in 0..2 {
        match next_event(&mut events).await {
            MediaEvent::RecordingFinished { id, error: None, duration_ms, .. } => {
                done.push((id, duration_ms))
            }
            e => panic!("unexpected {e:?}"),
        }
    }
    assert!(done.iter().any(|d| d.0 == rs) && done.iter().any(|d| d.0 == rm));
    assert!(done.iter().all(|d| (900..=1500).contains(&d.1)), "{done:?}");

    let ch = read_channels(&std::fs::read(&stereo).unwrap()).unwrap();
    assert_eq!((ch.sample_rate, ch.channels.len()), (8000, 2));
    let (left, right) = (&ch.channels[0], &ch.channels[1]);
    assert!(level(left, 500.0) > 4000.0 && level(left, 1500.0) < 400.0, "left: what A said");
    assert!(level(right, 1500.0) > 4000.0 && level(right, 500.0) < 400.0, "right: what A heard");
    let m = media::wav::read(&std::fs::read(&mono).unwrap()).unwrap();
    assert!(level(&m.samples, 500.0) > 4000.0 && level(&m.samples, 1500.0) > 4000.0);
    std::fs::remove_file(&stereo).ok();
    std::fs::remove_file(&mono).ok();
}

#[tokio::test]
async fn in_band_dtmf_is_detected_once_per_press() {
    let (media, mut events, mut a, pa, _b, _pb, _legs) = call().await;
    media.detect_dtmf(LegId(1), true).await.unwrap();
    let mut audio = silence(8000, 60);
    for c in "19#".chars() {
        audio.extend(dtmf_tone(8000, Digit::from_char(c).unwrap(), 120, 7000.0));
        audio.extend(silence(8000, 100));
    }
    speak_ahead(&mut a, Law::Alaw, &audio, pa, LEAD).await;
    let mut keys = String::new();
    for _ in 0..3 {
        match next_event(&mut events).await {
            MediaEvent::Dtmf { leg: LegId(1), digit, source: DtmfSource::InBand } => {
                keys.push(digit.as_char())
            }
            e => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(keys, "19#");
    assert!(tokio::time::timeout(Duration::from_millis(300), events.recv()).await.is_err());
}

#[tokio::test]
async fn a_press_is_one_press_when_the_stream_stalls_in_its_middle() {
    // What CI saw: the thread running the phone and the session stalls in
    // the middle of a press. The session's overdue ticks find nothing to
    // play; the phone then sends what it owes, too late for them.
    let (media, mut events, mut a, pa, _b, _pb, _legs) = call().await;
    media.detect_dtmf(LegId(1), true).await.unwrap();
    let mut audio = silence(8000, 60);
    audio.extend(dtmf_tone(8000, Digit::from_char('5').unwrap(), 300, 7000.0));
    audio.extend(silence(8000, 100));
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for (k, chunk) in audio.chunks(160).enumerate() {
        tick.tick().await;
        a.send(Law::Alaw.payload_type(), &Law::Alaw.encode_slice(chunk), pa).await;
        if k == 9 {
            std::thread::sleep(Duration::from_millis(60));
        }
    }
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::Dtmf { leg: LegId(1), digit: Digit::from_char('5').unwrap(), source: DtmfSource::InBand }
    );
    let more = tokio::time::timeout(Duration::from_millis(300), events.recv()).await;
    assert!(more.is_err(), "one press: {more:?}");
}

#[tokio::test]
async fn voice_activity_is_reported_when_speech_starts_and_ends() {
    let (media, mut events, mut a, pa, _b, _pb, _legs) = call().await;
    media.detect_voice(LegId(1), true).await.unwrap();
    let mut audio = silence(8000, 200);
    audio.extend(beep(8000, 200.0, 400, 6000.0));
    audio.extend(silence(8000, 800));
    speak_ahead(&mut a, Law::Alaw, &audio, pa, LEAD).await;
    assert_eq!(next_event(&mut events).await, MediaEvent::Voice { leg: LegId(1), speaking: true });
    assert_eq!(next_event(&mut events).await, MediaEvent::Voice { leg: LegId(1), speaking: false });
}

#[tokio::test]
async fn rfc4733_presses_are_sent_in_the_legs_stream() {
    let (media, mut events, a, _pa, _b, _pb, _legs) = call().await;
    let digits: Vec<Digit> = "4#".chars().filter_map(Digit::from_char).collect();
    media.send_dtmf(LegId(1), digits, 100).await.unwrap();
    assert_eq!(next_event(&mut events).await, MediaEvent::DtmfSent { leg: LegId(1) });
    let mut got = Vec::new();
    while let Some(p) = a.recv_within(200).await {
        let p = parse(&p).unwrap();
        got.push((p.payload_type, p.sequence, p.timestamp, p.marker, media::dtmf::parse(p.payload).unwrap()));
    }
    assert!(got.iter().all(|g| g.0 == 101), "A's telephone-event type");
    assert!(got.windows(2).all(|w| w[1].1 == w[0].1.wrapping_add(1)), "one sequence");
    let mut rx = media::dtmf::DtmfReceiver::new();
    let keys: String = got
        .iter()
        .filter_map(|g| rx.handle_packet(g.2, &g.4.to_bytes().unwrap()).unwrap())
        .map(|d| d.digit.as_char())
        .collect();
    assert_eq!(keys, "4#");
    assert_eq!(got.iter().filter(|g| g.3).count(), 2, "a marker per press");
    assert_eq!(got.iter().filter(|g| g.4.end).count(), 6, "each end sent three times");
    // B negotiated 96; a leg without telephone-event gets a clear error.
    let (media2, _e, _a2, _p2, _b2, _pb2, _l2) = call().await;
    let one = vec![Digit::from_char('1').unwrap()];
    assert!(matches!(media2.send_dtmf(LegId(1), one.clone(), 10).await, Err(MediaError::BadDtmf(_))));
    assert!(media2.send_dtmf(LegId(2), one, 100).await.is_ok());
}

#[tokio::test]
async fn a_tap_hears_a_leg_and_a_channel_source_speaks_to_it() {
    let (media, mut events, mut a, pa, _b, _pb, _legs) = call().await;
    let (tx, mut voice) = tokio::sync::mpsc::channel(128);
    media.tap(LegId(1), tx).await.unwrap();
    let (feed, source) = ChannelSource::new(8);
    let id = media.play(LegId(1), Box::new(source)).await.unwrap();
    // A says 600 Hz; the tap gets it, decoded. Then A stops.
    speak_ahead(&mut a, Law::Alaw, &beep(8000, 600.0, 400, 8000.0), pa, LEAD).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The tap gives a frame every tick, voice or not: take what is there.
    let mut heard = Vec::new();
    while let Ok(f) = voice.try_recv() {
        heard.push(f);
    }
    let loud = |d: &&Decoded| level(&d.frame, 600.0) > 2000.0;
    let voiced = heard.iter().filter(loud).count();
    assert!(voiced >= 15, "the tap heard A's 20 frames: {voiced} loud");
    // What A said is flagged as audio; the ticks after A stopped stand in
    // for audio that never came, and say so.
    assert!(heard.iter().filter(loud).all(|d| !d.concealed));
    let after = heard.iter().rposition(|d| loud(&d)).unwrap() + 1;
    assert!(heard[after..].iter().any(|d| d.concealed), "{} frames after A stopped", heard.len() - after);
    // Frames fed to the channel reach A; dropping the feeder ends the playback.
    let tone = beep(8000, 1200.0, 200, 8000.0);
    for f in media::frame::frames_of(&tone) {
        feed.send(f).await.unwrap();
    }
    drop(feed);
    assert_eq!(
        next_event(&mut events).await,
        MediaEvent::PlaybackFinished { leg: LegId(1), id, stopped: false }
    );
    let got: Vec<i16> = listen(&a, Law::Alaw, 200).await.into_iter().flat_map(|p| p.4).collect();
    assert!(level(&got, 1200.0) > 1000.0, "A heard the channel: {}", level(&got, 1200.0));
}

#[tokio::test]
async fn bad_sources_are_clear_errors() {
    let path = temp_path("not-a.wav");
    std::fs::write(&path, b"ID3\x04\0\0\0\0\0\0 this is an mp3").unwrap();
    let err = open_player(path.to_str().unwrap()).await.err().unwrap();
    assert!(matches!(err, MediaError::BadSource { .. }), "{err:?}");
    assert!(err.to_string().contains("not a RIFF/WAVE file"), "{err}");
    std::fs::remove_file(&path).ok();
    let e24 = temp_path("24bit.wav");
    let mut f = write(Encoding::Pcm16, 8000, &[0; 10]).unwrap();
    f[34] = 24;
    std::fs::write(&e24, &f).unwrap();
    let err = open_player(e24.to_str().unwrap()).await.err().unwrap();
    assert!(err.to_string().contains("24 bits"), "{err}");
    std::fs::remove_file(&e24).ok();
    assert!(matches!(open_player("/nonexistent/x.wav").await, Err(MediaError::Io { .. })));
    assert!(matches!(open_player("tone_stream://%(100,100)").await, Err(MediaError::BadSource { .. })));
    assert!(open_player("silence_stream://500").await.is_ok());
    assert!(open_player("silence_stream://x").await.is_err());
}
