//! What a connected call does with its media: commands from the mailbox
//! (play, record, mute) carried out on the call's media session, and the
//! session's events (digits, playbacks and recordings ended, strangers)
//! published as call events.

use crate::media::{open_player, DtmfSource, LegId, MediaEvent, RecordMode, RecordSpec};

use super::media::CallMedia;
use super::{Call, CallCommand, CommandError, CommandResult, Envelope};

/// Most channel variables one leg keeps.
pub const MAX_VARIABLES: usize = 64;

impl Call {
    /// Publishes what the media session reports.
    pub(super) fn media_event(&self, e: &MediaEvent) {
        match e {
            MediaEvent::Dtmf { leg, digit, source } => {
                let source = match source {
                    DtmfSource::Rfc4733 => "rfc4733",
                    DtmfSource::InBand => "inband",
                    DtmfSource::SipInfo => "info",
                };
                let data =
                    serde_json::json!({"digit": digit.as_char().to_string(), "source": source, "leg": leg.0});
                self.publish("call.dtmf", data);
            }
            MediaEvent::PlaybackFinished { leg, stopped, .. } => {
                self.publish("call.playback.finished", serde_json::json!({"leg": leg.0, "stopped": stopped}));
            }
            MediaEvent::RecordingFinished { path, duration_ms, error, .. } => {
                let data = serde_json::json!({"path": path.display().to_string(), "durationMs": duration_ms, "error": error});
                self.publish("call.recording.finished", data);
            }
            MediaEvent::DtmfSent { leg } => {
                self.publish("call.dtmf.sent", serde_json::json!({"leg": leg.0}));
            }
            MediaEvent::Voice { leg, speaking } => {
                self.publish("call.voice", serde_json::json!({"leg": leg.0, "speaking": speaking}));
            }
            MediaEvent::Strangers { leg, from, count } => {
                tracing::warn!(leg = leg.0, %from, count, "RTP from a stranger was dropped");
            }
            MediaEvent::Inactive => {}
        }
    }

    /// Carries out a media command on `legs` (the first is the one played
    /// to and muted: the caller, or the callee of an originated call) and
    /// answers it. A command that names a leg this phase does not act on
    /// (one still ringing...) is refused: it is never carried out on
    /// another leg.
    pub(super) async fn command(&mut self, env: Envelope, media: &mut CallMedia, legs: &[LegId]) {
        let result = match &env.leg {
            Some(leg) => {
                tracing::debug!(%leg, command = env.command.name(), "a command for a leg not reachable now");
                Err(CommandError::Unsupported)
            }
            None => self.media_command(&env.command, media, legs).await,
        };
        if let Err(e) = &result {
            tracing::debug!(command = env.command.name(), error = %e, "a call command failed");
        }
        let _ = env.reply.send(result);
    }

    /// Keeps `name=value` on the call's legs (replacing an earlier value),
    /// at most [`MAX_VARIABLES`] of them.
    pub(super) fn set_variable(&self, name: &str, value: &str) {
        self.admission.update_legs(|l| {
            if let Some(v) = l.variables.iter_mut().find(|(k, _)| k == name) {
                v.1 = value.to_owned();
            } else if l.variables.len() < MAX_VARIABLES {
                l.variables.push((name.to_owned(), value.to_owned()));
            }
        });
    }

    async fn media_command(
        &mut self,
        command: &CallCommand,
        media: &mut CallMedia,
        legs: &[LegId],
    ) -> CommandResult {
        let first = *legs.first().ok_or(CommandError::Gone)?;
        let failed = |e: crate::media::MediaError| CommandError::Media(e.to_string());
        match command {
            CallCommand::Play { uri } => {
                let source = open_player(uri).await.map_err(failed)?;
                media.handle.play(first, source).await.map_err(failed)?;
                self.publish("call.playback.started", serde_json::json!({"uri": uri, "leg": first.0}));
                Ok(())
            }
            CallCommand::Record { path } => {
                if let Some(id) = media.recording.take() {
                    let _ = media.handle.stop_record(id).await;
                }
                let spec = RecordSpec { legs: legs.to_vec(), mode: RecordMode::Stereo, path: path.into() };
                media.recording = Some(media.handle.record(spec).await.map_err(failed)?);
                self.publish("call.recording.started", serde_json::json!({"path": path}));
                Ok(())
            }
            CallCommand::StopRecord => match media.recording.take() {
                Some(id) => media.handle.stop_record(id).await.map_err(failed),
                None => Err(CommandError::Media("the call is not being recorded".into())),
            },
            CallCommand::Mute { on } => media.handle.mute(first, *on).await.map_err(failed),
            CallCommand::Deaf { on } => media.handle.deaf(first, *on).await.map_err(failed),
            CallCommand::Set { name, value } => {
                self.set_variable(name, value);
                Ok(())
            }
            CallCommand::DetectDtmf { on } => {
                for leg in legs {
                    media.handle.detect_dtmf(*leg, *on).await.map_err(failed)?;
                }
                Ok(())
            }
            CallCommand::Dtmf { digits } => {
                let keys: Option<Vec<crate::media::Digit>> =
                    digits.chars().map(crate::media::Digit::from_char).collect();
                let keys = keys
                    .filter(|k| !k.is_empty() && k.len() <= 64)
                    .ok_or_else(|| CommandError::Media(format!("`{digits}` is not 1 to 64 DTMF keys")))?;
                media.handle.send_dtmf(first, keys, 100).await.map_err(failed)
            }
            CallCommand::ListenTo { mode, target } => self.listen_to(*mode, target, media, first).await,
            CallCommand::Listened(listen) => self.listened(listen, media, legs).await,
            CallCommand::Intercept { target } => self.pick_up_from(target, media, first).await,
            CallCommand::Say { .. } | CallCommand::PlayUrl { .. } => {
                let apps = self.sw.apps.clone();
                let secret = crate::webhooks::Secret::from_text("");
                let source =
                    apps.live_source(command, None, &secret).await.ok_or(CommandError::Unsupported)??;
                media.handle.play(first, source).await.map_err(failed)?;
                self.publish(
                    "call.playback.started",
                    serde_json::json!({"command": command.name(), "leg": first.0}),
                );
                Ok(())
            }
            CallCommand::StopPlay => match media.handle.stop_play(first).await.map_err(failed)? {
                true => Ok(()),
                false => Err(CommandError::Media("nothing is playing".into())),
            },
            CallCommand::Hangup
            | CallCommand::Transfer { .. }
            | CallCommand::Bridge { .. }
            | CallCommand::Connect { .. }
            | CallCommand::PickUp(_)
            | CallCommand::Program(_) => Err(CommandError::Unsupported),
        }
    }
}
