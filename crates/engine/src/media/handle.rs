//! The call task's side of a media session: typed async commands, each
//! answered.

use std::sync::Arc;

use media::player::{PcmSource, Silence, Source, ToneSource};
use tokio::sync::{mpsc, oneshot};

use super::session::Command;
use super::{Digit, LegId, LegStats, MediaError, PlaybackId, Ports, RecordSpec, RecordingId, RemoteMedia};

/// A player source the session can own.
pub type PlayerSource = Box<dyn Source + Send>;

/// Commands to one [`super::MediaSession`]; cheap to clone. The session
/// ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct MediaHandle {
    tx: mpsc::Sender<Command>,
}

/// A newly added leg.
#[derive(Debug, Clone)]
pub struct AddedLeg {
    /// Its RTP port (for the SDP).
    pub port: u16,
    /// Its counters.
    pub stats: Arc<LegStats>,
}

impl MediaHandle {
    pub(crate) fn new(tx: mpsc::Sender<Command>) -> Self {
        Self { tx }
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, MediaError>>) -> Command,
    ) -> Result<T, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| MediaError::Closed)?;
        rx.await.map_err(|_| MediaError::Closed)?
    }

    /// Queues a command without waiting for its answer: the session carries
    /// out commands in order, so the next one finds it done; a failure is
    /// only logged (by the session). Saves the caller a wake-up.
    async fn tell<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, MediaError>>) -> Command,
    ) -> Result<(), MediaError> {
        let (reply, _) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| MediaError::Closed)
    }

    /// Sends a command without waiting (for the synchronous bridge wrapper).
    pub(crate) fn try_command(&self, c: Command) -> Result<(), MediaError> {
        self.tx.try_send(c).map_err(|_| MediaError::Closed)
    }

    /// Adds a leg with its ports, before its SDP is known; media from it is
    /// refused until [`MediaHandle::set_remote`].
    pub async fn add_leg(&self, leg: LegId, ports: Ports) -> Result<AddedLeg, MediaError> {
        let port = ports.port();
        let stats = Arc::new(LegStats::default());
        let s = stats.clone();
        self.ask(|reply| Command::AddLeg { leg, ports, stats: s, reply }).await?;
        Ok(AddedLeg { port, stats })
    }

    /// [`MediaHandle::add_leg`] without waiting for the session: for a
    /// leg the session cannot refuse (a new id, with room for it).
    pub async fn add_leg_queued(&self, leg: LegId, ports: Ports) -> Result<AddedLeg, MediaError> {
        let port = ports.port();
        let stats = Arc::new(LegStats::default());
        let s = stats.clone();
        self.tell(|reply| Command::AddLeg { leg, ports, stats: s, reply }).await?;
        Ok(AddedLeg { port, stats })
    }

    /// [`MediaHandle::set_remote`] without waiting for the session (a
    /// refusal is only logged).
    pub async fn set_remote_queued(&self, leg: LegId, remote: RemoteMedia) -> Result<(), MediaError> {
        self.tell(|reply| Command::SetRemote { leg, remote, reply }).await
    }

    /// [`MediaHandle::connect`] without waiting for the session (a refusal
    /// is only logged).
    pub async fn connect_queued(&self, a: LegId, b: LegId) -> Result<(), MediaError> {
        self.tell(|reply| Command::Connect { a, b, reply }).await
    }

    /// Sets or replaces what the leg's SDP says (after an offer/answer or
    /// a re-INVITE); a new address opens a new learning window.
    pub async fn set_remote(&self, leg: LegId, remote: RemoteMedia) -> Result<(), MediaError> {
        self.ask(|reply| Command::SetRemote { leg, remote, reply }).await
    }

    /// Each leg hears the other (relay); earlier connections of either end.
    pub async fn connect(&self, a: LegId, b: LegId) -> Result<(), MediaError> {
        self.ask(|reply| Command::Connect { a, b, reply }).await
    }

    /// Ends the leg's connection, if any: neither side hears the other.
    pub async fn disconnect(&self, leg: LegId) -> Result<(), MediaError> {
        self.ask(|reply| Command::Disconnect { leg, reply }).await
    }

    /// Plays `source` to the leg instead of what it heard, until it ends
    /// ([`super::MediaEvent::PlaybackFinished`]) or is stopped; a
    /// playback already running on the leg is stopped.
    pub async fn play(&self, leg: LegId, source: PlayerSource) -> Result<PlaybackId, MediaError> {
        self.ask(|reply| Command::Play { leg, source, reply }).await
    }

    /// Stops the leg's playback; true if one was running.
    pub async fn stop_play(&self, leg: LegId) -> Result<bool, MediaError> {
        self.ask(|reply| Command::StopPlay { leg, reply }).await
    }

    /// Starts recording to a WAV file (16-bit, 8 kHz), created now.
    pub async fn record(&self, spec: RecordSpec) -> Result<RecordingId, MediaError> {
        let path = spec.path.clone();
        let file = tokio::task::spawn_blocking(move || std::fs::File::create(&path))
            .await
            .map_err(|e| MediaError::Io { path: spec.path.display().to_string(), detail: e.to_string() })?
            .map_err(|e| MediaError::Io { path: spec.path.display().to_string(), detail: e.to_string() })?;
        self.ask(|reply| Command::Record { spec, file, reply }).await
    }

    /// Stops a recording; its file is completed and
    /// [`super::MediaEvent::RecordingFinished`] follows.
    pub async fn stop_record(&self, id: RecordingId) -> Result<(), MediaError> {
        self.ask(|reply| Command::StopRecord { id, reply }).await
    }

    /// Turns in-band DTMF detection on the leg's audio on or off.
    pub async fn detect_dtmf(&self, leg: LegId, on: bool) -> Result<(), MediaError> {
        self.ask(|reply| Command::DetectDtmf { leg, on, reply }).await
    }

    /// Turns voice-activity detection on the leg's audio on or off
    /// ([`super::MediaEvent::Voice`]).
    pub async fn detect_voice(&self, leg: LegId, on: bool) -> Result<(), MediaError> {
        self.ask(|reply| Command::DetectVoice { leg, on, reply }).await
    }

    /// Sends key presses to the leg as RFC 4733 telephone-events (it must
    /// have negotiated one), each lasting `duration_ms` (40..=2000) with
    /// 60 ms between them; what the leg heard pauses meanwhile.
    /// [`super::MediaEvent::DtmfSent`] follows the last. At most 64 wait.
    pub async fn send_dtmf(
        &self,
        leg: LegId,
        digits: Vec<Digit>,
        duration_ms: u32,
    ) -> Result<(), MediaError> {
        self.ask(|reply| Command::SendDtmf { leg, digits, duration_ms, reply }).await
    }

    /// Hands the leg's decoded voice (what it says, silence when muted) to
    /// `tx` every 20 ms, until `tx`'s receiver is dropped; a full channel
    /// loses that frame. Each frame says whether it stands in for missing
    /// audio, for a consumer that runs a detector. At most 4 taps per leg.
    /// To feed a leg from another task, play a [`super::ChannelSource`] to it.
    pub async fn tap(&self, leg: LegId, tx: mpsc::Sender<super::Decoded>) -> Result<(), MediaError> {
        self.ask(|reply| Command::Tap { leg, tx, reply }).await
    }

    /// Mutes the leg (nobody hears it; it still hears).
    pub async fn mute(&self, leg: LegId, on: bool) -> Result<(), MediaError> {
        self.ask(|reply| Command::Mute { leg, on, reply }).await
    }

    /// Makes the leg deaf (it hears silence: neither its peer nor what is
    /// played to it) or lets it hear again.
    pub async fn deaf(&self, leg: LegId, on: bool) -> Result<(), MediaError> {
        self.ask(|reply| Command::Deaf { leg, on, reply }).await
    }

    /// Removes the leg; its ports go back to the pool.
    pub async fn remove_leg(&self, leg: LegId) -> Result<(), MediaError> {
        self.ask(|reply| Command::RemoveLeg { leg, reply }).await
    }
}

/// Makes a player from what an application names: `tone_stream://...`,
/// `silence_stream://<ms>`, or the path of a WAV file (any PCM rate, 8 or
/// 16 bit, mono or stereo, or G.711). The file is read here, in the
/// caller's task; a file that is not a supported WAV is a
/// [`MediaError::BadSource`].
pub async fn open_player(what: &str) -> Result<PlayerSource, MediaError> {
    let bad = |detail: String| MediaError::BadSource { what: what.to_string(), detail };
    if what.starts_with("tone_stream://") {
        return Ok(Box::new(ToneSource::parse(what).map_err(|e| bad(e.to_string()))?));
    }
    if let Some(ms) = what.strip_prefix("silence_stream://") {
        let ms: u64 = ms.trim().parse().map_err(|_| bad("not a number of milliseconds".into()))?;
        return Ok(Box::new(Silence::new(ms)));
    }
    let path = what.strip_prefix("file://").unwrap_or(what);
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| MediaError::Io { path: path.to_string(), detail: e.to_string() })?;
    let source = tokio::task::spawn_blocking(move || PcmSource::from_wav(&bytes))
        .await
        .map_err(|e| bad(e.to_string()))?
        .map_err(|e| bad(e.to_string()))?;
    Ok(Box::new(source))
}
