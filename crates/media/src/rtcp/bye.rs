//! Goodbye (RFC 3550 6.6): sources leaving, with an optional reason.

use super::packet::check_count;
use crate::bytes::Reader;
use crate::Error;

/// A BYE packet: the peer's sources are gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bye<'a> {
    /// The sources leaving, at most 31.
    pub ssrcs: Vec<u32>,
    /// Why, up to 255 bytes.
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// Parses the body after the common header.
    pub(super) fn parse(count: u8, body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "RTCP BYE");
        let ssrcs = (0..count).map(|_| r.u32_be()).collect::<Result<Vec<_>, _>>()?;
        let reason = if r.remaining() > 0 {
            let len = usize::from(r.u8()?);
            Some(r.take(len)?)
        } else {
            None
        };
        Ok(Self { ssrcs, reason })
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) -> Result<u8, Error> {
        let count = check_count("RTCP BYE source count", self.ssrcs.len())?;
        let start = out.len();
        for s in &self.ssrcs {
            out.extend_from_slice(&s.to_be_bytes());
        }
        if let Some(reason) = self.reason {
            let len = u8::try_from(reason.len()).map_err(|_| Error::OutOfRange {
                what: "RTCP BYE reason length",
                value: reason.len() as u64,
                max: 255,
            })?;
            out.push(len);
            out.extend_from_slice(reason);
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
    fn reason_is_length_prefixed_and_padded() {
        let bye = Bye { ssrcs: vec![0x0A0B0C0D], reason: Some(b"bye") };
        let mut body = Vec::new();
        assert_eq!(bye.write_body(&mut body), Ok(1));
        assert_eq!(body, [0x0A, 0x0B, 0x0C, 0x0D, 3, b'b', b'y', b'e']);
        assert_eq!(Bye::parse(1, &body).unwrap(), bye);
        assert!(Bye::parse(1, &[0, 0, 0, 1, 9, b'x']).is_err());
        assert_eq!(Bye::parse(0, &[]).unwrap(), Bye::default());
    }
}
