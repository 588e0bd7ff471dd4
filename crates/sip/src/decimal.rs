//! Numbers and IPv4 addresses written straight to a writer, without the
//! formatting machinery (`write!` of an integer pads and formats through
//! `Formatter`; an address is four of those). Every message written, and
//! every message parsed (its written length is counted), writes several.

use std::fmt::{self, Write};
use std::net::Ipv4Addr;

/// Writes `n` in decimal.
pub(crate) fn write_u32(w: &mut impl Write, n: u32) -> fmt::Result {
    let mut buf = [0u8; 10];
    let start = digits(n, &mut buf);
    w.write_str(ascii(buf.get(start..).unwrap_or_default()))
}

/// Writes `a` as dotted decimal, as `Ipv4Addr`'s `Display` does.
pub(crate) fn write_ipv4(w: &mut impl Write, a: Ipv4Addr) -> fmt::Result {
    let mut out = [0u8; 15];
    let mut len = 0;
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            out[len] = b'.';
            len += 1;
        }
        let mut buf = [0u8; 10];
        let start = digits(u32::from(octet), &mut buf);
        for &d in buf.get(start..).unwrap_or_default() {
            out[len] = d;
            len += 1;
        }
    }
    w.write_str(ascii(out.get(..len).unwrap_or_default()))
}

/// Writes `n`'s decimal digits at the end of `buf`; returns where they
/// begin.
pub(crate) fn digits(mut n: u32, buf: &mut [u8; 10]) -> usize {
    let mut start = buf.len();
    while start > 0 {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    start
}

/// The digits and dots written above, as text (they are ASCII).
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_written_as_display_writes_them() {
        for n in [0, 7, 10, 99, 100, 5060, 65_535, 1_000_000, u32::MAX] {
            let mut s = String::new();
            write_u32(&mut s, n).expect("write");
            assert_eq!(s, n.to_string());
        }
        for a in [[0, 0, 0, 0], [127, 0, 0, 1], [192, 168, 10, 255], [255, 255, 255, 255], [10, 9, 100, 1]] {
            let a = Ipv4Addr::from(a);
            let mut s = String::new();
            write_ipv4(&mut s, a).expect("write");
            assert_eq!(s, a.to_string());
        }
    }
}
