//! One steady outgoing RTP stream per leg, whatever feeds it.
//!
//! A leg sees a single SSRC with continuous sequence numbers and
//! timestamps while what it hears changes: packets relayed from another
//! leg (their sequence and timestamp are shifted by offsets fixed when
//! that feed starts, so the sender's own gaps and reordering pass through),
//! frames the session generates (a player), then relayed packets again.
//! When the feed changes, the timestamp advances by the wall time since
//! the last packet and the marker bit is set.

use media::rtp::seq_newer;

/// Header fields for one outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The sequence number.
    pub sequence: u16,
    /// The timestamp.
    pub timestamp: u32,
    /// Whether to set the marker (a new talkspurt: the feed changed).
    pub marker: bool,
}

#[derive(Debug, Clone, Copy)]
struct Mapping {
    ssrc: u32,
    seq_offset: u16,
    ts_offset: u32,
}

/// The outgoing stream of one leg.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: u32,
    /// The highest sequence number sent, if any.
    last_seq: Option<u16>,
    /// The timestamp the next 20 ms frame would carry.
    next_ts: u32,
    last_sent_ms: Option<u64>,
    relayed: Option<Mapping>,
    /// The next frame of our own starts a talkspurt (a player starts
    /// after a pause).
    talkspurt: bool,
}

impl OutStream {
    /// A stream with this SSRC, first sequence number and timestamp.
    pub fn new(ssrc: u32, first_seq: u16, first_ts: u32) -> Self {
        Self {
            ssrc,
            last_seq: Some(first_seq.wrapping_sub(1)),
            next_ts: first_ts,
            last_sent_ms: None,
            relayed: None,
            talkspurt: false,
        }
    }

    /// The SSRC the leg sees.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp of a new feed's first packet at `now_ms`: where the
    /// stream left off plus the wall time since (8 units per ms).
    fn resume_ts(&self, now_ms: u64) -> u32 {
        let gap = self.last_sent_ms.map_or(0, |last| now_ms.saturating_sub(last).saturating_sub(20));
        self.next_ts.wrapping_add((gap.min(u64::from(u32::MAX / 16)) * 8) as u32)
    }

    fn next_seq(&self) -> u16 {
        self.last_seq.map_or(0, |s| s.wrapping_add(1))
    }

    /// Header fields for a packet relayed from another stream.
    pub fn relay(&mut self, ssrc: u32, sequence: u16, timestamp: u32, samples: u32, now_ms: u64) -> Stamp {
        let mut marker = false;
        let mapping = match self.relayed {
            Some(m) if m.ssrc == ssrc => m,
            _ => {
                marker = true;
                let m = Mapping {
                    ssrc,
                    seq_offset: self.next_seq().wrapping_sub(sequence),
                    ts_offset: self.resume_ts(now_ms).wrapping_sub(timestamp),
                };
                self.relayed = Some(m);
                m
            }
        };
        let seq = sequence.wrapping_add(mapping.seq_offset);
        let ts = timestamp.wrapping_add(mapping.ts_offset);
        if self.last_seq.is_none_or(|last| seq_newer(seq, last)) {
            self.last_seq = Some(seq);
            self.next_ts = ts.wrapping_add(samples);
            self.last_sent_ms = Some(now_ms);
        }
        Stamp { sequence: seq, timestamp: ts, marker }
    }

    /// Header fields for a frame of `samples` the session made itself.
    pub fn own(&mut self, samples: u32, now_ms: u64) -> Stamp {
        let talkspurt = std::mem::take(&mut self.talkspurt);
        let marker = self.relayed.take().is_some() || self.last_sent_ms.is_none() || talkspurt;
        let ts = if marker { self.resume_ts(now_ms) } else { self.next_ts };
        let seq = self.next_seq();
        self.last_seq = Some(seq);
        self.next_ts = ts.wrapping_add(samples);
        self.last_sent_ms = Some(now_ms);
        Stamp { sequence: seq, timestamp: ts, marker }
    }

    /// The timestamp of a telephone-event the session starts sending at
    /// `now_ms` (a new feed: relayed packets that follow start a new one).
    pub fn event_start(&mut self, now_ms: u64) -> u32 {
        let continuing = self.relayed.take().is_none() && self.last_sent_ms.is_some();
        if continuing {
            self.next_ts
        } else {
            self.resume_ts(now_ms)
        }
    }

