//! The RTCP packet enum, the compound parser and the writer.

use super::{Bye, ReceiverReport, Sdes, SenderReport, PT_BYE, PT_RR, PT_SDES, PT_SR};
use crate::bytes::Reader;
use crate::Error;

/// The most items the 5-bit count field can announce.
pub const MAX_COUNT: usize = 31;

const WHAT: &str = "RTCP";

/// One RTCP packet of a compound datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// A sender report (PT 200).
    SenderReport(SenderReport),
    /// A receiver report (PT 201).
    ReceiverReport(ReceiverReport),
    /// A source description (PT 202).
    SourceDescription(Sdes<'a>),
    /// A goodbye (PT 203).
    Bye(Bye<'a>),
    /// Any other type (APP, feedback, XR...), kept unparsed.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count/subtype field.
        count: u8,
        /// The body after the 4-byte header, padding removed.
        body: &'a [u8],
    },
}

/// Parses a compound RTCP datagram into its packets, in order.
///
/// Every packet must be version 2 and fit the datagram; a padding bit is
/// honoured on any packet. The RFC 3550 rule that a compound starts with SR
/// or RR is not enforced, so reduced-size RTCP (RFC 5506) parses too.
pub fn parse(buf: &[u8]) -> Result<Vec<RtcpPacket<'_>>, Error> {
    let mut r = Reader::new(buf, WHAT);
    if r.remaining() == 0 {
        return Err(Error::Truncated { what: WHAT, need: 4, got: 0 });
    }
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let [b0, packet_type] = r.array()?;
        let words = usize::from(r.u16_be()?);
        let version = b0 >> 6;
        if version != 2 {
            return Err(Error::BadVersion { what: WHAT, version });
        }
        let count = b0 & 0x1F;
        let mut body = r.take(words * 4)?;
        if b0 & 0x20 != 0 {
            let pad = usize::from(*body.last().ok_or(Error::BadPadding { what: WHAT })?);
            if pad == 0 || pad > body.len() {
                return Err(Error::BadPadding { what: WHAT });
            }
            body = body.get(..body.len() - pad).unwrap_or_default();
        }
        out.push(RtcpPacket::parse_body(packet_type, count, body)?);
    }
    Ok(out)
}

/// Writes packets back to back as one compound datagram.
pub fn write_compound(packets: &[RtcpPacket<'_>], out: &mut Vec<u8>) -> Result<(), Error> {
    for p in packets {
        p.write_to(out)?;
    }
    Ok(())
}

impl<'a> RtcpPacket<'a> {
    fn parse_body(packet_type: u8, count: u8, body: &'a [u8]) -> Result<Self, Error> {
        Ok(match packet_type {
            PT_SR => Self::SenderReport(SenderReport::parse(count, body)?),
            PT_RR => Self::ReceiverReport(ReceiverReport::parse(count, body)?),
            PT_SDES => Self::SourceDescription(Sdes::parse(count, body)?),
            PT_BYE => Self::Bye(Bye::parse(count, body)?),
            _ => Self::Other { packet_type, count, body },
        })
    }

    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        match self {
            Self::SenderReport(_) => PT_SR,
            Self::ReceiverReport(_) => PT_RR,
            Self::SourceDescription(_) => PT_SDES,
            Self::Bye(_) => PT_BYE,
            Self::Other { packet_type, .. } => *packet_type,
        }
    }

    /// The SSRC of the source that sent this packet, where it names one:
    /// the reporter of SR/RR, the first chunk of SDES, the first source of BYE.
    pub fn sender_ssrc(&self) -> Option<u32> {
        match self {
            Self::SenderReport(sr) => Some(sr.ssrc),
            Self::ReceiverReport(rr) => Some(rr.ssrc),
            Self::SourceDescription(s) => s.chunks.first().map(|c| c.ssrc),
            Self::Bye(b) => b.ssrcs.first().copied(),
            Self::Other { .. } => None,
        }
    }

    /// Appends the packet (header and body, no padding bit) to `out`; on
    /// error nothing is written.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut body = Vec::new();
        let count = match self {
            Self::SenderReport(sr) => sr.write_body(&mut body)?,
            Self::ReceiverReport(rr) => rr.write_body(&mut body)?,
            Self::SourceDescription(s) => s.write_body(&mut body)?,
            Self::Bye(b) => b.write_body(&mut body)?,
            Self::Other { count, body: raw, .. } => {
                if raw.len() & 3 != 0 {
                    return Err(Error::Malformed {
                        what: WHAT,
                        detail: "body is not a whole number of words",
                    });
                }
                body.extend_from_slice(raw);
                check_count("RTCP count field", usize::from(*count))?
            }
        };
        let words = u16::try_from(body.len() / 4).map_err(|_| Error::OutOfRange {
            what: "RTCP length",
            value: (body.len() / 4) as u64,
            max: u16::MAX.into(),
        })?;
        out.push(0x80 | count);
        out.push(self.packet_type());
        out.extend_from_slice(&words.to_be_bytes());
        out.extend_from_slice(&body);
        Ok(())
    }

    /// The packet as a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(out)
    }
}

