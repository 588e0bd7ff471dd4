//! Unsigned numbers in as few bytes as they need (seven bits a byte, the
//! top bit set on every byte but the last): the lengths and offsets of
//! finished records are mostly below 128, one byte instead of two or four.

/// Appends `n`.
pub(super) fn put(n: usize, out: &mut Vec<u8>) {
    let mut n = n as u64;
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a number [`put`] wrote at the start of `bytes`, and what follows
/// it; `None` when the bytes end first or it does not fit in a `usize`.
pub(super) fn get(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut n: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((usize::try_from(n).ok()?, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_in_few_bytes() {
        for n in [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX as usize, usize::MAX] {
            let mut out = Vec::new();
            put(n, &mut out);
            out.push(9);
            assert_eq!(get(&out), Some((n, &[9][..])), "{n}");
        }
        let mut one = Vec::new();
        put(100, &mut one);
        assert_eq!(one.len(), 1);
        assert_eq!(get(&[0x80, 0x80]), None, "cut short");
        assert_eq!(get(&[]), None);
    }
}
