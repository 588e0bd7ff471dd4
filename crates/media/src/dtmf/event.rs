//! The telephone-event payload (RFC 4733 section 2.3).
//!
//! ```text
//! |     event     |E|R| volume    |          duration             |
//! ```

use crate::bytes::Reader;
use crate::Error;

/// The largest volume value (-63 dBm0); the field is 6 bits.
pub const MAX_VOLUME: u8 = 63;

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code: 0-15 DTMF keys, 16 flash, others tones.
    pub event: u8,
    /// The E bit: this is (a retransmission of) the event's last packet.
    pub end: bool,
    /// Power level as -dBm0, 0..=63 (lower is louder).
    pub volume: u8,
    /// Duration so far in RTP timestamp units, from the event's timestamp.
    pub duration: u16,
}

/// Parses a telephone-event payload: the first four bytes are the event;
/// anything after them (further events, which senders rarely use) is
/// ignored. The reserved bit is ignored as RFC 4733 asks.
pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, Error> {
    let mut r = Reader::new(payload, "RFC 4733 event");
    let [event, flags] = r.array()?;
    Ok(TelephoneEvent { event, end: flags & 0x80 != 0, volume: flags & 0x3F, duration: r.u16_be()? })
}

impl TelephoneEvent {
    /// The four payload bytes; a volume over 63 is an error.
    pub fn to_bytes(&self) -> Result<[u8; 4], Error> {
        if self.volume > MAX_VOLUME {
            return Err(Error::OutOfRange {
                what: "RFC 4733 volume",
                value: self.volume.into(),
                max: MAX_VOLUME.into(),
            });
        }
        let [d0, d1] = self.duration.to_be_bytes();
        Ok([self.event, u8::from(self.end) << 7 | self.volume, d0, d1])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_payloads() {
        // Digit 5, not ended, volume 10, 400 units (50 ms at 8 kHz).
        let e = parse(&[0x05, 0x0A, 0x01, 0x90]).unwrap();
        assert_eq!(e, TelephoneEvent { event: 5, end: false, volume: 10, duration: 400 });
        // '#' ended, reserved bit set (ignored), volume 63, 1600 units.
        let e = parse(&[0x0B, 0xFF, 0x06, 0x40]).unwrap();
        assert_eq!(e, TelephoneEvent { event: 11, end: true, volume: 63, duration: 1600 });
        assert_eq!(e.to_bytes().unwrap(), [0x0B, 0xBF, 0x06, 0x40]);
    }

    #[test]
    fn short_payloads_and_loud_volumes_are_errors() {
        for n in 0..4 {
            assert!(matches!(parse(&[1, 2, 3][..n.min(3)]), Err(Error::Truncated { .. })));
        }
        let e = TelephoneEvent { event: 1, end: false, volume: 64, duration: 0 };
        assert!(matches!(e.to_bytes(), Err(Error::OutOfRange { .. })));
        assert_eq!(parse(&[1, 0, 0, 0, 9, 9, 9, 9]).unwrap().event, 1);
    }
}
