//! A key press as RFC 4733 packets (section 2.5.1): one timestamp for the
//! whole event, the marker on the first packet, an update per interval with
//! the duration so far, and the final packet sent three times.

use super::{Digit, TelephoneEvent};
use crate::rtp::RtpPacket;
use crate::Error;

/// Builds the telephone-event packets of key presses for one RTP stream.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    payload_type: u8,
    ssrc: u32,
    clock_rate: u32,
    volume: u8,
    interval_ms: u32,
}

/// One packet of an event, with when to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// When to send, in ms after the first packet.
    pub offset_ms: u32,
    /// Set on the first packet of the event.
    pub marker: bool,
    /// The RTP sequence number.
    pub sequence: u16,
    /// The RTP timestamp: the event's start, the same for every packet.
    pub timestamp: u32,
    /// The RTP payload type negotiated for telephone-event.
    pub payload_type: u8,
    /// The stream's SSRC.
    pub ssrc: u32,
    /// The payload.
    pub event: TelephoneEvent,
}

impl EventPacket {
    /// The whole RTP packet.
    pub fn to_rtp(&self) -> Result<Vec<u8>, Error> {
        let payload = self.event.to_bytes()?;
        let mut p = RtpPacket::new(self.payload_type, self.sequence, self.timestamp, self.ssrc, &payload);
        p.marker = self.marker;
        p.to_vec()
    }
}

impl DtmfSender {
    /// A sender for the stream `ssrc` whose telephone-event payload type is
    /// `payload_type` (often 101) at `clock_rate` Hz (8000); volume 10
    /// (-10 dBm0), an update every 50 ms.
    pub fn new(payload_type: u8, ssrc: u32, clock_rate: u32) -> Self {
        Self { payload_type, ssrc, clock_rate, volume: 10, interval_ms: 50 }
    }

    /// Sets the volume field (0..=63, -dBm0).
    pub fn with_volume(mut self, volume: u8) -> Self {
        self.volume = volume;
        self
    }

    /// Sets the update interval in ms (at least 1).
    pub fn with_interval_ms(mut self, interval_ms: u32) -> Self {
        self.interval_ms = interval_ms.max(1);
        self
    }

    /// The packets of one press of `digit` lasting `duration_ms`, starting
    /// at RTP `timestamp` with sequence number `sequence`. The next packet
    /// of the stream takes the sequence after the last one returned.
    ///
    /// Updates go out every interval with the duration reached by the end
    /// of that interval; the last update has the E bit and is sent three
    /// times, back to back. A duration of zero, or one longer than the
    /// 16-bit field holds (8.19 s at 8 kHz), is an error.
    pub fn packets(
        &self,
        digit: Digit,
        duration_ms: u32,
        timestamp: u32,
        sequence: u16,
    ) -> Result<Vec<EventPacket>, Error> {
        let total = u64::from(duration_ms) * u64::from(self.clock_rate) / 1000;
        if total == 0 {
            return Err(Error::Malformed { what: "DTMF press", detail: "duration is zero" });
        }
        let total = u16::try_from(total).map_err(|_| Error::OutOfRange {
            what: "RFC 4733 duration",
            value: total,
            max: u16::MAX.into(),
        })?;
        let step = (u64::from(self.interval_ms) * u64::from(self.clock_rate) / 1000).max(1);
        let updates = u64::from(total).div_ceil(step);

        let mut out = Vec::with_capacity(updates as usize + 2);
        let mut seq = sequence;
        for k in 0..updates {
            let last = k + 1 == updates;
            let duration = ((k + 1) * step).min(u64::from(total)) as u16;
            let offset_ms = u32::try_from(k * u64::from(self.interval_ms)).unwrap_or(u32::MAX);
            let copies = if last { 3 } else { 1 };
            for _ in 0..copies {
                out.push(EventPacket {
                    offset_ms,
                    marker: k == 0 && out.is_empty(),
                    sequence: seq,
                    timestamp,
                    payload_type: self.payload_type,
                    ssrc: self.ssrc,
                    event: TelephoneEvent { event: digit.event(), end: last, volume: self.volume, duration },
                });
                seq = seq.wrapping_add(1);
            }
        }
        // Fail early on a volume the wire cannot carry.
        out.first().map(|p| p.event.to_bytes()).transpose()?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{dtmf, rtp};

    fn digit(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn a_120ms_press_at_8khz() {
        let s = DtmfSender::new(101, 0xABCD, 8000);
        let p = s.packets(digit('7'), 120, 1000, 65534).unwrap();
        // Updates at 0, 50, 100 ms with 400, 800, 960; the last sent 3 times.
        let summary: Vec<_> =
            p.iter().map(|p| (p.offset_ms, p.marker, p.sequence, p.event.end, p.event.duration)).collect();
        assert_eq!(
            summary,
            [
                (0, true, 65534, false, 400),
                (50, false, 65535, false, 800),
                (100, false, 0, true, 960),
                (100, false, 1, true, 960),
                (100, false, 2, true, 960),
            ]
        );
        assert!(p.iter().all(|p| p.timestamp == 1000 && p.event.event == 7 && p.event.volume == 10));
    }

    #[test]
    fn packets_serialise_as_rtp() {
        let s = DtmfSender::new(101, 7, 8000).with_volume(5).with_interval_ms(20);
        let p = s.packets(digit('#'), 40, 160, 3).unwrap();
        assert_eq!(p.len(), 4);
        let bytes = p[0].to_rtp().unwrap();
        let rtp = rtp::parse(&bytes).unwrap();
        assert!(rtp.marker);
        assert_eq!((rtp.payload_type, rtp.sequence, rtp.timestamp, rtp.ssrc), (101, 3, 160, 7));
        assert_eq!(rtp.payload, &[11, 5, 0x00, 0xA0]);
        let end = dtmf::parse(rtp::parse(&p[3].to_rtp().unwrap()).unwrap().payload).unwrap();
        assert!(end.end);
        assert_eq!(end.duration, 320);
    }

    #[test]
    fn a_press_shorter_than_one_interval_is_one_update_sent_thrice() {
        let p = DtmfSender::new(101, 1, 8000).packets(digit('1'), 30, 0, 0).unwrap();
        assert_eq!(p.len(), 3);
        assert!(p[0].marker && !p[1].marker);
        assert!(p.iter().all(|p| p.event.end && p.event.duration == 240));
    }

    #[test]
    fn refuses_impossible_presses() {
        let s = DtmfSender::new(101, 1, 8000);
        assert!(s.packets(digit('1'), 0, 0, 0).is_err());
        assert!(s.packets(digit('1'), 9000, 0, 0).is_err());
        assert!(s.clone().with_volume(64).packets(digit('1'), 100, 0, 0).is_err());
    }
}
