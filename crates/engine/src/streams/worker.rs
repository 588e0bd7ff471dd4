//! One media stream as a task of its own: it opens the socket, taps the
//! caller's leg and sends what the caller says, plays what the socket
//! sends through a bounded queue, forwards the keys and speech starts the
//! call hands it (stopping queued audio: barge-in), and reports how it
//! ended. Writes go through a small queue to a writer task, so a slow
//! socket loses caller frames (counted) and never stalls the call.

use std::sync::Arc;
use std::time::Duration;

use ::media::frame::Frame;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::connect::{self, Limits, Socket};
use super::protocol::{BargeIn, Inbound, Protocol, Rate, Stats};
use crate::media::{ChannelSource, Decoded, LegId, MediaHandle};

/// Frames of the socket's audio queued for the caller at most (30 s);
/// more are dropped and counted.
pub const PLAYOUT_FRAMES: usize = 1500;
/// Messages waiting for the socket at most (about 1 s of audio).
const OUT_QUEUE: usize = 50;
/// Caller frames waiting to be encoded at most.
const TAP_QUEUE: usize = 16;
/// How long the closing handshake may take.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Something the call hands a running stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The caller pressed a key.
    Digit(char),
    /// The caller started speaking.
    Speech,
}

/// Publishes a call event (`call.stream.*`) with its details.
pub type Publish = Arc<dyn Fn(&'static str, Value) + Send + Sync>;

/// What to stream.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `ws://` or `wss://`.
    pub url: String,
    /// The audio rate both ways.
    pub rate: Rate,
    /// The call's facts for the first frame.
    pub facts: Map<String, Value>,
    /// The application's headers or parameters for the first frame.
    pub metadata: Value,
    /// Whether audio from the socket is played to the caller (a stream in
    /// the background only listens).
    pub plays: bool,
    /// Where and how it may connect.
    pub limits: Limits,
}

/// How a stream ended.
#[derive(Debug, Clone)]
pub struct Report {
    /// `STREAM_CLOSED` (the socket closed), `CALL_ENDED`, or the cause of
    /// a failure ([`super::StreamError::cause`]).
    pub cause: &'static str,
    /// What went wrong, if anything did.
    pub detail: Option<String>,
    /// Whether the socket was ever open.
    pub connected: bool,
    /// Its counters.
    pub stats: Stats,
}

/// Runs the stream `plan` on `leg` until the socket closes, the call's
/// media ends or `control`'s sender is dropped (`None`: nothing controls
/// it, as for a stream in the background).
pub async fn run(
    plan: Plan,
    media: MediaHandle,
    leg: LegId,
    mut control: Option<mpsc::Receiver<Control>>,
    publish: Publish,
) -> Report {
    let url = plan.url.clone();
    publish(
        "call.stream.started",
        json!({"url": url, "sampleRate": plan.rate.hz(), "background": !plan.plays}),
    );
    let opening = connect::open(&plan.url, &plan.limits);
    let opened = tokio::select! {
        r = opening => Some(r),
        () = closed(&mut control) => None,
    };
    let socket = match opened {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            publish("call.stream.failed", json!({"url": url, "cause": e.cause(), "detail": e.to_string()}));
            return Report {
                cause: e.cause(),
                detail: Some(e.to_string()),
                connected: false,
                stats: Stats::default(),
            };
        }
        None => {
            let stats = Stats::default();
            publish(
                "call.stream.ended",
                json!({"url": url, "cause": "CALL_ENDED", "stats": stats.to_json()}),
            );
            return Report { cause: "CALL_ENDED", detail: None, connected: false, stats };
        }
    };
    publish("call.stream.connected", json!({"url": url}));
    let mut protocol = Protocol::new(plan.rate);
    let first = protocol.connected(&plan.facts, &plan.metadata);
    let (cause, detail) =
        Stream::new(&media, leg, plan.plays).run(socket, &mut protocol, first, control).await;
    let stats = protocol.stats;
    let mut data = json!({"url": url, "cause": cause, "stats": stats.to_json()});
    if let Some(d) = &detail {
        data["detail"] = json!(d);
    }
    publish("call.stream.ended", data);
    Report { cause, detail, connected: true, stats }
}

/// Resolves once `control`'s sender is gone (never when there is none).
async fn closed(control: &mut Option<mpsc::Receiver<Control>>) {
    match control {
        Some(rx) => while rx.recv().await.is_some() {},
        None => std::future::pending().await,
    }
}

/// Audio from the socket on its way to the caller: a [`ChannelSource`]
/// played on the leg, replaced by a fresh one to drop what is queued.
struct Playout {
    tx: mpsc::Sender<Frame>,
    /// When what was queued will have been heard.
    busy_until: Instant,
}

impl Playout {
    async fn start(media: &MediaHandle, leg: LegId) -> Option<Playout> {
        let (tx, source) = ChannelSource::new(PLAYOUT_FRAMES);
        match media.play(leg, Box::new(source)).await {
            Ok(_) => Some(Playout { tx, busy_until: Instant::now() }),
            Err(e) => {
                tracing::info!(error = %e, "a stream's audio cannot be played");
                None
            }
        }
    }

    /// Queues a frame; `false` when the queue is full.
    fn push(&mut self, frame: Frame) -> bool {
        if self.tx.try_send(frame).is_err() {
            return false;
        }
        self.busy_until = self.busy_until.max(Instant::now()) + Duration::from_millis(20);
        true
    }

    /// Whether audio is still queued or playing.
    fn busy(&self) -> bool {
        Instant::now() < self.busy_until
    }
}

