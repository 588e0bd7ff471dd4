//! Feature codes keyed during a talking call (RFC 4733 or in-band DTMF):
//! the workspace's record code (`*1` by default,
//! `FS_DEST_FUNC_CALL_RECORD`) starts recording the call, or stops it
//! when it is being recorded. The keys still reach the other side.

use store::Millis;

use super::talk::Bridged;
use super::Call;
use crate::media::{RecordMode, RecordSpec};
use crate::router::features::RECORD;

/// Keys further apart than this start a new code.
const KEY_GAP: Millis = 3_000;
/// The most keys kept.
const MAX_KEYS: usize = 16;

/// The keys pressed lately in a call.
#[derive(Debug, Default)]
pub(super) struct Keys {
    typed: String,
    last: Millis,
}

impl Keys {
    /// Adds `key`, pressed at `now`; what was typed since the last pause.
    pub fn push(&mut self, key: char, now: Millis) -> &str {
        if now.saturating_sub(self.last) > KEY_GAP || self.typed.len() >= MAX_KEYS {
            self.typed.clear();
        }
        self.last = now;
        self.typed.push(key);
        &self.typed
    }

    /// Forgets what was typed (after a code was carried out).
    pub fn clear(&mut self) {
        self.typed.clear();
    }
}

/// The feature type the end of `typed` invokes without an argument,
/// looked up by `feature`.
fn code_at_end(typed: &str, feature: impl Fn(&str) -> Option<crate::router::Feature>) -> Option<String> {
    (0..typed.len())
        .filter(|i| typed.is_char_boundary(*i))
        .filter_map(|i| feature(&typed[i..]))
        .find(|f| f.arg.is_empty())
        .map(|f| f.func_type)
}

impl Call {
    /// A key pressed in the talking call `s`: carries out the record code
    /// when the keys typed end with it.
    pub(super) async fn in_call_key(&mut self, s: &mut Bridged, keys: &mut Keys, key: char) {
        let typed = keys.push(key, self.now()).to_owned();
        if !typed.contains('*') && !typed.contains('#') {
            return;
        }
        let Ok(snapshot) = self.sw.routing.get(&self.sw.db, self.workspace_id).await else { return };
        if code_at_end(&typed, |t| snapshot.features.feature(t)).as_deref() != Some(RECORD) {
            return;
        }
        keys.clear();
        if let Some(id) = s.media.recording.take() {
            if let Err(e) = s.media.handle.stop_record(id).await {
                tracing::warn!(error = %e, "the recording could not be stopped");
            }
            tracing::info!(call = %self.uuid(), "recording stopped by an in-call code");
            return;
        }
        let Some(dir) = self.sw.config.recordings.as_ref().map(|d| d.join(self.workspace_id.to_string()))
        else {
            tracing::info!("an in-call record code, but no recordings folder is configured");
            return;
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(error = %e, "cannot make the recordings folder");
            return;
        }
        let path = dir.join(format!("{}-{}.wav", self.uuid(), self.now()));
        let spec = RecordSpec { legs: s.ids.to_vec(), mode: RecordMode::Stereo, path: path.clone() };
        match s.media.handle.record(spec).await {
            Ok(id) => {
                s.media.recording = Some(id);
                self.publish(
                    "call.recording.started",
                    serde_json::json!({"path": path.display().to_string()}),
                );
            }
            Err(e) => tracing::warn!(error = %e, "the in-call recording could not start"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Feature;

    #[test]
    fn keys_pause_and_codes_at_the_end() {
        let mut k = Keys::default();
        assert_eq!(k.push('5', 1_000), "5");
        assert_eq!(k.push('*', 1_500), "5*");
        assert_eq!(k.push('1', 2_000), "5*1");
        assert_eq!(k.push('*', 9_000), "*", "a pause starts again");
        let lookup = |t: &str| (t == "*1").then(|| Feature { func_type: RECORD.into(), arg: String::new() });
        assert_eq!(code_at_end("5*1", lookup).as_deref(), Some(RECORD));
        assert_eq!(code_at_end("*15", lookup), None);
        assert_eq!(code_at_end("", lookup), None);
    }
}
