//! Audio the API puts into a live call (Vonage `PUT /talk` and
//! `/stream`): text spoken by the TTS engine or audio fetched by URL,
//! played a number of times or until stopped.

use media::frame::Frame;
use media::player::{PcmSource, Source};
use serde_json::Value;

use super::Apps;
use crate::calls::call::{CallCommand, CommandError};
use crate::media::PlayerSource;
use crate::webhooks::Secret;

/// Most times one piece of audio is played when asked to loop forever
/// (about a day of a one-second prompt): the call ends long before.
const FOREVER: u32 = 100_000;

/// A PCM source played `left` more times.
struct Looped {
    source: PcmSource,
    left: u32,
}

impl Source for Looped {
    fn next_frame(&mut self) -> Option<Frame> {
        if self.source.samples().is_empty() {
            return None;
        }
        loop {
            if let Some(f) = self.source.next_frame() {
                return Some(f);
            }
            self.left = self.left.saturating_sub(1);
            if self.left == 0 {
                return None;
            }
            self.source = self.source.rewound();
        }
    }
}

/// `source` played `loops` times (0: until stopped).
fn looped(source: PcmSource, loops: u32) -> PlayerSource {
    let left = if loops == 0 { FOREVER } else { loops };
    Box::new(Looped { source, left })
}

impl Apps {
    /// The player for a [`CallCommand::Say`] or [`CallCommand::PlayUrl`]
    /// (`tts`: the application's text-to-speech settings, when the call
    /// runs one; `secret` signs the audio's request); `None` for any
    /// other command.
    pub(in crate::calls::call) async fn live_source(
        &self,
        command: &CallCommand,
        tts: Option<&Value>,
        secret: &Secret,
    ) -> Option<Result<PlayerSource, CommandError>> {
        let failed = |e: String| CommandError::Media(e);
        Some(match command {
            CallCommand::Say { text, voice, language, loops } => {
                match self.engines.for_say(tts, None, voice.as_deref(), language.as_deref()) {
                    Ok((engine, voice)) => match engine.synthesize(text, voice.as_deref(), 8000).await {
                        Ok(pcm) => {
                            pcm.to_source().map(|s| looped(s, *loops)).map_err(|e| failed(e.to_string()))
                        }
                        Err(e) => Err(failed(e.to_string())),
                    },
                    Err(e) => Err(failed(e.to_string())),
                }
            }
            CallCommand::PlayUrl { url, loops } => match self.audio.as_ref() {
                Some(cache) => cache
                    .source(url, secret)
                    .await
                    .map(|s| looped(s, *loops))
                    .map_err(|e| failed(e.to_string())),
                None => Err(failed("the webhook client did not start".into())),
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looped_source_plays_its_samples_that_many_times() {
        let mut twice = looped(PcmSource::new(vec![7i16; 200]), 2);
        let frames = std::iter::from_fn(|| twice.next_frame()).count();
        assert_eq!(frames, 4, "200 samples are two frames, played twice");
        let mut forever = looped(PcmSource::new(vec![1i16; 160]), 0);
        assert!((0..1000).all(|_| forever.next_frame().is_some()));
        let mut empty = looped(PcmSource::new(Vec::<i16>::new()), 0);
        assert!(empty.next_frame().is_none(), "nothing to play ends at once");
    }
}