/// An open stream's moving parts.
struct Stream<'m> {
    media: &'m MediaHandle,
    leg: LegId,
    plays: bool,
    playout: Option<Playout>,
}

impl<'m> Stream<'m> {
    fn new(media: &'m MediaHandle, leg: LegId, plays: bool) -> Stream<'m> {
        Stream { media, leg, plays, playout: None }
    }

    /// Moves audio and events until the stream ends; its cause and detail.
    async fn run(
        mut self,
        socket: Socket,
        protocol: &mut Protocol,
        first: String,
        mut control: Option<mpsc::Receiver<Control>>,
    ) -> (&'static str, Option<String>) {
        let (sink, mut incoming) = socket.split();
        let (out, out_rx) = mpsc::channel::<Message>(OUT_QUEUE);
        let mut writer = tokio::spawn(write_all(sink, out_rx));
        let _ = out.try_send(Message::text(first));
        let (tap_tx, mut tap) = mpsc::channel::<Decoded>(TAP_QUEUE);
        if let Err(e) = self.media.tap(self.leg, tap_tx).await {
            return self.finish(out, writer, "CALL_ENDED", Some(e.to_string())).await;
        }
        if self.plays {
            self.playout = Playout::start(self.media, self.leg).await;
        }
        let ended = loop {
            tokio::select! {
                heard = tap.recv() => match heard {
                    // The socket gets the audio as played, concealment too.
                    Some(heard) => {
                        let bytes = protocol.caller_audio(&heard.frame);
                        if out.try_send(Message::binary(bytes)).is_ok() {
                            protocol.stats.frames_sent += 1;
                        } else {
                            protocol.stats.frames_lost += 1;
                        }
                    }
                    None => break ("CALL_ENDED", None),
                },
                msg = incoming.next() => match msg {
                    Some(Ok(Message::Binary(bytes))) => {
                        for frame in protocol.audio(&bytes) {
                            let queued = self.playout.as_mut().is_some_and(|p| p.push(frame));
                            if !queued {
                                protocol.stats.frames_dropped += 1;
                            }
                        }
                    }
                    Some(Ok(Message::Text(text))) => match protocol.text(&text) {
                        Inbound::Clear => self.clear(protocol).await,
                        Inbound::Unknown(name) => {
                            tracing::debug!(?name, "a stream's text message was not understood");
                        }
                        Inbound::Garbage => tracing::debug!("a stream sent a text message that is not JSON"),
                    },
                    Some(Ok(Message::Close(_))) | None => break ("STREAM_CLOSED", None),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break ("STREAM_PROTOCOL_ERROR", Some(e.to_string())),
                },
                c = next_control(&mut control) => match c {
                    Some(Control::Digit(d)) => {
                        let _ = out.try_send(Message::text(Protocol::dtmf(d)));
                        self.barge_in(protocol, &out, BargeIn::Dtmf).await;
                    }
                    Some(Control::Speech) => self.barge_in(protocol, &out, BargeIn::Speech).await,
                    None => break ("CALL_ENDED", None),
                },
                w = &mut writer => {
                    let detail = match w {
                        Ok(Err(e)) => e,
                        Ok(Ok(())) => "the socket stopped taking messages".into(),
                        Err(e) => e.to_string(),
                    };
                    return self.stop_playing(("STREAM_PROTOCOL_ERROR", Some(detail))).await;
                }
            }
        };
        self.finish(out, writer, ended.0, ended.1).await
    }

    /// Drops the audio queued for the caller.
    async fn clear(&mut self, protocol: &mut Protocol) {
        if self.playout.is_some() {
            protocol.stats.clears += 1;
            self.playout = Playout::start(self.media, self.leg).await;
        }
    }

    /// The caller interrupted: what is playing stops, and the socket hears why.
    async fn barge_in(&mut self, protocol: &mut Protocol, out: &mpsc::Sender<Message>, by: BargeIn) {
        if self.playout.as_ref().is_some_and(Playout::busy) {
            self.clear(protocol).await;
            let _ = out.try_send(Message::text(Protocol::barged_in(by)));
        }
    }

    async fn stop_playing(&mut self, end: (&'static str, Option<String>)) -> (&'static str, Option<String>) {
        if self.playout.take().is_some() {
            let _ = self.media.stop_play(self.leg).await;
        }
        end
    }

    /// Stops playing, closes the socket (briefly waiting for the writer).
    async fn finish(
        mut self,
        out: mpsc::Sender<Message>,
        mut writer: tokio::task::JoinHandle<Result<(), String>>,
        cause: &'static str,
        detail: Option<String>,
    ) -> (&'static str, Option<String>) {
        let end = self.stop_playing((cause, detail)).await;
        if end.0 != "STREAM_CLOSED" {
            let _ = out.try_send(Message::Close(None));
        }
        drop(out);
        if tokio::time::timeout(CLOSE_WAIT, &mut writer).await.is_err() {
            writer.abort();
        }
        end
    }
}

async fn next_control(control: &mut Option<mpsc::Receiver<Control>>) -> Option<Control> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Sends the queued messages until the queue closes or the socket fails.
async fn write_all<S>(mut sink: S, mut rx: mpsc::Receiver<Message>) -> Result<(), String>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    while let Some(msg) = rx.recv().await {
        let closing = matches!(msg, Message::Close(_));
        sink.send(msg).await.map_err(|e| e.to_string())?;
        if closing {
            break;
        }
    }
    let _ = sink.close().await;
    Ok(())
}