/// Checks that `n` fits the 5-bit count field.
pub(super) fn check_count(what: &'static str, n: usize) -> Result<u8, Error> {
    if n > MAX_COUNT {
        return Err(Error::OutOfRange { what, value: n as u64, max: MAX_COUNT as u64 });
    }
    Ok(n as u8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{ReportBlock, SdesChunk, SdesItem, SDES_CNAME};
    use super::*;

    /// SR with one report block, then SDES with a CNAME: the compound a
    /// sending endpoint emits every few seconds.
    fn sample() -> Vec<RtcpPacket<'static>> {
        vec![
            RtcpPacket::SenderReport(SenderReport {
                ssrc: 0x1111_1111,
                ntp_timestamp: 0xE8F0_0000_8000_0000,
                rtp_timestamp: 160_000,
                packet_count: 1000,
                octet_count: 160_000,
                reports: vec![ReportBlock {
                    ssrc: 0x2222_2222,
                    fraction_lost: 25,
                    cumulative_lost: -3,
                    highest_sequence: 0x0001_0005,
                    jitter: 40,
                    last_sr: 0x0000_8000,
                    delay_since_last_sr: 65536,
                }],
            }),
            RtcpPacket::SourceDescription(Sdes {
                chunks: vec![SdesChunk {
                    ssrc: 0x1111_1111,
                    items: vec![SdesItem { kind: SDES_CNAME, text: b"calliope@10.0.0.1" }],
                }],
            }),
        ]
    }

    #[test]
    fn compound_sr_sdes_known_bytes() {
        let mut bytes = Vec::new();
        write_compound(&sample(), &mut bytes).unwrap();
        // SR header: V=2 RC=1, PT=200; 4 + 24 + 24 = 52 bytes, 13 words, length 12.
        assert_eq!(&bytes[..4], &[0x81, 200, 0, 12]);
        assert_eq!(&bytes[4..8], &[0x11; 4]);
        assert_eq!(&bytes[8..16], &[0xE8, 0xF0, 0, 0, 0x80, 0, 0, 0]);
        // Report block: cumulative lost -3 is 0xFFFFFD in 24 bits.
        assert_eq!(&bytes[28..36], &[0x22, 0x22, 0x22, 0x22, 25, 0xFF, 0xFF, 0xFD]);
        // SDES at 52: SC=1, PT=202; chunk = 4 ssrc + 2 + 17 text + 1 null = 24 bytes,
        // so 28 with the header: 7 words, length 6.
        assert_eq!(&bytes[52..56], &[0x81, 202, 0, 6]);
        assert_eq!(&bytes[60..62], &[1, 17]);
        assert_eq!(&bytes[62..79], b"calliope@10.0.0.1");
        assert_eq!(bytes[79], 0);
        assert_eq!(bytes.len(), 80);
        assert_eq!(parse(&bytes).unwrap(), sample());
    }

    #[test]
    fn receiver_report_and_bye_round_trip() {
        let packets = vec![
            RtcpPacket::ReceiverReport(ReceiverReport { ssrc: 7, reports: vec![] }),
            RtcpPacket::Bye(Bye { ssrcs: vec![7, 8], reason: Some(b"hangup") }),
            RtcpPacket::Other { packet_type: 204, count: 3, body: b"name" },
        ];
        let mut bytes = Vec::new();
        write_compound(&packets, &mut bytes).unwrap();
        // Empty RR is 8 bytes: header + SSRC.
        assert_eq!(&bytes[..8], &[0x80, 201, 0, 1, 0, 0, 0, 7]);
        // BYE: 2 SSRCs + 1 length byte + 6 text + 1 pad = 16 bytes body.
        assert_eq!(&bytes[8..12], &[0x82, 203, 0, 4]);
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed, packets);
        assert_eq!(parsed[1].sender_ssrc(), Some(7));
    }

    #[test]
    fn honours_padding_bit() {
        // RR with no blocks, padded by 4 bytes (length 2 words).
        let bytes = [0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4];
        assert_eq!(
            parse(&bytes).unwrap(),
            vec![RtcpPacket::ReceiverReport(ReceiverReport { ssrc: 9, reports: vec![] })]
        );
        let bad = [0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0];
        assert_eq!(parse(&bad), Err(Error::BadPadding { what: "RTCP" }));
        let bad = [0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 9];
        assert_eq!(parse(&bad), Err(Error::BadPadding { what: "RTCP" }));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(&[]).is_err());
        assert!(matches!(parse(&[0x80, 201, 0]), Err(Error::Truncated { .. })));
        assert!(matches!(parse(&[0x40, 201, 0, 0]), Err(Error::BadVersion { .. })));
        // Length says 5 words but only 1 follows.
        assert!(matches!(parse(&[0x80, 201, 0, 5, 0, 0, 0, 1]), Err(Error::Truncated { .. })));
        // RR count says one block, body only has the SSRC.
        assert!(matches!(parse(&[0x81, 201, 0, 1, 0, 0, 0, 1]), Err(Error::Truncated { .. })));
        // Good packet followed by a truncated one.
        assert!(parse(&[0x80, 201, 0, 1, 0, 0, 0, 1, 0x80]).is_err());
    }

    #[test]
    fn writer_refuses_counts_over_31() {
        let rr =
            RtcpPacket::ReceiverReport(ReceiverReport { ssrc: 1, reports: vec![ReportBlock::default(); 32] });
        assert!(matches!(rr.to_vec(), Err(Error::OutOfRange { .. })));
        let bye = RtcpPacket::Bye(Bye { ssrcs: vec![1; 32], reason: None });
        assert!(matches!(bye.to_vec(), Err(Error::OutOfRange { .. })));
    }
}
