//! The WAV writer.

use super::Encoding;
use crate::Error;

/// The header of a mono WAV file whose data chunk holds `data_len` bytes.
///
/// 44 bytes for PCM; 58 for A-law and u-law, whose `fmt ` chunk carries a
/// `cbSize` and which add a `fact` chunk, as non-PCM formats should. A
/// recorder can write this with a length of 0 first and rewrite it at the
/// end. Fails when the file would exceed 4 GiB or the rate is 0.
pub fn header(encoding: Encoding, sample_rate: u32, data_len: u32) -> Result<Vec<u8>, Error> {
    header_channels(encoding, sample_rate, 1, data_len)
}

/// The header of a WAV file of `channels` interleaved channels (1 or 2)
/// whose data chunk holds `data_len` bytes; see [`header`].
pub fn header_channels(
    encoding: Encoding,
    sample_rate: u32,
    channels: u16,
    data_len: u32,
) -> Result<Vec<u8>, Error> {
    if !(1..=2).contains(&channels) {
        return Err(Error::OutOfRange { what: "WAV channels", value: channels.into(), max: 2 });
    }
    if sample_rate == 0 {
        return Err(Error::UnsupportedRate(0));
    }
    let pcm = matches!(encoding, Encoding::Pcm16 | Encoding::Pcm8);
    let fmt_len: u32 = if pcm { 16 } else { 18 };
    let fact_len: u32 = if pcm { 0 } else { 12 };
    let padded = data_len + (data_len & 1);
    let riff_len = (4 + 8 + fmt_len + fact_len + 8).checked_add(padded).ok_or(Error::OutOfRange {
        what: "WAV size",
        value: data_len.into(),
        max: u32::MAX.into(),
    })?;
    let width = encoding.bytes_per_sample() * channels;

    let mut h = Vec::with_capacity(58);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_len.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&fmt_len.to_le_bytes());
    h.extend_from_slice(&encoding.tag().to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&sample_rate.saturating_mul(u32::from(width)).to_le_bytes());
    h.extend_from_slice(&width.to_le_bytes());
    h.extend_from_slice(&(encoding.bytes_per_sample() * 8).to_le_bytes());
    if !pcm {
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(b"fact");
        h.extend_from_slice(&4u32.to_le_bytes());
        h.extend_from_slice(&(data_len / u32::from(width)).to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    Ok(h)
}

/// A whole mono WAV file of `samples` stored as `encoding`.
pub fn write(encoding: Encoding, sample_rate: u32, samples: &[i16]) -> Result<Vec<u8>, Error> {
    let data_len = samples.len() * usize::from(encoding.bytes_per_sample());
    let data_len = u32::try_from(data_len).map_err(|_| Error::OutOfRange {
        what: "WAV data size",
        value: data_len as u64,
        max: u32::MAX.into(),
    })?;
    let mut out = header(encoding, sample_rate, data_len)?;
    out.reserve(data_len as usize + 1);
    match encoding {
        Encoding::Pcm16 => samples.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes())),
        Encoding::Pcm8 => out.extend(samples.iter().map(|s| ((s >> 8) + 128) as u8)),
        Encoding::Alaw => crate::g711::Law::Alaw.encode_into(samples, &mut out),
        Encoding::Ulaw => crate::g711::Law::Ulaw.encode_into(samples, &mut out),
    }
    if data_len & 1 == 1 {
        out.push(0);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read;
    use super::*;

    #[test]
    fn canonical_44_byte_pcm_header() {
        let f = write(Encoding::Pcm16, 8000, &[1, -2]).unwrap();
        let expected: Vec<u8> = [
            &b"RIFF"[..],
            &40u32.to_le_bytes(),
            b"WAVEfmt ",
            &16u32.to_le_bytes(),
            &[1, 0, 1, 0],
            &8000u32.to_le_bytes(),
            &16000u32.to_le_bytes(),
            &[2, 0, 16, 0],
            b"data",
            &4u32.to_le_bytes(),
            &[1, 0, 0xFE, 0xFF],
        ]
        .concat();
        assert_eq!(f, expected);
    }

    #[test]
    fn round_trips_every_encoding() {
        let samples: Vec<i16> = (-20..20).map(|i| i * 1500).collect();
        for (enc, rate) in [(Encoding::Pcm16, 44100), (Encoding::Ulaw, 8000), (Encoding::Alaw, 8000)] {
            let f = write(enc, rate, &samples).unwrap();
            let w = read(&f).unwrap();
            assert_eq!((w.encoding, w.sample_rate, w.samples.len()), (enc, rate, samples.len()));
            let law = match enc {
                Encoding::Pcm16 | Encoding::Pcm8 => None,
                Encoding::Alaw => Some(crate::g711::Law::Alaw),
                Encoding::Ulaw => Some(crate::g711::Law::Ulaw),
            };
            let expected = law.map_or(samples.clone(), |l| l.decode_slice(&l.encode_slice(&samples)));
            assert_eq!(w.samples, expected);
        }
    }

    #[test]
    fn odd_law_data_is_padded_and_header_sizes() {
        let f = write(Encoding::Ulaw, 8000, &[0, 0, 0]).unwrap();
        assert_eq!(f.len(), 58 + 3 + 1);
        assert_eq!(u32::from_le_bytes(f[4..8].try_into().unwrap()) as usize, f.len() - 8);
        assert_eq!(read(&f).unwrap().samples.len(), 3);
        assert_eq!(header(Encoding::Pcm16, 8000, 0).unwrap().len(), 44);
        assert!(header(Encoding::Pcm16, 0, 0).is_err());
        assert!(header(Encoding::Pcm16, 8000, u32::MAX - 10).is_err());
    }
}
