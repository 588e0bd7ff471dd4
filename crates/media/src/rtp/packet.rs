//! The RTP packet: a typed view over one datagram, and its writer.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             |
//! |  [extension: profile (16) | length in words (16) | data ...]  |
//! |  payload ...                  [padding ... | padding count]   |
//! ```

use crate::bytes::Reader;
use crate::Error;

/// Length of the fixed RTP header, before CSRCs and extension.
pub const FIXED_HEADER_LEN: usize = 12;

/// The most CSRCs a header can carry (the 4-bit CC field).
pub const MAX_CSRCS: usize = 15;

const WHAT: &str = "RTP";

/// Contributing sources: up to [`MAX_CSRCS`] SSRCs, held inline (no heap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Csrcs {
    list: [u32; MAX_CSRCS],
    len: u8,
}

impl Csrcs {
    /// No contributing sources.
    pub const fn none() -> Self {
        Self { list: [0; MAX_CSRCS], len: 0 }
    }

    /// The given sources; more than [`MAX_CSRCS`] is an error.
    pub fn new(csrcs: &[u32]) -> Result<Self, Error> {
        let mut out = Self::none();
        let slot = out.list.get_mut(..csrcs.len()).ok_or(Error::OutOfRange {
            what: "RTP CSRC count",
            value: csrcs.len() as u64,
            max: MAX_CSRCS as u64,
        })?;
        slot.copy_from_slice(csrcs);
        out.len = csrcs.len() as u8;
        Ok(out)
    }

    /// The sources, in header order.
    pub fn as_slice(&self) -> &[u32] {
        self.list.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// A header extension (RFC 3550 section 5.3.1): a profile-defined 16-bit
/// value and data whose length is a multiple of four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The profile-defined first 16 bits (0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data, without its 4-byte header.
    pub data: &'a [u8],
}

/// One RTP packet. Parsed packets borrow their payload and extension from
/// the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The marker bit (start of a talkspurt, first packet of a DTMF event).
    pub marker: bool,
    /// The payload type, 0..=127 (0 PCMU, 8 PCMA, dynamic 96..=127).
    pub payload_type: u8,
    /// The sequence number, +1 per packet, wrapping.
    pub sequence: u16,
    /// The media timestamp in clock units (8000 Hz for G.711).
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// Contributing sources (set by mixers).
    pub csrcs: Csrcs,
    /// The header extension, if the X bit is set.
    pub extension: Option<Extension<'a>>,
    /// The payload, without padding.
    pub payload: &'a [u8],
    /// Padding bytes after the payload, including the count byte itself;
    /// 0 for none.
    pub padding: u8,
}

/// Parses one RTP packet. Rejects versions other than 2, headers longer
/// than the datagram and padding counts of zero or longer than the rest;
/// the extension is skipped by its length and kept as a view.
pub fn parse(buf: &[u8]) -> Result<RtpPacket<'_>, Error> {
    let mut r = Reader::new(buf, WHAT);
    let [b0, b1] = r.array()?;
    let version = b0 >> 6;
    if version != 2 {
        return Err(Error::BadVersion { what: WHAT, version });
    }
    let has_padding = b0 & 0x20 != 0;
    let has_extension = b0 & 0x10 != 0;
    let csrc_count = usize::from(b0 & 0x0F);
    let sequence = r.u16_be()?;
    let timestamp = r.u32_be()?;
    let ssrc = r.u32_be()?;

    let mut list = [0u32; MAX_CSRCS];
    for slot in list.iter_mut().take(csrc_count) {
        *slot = r.u32_be()?;
    }
    let csrcs = Csrcs { list, len: csrc_count as u8 };

    let extension = if has_extension {
        let profile = r.u16_be()?;
        let words = usize::from(r.u16_be()?);
        Some(Extension { profile, data: r.take(words * 4)? })
    } else {
        None
    };

    let mut payload = r.rest();
    let mut padding = 0;
    if has_padding {
        let count = *payload.last().ok_or(Error::BadPadding { what: WHAT })?;
        if count == 0 || usize::from(count) > payload.len() {
            return Err(Error::BadPadding { what: WHAT });
        }
        payload = payload.get(..payload.len() - usize::from(count)).unwrap_or_default();
        padding = count;
    }

    Ok(RtpPacket {
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7F,
        sequence,
        timestamp,
        ssrc,
        csrcs,
        extension,
        payload,
        padding,
    })
}

