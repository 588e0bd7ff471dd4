//! TTS output kept on disk: one file of raw 16-bit little-endian samples
//! per (engine, voice, rate, text), named by the SHA-256 of those, so a
//! prompt is synthesised once. The directory is kept under a size bound by
//! removing the least recently used files (a hit refreshes a file's
//! modification time).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::tts::{check_request, Pcm, Tts};
use super::SpeechError;

/// A [`Tts`] in front of another, with a disk cache.
#[derive(Debug)]
pub struct CachedTts {
    inner: Arc<dyn Tts>,
    dir: PathBuf,
    max_bytes: u64,
}

fn io(e: std::io::Error) -> SpeechError {
    SpeechError::Io(e.to_string())
}

impl CachedTts {
    /// Caches `inner`'s output in `dir` (made when needed), keeping it
    /// within `max_bytes`.
    pub fn new(inner: Arc<dyn Tts>, dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        CachedTts { inner, dir: dir.into(), max_bytes }
    }

    fn path(&self, text: &str, voice: &str, rate: u32) -> PathBuf {
        let mut h = Sha256::new();
        for part in [self.inner.name(), voice, &rate.to_string(), text] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        self.dir.join(format!("{}.pcm", hex::encode(h.finalize())))
    }

    /// Removes the least recently used files until the directory is within
    /// the bound.
    async fn trim(&self) -> Result<(), SpeechError> {
        let mut files = Vec::new();
        let mut total = 0u64;
        let mut dir = tokio::fs::read_dir(&self.dir).await.map_err(io)?;
        while let Some(entry) = dir.next_entry().await.map_err(io)? {
            let Ok(meta) = entry.metadata().await else { continue };
            if !meta.is_file() || entry.path().extension().is_none_or(|e| e != "pcm") {
                continue;
            }
            total += meta.len();
            files.push((meta.modified().ok(), meta.len(), entry.path()));
        }
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if tokio::fs::remove_file(&path).await.is_ok() {
                total -= len;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Tts for CachedTts {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn default_voice(&self) -> &str {
        self.inner.default_voice()
    }

    async fn synthesize(&self, text: &str, voice: Option<&str>, rate: u32) -> Result<Pcm, SpeechError> {
        check_request(text, rate)?;
        let voice = voice.unwrap_or(self.inner.default_voice()).to_owned();
        let path = self.path(text, &voice, rate);
        if let Ok(bytes) = tokio::fs::read(&path).await {
            let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
            let now = std::time::SystemTime::now();
            if let Ok(f) = std::fs::File::options().write(true).open(&path) {
                let _ = f.set_modified(now);
            }
            return Ok(Pcm { samples: samples.into(), rate });
        }
        let pcm = self.inner.synthesize(text, Some(&voice), rate).await?;
        let bytes: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        if (bytes.len() as u64) <= self.max_bytes {
            tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
            // Written aside and renamed, so a reader never sees half a file.
            let tmp = path.with_extension(format!("tmp{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&tmp, &bytes).await.map_err(io)?;
            tokio::fs::rename(&tmp, &path).await.map_err(io)?;
            self.trim().await?;
        }
        Ok(pcm)
    }
}