    /// Header fields for a packet of the event that started at `start_ts`
    /// and has lasted `duration` units so far.
    pub fn event_packet(&mut self, start_ts: u32, duration: u32, now_ms: u64) -> Stamp {
        let seq = self.next_seq();
        self.last_seq = Some(seq);
        self.next_ts = start_ts.wrapping_add(duration);
        self.last_sent_ms = Some(now_ms);
        Stamp { sequence: seq, timestamp: start_ts, marker: false }
    }

    /// Our own frames start again after a pause (a new player where none
    /// played): the next one has the marker and a timestamp moved on by
    /// the wall time since the last packet.
    pub fn start_talkspurt(&mut self) {
        self.talkspurt = true;
    }

    /// Forgets the relayed feed, so that its next packet starts a new one.
    pub fn end_feed(&mut self) {
        self.relayed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_then_own_then_relay_is_one_continuous_stream() {
        let mut out = OutStream::new(77, 1000, 5000);
        // Relayed packets from a stream at seq 40, ts 9000.
        let a = out.relay(1, 40, 9000, 160, 0);
        assert_eq!(a, Stamp { sequence: 1000, timestamp: 5000, marker: true });
        let b = out.relay(1, 41, 9160, 160, 20);
        assert_eq!(b, Stamp { sequence: 1001, timestamp: 5160, marker: false });
        // A lost packet keeps its gap; a late one keeps its place.
        let c = out.relay(1, 43, 9480, 160, 60);
        assert_eq!((c.sequence, c.timestamp), (1003, 5480));
        let late = out.relay(1, 42, 9320, 160, 61);
        assert_eq!((late.sequence, late.timestamp), (1002, 5320));
        // A player takes over 20 ms later.
        let p1 = out.own(160, 80);
        assert_eq!(p1, Stamp { sequence: 1004, timestamp: 5640, marker: true });
        let p2 = out.own(160, 100);
        assert_eq!(p2, Stamp { sequence: 1005, timestamp: 5800, marker: false });
        // The relay comes back after 100 ms of nothing: ts moves by wall time.
        let d = out.relay(1, 50, 20000, 160, 200);
        assert_eq!(d, Stamp { sequence: 1006, timestamp: 5960 + 80 * 8, marker: true });
        // The other side changes SSRC: a new feed, still continuous.
        let e = out.relay(2, 7, 1, 160, 220);
        assert_eq!((e.sequence, e.marker), (1007, true));
        assert_eq!(out.ssrc(), 77);
    }

    #[test]
    fn events_continue_the_sequence_and_audio_resumes_after_them() {
        let mut out = OutStream::new(5, 10, 1000);
        out.own(160, 0);
        let start = out.event_start(20);
        assert_eq!(start, 1160);
        assert_eq!(out.event_packet(start, 400, 20), Stamp { sequence: 11, timestamp: 1160, marker: false });
        assert_eq!(out.event_packet(start, 800, 70).sequence, 12);
        let next = out.own(160, 90);
        assert_eq!((next.sequence, next.timestamp), (13, 1960));
    }

    #[test]
    fn a_player_after_a_pause_moves_the_timestamp_by_the_pause() {
        let mut out = OutStream::new(7, 10, 1000);
        assert_eq!(out.own(160, 0), Stamp { sequence: 10, timestamp: 1000, marker: true });
        assert_eq!(out.own(160, 20), Stamp { sequence: 11, timestamp: 1160, marker: false });
        // Nothing for 1.3 s (a gather waiting), then a new player.
        out.start_talkspurt();
        let resumed = out.own(160, 1320);
        assert_eq!(resumed, Stamp { sequence: 12, timestamp: 1320 + 1280 * 8, marker: true });
        assert_eq!(
            out.own(160, 1340),
            Stamp { sequence: 13, timestamp: 1320 + 1280 * 8 + 160, marker: false }
        );
    }

    #[test]
    fn sequence_wraps() {
        let mut out = OutStream::new(1, 65535, 0);
        assert_eq!(out.own(160, 0).sequence, 65535);
        assert_eq!(out.own(160, 20).sequence, 0);
        assert_eq!(out.relay(9, 3, 0, 160, 40).sequence, 1);
    }
}
