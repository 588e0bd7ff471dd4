//! Media streams from a program: the call's audio both ways over a WebSocket.
//!
//! The stream runs as a task of its own ([`crate::streams::worker`]); the
//! call keeps serving its signalling meanwhile and hands the task the
//! caller's keys and speech starts (for DTMF events and barge-in). A
//! stream in the foreground (NCCO `connect`, TwiML `<Connect>`) holds the
//! program until the socket closes; one in the background (Fonoster
//! `stream`, TwiML `<Start>`) only listens, and ends with the call. A
//! socket that cannot be reached or fails is a `call.stream.failed` or
//! `call.stream.ended` event with its cause, and the program goes on.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use store::Millis;
use tokio::sync::mpsc;

use super::{AppChannel, Got, LEG_A};
use crate::events::Event;
use crate::media::MediaEvent;
use crate::program::{self, ChannelError};
use crate::streams::{worker, Control, Limits, Plan, Publish, Rate};

/// How often the call looks whether its stream has ended, in ms.
const POLL: Millis = 50;
/// Keys and speech starts waiting for the stream at most.
const CONTROL_QUEUE: usize = 32;

impl AppChannel<'_> {
    /// Media streams from a program: the call's audio both ways over a WebSocket.
    pub(super) async fn stream_media(&mut self, stream: &program::Stream) -> Result<(), ChannelError> {
        if self.ending.is_some() {
            return Err(ChannelError::HungUp);
        }
        let rate = Rate::from_hz(stream.sample_rate).ok_or_else(|| {
            ChannelError::Failed(format!("a stream's rate must be 8000 or 16000, not {}", stream.sample_rate))
        })?;
        let plan = Plan {
            url: stream.url.clone(),
            rate,
            facts: self.stream_facts(),
            metadata: stream.metadata.clone(),
            plays: !stream.background,
            limits: Limits::default(),
        };
        let media = self.media.handle.clone();
        let publish = self.stream_events();
        if stream.background {
            tokio::spawn(worker::run(plan, media, LEG_A, None, publish));
            return Ok(());
        }
        let (control, rx) = mpsc::channel(CONTROL_QUEUE);
        let mut task = tokio::spawn(worker::run(plan, media, LEG_A, Some(rx), publish));
        let _ = self.media.handle.detect_voice(LEG_A, true).await;
        // The call's input is read here, never raced against the task
        // (a step cut short could lose a SIP exchange): the task's end is
        // looked at between short waits.
        let result = loop {
            if task.is_finished() {
                break match (&mut task).await {
                    Ok(report) => {
                        tracing::info!(call = %self.p.uuid_a, cause = report.cause, detail = ?report.detail, "the media stream ended");
                        Ok(())
                    }
                    Err(e) => Err(ChannelError::Failed(format!("the media stream stopped: {e}"))),
                };
            }
            match self.wait(Some(self.now() + POLL)).await {
                Ok(Got::Digit(d)) => {
                    let _ = control.try_send(Control::Digit(d));
                }
                Ok(Got::Media(MediaEvent::Voice { speaking: true, .. })) => {
                    let _ = control.try_send(Control::Speech);
                }
                Ok(_) => {}
                // The task sees the control channel close and ends itself.
                Err(e) => return Err(e),
            }
        };
        let _ = self.media.handle.detect_voice(LEG_A, false).await;
        result
    }

    /// The call's facts for a stream's first frame.
    fn stream_facts(&self) -> Map<String, Value> {
        let mut facts = Map::new();
        facts.insert("uuid".into(), json!(self.p.uuid_a));
        let conversation = crate::webhooks::shapes::conversation_uuid(&self.p.uuid_a);
        facts.insert("conversation_uuid".into(), json!(conversation));
        facts.insert("from".into(), json!(self.p.caller));
        facts.insert("to".into(), json!(self.p.callee));
        facts
    }

    /// Publishes a stream's events as the call's.
    fn stream_events(&self) -> Publish {
        let sw = self.call.sw.clone();
        let workspace_id = self.call.workspace_id;
        let call_ref = self.call.uuid();
        Arc::new(move |name, mut data| {
            data["ref"] = json!(call_ref);
            sw.publish(Event { name, workspace_id, at: sw.clock.now(), data });
        })
    }
}
