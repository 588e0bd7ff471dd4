//! From telephone-event packets back to key presses.
//!
//! Every packet of one press carries the same RTP timestamp, so a press is
//! known by (timestamp, event): the first packet seen of a new one reports
//! the digit, and every later packet of it (updates, the three end
//! packets, duplicates, stragglers) is absorbed. A press longer than the
//! 16-bit duration continues under a new timestamp where the previous
//! segment ended (RFC 4733 2.5.1.3); that is absorbed too.
//!
//! Digits are reported as their first packet arrives, so two presses whose
//! packets are all reordered across each other come out in arrival order.
//! The last 16 presses are remembered; a straggler older than all of them
//! is dropped rather than reported twice.

use std::collections::VecDeque;

use super::{parse, Digit};
use crate::Error;

/// How many recent presses are remembered to recognise their late packets.
const HISTORY: usize = 16;

/// A key press reported by [`DtmfReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedDigit {
    /// The key.
    pub digit: Digit,
    /// The press's RTP timestamp.
    pub timestamp: u32,
    /// Its volume field (-dBm0).
    pub volume: u8,
}

#[derive(Debug, Clone, Copy)]
struct Press {
    timestamp: u32,
    event: u8,
    duration: u16,
    ended: bool,
}

/// Turns a stream of telephone-event payloads into one digit per press.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    recent: VecDeque<Press>,
}

impl DtmfReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one telephone-event packet's RTP timestamp and payload.
    /// Returns the digit when this packet is the first seen of a new press;
    /// events that are not keys (flash, tones) give `None`.
    pub fn handle_packet(&mut self, timestamp: u32, payload: &[u8]) -> Result<Option<ReceivedDigit>, Error> {
        let ev = parse(payload)?;
        let Some(digit) = Digit::from_event(ev.event) else {
            return Ok(None);
        };
        if let Some(known) = self.recent.iter_mut().find(|p| p.timestamp == timestamp && p.event == ev.event)
        {
            known.duration = known.duration.max(ev.duration);
            known.ended |= ev.end;
            return Ok(None);
        }
        let newest = self.recent.back().copied();
        // Older than everything remembered: a straggler of a forgotten press.
        if self.recent.len() == HISTORY && self.recent.iter().all(|p| is_before(timestamp, p.timestamp)) {
            return Ok(None);
        }
        let press = Press { timestamp, event: ev.event, duration: ev.duration, ended: ev.end };
        // Insert in timestamp order so `back` stays the newest.
        let at = self.recent.iter().rposition(|p| is_before(p.timestamp, timestamp)).map_or(0, |i| i + 1);
        self.recent.insert(at, press);
        if self.recent.len() > HISTORY {
            self.recent.pop_front();
        }
        let continues = newest.is_some_and(|n| {
            n.event == ev.event && !n.ended && n.timestamp.wrapping_add(u32::from(n.duration)) == timestamp
        });
        if continues {
            return Ok(None);
        }
        Ok(Some(ReceivedDigit { digit, timestamp, volume: ev.volume }))
    }
}

/// Whether RTP timestamp `a` is before `b`, with 32-bit wraparound.
fn is_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dtmf::{DtmfSender, EventPacket};

    fn press(c: char, ts: u32, seq: u16) -> Vec<EventPacket> {
        DtmfSender::new(101, 1, 8000).packets(Digit::from_char(c).unwrap(), 200, ts, seq).unwrap()
    }

    fn feed(rx: &mut DtmfReceiver, packets: &[EventPacket]) -> String {
        packets
            .iter()
            .filter_map(|p| rx.handle_packet(p.timestamp, &p.event.to_bytes().unwrap()).unwrap())
            .map(|d| d.digit.as_char())
            .collect()
    }

    #[test]
    fn one_digit_per_press_despite_updates_and_end_copies() {
        let mut all = press('1', 1000, 10);
        all.extend(press('2', 3000, 17));
        all.extend(press('2', 5000, 24));
        let mut rx = DtmfReceiver::new();
        assert_eq!(feed(&mut rx, &all), "122");
    }

    #[test]
    fn duplicates_and_reordering_within_and_across_presses() {
        let a = press('5', u32::MAX - 800, 100); // timestamp wraps inside the stream
        let b = press('9', 1200, 107);
        let mut mixed = Vec::new();
        // b's first packet arrives before a's end packets; everything twice.
        mixed.extend_from_slice(&a[..3]);
        mixed.push(b[0]);
        mixed.extend_from_slice(&a[3..]);
        mixed.extend_from_slice(&a);
        mixed.extend_from_slice(&b);
        mixed.reverse();
        let mut rx = DtmfReceiver::new();
        let got = feed(&mut rx, &mixed);
        assert_eq!(got.len(), 2);
        assert!(got.contains('5') && got.contains('9'));
    }

    #[test]
    fn lost_start_packets_still_give_the_digit_once() {
        let p = press('#', 0, 0);
        let mut rx = DtmfReceiver::new();
        assert_eq!(feed(&mut rx, &p[3..]), "#");
    }

    #[test]
    fn long_press_continuation_is_the_same_press() {
        let mut rx = DtmfReceiver::new();
        let first = [4, 0x0A, 0xFF, 0xFF]; // '4', duration 65535, not ended
        assert!(rx.handle_packet(100, &first).unwrap().is_some());
        let cont = [4, 0x0A, 0x01, 0x90];
        assert_eq!(rx.handle_packet(100 + 65535, &cont).unwrap(), None);
        let end = [4, 0x8A, 0x03, 0x20];
        assert_eq!(rx.handle_packet(100 + 65535, &end).unwrap(), None);
    }

    #[test]
    fn non_key_events_and_bad_payloads() {
        let mut rx = DtmfReceiver::new();
        assert_eq!(rx.handle_packet(0, &[16, 0x0A, 0, 160]).unwrap(), None);
        assert!(rx.handle_packet(0, &[1, 2]).is_err());
    }

    #[test]
    fn forgotten_presses_stay_forgotten() {
        let mut rx = DtmfReceiver::new();
        for i in 0..40u32 {
            let d = rx.handle_packet(i * 2000, &[(i % 10) as u8, 0x80, 0, 160]).unwrap();
            assert!(d.is_some());
        }
        // A straggler from the first press, long evicted.
        assert_eq!(rx.handle_packet(0, &[0, 0x80, 0, 160]).unwrap(), None);
    }
}
