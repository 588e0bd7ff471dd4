//! The [`Channel`] steps of a program-running call over A's leg and media.

use std::time::Duration;

use serde_json::json;
use sip::dialog::Dialog;
use sip::{MediaType, StatusCode};

use super::{millis, AppChannel, Got, LEG_A, RECORDING_CLOSE};
use crate::calls::call::inbound::warning;
use crate::calls::call::{Ending, Signal};
use crate::calls::leg::{Leg, Role};
use crate::media::{Digit, MediaEvent, RecordMode};
use crate::program::{
    self, Audio, BargeIn, Channel, ChannelError, DialResult, Input as Heard, LeftRoom, Listen, Played,
    RecordEnd, RecordSpec, Recording, RejectReason,
};
use crate::webhooks::VonageStatus;

impl Channel for AppChannel<'_> {
    async fn answer(&mut self) -> Result<(), ChannelError> {
        if self.leg.is_some() {
            return Ok(());
        }
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let Some(a) = self.a else {
            return Err(ChannelError::Failed("the call has no leg to answer".into()));
        };
        let dialog = Dialog::from_uas(&a.invite, &a.tag)
            .map_err(|e| ChannelError::Failed(format!("the caller's INVITE makes no dialog: {e}")))?;
        let mut leg = Leg::new(self.p.uuid_a.clone(), Role::Uas, dialog, a.peer);
        let ok = a
            .reply(&self.call.sw, StatusCode::OK)
            .with_body(&MediaType::sdp(), self.sdp_a.to_string().into_bytes());
        leg.dialog.handle_sent_response(&ok);
        self.call.respond(a.id, ok);
        self.leg = Some(leg);
        self.p.answer = Some(self.now());
        let codec = self.p.codec.clone();
        self.call.admission.update_legs(|l| l.codec = codec.clone());
        self.call.signal(Signal::Answered);
        self.call.publish("call.answered", json!({"codec": self.p.codec}));
        self.status_event(VonageStatus::Answered, None);
        Ok(())
    }

    async fn ring(&mut self) -> Result<(), ChannelError> {
        if let Some(a) = self.a.filter(|_| self.leg.is_none() && self.ending.is_none()) {
            let resp = a.reply(&self.call.sw, StatusCode::RINGING);
            self.call.respond(a.id, resp);
        }
        Ok(())
    }

    async fn play(&mut self, audio: &Audio, barge_in: BargeIn) -> Result<Played, ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        if barge_in.dtmf {
            if let Some(d) = self.digits.pop_front() {
                return Ok(Played::Digit(d));
            }
        }
        self.overlay_done().await?;
        let source = self.source(audio).await?;
        let id =
            self.media.handle.play(LEG_A, source).await.map_err(|e| ChannelError::Media(e.to_string()))?;
        // The caller's recent voice, for the speech input after a barge-in.
        let mut ear = None;
        if barge_in.speech {
            let _ = self.media.handle.detect_voice(LEG_A, true).await;
            ear = self.open_ear().await;
        }
        loop {
            let look = ear.as_ref().map(|_| self.now() + super::speech::EAR_LOOK);
            let got = self.wait(look).await?;
            if let Some(e) = ear.as_mut() {
                e.keep_recent();
            }
            match got {
                Got::Digit(d) if barge_in.dtmf => {
                    let _ = self.media.handle.stop_play(LEG_A).await;
                    return Ok(Played::Digit(d));
                }
                Got::Digit(d) => self.keep(d),
                Got::Media(MediaEvent::PlaybackFinished { id: done, .. }) if done == id => {
                    // Cut short by the API's own audio: the program goes
                    // on once that has ended.
                    self.overlay_done().await?;
                    return Ok(Played::Finished);
                }
                Got::Media(MediaEvent::Voice { speaking: true, .. }) if barge_in.speech => {
                    let _ = self.media.handle.stop_play(LEG_A).await;
                    self.ear = ear;
                    return Ok(Played::Speech);
                }
                _ => {}
            }
        }
    }

    async fn play_dtmf(&mut self, digits: &str) -> Result<(), ChannelError> {
        let keys: Vec<Digit> =
            digits.chars().filter(|c| *c != 'w' && *c != 'W').filter_map(Digit::from_char).collect();
        if keys.is_empty() {
            return Ok(());
        }
        self.media
            .handle
            .send_dtmf(LEG_A, keys, 100)
            .await
            .map_err(|e| ChannelError::Media(e.to_string()))?;
        loop {
            match self.wait(None).await? {
                Got::Media(MediaEvent::DtmfSent { .. }) => return Ok(()),
                Got::Digit(d) => self.keep(d),
                _ => {}
            }
        }
    }

    async fn input(&mut self, listen: &Listen) -> Result<Heard, ChannelError> {
        if listen.speech.is_some() {
            return self.listen_speech(listen).await;
        }
        if let Some(d) = self.digits.pop_front() {
            return Ok(Heard::Digit(d));
        }
        let deadline = self.now() + millis(listen.timeout);
        loop {
            match self.wait(Some(deadline)).await? {
                Got::Digit(d) => return Ok(Heard::Digit(d)),
                Got::Timer => return Ok(Heard::Timeout),
                Got::Media(_) => {}
            }
        }
    }

    async fn record(&mut self, spec: &RecordSpec) -> Result<Recording, ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let path = self.recording_path()?;
        let what = crate::media::RecordSpec { legs: vec![LEG_A], mode: RecordMode::Mono, path: path.clone() };
        let id = self.media.handle.record(what).await.map_err(|e| ChannelError::Media(e.to_string()))?;
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let url = crate::calls::cdr::recording_url(&file);
        self.p.recording = Some(file.clone());
        self.call.publish("call.recording.started", json!({"path": path.display().to_string()}));
        if spec.background {
            return Ok(Recording {
                url,
                id: file,
                duration: Duration::ZERO,
                size: 0,
                ended_by: RecordEnd::Background,
            });
        }
        if spec.max_silence.is_some() {
            let _ = self.media.handle.detect_voice(LEG_A, true).await;
        }
        let end_at = self.now() + millis(spec.max_duration);
        let quiet = spec.max_silence.map(millis);
        let mut silence_at = quiet.map(|q| self.now() + q);
        let ended_by = loop {
            let deadline = silence_at.map_or(end_at, |s| s.min(end_at));
            match self.wait(Some(deadline)).await {
                Err(ChannelError::HungUp) => break RecordEnd::HungUp,
                Err(e) => return Err(e),
                Ok(Got::Digit(d)) if spec.finish_on_key.contains(d) => break RecordEnd::Key(d),
                Ok(Got::Digit(_)) => {}
                Ok(Got::Timer) if silence_at.is_some_and(|s| s <= self.now()) && self.now() < end_at => {
                    break RecordEnd::Silence
                }
                Ok(Got::Timer) => break RecordEnd::MaxDuration,
                Ok(Got::Media(MediaEvent::Voice { speaking, .. })) => {
                    silence_at = if speaking { None } else { quiet.map(|q| self.now() + q) };
                }
                Ok(Got::Media(_)) => {}
            }
        };
        let _ = self.media.handle.stop_record(id).await;
        let mut duration = Duration::ZERO;
        let close_by = tokio::time::Instant::now() + RECORDING_CLOSE;
        while let Ok(Some(e)) = tokio::time::timeout_at(close_by, self.media.events.recv()).await {
            if let MediaEvent::RecordingFinished { id: done, duration_ms, .. } = e {
                if done == id {
                    duration = Duration::from_millis(duration_ms);
                    break;
                }
            }
        }
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.call.publish(
            "call.recording.finished",
            json!({"path": path.display().to_string(), "durationMs": duration.as_millis() as u64}),
        );
        Ok(Recording { url, id: file, duration, size, ended_by })
    }

    async fn dial(&mut self, dial: &program::Dial) -> Result<DialResult, ChannelError> {
        self.dial_out(dial).await
    }

    async fn stream(&mut self, stream: &program::Stream) -> Result<(), ChannelError> {
        self.stream_media(stream).await
    }

    async fn mute(&mut self, _direction: program::Direction, on: bool) -> Result<(), ChannelError> {
        self.media.handle.mute(LEG_A, on).await.map_err(|e| ChannelError::Media(e.to_string()))
    }

    async fn conference(&mut self, conversation: &program::Conversation) -> Result<LeftRoom, ChannelError> {
        self.join_room(conversation).await
    }

    async fn reject(&mut self, reason: RejectReason) -> Result<(), ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let Some(a) = self.a.filter(|_| self.leg.is_none()) else {
            return Err(ChannelError::Failed("the call is already answered".into()));
        };
        let (status, cause) = match reason {
            RejectReason::Busy => (StatusCode::BUSY_HERE, "USER_BUSY"),
            RejectReason::Rejected => (StatusCode::DECLINE, "CALL_REJECTED"),
        };
        let resp = a.reply(&self.call.sw, status);
        self.call.respond(a.id, resp);
        self.ending = Some(Ending::new(status.code(), cause));
        Ok(())
    }

    async fn hangup(&mut self) -> Result<(), ChannelError> {
        if self.ending.is_some() {
            return Ok(());
        }
        match self.leg.as_mut() {
            Some(leg) => {
                self.call.bye(leg).await;
                self.ending = Some(Ending::new(200, "NORMAL_CLEARING"));
            }
            None => {
                let Some(a) = self.a else {
                    self.ending = Some(Ending::new(200, "NORMAL_CLEARING"));
                    return Ok(());
                };
                let (status, cause) = match self.cause {
                    Some(cause) => (StatusCode::SERVICE_UNAVAILABLE, cause),
                    None => (StatusCode::TEMPORARILY_UNAVAILABLE, "NO_USER_RESPONSE"),
                };
                let mut resp = a.reply(&self.call.sw, status);
                if let Some(c) = self.cause {
                    let text = format!("the application gave no program ({c})");
                    resp.head.headers.push(sip::HeaderName::Warning, warning(399, &text));
                }
                self.call.respond(a.id, resp);
                self.ending = Some(Ending::new(status.code(), cause));
            }
        }
        Ok(())
    }
}
