//! The sixteen DTMF keys.

use std::fmt;

/// A DTMF key: 0-9, `*`, `#`, A-D. Holds its RFC 4733 event code (0..=15),
/// so every value is a real key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit(u8);

const CHARS: [char; 16] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/// Row (low group) frequencies in Hz, top row first.
pub(crate) const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high group) frequencies in Hz, left column first.
pub(crate) const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad, row by row: the key at row r, column c.
const KEYPAD: [[char; 4]; 4] =
    [['1', '2', '3', 'A'], ['4', '5', '6', 'B'], ['7', '8', '9', 'C'], ['*', '0', '#', 'D']];

impl Digit {
    /// All sixteen keys, in event-code order.
    pub const ALL: [Digit; 16] = {
        let mut all = [Digit(0); 16];
        let mut i = 0;
        while i < 16 {
            all[i] = Digit(i as u8);
            i += 1;
        }
        all
    };

    /// The key for a character: `0`-`9`, `*`, `#`, `A`-`D` (either case).
    pub fn from_char(c: char) -> Option<Self> {
        let c = c.to_ascii_uppercase();
        CHARS.iter().position(|&k| k == c).map(|i| Self(i as u8))
    }

    /// The key for an RFC 4733 event code (0..=15); other events (flash,
    /// tones) are not keys.
    pub fn from_event(code: u8) -> Option<Self> {
        (code < 16).then_some(Self(code))
    }

    /// The RFC 4733 event code.
    pub fn event(self) -> u8 {
        self.0
    }

    /// The key's character.
    pub fn as_char(self) -> char {
        CHARS[usize::from(self.0 & 0x0F)]
    }

    /// The keypad position (row, column), each 0..=3.
    pub(crate) fn position(self) -> (usize, usize) {
        let c = self.as_char();
        for (r, row) in KEYPAD.iter().enumerate() {
            if let Some(col) = row.iter().position(|&k| k == c) {
                return (r, col);
            }
        }
        (3, 1)
    }

    /// The key at a keypad position, each 0..=3.
    pub(crate) fn at(row: usize, col: usize) -> Option<Self> {
        KEYPAD.get(row).and_then(|r| r.get(col)).and_then(|&c| Self::from_char(c))
    }

    /// The (low, high) tone pair in Hz.
    pub fn frequencies(self) -> (f32, f32) {
        let (r, c) = self.position();
        (ROWS[r], COLS[c])
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_chars_and_frequencies() {
        assert_eq!(Digit::from_char('0').map(Digit::event), Some(0));
        assert_eq!(Digit::from_char('*').map(Digit::event), Some(10));
        assert_eq!(Digit::from_char('#').map(Digit::event), Some(11));
        assert_eq!(Digit::from_char('d').map(Digit::event), Some(15));
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::from_event(16), None);
        assert_eq!(Digit::from_event(12).map(Digit::as_char), Some('A'));
        assert_eq!(Digit::from_char('1').map(Digit::frequencies), Some((697.0, 1209.0)));
        assert_eq!(Digit::from_char('0').map(Digit::frequencies), Some((941.0, 1336.0)));
        assert_eq!(Digit::from_char('D').map(Digit::frequencies), Some((941.0, 1633.0)));
        for d in Digit::ALL {
            let (r, c) = d.position();
            assert_eq!(Digit::at(r, c), Some(d));
            assert_eq!(d.to_string(), d.as_char().to_string());
        }
    }
}