impl<'a> RtpPacket<'a> {
    /// A packet with no marker, CSRCs, extension or padding.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: u32, payload: &'a [u8]) -> Self {
        Self {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs: Csrcs::none(),
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// The header length: fixed part, CSRCs and extension.
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + 4 * self.csrcs.as_slice().len() + self.extension.map_or(0, |e| 4 + e.data.len())
    }

    /// The whole packet's length on the wire.
    pub fn wire_len(&self) -> usize {
        self.header_len() + self.payload.len() + usize::from(self.padding)
    }

    /// Appends the packet to `out`. Fails, writing nothing, when the payload
    /// type exceeds 127 or the extension data is not a whole number of
    /// 32-bit words (or longer than 65535 of them).
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.payload_type > 0x7F {
            return Err(Error::OutOfRange {
                what: "RTP payload type",
                value: self.payload_type.into(),
                max: 0x7F,
            });
        }
        let ext_words = match self.extension {
            Some(e) if e.data.len() & 3 != 0 => {
                return Err(Error::Malformed {
                    what: WHAT,
                    detail: "extension length is not a multiple of 4",
                })
            }
            Some(e) => Some(u16::try_from(e.data.len() / 4).map_err(|_| Error::OutOfRange {
                what: "RTP extension words",
                value: (e.data.len() / 4) as u64,
                max: u16::MAX.into(),
            })?),
            None => None,
        };
        let csrcs = self.csrcs.as_slice();
        out.reserve(self.wire_len());
        let mut b0 = 0x80 | csrcs.len() as u8;
        if self.padding > 0 {
            b0 |= 0x20;
        }
        if self.extension.is_some() {
            b0 |= 0x10;
        }
        out.push(b0);
        out.push(u8::from(self.marker) << 7 | self.payload_type);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let (Some(e), Some(words)) = (self.extension, ext_words) {
            out.extend_from_slice(&e.profile.to_be_bytes());
            out.extend_from_slice(&words.to_be_bytes());
            out.extend_from_slice(e.data);
        }
        out.extend_from_slice(self.payload);
        if self.padding > 0 {
            out.extend(std::iter::repeat_n(0, usize::from(self.padding) - 1));
            out.push(self.padding);
        }
        Ok(())
    }

    /// The packet as a new buffer (see [`RtpPacket::write_to`]).
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.write_to(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A PCMU packet as a softphone sends it: V=2, M=1, PT=0, seq 0x1234,
    /// ts 0xDEADBEEF, SSRC 0x01020304, four payload bytes.
    const SIMPLE: [u8; 16] =
        [0x80, 0x80, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xFF, 0x7F, 0x00, 0x80];

    #[test]
    fn parses_a_plain_packet() {
        let p = parse(&SIMPLE).unwrap();
        assert!(p.marker);
        assert_eq!(p.payload_type, 0);
        assert_eq!(p.sequence, 0x1234);
        assert_eq!(p.timestamp, 0xDEAD_BEEF);
        assert_eq!(p.ssrc, 0x0102_0304);
        assert!(p.csrcs.as_slice().is_empty());
        assert_eq!(p.extension, None);
        assert_eq!(p.payload, &[0xFF, 0x7F, 0x00, 0x80]);
        assert_eq!(p.padding, 0);
        assert_eq!(p.to_vec().unwrap(), SIMPLE);
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        let buf = [
            0xB2, 0x08, 0x00, 0x01, // V=2 P=1 X=1 CC=2, PT=8
            0, 0, 0, 160, // ts
            0xAA, 0xBB, 0xCC, 0xDD, // ssrc
            0, 0, 0, 1, 0, 0, 0, 2, // csrcs
            0xBE, 0xDE, 0x00, 0x01, 0x10, 0x2A, 0x00, 0x00, // extension, 1 word
            0xD5, 0xD5, 0xD5, // payload
            0x00, 0x00, 0x03, // 3 padding bytes
        ];
        let p = parse(&buf).unwrap();
        assert!(!p.marker);
        assert_eq!(p.payload_type, 8);
        assert_eq!(p.csrcs.as_slice(), &[1, 2]);
        assert_eq!(p.extension, Some(Extension { profile: 0xBEDE, data: &[0x10, 0x2A, 0, 0] }));
        assert_eq!(p.payload, &[0xD5; 3]);
        assert_eq!(p.padding, 3);
        assert_eq!(p.header_len(), 28);
        assert_eq!(p.to_vec().unwrap(), buf);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(parse(&SIMPLE[..11]), Err(Error::Truncated { .. })));
        let mut v1 = SIMPLE;
        v1[0] = 0x40;
        assert_eq!(parse(&v1), Err(Error::BadVersion { what: "RTP", version: 1 }));
        // CC says 3 CSRCs, datagram has room for one.
        let mut cc = SIMPLE;
        cc[0] = 0x83;
        assert!(matches!(parse(&cc), Err(Error::Truncated { .. })));
        // Extension claims 2 words, only 0 follow its header.
        let mut ext = SIMPLE.to_vec();
        ext[0] = 0x90;
        ext.truncate(12);
        ext.extend_from_slice(&[0xBE, 0xDE, 0, 2]);
        assert!(matches!(parse(&ext), Err(Error::Truncated { .. })));
        // Padding count zero, or past the payload.
        let mut pad = SIMPLE;
        pad[0] = 0xA0;
        pad[15] = 0;
        assert_eq!(parse(&pad), Err(Error::BadPadding { what: "RTP" }));
        pad[15] = 5;
        assert_eq!(parse(&pad), Err(Error::BadPadding { what: "RTP" }));
        pad[15] = 4; // exactly the payload: empty payload, valid
        assert_eq!(parse(&pad).unwrap().payload, &[] as &[u8]);
        // Padding bit with nothing after the header.
        let mut empty = SIMPLE[..12].to_vec();
        empty[0] = 0xA0;
        assert_eq!(parse(&empty), Err(Error::BadPadding { what: "RTP" }));
    }

    #[test]
    fn header_only_packet_has_empty_payload() {
        let p = parse(&SIMPLE[..12]).unwrap();
        assert!(p.payload.is_empty());
    }

    #[test]
    fn writer_refuses_unrepresentable_fields() {
        let mut p = RtpPacket::new(128, 0, 0, 0, &[]);
        assert!(matches!(p.to_vec(), Err(Error::OutOfRange { .. })));
        p.payload_type = 0;
        p.extension = Some(Extension { profile: 1, data: &[1, 2, 3] });
        assert!(matches!(p.to_vec(), Err(Error::Malformed { .. })));
        assert!(Csrcs::new(&[0; 16]).is_err());
        assert_eq!(Csrcs::new(&[7; 15]).unwrap().as_slice().len(), 15);
    }

    #[test]
    fn round_trips_through_writer() {
        let csrcs = Csrcs::new(&[9, 8, 7]).unwrap();
        let payload = [1u8; 160];
        let p = RtpPacket {
            marker: true,
            payload_type: 101,
            sequence: 65535,
            timestamp: u32::MAX,
            ssrc: 42,
            csrcs,
            extension: Some(Extension { profile: 0x1000, data: &[0; 8] }),
            payload: &payload,
            padding: 4,
        };
        let bytes = p.to_vec().unwrap();
        assert_eq!(bytes.len(), p.wire_len());
        assert_eq!(parse(&bytes).unwrap(), p);
    }
}
