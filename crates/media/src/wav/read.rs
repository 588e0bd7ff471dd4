//! The RIFF/WAVE reader.

use super::{Encoding, Wav, TAG_ALAW, TAG_EXTENSIBLE, TAG_PCM, TAG_ULAW};
use crate::bytes::Reader;
use crate::g711::{alaw_decode, ulaw_decode};
use crate::Error;

const WHAT: &str = "WAV";

struct Format {
    encoding: Encoding,
    sample_rate: u32,
    channels: u16,
}

/// The most channels a file may have.
const MAX_CHANNELS: u16 = 8;

/// A WAV file's channels, each as 16-bit linear samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavChannels {
    /// Samples per second.
    pub sample_rate: u32,
    /// How the file stored them.
    pub encoding: Encoding,
    /// One list of samples per channel, all the same length.
    pub channels: Vec<Vec<i16>>,
}

/// Reads a WAV file (PCM 8 or 16 bit, A-law or u-law; one or more
/// channels, any rate) into linear samples, the channels averaged into
/// one.
///
/// Chunks other than `fmt ` and `data` are skipped. A `data` chunk that
/// claims more bytes than the file has (as streaming writers leave it) is
/// read to the end of the file; a trailing partial sample is ignored.
pub fn read(bytes: &[u8]) -> Result<Wav, Error> {
    let WavChannels { sample_rate, encoding, channels } = read_channels(bytes)?;
    let samples = match channels.as_slice() {
        [one] => one.clone(),
        many => {
            let len = many.first().map_or(0, Vec::len);
            let n = many.len().max(1) as i32;
            (0..len)
                .map(|i| {
                    let total: i32 = many.iter().map(|c| i32::from(c.get(i).copied().unwrap_or(0))).sum();
                    (total / n) as i16
                })
                .collect()
        }
    };
    Ok(Wav { sample_rate, encoding, samples })
}

/// Reads a WAV file keeping its channels apart; see [`read`].
pub fn read_channels(bytes: &[u8]) -> Result<WavChannels, Error> {
    let mut r = Reader::new(bytes, WHAT);
    let riff = r.array::<4>()?;
    let _size = r.u32_le()?;
    let wave = r.array::<4>()?;
    if &riff != b"RIFF" || &wave != b"WAVE" {
        return Err(Error::Malformed { what: WHAT, detail: "not a RIFF/WAVE file" });
    }
    let mut format = None;
    let mut data = None;
    while r.remaining() >= 8 && data.is_none() {
        let id = r.array::<4>()?;
        let size = usize::try_from(r.u32_le()?).unwrap_or(usize::MAX);
        match &id {
            b"fmt " => format = Some(parse_format(r.take(size)?)?),
            b"data" => data = Some(r.take(size.min(r.remaining()))?),
            _ => {
                r.take(size.min(r.remaining()))?;
            }
        }
        if size % 2 == 1 && r.remaining() > 0 {
            r.take(1)?;
        }
    }
    let format = format.ok_or(Error::Malformed { what: WHAT, detail: "no fmt chunk before the data" })?;
    let data = data.ok_or(Error::Malformed { what: WHAT, detail: "no data chunk" })?;
    let width = usize::from(format.encoding.bytes_per_sample());
    let n = usize::from(format.channels);
    let frames = data.len() / (width * n);
    let mut channels: Vec<Vec<i16>> = (0..n).map(|_| Vec::with_capacity(frames)).collect();
    for frame in data.chunks_exact(width * n) {
        for (c, sample) in channels.iter_mut().zip(frame.chunks_exact(width)) {
            c.push(match (format.encoding, sample) {
                (Encoding::Pcm16, [lo, hi]) => i16::from_le_bytes([*lo, *hi]),
                (Encoding::Pcm8, [b]) => (i16::from(*b) - 128) << 8,
                (Encoding::Alaw, [b]) => alaw_decode(*b),
                (Encoding::Ulaw, [b]) => ulaw_decode(*b),
                _ => 0,
            });
        }
    }
    Ok(WavChannels { sample_rate: format.sample_rate, encoding: format.encoding, channels })
}

