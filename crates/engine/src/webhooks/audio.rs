//! Audio by URL: a WAV fetched through the [`Client`] (signed, with its
//! timeout and redirect cap, and a size cap of its own), checked, decoded
//! into a [`PcmSource`] at 8 kHz, and kept in a bounded cache by URL so
//! that a prompt played by many calls is fetched once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::player::PcmSource;
use tokio::time::Instant;

use super::secret::Secret;
use super::shapes::Outgoing;
use super::{Client, WebhookError};

/// Content-Types a WAV may come with; none at all is accepted too.
const WAV_TYPES: &[&str] = &[
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/vnd.wave",
    "audio/x-pn-wav",
    "application/octet-stream",
];

/// The cache's limits.
#[derive(Debug, Clone)]
pub struct AudioLimits {
    /// Largest file fetched, in bytes.
    pub max_file: usize,
    /// Decoded samples kept at most, all entries together.
    pub max_samples: usize,
    /// How long an entry is used before it is fetched again.
    pub ttl: Duration,
}

impl Default for AudioLimits {
    fn default() -> Self {
        // 16 MB of WAV; 64 Mi samples at 8 kHz are 128 MB, about 2 h 20 min.
        AudioLimits {
            max_file: 16 * 1024 * 1024,
            max_samples: 64 * 1024 * 1024,
            ttl: Duration::from_secs(300),
        }
    }
}

struct Entry {
    source: PcmSource,
    fetched: Instant,
    used: u64,
}

/// Fetches WAVs by URL and keeps the decoded audio, least recently used
/// out first.
pub struct AudioCache {
    client: Arc<Client>,
    limits: AudioLimits,
    entries: Mutex<(HashMap<String, Entry>, u64)>,
}

impl std::fmt::Debug for AudioCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioCache").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl AudioCache {
    /// A cache fetching through `client`.
    pub fn new(client: Arc<Client>, limits: AudioLimits) -> Self {
        AudioCache { client, limits, entries: Mutex::new((HashMap::new(), 0)) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, Entry>, u64)> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `url` is cached and fresh.
    pub fn contains(&self, url: &str) -> bool {
        self.lock().0.get(url).is_some_and(|e| e.fetched.elapsed() < self.limits.ttl)
    }

    /// The audio at `url`, from the cache or fetched (the request signed
    /// with `secret`), ready to play from its start.
    pub async fn source(&self, url: &str, secret: &Secret) -> Result<PcmSource, WebhookError> {
        {
            let mut guard = self.lock();
            let (entries, clock) = &mut *guard;
            *clock += 1;
            if let Some(e) = entries.get_mut(url).filter(|e| e.fetched.elapsed() < self.limits.ttl) {
                e.used = *clock;
                return Ok(e.source.rewound());
            }
        }
        let source = self.fetch(url, secret).await?;
        let mut guard = self.lock();
        let (entries, clock) = &mut *guard;
        entries.insert(
            url.to_owned(),
            Entry { source: source.rewound(), fetched: Instant::now(), used: *clock },
        );
        let mut total: usize = entries.values().map(|e| e.source.samples().len()).sum();
        while total > self.limits.max_samples {
            let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(e) = entries.remove(&oldest) {
                total -= e.source.samples().len();
            }
        }
        Ok(source)
    }

    /// Fetches and decodes `url` without the cache.
    pub async fn fetch(&self, url: &str, secret: &Secret) -> Result<PcmSource, WebhookError> {
        let req = Outgoing::get(url)?;
        let reply = self.client.send_capped(&req, secret, self.limits.max_file).await?;
        let not_wav = |detail: String| WebhookError::NotWav { url: url.to_owned(), detail };
        let mime = reply.content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !mime.is_empty() && !WAV_TYPES.contains(&mime.as_str()) {
            return Err(not_wav(format!("content type {:?}", reply.content_type)));
        }
        PcmSource::from_wav(&reply.body).map_err(|e| not_wav(e.to_string()))
    }
}
