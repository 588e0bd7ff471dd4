//! Reading the header of a WAV file (RIFF/WAVE): enough to refuse what
//! is not one and to know how long it plays.

/// What a WAV file's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// Channels (1 to 8).
    pub channels: u16,
    /// Samples per second.
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits: u16,
    /// How long it plays, in milliseconds.
    pub duration_ms: i64,
}

/// Encodings a WAV file may use here: PCM, IEEE float, A-law, u-law and
/// the extensible format.
const FORMATS: &[u16] = &[1, 3, 6, 7, 0xFFFE];

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses the header of `bytes`, which must be a whole WAV file.
pub fn parse(bytes: &[u8]) -> Result<WavInfo, String> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err("is not a WAV file (no RIFF/WAVE header)".into());
    }
    let mut at = 12usize;
    let mut fmt: Option<(u16, u16, u32, u32, u16)> = None;
    let mut data_len: Option<u32> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32_at(bytes, at + 4).ok_or("has a truncated chunk header")? as usize;
        let body = at + 8;
        let end = body.checked_add(len).filter(|e| *e <= bytes.len()).ok_or("has a truncated chunk")?;
        match id {
            b"fmt " => {
                if len < 16 {
                    return Err("has a fmt chunk that is too short".into());
                }
                let field = |o| u16_at(bytes, body + o).ok_or("has a truncated fmt chunk");
                let format = field(0)?;
                let channels = field(2)?;
                let rate = u32_at(bytes, body + 4).ok_or("has a truncated fmt chunk")?;
                let byte_rate = u32_at(bytes, body + 8).ok_or("has a truncated fmt chunk")?;
                let bits = field(14)?;
                fmt = Some((format, channels, rate, byte_rate, bits));
            }
            b"data" => data_len = Some(len as u32),
            _ => {}
        }
        at = end + (len & 1);
    }
    let (format, channels, sample_rate, byte_rate, bits) = fmt.ok_or("has no fmt chunk")?;
    let data_len = data_len.ok_or("has no data chunk")?;
    if !FORMATS.contains(&format) {
        return Err(format!("uses an unsupported encoding ({format})"));
    }
    if !(1..=8).contains(&channels) || sample_rate == 0 || byte_rate == 0 || bits == 0 {
        return Err("has an impossible format (channels, rate or sample size)".into());
    }
    let duration_ms = i64::from(data_len) * 1000 / i64::from(byte_rate);
    Ok(WavInfo { channels, sample_rate, bits, duration_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(data: &[u8], format: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(b"RIFF");
        b.extend(((36 + data.len()) as u32).to_le_bytes());
        b.extend(b"WAVEfmt ");
        b.extend(16u32.to_le_bytes());
        b.extend(format.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(8000u32.to_le_bytes());
        b.extend(16000u32.to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(16u16.to_le_bytes());
        b.extend(b"data");
        b.extend((data.len() as u32).to_le_bytes());
        b.extend(data);
        b
    }

    #[test]
    fn reads_pcm_and_its_length() {
        let info = parse(&wav(&[0; 16000], 1)).expect("a WAV file");
        assert_eq!(info, WavInfo { channels: 1, sample_rate: 8000, bits: 16, duration_ms: 1000 });
    }

    #[test]
    fn refuses_what_is_not_wav() {
        assert!(parse(b"ID3\x03 not a wav").is_err());
        assert!(parse(b"RIFF\0\0\0\0AVI LIST").is_err());
        assert!(parse(&wav(&[0; 4], 0x55)).is_err());
        let mut cut = wav(&[0; 100], 1);
        cut.truncate(60);
        assert!(parse(&cut).is_err());
        assert!(parse(&wav(&[0; 4], 1)[..36]).is_err());
    }
}
