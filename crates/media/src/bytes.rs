//! A bounds-checked cursor over input bytes: running out of input is an
//! [`Error::Truncated`] value, never a panic.

use crate::Error;

/// Reads fields front to back from a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`; `what` names the structure in errors.
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.buf.len() {
            return Err(Error::Truncated { what: self.what, need: n, got: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// A big-endian (network order) 16-bit field.
    pub(crate) fn u16_be(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian (network order) 32-bit field.
    pub(crate) fn u32_be(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A little-endian 16-bit field (RIFF).
    pub(crate) fn u16_le(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// A little-endian 32-bit field (RIFF).
    pub(crate) fn u32_le(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_order_and_reports_truncation() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7], "test");
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16_be(), Ok(0x0203));
        assert_eq!(r.u16_le(), Ok(0x0504));
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.u32_be(), Err(Error::Truncated { what: "test", need: 4, got: 2 }));
        assert_eq!(r.rest(), &[6, 7]);
        assert_eq!(r.remaining(), 0);
    }
}
