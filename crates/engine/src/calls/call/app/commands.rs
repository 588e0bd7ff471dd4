//! Commands from the API while a program runs (they arrive in
//! [`AppChannel::wait`], whatever step waits): media commands act on the
//! leg at once; audio the API plays (`play`, `say`, `play_url`) goes over
//! the program's, which waits for it to end (or be stopped); a new
//! program ends the step running and replaces the program.

use serde_json::json;

use super::{AppChannel, Got, LEG_A};
use crate::calls::call::{CallCommand, CommandError, CommandResult, Envelope, ProgramSource};
use crate::media::open_player;
use crate::program::{self, ChannelError};

impl AppChannel<'_> {
    /// Carries out `env`'s command and answers it; a new program is
    /// [`ChannelError::HungUp`] for the step running (the interpreter
    /// stops, and the application runner starts the new program).
    pub(super) async fn command(&mut self, env: Envelope) -> Result<(), ChannelError> {
        if env.leg.is_some() {
            // Another leg than the program's: never acted on in its stead.
            self.call.command(env, self.media, &[LEG_A]).await;
            return Ok(());
        }
        let result = match &env.command {
            CallCommand::Program(source) => match self.replace(source).await {
                Ok(()) => {
                    let _ = env.reply.send(Ok(()));
                    return Err(ChannelError::HungUp);
                }
                Err(e) => Err(e),
            },
            CallCommand::Play { .. } | CallCommand::Say { .. } | CallCommand::PlayUrl { .. } => {
                self.overlay_play(&env.command).await
            }
            CallCommand::StopPlay => match self.overlay {
                Some(_) => self
                    .media
                    .handle
                    .stop_play(LEG_A)
                    .await
                    .map(|_| ())
                    .map_err(|e| CommandError::Media(e.to_string())),
                None => Err(CommandError::Media("nothing the API started is playing".into())),
            },
            CallCommand::Transfer { .. } | CallCommand::Bridge { .. } => Err(CommandError::Unsupported),
            _ => {
                self.call.command(env, self.media, &[LEG_A]).await;
                return Ok(());
            }
        };
        if let Err(e) = &result {
            tracing::debug!(command = env.command.name(), error = %e, "a command to a program's call failed");
        }
        let _ = env.reply.send(result);
        Ok(())
    }

    /// Plays what the API asks over the program's audio.
    async fn overlay_play(&mut self, command: &CallCommand) -> CommandResult {
        let source = match command {
            CallCommand::Play { uri } => {
                open_player(uri).await.map_err(|e| CommandError::Media(e.to_string()))
            }
            _ => self
                .apps
                .live_source(command, self.tts.as_ref(), &self.secret)
                .await
                .unwrap_or(Err(CommandError::Unsupported)),
        }?;
        let id =
            self.media.handle.play(LEG_A, source).await.map_err(|e| CommandError::Media(e.to_string()))?;
        self.overlay = Some(id);
        self.call.publish("call.playback.started", json!({"command": command.name(), "leg": LEG_A.0}));
        Ok(())
    }

    /// Accepts a program in place of the running one (checked first:
    /// an NCCO that does not parse changes nothing).
    async fn replace(&mut self, source: &ProgramSource) -> CommandResult {
        if !self.replaceable {
            return Err(CommandError::Unsupported);
        }
        if let ProgramSource::Ncco(ncco) = source {
            program::ncco::parse_value(ncco).map_err(|e| CommandError::Media(format!("the NCCO: {e}")))?;
        }
        self.replacement = Some(source.clone());
        self.overlay = None;
        let _ = self.media.handle.stop_play(LEG_A).await;
        Ok(())
    }

    /// Waits while the API's audio plays (digits are kept).
    pub(super) async fn overlay_done(&mut self) -> Result<(), ChannelError> {
        while self.overlay.is_some() {
            if let Got::Digit(d) = self.wait(None).await? {
                self.keep(d);
            }
        }
        Ok(())
    }
}
