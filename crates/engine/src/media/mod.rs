//! Media anchored through Calliope: one RTP/RTCP endpoint per leg and one
//! media session per call.
//!
//! # The pieces
//!
//! - [`PortPool`] / [`Ports`]: the RTP port range; a leg's even/odd socket
//!   pair, given back when dropped and kept bound a while for reuse
//!   (emptied of queued datagrams before it is handed out again).
//! - An *endpoint* is one leg's ports, its negotiated codec (0 PCMU,
//!   8 PCMA) and telephone-event type, and where its peer is. The peer is
//!   learnt without being hijackable ([`latch`]): the SDP address until
//!   packets arrive; during a learning window after each SDP (2 s by
//!   default) a source is accepted only if it is the SDP address or shares
//!   the IP of the leg's SIP signalling peer (NAT), and then it is locked.
//!   RTP or RTCP from anyone else is dropped and counted
//!   ([`LegStats::strangers`], [`MediaEvent::Strangers`]), never followed.
//!   Each leg hears one steady stream (one SSRC, continuous sequence
//!   numbers and timestamps) whatever feeds it ([`stream`]).
//! - A [`MediaSession`] is one task per call owning the endpoints of the
//!   call's legs, driven through a [`MediaHandle`] (bounded command queue,
//!   each command answered) and reporting [`MediaEvent`]s on a bounded
//!   channel.
//!
//! # Relay and processing
//!
//! What a leg *hears* is either relayed packets from the leg it is
//! connected to ([`MediaHandle::connect`]: bytes forwarded, PCMU<->PCMA
//! transcoded, RFC 4733 events renumbered to its telephone-event type) or,
//! while a player is attached ([`MediaHandle::play`]), frames the session
//! makes on a 20 ms tick and encodes in the leg's codec, or, while key
//! presses are queued ([`MediaHandle::send_dtmf`]), RFC 4733 events. What a leg *says*
//! is decoded into linear PCM through a small jitter buffer whenever
//! something listens to it (a recording, in-band DTMF or voice detection), while it
//! keeps being relayed. Where its audio did not arrive in time (a lost
//! packet, a stream running late), recordings and taps get silence while
//! the detectors hold their state (`listen`). [`MediaHandle::tap`] hands
//! that voice to another task every tick, and a [`ChannelSource`] plays frames another task
//! sends (the pieces a conference room, speech recognition or a media
//! stream are built from). So the session switches between relay and
//! processing per leg and mid-call without a gap: relay is the fast path
//! (no tick, no decoding) and the tick runs only while something needs it.
//!
//! # Using it from a call
//!
//! ```text
//! let (media, mut events) = MediaSession::start(SessionConfig::default());
//! let a_port = media.add_leg(LegId(1), ports_a).await?.port;   // before the SDP
//! media.set_remote(LegId(1), RemoteMedia { .. }).await?;        // offer/answer done
//! media.add_leg(LegId(2), ports_b).await?; media.set_remote(LegId(2), ..).await?;
//! media.connect(LegId(1), LegId(2)).await?;                     // relay
//! let id = media.play(LegId(1), Box::new(PcmSource::from_wav(&bytes)?)).await?;
//! media.record(RecordSpec { legs: vec![LegId(1), LegId(2)], mode: RecordMode::Stereo, path }).await?;
//! media.detect_dtmf(LegId(2), true).await?;
//! while let Some(ev) = events.recv().await { /* Dtmf, PlaybackFinished, Inactive, ... */ }
//! ```
//!
//! Files are opened by the caller's task ([`open_player`] reads and
//! decodes a WAV or parses a `tone_stream://` spec), so the media task
//! never waits on a disk read; recordings are written by a small writer
//! task fed over a bounded queue.

mod free_ports;
pub mod latch;
mod ports;
pub mod stream;

mod decode;
mod dtmf_out;
mod handle;
mod listen;
pub(crate) mod recording;
pub(crate) mod session;
mod tap;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use decode::Decoded;
pub use handle::{open_player, AddedLeg, MediaHandle, PlayerSource};
pub use ports::{Keep, PortPool, Ports};
pub use session::MediaSession;
pub use tap::ChannelSource;

pub use media::dtmf::Digit;
pub use media::player::{PcmSource, Silence, Source, ToneSource};

/// Names a leg within its call's media session (the call task picks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// Names one playback within a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaybackId(pub u64);

/// Names one recording within a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordingId(pub u64);

/// The direction attribute of the peer's SDP, from the peer's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// It sends and receives.
    #[default]
    SendRecv,
    /// It only sends (it holds us): we send nothing to it.
    SendOnly,
    /// It only receives (we hold it): it sends nothing.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// Whether we may send to a peer with this direction.
    pub fn we_send(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// Whether the peer is expected to send.
    pub fn peer_sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }
}

/// What a leg's SDP says about its media, and who its SIP peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteMedia {
    /// Where its SDP says to send RTP (`None`: not known, or `c=0.0.0.0`).
    pub rtp: Option<SocketAddr>,
    /// Where to send RTCP, if its SDP says (`a=rtcp`); else the RTP port + 1.
    pub rtcp: Option<SocketAddr>,
    /// Its audio payload type: 0 PCMU or 8 PCMA.
    pub codec: u8,
    /// Its telephone-event payload type, if negotiated.
    pub dtmf: Option<u8>,
    /// The IP its SIP messages come from: a media source on this IP is
    /// accepted during the learning window (a phone behind NAT).
    pub signalling_ip: Option<IpAddr>,
    /// Its direction attribute.
    pub direction: Direction,
}

