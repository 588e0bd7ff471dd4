//! The properties the `media` fuzz targets check, shared with the
//! regression tests in `crates/media/tests/fuzz_regressions.rs` (included
//! there with `#[path]`), so a kept crash replays exactly what the fuzzer ran.
//!
//! Each function takes arbitrary bytes; it returns quietly when they do not
//! parse and panics when a property fails.

use media::player::{parse_tone_stream, Source, ToneSource};
use media::{dtmf, rtcp, rtp, wav};

/// `media::rtp::parse`: a parsed packet writes out to as many bytes as it
/// came from (padding content aside) and parses back equal.
pub fn rtp(data: &[u8]) {
    let _ = rtp::is_rtcp(data);
    let Ok(p) = rtp::parse(data) else { return };
    let _ = (p.header_len(), p.csrcs.as_slice());
    assert_eq!(p.wire_len(), data.len(), "wire_len of {p:?}");
    let written = match p.to_vec() {
        Ok(w) => w,
        Err(e) => panic!("a parsed packet does not write ({e}): {p:?}"),
    };
    assert_eq!(written.len(), data.len(), "written length of {p:?}");
    // Header and payload are written as they came; padding is zeros and a count.
    let kept = p.header_len() + p.payload.len();
    assert_eq!(written[..kept], data[..kept], "written bytes of {p:?}");
    if p.padding > 0 {
        assert_eq!(written.last(), data.last(), "padding count of {p:?}");
    }
    assert_eq!(rtp::parse(&written), Ok(p), "round trip");
}

/// `media::rtcp::parse`: a parsed compound packet that the writer accepts
/// (it refuses unknown packets whose padding left a partial word) parses
/// back equal, and writing that again gives the same bytes.
pub fn rtcp(data: &[u8]) {
    let Ok(packets) = rtcp::parse(data) else { return };
    for p in &packets {
        let _ = (p.packet_type(), p.sender_ssrc());
    }
    let mut written = Vec::new();
    if rtcp::write_compound(&packets, &mut written).is_err() {
        return;
    }
    let again = match rtcp::parse(&written) {
        Ok(again) => again,
        Err(e) => panic!("written RTCP does not parse ({e}): {packets:?}"),
    };
    assert_eq!(again, packets, "round trip");
    let mut twice = Vec::new();
    assert!(rtcp::write_compound(&again, &mut twice).is_ok());
    assert_eq!(twice, written, "writing is not stable");
}

/// `media::dtmf::parse` (RFC 4733): the event writes back to its first four
/// bytes with the reserved bit cleared, and parses back equal.
pub fn dtmf(data: &[u8]) {
    let Ok(ev) = dtmf::parse(data) else { return };
    let bytes = match ev.to_bytes() {
        Ok(b) => b,
        Err(e) => panic!("a parsed event does not write ({e}): {ev:?}"),
    };
    assert_eq!(bytes[..], [data[0], data[1] & !0x40, data[2], data[3]], "{ev:?}");
    assert_eq!(dtmf::parse(&bytes), Ok(ev), "round trip");
}

/// `media::wav::read`: a file that reads writes out in its own encoding and
/// reads back to the same samples, rate and encoding (G.711 codes that
/// decode alike may be written as the other one).
pub fn wav(data: &[u8]) {
    let Ok(ch) = wav::read_channels(data) else {
        assert!(wav::read(data).is_err(), "read accepts what read_channels refuses");
        return;
    };
    let Ok(w) = wav::read(data) else { panic!("read refuses what read_channels accepts") };
    assert!(w.sample_rate > 0);
    assert!(!ch.channels.is_empty() && ch.channels.iter().all(|c| c.len() == w.samples.len()));
    if ch.channels.len() > 1 {
        // Channels are averaged into one: no byte-exact round trip.
        return;
    }
    let written = match wav::write(w.encoding, w.sample_rate, &w.samples) {
        Ok(b) => b,
        Err(e) => panic!("a read file does not write ({e}): {:?} at {} Hz", w.encoding, w.sample_rate),
    };
    assert_eq!(wav::read(&written).as_ref(), Ok(&w), "round trip");
}

/// `media::player::parse_tone_stream`: a parsed spec has tones within the
/// limits, and its first frames play without a panic.
pub fn tone_stream(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = parse_tone_stream(text) else { return };
    assert!(!spec.segments.is_empty() && spec.segments.len() <= 10_000);
    assert!(spec.loops.is_none_or(|l| l >= 1));
    for s in &spec.segments {
        assert!(s.frequencies.len() <= 18 && s.on_ms <= 600_000 && s.off_ms <= 600_000);
        assert!(s.frequencies.iter().all(|f| (0.0..=4000.0).contains(f)));
        assert!((-63.0..=0.0).contains(&s.volume_db));
    }
    let mut player = ToneSource::new(spec);
    for _ in 0..50 {
        if player.next_frame().is_none() {
            break;
        }
    }
}