fn parse_format(body: &[u8]) -> Result<Format, Error> {
    let mut r = Reader::new(body, "WAV fmt chunk");
    let mut tag = r.u16_le()?;
    let channels = r.u16_le()?;
    let sample_rate = r.u32_le()?;
    let _byte_rate = r.u32_le()?;
    let _block_align = r.u16_le()?;
    let bits = r.u16_le()?;
    if tag == TAG_EXTENSIBLE {
        let _cb_size = r.u16_le()?;
        let _valid_bits = r.u16_le()?;
        let _channel_mask = r.u32_le()?;
        // The sub-format GUID starts with the real format tag.
        let guid = r.array::<16>()?;
        tag = u16::from_le_bytes([guid[0], guid[1]]);
    }
    let encoding = match (tag, bits) {
        (TAG_PCM, 16) => Encoding::Pcm16,
        (TAG_PCM, 8) => Encoding::Pcm8,
        (TAG_ALAW, 8) => Encoding::Alaw,
        (TAG_ULAW, 8) => Encoding::Ulaw,
        _ => return Err(Error::UnsupportedWav { tag, channels, bits }),
    };
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(Error::UnsupportedWav { tag, channels, bits });
    }
    if sample_rate == 0 || sample_rate > 384_000 {
        return Err(Error::UnsupportedRate(sample_rate));
    }
    Ok(Format { encoding, sample_rate, channels })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fmt_chunk(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut c = b"fmt ".to_vec();
        c.extend_from_slice(&16u32.to_le_bytes());
        c.extend_from_slice(&tag.to_le_bytes());
        c.extend_from_slice(&channels.to_le_bytes());
        c.extend_from_slice(&rate.to_le_bytes());
        c.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        c.extend_from_slice(&align.to_le_bytes());
        c.extend_from_slice(&bits.to_le_bytes());
        c
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
        f.extend_from_slice(b"WAVE");
        f.extend(body);
        f
    }

    fn data_chunk(bytes: &[u8]) -> Vec<u8> {
        let mut c = b"data".to_vec();
        c.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        c.extend_from_slice(bytes);
        c
    }

    #[test]
    fn reads_pcm16_skipping_other_chunks() {
        // A LIST chunk of odd size (padded) between fmt and data.
        let list = [b"LIST".to_vec(), 3u32.to_le_bytes().to_vec(), vec![b'a', b'b', b'c', 0]].concat();
        let f = riff(&[fmt_chunk(1, 1, 16000, 16), list, data_chunk(&[0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80])]);
        let w = read(&f).unwrap();
        assert_eq!(w, Wav { sample_rate: 16000, encoding: Encoding::Pcm16, samples: vec![1, -1, i16::MIN] });
    }

    #[test]
    fn reads_ulaw_and_alaw_prompts() {
        let u = riff(&[fmt_chunk(7, 1, 8000, 8), data_chunk(&[0xFF, 0x00, 0x80])]);
        let w = read(&u).unwrap();
        assert_eq!((w.encoding, w.samples), (Encoding::Ulaw, vec![0, -32124, 32124]));
        let a = riff(&[fmt_chunk(6, 1, 8000, 8), data_chunk(&[0xD5, 0x55])]);
        let w = read(&a).unwrap();
        assert_eq!((w.encoding, w.samples), (Encoding::Alaw, vec![8, -8]));
    }

    #[test]
    fn reads_extensible_pcm() {
        let mut fmt = b"fmt ".to_vec();
        fmt.extend_from_slice(&40u32.to_le_bytes());
        fmt.extend_from_slice(&0xFFFEu16.to_le_bytes());
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&48000u32.to_le_bytes());
        fmt.extend_from_slice(&96000u32.to_le_bytes());
        fmt.extend_from_slice(&2u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&4u32.to_le_bytes());
        fmt.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
        let w = read(&riff(&[fmt, data_chunk(&[5, 0])])).unwrap();
        assert_eq!((w.sample_rate, w.samples), (48000, vec![5]));
    }

    #[test]
    fn refuses_other_formats_clearly() {
        let cases = [(1, 0, 16), (1, 9, 8), (1, 1, 24), (3, 1, 32), (0x11, 1, 4), (7, 1, 16)];
        for (tag, channels, bits) in cases {
            let f = riff(&[fmt_chunk(tag, channels, 8000, bits), data_chunk(&[0; 8])]);
            assert_eq!(read(&f), Err(Error::UnsupportedWav { tag, channels, bits }));
        }
        let err = read(&riff(&[fmt_chunk(1, 1, 8000, 24), data_chunk(&[])])).unwrap_err();
        assert!(err.to_string().contains("24 bits"), "{err}");
        assert_eq!(read(&riff(&[fmt_chunk(1, 1, 0, 16), data_chunk(&[])])), Err(Error::UnsupportedRate(0)));
    }

    #[test]
    fn refuses_broken_files() {
        assert!(read(b"").is_err());
        assert!(read(b"RIFX\0\0\0\0WAVE").is_err());
        assert!(read(&riff(&[data_chunk(&[0, 0])])).is_err(), "data before fmt");
        assert!(read(&riff(&[fmt_chunk(1, 1, 8000, 16)])).is_err(), "no data");
        let mut short_fmt = fmt_chunk(1, 1, 8000, 16);
        short_fmt.truncate(14);
        assert!(read(&riff(&[short_fmt])).is_err());
    }

    #[test]
    fn reads_stereo_and_8_bit_pcm() {
        // Stereo 16-bit: L=100,R=300 then L=-100,R=-300; mono is the mean.
        let data: Vec<u8> = [100i16, 300, -100, -300].iter().flat_map(|s| s.to_le_bytes()).collect();
        let f = riff(&[fmt_chunk(1, 2, 44100, 16), data_chunk(&data)]);
        let ch = read_channels(&f).unwrap();
        assert_eq!(ch.channels, vec![vec![100, -100], vec![300, -300]]);
        assert_eq!(read(&f).unwrap().samples, vec![200, -200]);
        // 8-bit unsigned PCM: 128 is zero.
        let f = riff(&[fmt_chunk(1, 1, 11025, 8), data_chunk(&[128, 255, 0])]);
        let w = read(&f).unwrap();
        assert_eq!(
            (w.encoding, w.sample_rate, w.samples),
            (Encoding::Pcm8, 11025, vec![0, 127 << 8, -128 << 8])
        );
        // Stereo u-law.
        let f = riff(&[fmt_chunk(7, 2, 8000, 8), data_chunk(&[0xFF, 0x80, 0xFF])]);
        assert_eq!(read_channels(&f).unwrap().channels, vec![vec![0], vec![32124]]);
    }

    #[test]
    fn tolerates_a_data_size_past_the_end() {
        let mut f = riff(&[fmt_chunk(1, 1, 8000, 16), data_chunk(&[1, 0, 2, 0, 3])]);
        let n = f.len();
        f[n - 9..n - 5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&f).unwrap().samples, vec![1, 2]);
    }
}