impl RemoteMedia {
    /// SendRecv media to `rtp` with `codec`, no DTMF type, no signalling IP.
    pub fn new(rtp: Option<SocketAddr>, codec: u8) -> Self {
        Self { rtp, rtcp: None, codec, dtmf: None, signalling_ip: None, direction: Direction::SendRecv }
    }

    fn rtcp_addr(&self) -> Option<SocketAddr> {
        self.rtcp.or_else(|| self.rtp.map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1))))
    }
}

/// Tunables of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// No RTP from any leg for this long ends the call
    /// ([`MediaEvent::Inactive`]); `None` never.
    pub inactivity: Option<Duration>,
    /// How long after an SDP a NAT source may still be learnt.
    pub learning_window: Duration,
    /// The playout delay of the jitter buffer of decoded legs.
    pub jitter_delay: Duration,
    /// Capacity of the command queue.
    pub commands: usize,
    /// Capacity of the event channel.
    pub events: usize,
    /// The most legs a session holds.
    pub max_legs: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            inactivity: Some(Duration::from_secs(60)),
            learning_window: Duration::from_secs(2),
            jitter_delay: Duration::from_millis(40),
            commands: 16,
            events: 32,
            max_legs: 8,
        }
    }
}

/// Where a DTMF digit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfSource {
    /// An RFC 4733 telephone-event.
    Rfc4733,
    /// Tones in the audio.
    InBand,
    /// A SIP INFO (`application/dtmf-relay`); reported by the call task.
    SipInfo,
}

/// How a recording lays out its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordMode {
    /// One channel: everything mixed.
    #[default]
    Mono,
    /// Two channels. With one leg: left what it says, right what it
    /// hears. With several: left what the first leg says, right what the
    /// others say.
    Stereo,
}

/// What to record, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    /// The legs, at least one.
    pub legs: Vec<LegId>,
    /// Mono mix or one channel per side.
    pub mode: RecordMode,
    /// The WAV file to write (created or truncated).
    pub path: std::path::PathBuf,
}

/// What a session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A key press, once per press.
    Dtmf {
        /// The leg that pressed it.
        leg: LegId,
        /// The key.
        digit: Digit,
        /// How it came.
        source: DtmfSource,
    },
    /// A playback ended.
    PlaybackFinished {
        /// The leg it played to.
        leg: LegId,
        /// Which playback.
        id: PlaybackId,
        /// True when stopped (or replaced, or its leg removed) before its end.
        stopped: bool,
    },
    /// A recording's file is complete (or failed).
    RecordingFinished {
        /// Which recording.
        id: RecordingId,
        /// Its file.
        path: std::path::PathBuf,
        /// Milliseconds of audio written.
        duration_ms: u64,
        /// Why it failed, if it did.
        error: Option<String>,
    },
    /// No RTP from any leg for the configured time: end the call.
    Inactive,
    /// The key presses queued with [`MediaHandle::send_dtmf`] have all
    /// been sent to the leg.
    DtmfSent {
        /// The leg.
        leg: LegId,
    },
    /// A leg with voice detection on started (`true`) or stopped speaking
    /// (after 500 ms of quiet).
    Voice {
        /// The leg.
        leg: LegId,
        /// Whether it speaks now.
        speaking: bool,
    },
    /// Packets from a source that is not the leg's peer were dropped
    /// (reported at the first and then every 256th).
    Strangers {
        /// The leg whose port they reached.
        leg: LegId,
        /// The latest such source.
        from: SocketAddr,
        /// How many so far on this leg.
        count: u64,
    },
}

/// Counters of one leg, readable while the call runs.
#[derive(Debug, Default)]
pub struct LegStats {
    /// RTP packets accepted from the leg's peer.
    pub rtp_in: AtomicU64,
    /// RTP packets sent to it.
    pub rtp_out: AtomicU64,
    /// RTCP packets accepted from it.
    pub rtcp_in: AtomicU64,
    /// RFC 4733 packets from it.
    pub events_in: AtomicU64,
    /// RTP and RTCP packets from strangers, dropped.
    pub strangers: AtomicU64,
    /// Packets dropped for a bad header or an unexpected payload type.
    pub bad_packets: AtomicU64,
    /// Sends that failed (socket buffer full, unreachable).
    pub send_errors: AtomicU64,
}

impl LegStats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn bump(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Why a media command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// No leg with this id in the session.
    #[error("no media leg {0:?}")]
    UnknownLeg(LegId),
    /// A leg with this id is already there.
    #[error("media leg {0:?} already exists")]
    LegExists(LegId),
    /// The session holds its maximum of legs.
    #[error("the media session is full")]
    TooManyLegs,
    /// The codec is neither PCMU (0) nor PCMA (8).
    #[error("unsupported audio payload type {0} (PCMU 0 and PCMA 8 are supported)")]
    UnsupportedCodec(u8),
    /// A leg cannot be connected to itself.
    #[error("a leg cannot be connected to itself")]
    SelfConnect,
    /// A player source could not be made (not a WAV, bad tone spec...).
    #[error("cannot play {what}: {detail}")]
    BadSource {
        /// What was asked for.
        what: String,
        /// Why it cannot be played.
        detail: String,
    },
    /// A file could not be opened or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        detail: String,
    },
    /// Key presses that cannot be sent.
    #[error("cannot send DTMF: {0}")]
    BadDtmf(&'static str),
    /// The leg has its maximum of taps.
    #[error("the leg has too many taps")]
    TooManyTaps,
    /// The recording asked for is empty or unknown.
    #[error("bad recording: {0}")]
    BadRecording(&'static str),
    /// The session task has ended.
    #[error("the media session has ended")]
    Closed,
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_processing;
