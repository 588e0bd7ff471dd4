//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in `media`: malformed network input, a
/// value that does not fit its wire field, or an unsupported file format.
///
/// Parsers return these for any bad input; they never panic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a field that `what` needs.
    #[error("{what}: truncated, needs {need} more bytes, {got} left")]
    Truncated {
        /// Which structure was being read.
        what: &'static str,
        /// Bytes the next field needs.
        need: usize,
        /// Bytes that were left.
        got: usize,
    },
    /// The RTP/RTCP version field is not 2.
    #[error("{what}: version {version}, expected 2")]
    BadVersion {
        /// Which structure was being read.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// The padding count is zero or longer than the packet.
    #[error("{what}: invalid padding")]
    BadPadding {
        /// Which structure was being read.
        what: &'static str,
    },
    /// The input is structurally wrong in the way `detail` says.
    #[error("{what}: {detail}")]
    Malformed {
        /// Which structure was being read.
        what: &'static str,
        /// What is wrong with it.
        detail: &'static str,
    },
    /// A value does not fit the field it must be written to.
    #[error("{what}: {value} is out of range (at most {max})")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the field holds.
        max: u64,
    },
    /// A WAV file in a format this crate does not read.
    #[error(
        "unsupported WAV format: tag {tag}, {channels} channel(s), {bits} bits per sample \
         (supported: mono 16-bit PCM, 8-bit A-law, 8-bit u-law)"
    )]
    UnsupportedWav {
        /// The `wFormatTag` (1 PCM, 6 A-law, 7 u-law, 0xFFFE extensible).
        tag: u16,
        /// The channel count.
        channels: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// A sample rate of zero, or one the operation cannot use.
    #[error("unsupported sample rate {0} Hz")]
    UnsupportedRate(u32),
}
