//! Source description (RFC 3550 6.5): chunks of items; CNAME is the one
//! every endpoint sends.

use super::packet::check_count;
use crate::bytes::Reader;
use crate::Error;

/// Item type of the canonical name.
pub const SDES_CNAME: u8 = 1;

const WHAT: &str = "RTCP SDES";

/// One SDES item: a type (1 CNAME, 2 NAME ... 8 PRIV) and up to 255 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// The item type, never 0 (0 ends a chunk's item list).
    pub kind: u8,
    /// The text, usually UTF-8.
    pub text: &'a [u8],
}

/// The items describing one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem<'a>>,
}

/// A source description packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sdes<'a> {
    /// One chunk per source, at most 31.
    pub chunks: Vec<SdesChunk<'a>>,
}

impl<'a> Sdes<'a> {
    /// A packet with one chunk carrying only a CNAME.
    pub fn cname(ssrc: u32, cname: &'a [u8]) -> Self {
        Self { chunks: vec![SdesChunk { ssrc, items: vec![SdesItem { kind: SDES_CNAME, text: cname }] }] }
    }

    /// The CNAME of `ssrc`, if this packet describes it.
    pub fn cname_of(&self, ssrc: u32) -> Option<&'a [u8]> {
        self.chunks
            .iter()
            .filter(|c| c.ssrc == ssrc)
            .flat_map(|c| &c.items)
            .find(|i| i.kind == SDES_CNAME)
            .map(|i| i.text)
    }

    /// Parses the body after the common header.
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, WHAT);
        let mut chunks = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let ssrc = r.u32_be()?;
            let mut items = Vec::new();
            loop {
                let kind = r.u8()?;
                if kind == 0 {
                    // Null octets then padding up to the next word boundary.
                    let consumed = body.len() - r.remaining();
                    let pad = consumed.wrapping_neg() & 3;
                    r.take(pad.min(r.remaining()))?;
                    break;
                }
                let len = usize::from(r.u8()?);
                items.push(SdesItem { kind, text: r.take(len)? });
            }
            chunks.push(SdesChunk { ssrc, items });
        }
        Ok(Self { chunks })
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) -> Result<u8, Error> {
        let count = check_count("RTCP SDES chunk count", self.chunks.len())?;
        for chunk in &self.chunks {
            let start = out.len();
            out.extend_from_slice(&chunk.ssrc.to_be_bytes());
            for item in &chunk.items {
                let len = u8::try_from(item.text.len()).map_err(|_| Error::OutOfRange {
                    what: "RTCP SDES item length",
                    value: item.text.len() as u64,
                    max: 255,
                })?;
                if item.kind == 0 {
                    return Err(Error::Malformed { what: WHAT, detail: "item type 0 is reserved for END" });
                }
                out.push(item.kind);
                out.push(len);
                out.extend_from_slice(item.text);
            }
            // At least one null octet, then up to the word boundary.
            out.push(0);
            while (out.len() - start) & 3 != 0 {
                out.push(0);
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chunk_of_exact_word_length_gets_a_whole_null_word() {
        // 4 ssrc + 2 + 2 text = 8 bytes: the terminator needs a fresh word.
        let sdes = Sdes::cname(5, b"ab");
        let mut body = Vec::new();
        sdes.write_body(&mut body).unwrap();
        assert_eq!(body, [0, 0, 0, 5, 1, 2, b'a', b'b', 0, 0, 0, 0]);
        assert_eq!(Sdes::parse(1, &body).unwrap(), sdes);
        assert_eq!(sdes.cname_of(5), Some(&b"ab"[..]));
        assert_eq!(sdes.cname_of(6), None);
    }

    #[test]
    fn parses_two_chunks_with_several_items() {
        let body = [
            0, 0, 0, 1, 1, 1, b'x', 2, 2, b'n', b'm', 0, // chunk 1: 12 bytes
            0, 0, 0, 2, 1, 3, b'a', b'b', b'c', 0, 0, 0, // chunk 2: 12 bytes
        ];
        let sdes = Sdes::parse(2, &body).unwrap();
        assert_eq!(sdes.chunks.len(), 2);
        assert_eq!(sdes.chunks[0].items.len(), 2);
        assert_eq!(sdes.cname_of(2), Some(&b"abc"[..]));
        let mut out = Vec::new();
        sdes.write_body(&mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn rejects_items_past_the_end() {
        assert!(Sdes::parse(1, &[0, 0, 0, 1, 1, 9, b'a', 0]).is_err());
        assert!(Sdes::parse(2, &[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        // A chunk whose items never end.
        assert!(Sdes::parse(1, &[0, 0, 0, 1, 1, 1, b'a']).is_err());
    }
}
