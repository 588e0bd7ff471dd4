//! The media task of one call: its legs' endpoints, the relay between
//! them, players, decoders and recordings, driven by commands.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use media::detect::DtmfDetector;
use media::dtmf::{Digit, DtmfReceiver};
use media::frame::{Frame, FRAME_SAMPLES, SILENT_FRAME};
use media::g711::Law;
use media::player::Source;
use media::vad::{VadEvent, VoiceDetector};
use tokio::io::ReadBuf;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};

use super::decode::{Decoded, Decoder};
use super::dtmf_out::DtmfOut;
use super::latch::{Latch, Verdict};
use super::listen::listen;
use super::recording::Recording;
use super::stream::OutStream;
use super::tap::MAX_TAPS;
use super::{
    DtmfSource, LegId, LegStats, MediaError, MediaEvent, PlaybackId, Ports, RecordSpec, RecordingId,
    RemoteMedia, SessionConfig,
};
use crate::metrics::MEDIA;

/// A boxed player source the session can own.
pub(crate) type BoxSource = Box<dyn Source + Send>;

type Reply<T> = oneshot::Sender<Result<T, MediaError>>;

/// What the handle asks of the task.
pub(crate) enum Command {
    AddLeg { leg: LegId, ports: Ports, stats: Arc<LegStats>, reply: Reply<()> },
    SetRemote { leg: LegId, remote: RemoteMedia, reply: Reply<()> },
    Connect { a: LegId, b: LegId, reply: Reply<()> },
    Disconnect { leg: LegId, reply: Reply<()> },
    Play { leg: LegId, source: BoxSource, reply: Reply<PlaybackId> },
    StopPlay { leg: LegId, reply: Reply<bool> },
    Record { spec: RecordSpec, file: std::fs::File, reply: Reply<RecordingId> },
    StopRecord { id: RecordingId, reply: Reply<()> },
    DetectDtmf { leg: LegId, on: bool, reply: Reply<()> },
    DetectVoice { leg: LegId, on: bool, reply: Reply<()> },
    SendDtmf { leg: LegId, digits: Vec<Digit>, duration_ms: u32, reply: Reply<()> },
    Tap { leg: LegId, tx: mpsc::Sender<Decoded>, reply: Reply<()> },
    Mute { leg: LegId, on: bool, reply: Reply<()> },
    Deaf { leg: LegId, on: bool, reply: Reply<()> },
    RemoveLeg { leg: LegId, reply: Reply<()> },
}

/// One leg's endpoint.
struct Leg {
    id: LegId,
    ports: Ports,
    remote: Option<RemoteMedia>,
    rtp_latch: Latch,
    rtcp_latch: Latch,
    out: OutStream,
    stats: Arc<LegStats>,
    /// The leg whose packets it hears (relay).
    peer: Option<LegId>,
    muted: bool,
    /// Hears silence instead of its peer and its player.
    deaf: bool,
    dtmf: DtmfReceiver,
    player: Option<(PlaybackId, BoxSource)>,
    dtmf_out: DtmfOut,
    /// Where its decoded voice goes every tick.
    taps: Vec<mpsc::Sender<Decoded>>,
    decoder: Option<Decoder>,
    inband: Option<DtmfDetector>,
    vad: Option<VoiceDetector>,
    /// This tick: what it said (decoded) and what it heard.
    said: Frame,
    heard: Frame,
}

impl Leg {
    fn law(&self) -> Law {
        self.remote.and_then(|r| Law::from_payload_type(r.codec)).unwrap_or(Law::Ulaw)
    }

    /// Where to send RTP, if we may.
    fn target(&self) -> Option<SocketAddr> {
        self.remote.filter(|r| r.direction.we_send())?;
        self.rtp_latch.target()
    }

    fn send(&self, packet: &[u8]) {
        let Some(to) = self.target() else { return };
        match self.ports.rtp().try_send_to(packet, to) {
            Ok(_) => {
                LegStats::bump(&self.stats.rtp_out);
                MEDIA.sent.increment(1);
            }
            Err(_) => {
                LegStats::bump(&self.stats.send_errors);
                MEDIA.send_errors.increment(1);
            }
        };
    }
}

/// The media session of one call; see the module documentation.
pub struct MediaSession {
    config: SessionConfig,
    epoch: Instant,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<MediaEvent>,
    /// Events the channel had no room for yet.
    pending: VecDeque<MediaEvent>,
    legs: Vec<Leg>,
    recordings: Vec<Recording>,
    next_id: u64,
    /// Round-robin start for polling the legs' sockets.
    next_poll: usize,
    /// Socket wakes since the last tick.
    packet_streak: u32,
    tick: Option<Interval>,
    last_activity_ms: u64,
    inactive_reported: bool,
    inactivity: Pin<Box<Sleep>>,
    retry: Pin<Box<Sleep>>,
    buf: Vec<u8>,
    out_buf: Vec<u8>,
}

enum Wake {
    Command(Option<Command>),
    /// The tick, with the time it was due.
    Tick(Instant),
    Rtp(usize, usize, SocketAddr),
    Rtcp(usize, SocketAddr),
    Inactivity,
    Retry,
    Nothing,
}

/// Events kept when the channel is full, at most.
const MAX_PENDING: usize = 256;
/// Socket wakes in a row after which a due tick goes first.
const RTP_BURST: u32 = 64;
/// A tick this much after its time counts as late.
const LATE_TICK: std::time::Duration = std::time::Duration::from_millis(10);

impl MediaSession {
    /// Starts a session task; it ends when every [`super::MediaHandle`]
    /// is dropped.
    pub fn start(config: SessionConfig) -> (super::MediaHandle, mpsc::Receiver<MediaEvent>) {
        let (tx, commands) = mpsc::channel(config.commands.max(1));
        let (events, rx) = mpsc::channel(config.events.max(1));
        let now = Instant::now();
        let session = MediaSession {
            config,
            epoch: now,
            commands,
            events,
            pending: VecDeque::new(),
            legs: Vec::new(),
            recordings: Vec::new(),
            next_id: 1,
            next_poll: 0,
            packet_streak: 0,
            tick: None,
            last_activity_ms: 0,
            inactive_reported: false,
            inactivity: Box::pin(tokio::time::sleep_until(far_future(now))),
            retry: Box::pin(tokio::time::sleep_until(far_future(now))),
            buf: vec![0; 2048],
            out_buf: Vec::new(),
        };
        tokio::spawn(session.run());
        (super::MediaHandle::new(tx), rx)
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    async fn run(mut self) {
        loop {
            let wake = poll_fn(|cx| self.poll_wake(cx)).await;
            match wake {
                Wake::Command(Some(c)) => self.command(c),
                Wake::Command(None) => break,
                Wake::Tick(at) => {
                    MEDIA.ticks.increment(1);
                    if at.elapsed() > LATE_TICK {
                        MEDIA.ticks_late.increment(1);
                    }
                    self.on_tick()
                }
                Wake::Rtp(i, n, from) => self.on_rtp(i, n, from),
                Wake::Rtcp(i, from) => self.on_rtcp(i, from),
                Wake::Inactivity => self.on_inactivity_timer(),
                Wake::Retry | Wake::Nothing => {}
            }
            self.flush_events();
        }
        for r in self.recordings.drain(..) {
            r.finish();
        }
    }

    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if let Poll::Ready(c) = self.commands.poll_recv(cx) {
            return Poll::Ready(Wake::Command(c));
        }
        // Packets that already arrived go into the jitter buffers before a
        // tick renders, so a task that was not scheduled for a while catches
        // up on its ticks with the audio it was sent, not with silence. A
        // flood of packets still lets a tick through every RTP_BURST wakes.
        if self.packet_streak >= RTP_BURST {
            if let Some(w) = self.poll_tick(cx) {
                return Poll::Ready(w);
            }
        }
        if let Some(w) = self.poll_sockets(cx) {
            self.packet_streak = self.packet_streak.saturating_add(1);
            return Poll::Ready(w);
        }
        if let Some(w) = self.poll_tick(cx) {
            return Poll::Ready(w);
        }
        if self.inactivity.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Inactivity);
        }
        if !self.pending.is_empty() && self.retry.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Retry);
        }
        Poll::Pending
    }

    fn poll_tick(&mut self, cx: &mut Context<'_>) -> Option<Wake> {
        let at = match self.tick.as_mut()?.poll_tick(cx) {
            Poll::Ready(at) => at,
            Poll::Pending => return None,
        };
        self.packet_streak = 0;
        Some(Wake::Tick(at))
    }

    /// The next RTP or RTCP packet waiting on any leg's sockets, taking the
    /// legs in turn.
    fn poll_sockets(&mut self, cx: &mut Context<'_>) -> Option<Wake> {
        let n = self.legs.len();
        for k in 0..n {
            let i = (self.next_poll + k) % n;
            let Some(leg) = self.legs.get(i) else { continue };
            let mut rb = ReadBuf::new(&mut self.buf[..]);
            match leg.ports.rtp().poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(from)) => {
                    self.next_poll = i + 1;
                    return Some(Wake::Rtp(i, rb.filled().len(), from));
                }
                // An ICMP error surfacing on the socket: poll again.
                Poll::Ready(Err(_)) => return Some(Wake::Nothing),
                Poll::Pending => {}
            }
            let mut rb = ReadBuf::new(&mut self.buf[..]);
            match leg.ports.rtcp().poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(from)) => {
                    self.next_poll = i + 1;
                    return Some(Wake::Rtcp(i, from));
                }
                Poll::Ready(Err(_)) => return Some(Wake::Nothing),
                Poll::Pending => {}
            }
        }
        None
    }

    // ----- events -----

    fn emit(&mut self, event: MediaEvent) {
        if !self.pending.is_empty() {
            self.queue(event);
        } else if let Err(mpsc::error::TrySendError::Full(e)) = self.events.try_send(event) {
            self.queue(e);
        }
    }

    fn queue(&mut self, event: MediaEvent) {
        if self.pending.len() >= MAX_PENDING {
            tracing::warn!(?event, "media event queue full: event dropped");
            return;
        }
        self.pending.push_back(event);
        let at = Instant::now() + std::time::Duration::from_millis(20);
        self.retry.as_mut().reset(at);
    }

    fn flush_events(&mut self) {
        while let Some(e) = self.pending.pop_front() {
            match self.events.try_send(e) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(e)) => {
                    self.pending.push_front(e);
                    let at = Instant::now() + std::time::Duration::from_millis(20);
                    self.retry.as_mut().reset(at);
                    return;
                }
            }
        }
    }

    // ----- commands -----

    fn index(&self, leg: LegId) -> Result<usize, MediaError> {
        self.legs.iter().position(|l| l.id == leg).ok_or(MediaError::UnknownLeg(leg))
    }

    fn leg_mut(&mut self, leg: LegId) -> Result<&mut Leg, MediaError> {
        let i = self.index(leg)?;
        self.legs.get_mut(i).ok_or(MediaError::UnknownLeg(leg))
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn command(&mut self, c: Command) {
        match c {
            // These three may be queued without anyone waiting for the
            // answer (`MediaHandle::*_queued`): a failure is logged then.
            Command::AddLeg { leg, ports, stats, reply } => {
                unanswered("add a leg", reply.send(self.add_leg(leg, ports, stats)));
            }
            Command::SetRemote { leg, remote, reply } => {
                unanswered("set a leg's remote", reply.send(self.set_remote(leg, remote)));
            }
            Command::Connect { a, b, reply } => {
                unanswered("connect two legs", reply.send(self.connect(a, b)));
            }
            Command::Disconnect { leg, reply } => {
                let _ = reply.send(self.disconnect(leg));
            }
            Command::Play { leg, source, reply } => {
                let _ = reply.send(self.play(leg, source));
            }
            Command::StopPlay { leg, reply } => {
                let _ = reply.send(self.stop_play(leg));
            }
            Command::Record { spec, file, reply } => {
                let _ = reply.send(self.record(spec, file));
            }
            Command::StopRecord { id, reply } => {
                let _ = reply.send(self.stop_record(id));
            }
            Command::DetectDtmf { leg, on, reply } => {
                let r = self.leg_mut(leg).map(|l| l.inband = on.then(DtmfDetector::default));
                self.update_processing();
                let _ = reply.send(r);
            }
            Command::DetectVoice { leg, on, reply } => {
                let r = self.leg_mut(leg).map(|l| l.vad = on.then(VoiceDetector::default));
                self.update_processing();
                let _ = reply.send(r);
            }
            Command::SendDtmf { leg, digits, duration_ms, reply } => {
                let _ = reply.send(self.send_dtmf(leg, &digits, duration_ms));
            }
            Command::Tap { leg, tx, reply } => {
                let r = self.leg_mut(leg).and_then(|l| {
                    l.taps.retain(|t| !t.is_closed());
                    if l.taps.len() >= MAX_TAPS {
                        return Err(MediaError::TooManyTaps);
                    }
                    l.taps.push(tx);
                    Ok(())
                });
                self.update_processing();
                let _ = reply.send(r);
            }
            Command::Mute { leg, on, reply } => {
                let r = self.leg_mut(leg).map(|l| l.muted = on);
                self.update_processing();
                let _ = reply.send(r);
            }
            Command::Deaf { leg, on, reply } => {
                let r = self.leg_mut(leg).map(|l| {
                    if l.deaf && !on && l.player.is_none() {
                        // Its own silence ends: the relay takes over again.
                        l.out.end_feed();
                    }
                    l.deaf = on;
                });
                self.update_processing();
                let _ = reply.send(r);
            }
            Command::RemoveLeg { leg, reply } => {
                let _ = reply.send(self.remove_leg(leg));
            }
        }
    }

    fn add_leg(&mut self, id: LegId, ports: Ports, stats: Arc<LegStats>) -> Result<(), MediaError> {
        if self.index(id).is_ok() {
            return Err(MediaError::LegExists(id));
        }
        if self.legs.len() >= self.config.max_legs {
            return Err(MediaError::TooManyLegs);
        }
        let out = OutStream::new(rand::random(), rand::random(), rand::random());
        self.legs.push(Leg {
            id,
            ports,
            remote: None,
            rtp_latch: Latch::default(),
            rtcp_latch: Latch::default(),
            out,
            stats,
            peer: None,
            muted: false,
            deaf: false,
            dtmf: DtmfReceiver::new(),
            player: None,
            dtmf_out: DtmfOut::default(),
            taps: Vec::new(),
            decoder: None,
            inband: None,
            vad: None,
            said: SILENT_FRAME,
            heard: SILENT_FRAME,
        });
        Ok(())
    }

    fn set_remote(&mut self, leg: LegId, remote: RemoteMedia) -> Result<(), MediaError> {
        if Law::from_payload_type(remote.codec).is_none() {
            return Err(MediaError::UnsupportedCodec(remote.codec));
        }
        let now = self.now_ms();
        let window = now + self.config.learning_window.as_millis() as u64;
        let l = self.leg_mut(leg)?;
        let changed = l.remote.is_none_or(|old| old.rtp != remote.rtp || old.rtcp != remote.rtcp);
        if changed {
            l.rtp_latch.reset(remote.rtp, remote.signalling_ip, window);
            l.rtcp_latch.reset(remote.rtcp_addr(), remote.signalling_ip, window);
        } else {
            l.rtp_latch.reopen(remote.signalling_ip, window);
            l.rtcp_latch.reopen(remote.signalling_ip, window);
        }
        l.remote = Some(remote);
        self.touch(now);
        Ok(())
    }

    fn connect(&mut self, a: LegId, b: LegId) -> Result<(), MediaError> {
        if a == b {
            return Err(MediaError::SelfConnect);
        }
        let (ia, ib) = (self.index(a)?, self.index(b)?);
        for i in [ia, ib] {
            if let Some(old) = self.legs.get(i).and_then(|l| l.peer) {
                self.disconnect(old)?;
            }
        }
        for (i, peer) in [(ia, b), (ib, a)] {
            if let Some(l) = self.legs.get_mut(i) {
                l.peer = Some(peer);
                l.out.end_feed();
            }
        }
        Ok(())
    }

    fn disconnect(&mut self, leg: LegId) -> Result<(), MediaError> {
        let i = self.index(leg)?;
        let peer = self.legs.get_mut(i).and_then(|l| l.peer.take());
        if let Some(p) = peer.and_then(|p| self.index(p).ok()).and_then(|j| self.legs.get_mut(j)) {
            if p.peer == Some(leg) {
                p.peer = None;
            }
        }
        Ok(())
    }

    fn play(&mut self, leg: LegId, source: BoxSource) -> Result<PlaybackId, MediaError> {
        let id = PlaybackId(self.fresh_id());
        let l = self.leg_mut(leg)?;
        let old = l.player.replace((id, source));
        if old.is_none() {
            l.out.start_talkspurt();
        }
        if let Some((old, _)) = old {
            self.emit(MediaEvent::PlaybackFinished { leg, id: old, stopped: true });
        }
        self.update_processing();
        Ok(id)
    }

    fn stop_play(&mut self, leg: LegId) -> Result<bool, MediaError> {
        let l = self.leg_mut(leg)?;
        let old = l.player.take();
        l.out.end_feed();
        let stopped = old.is_some();
        if let Some((id, _)) = old {
            self.emit(MediaEvent::PlaybackFinished { leg, id, stopped: true });
        }
        self.update_processing();
        Ok(stopped)
    }

    fn record(&mut self, spec: RecordSpec, file: std::fs::File) -> Result<RecordingId, MediaError> {
        if spec.legs.is_empty() {
            return Err(MediaError::BadRecording("no legs to record"));
        }
        for &leg in &spec.legs {
            self.index(leg)?;
        }
        let id = RecordingId(self.fresh_id());
        let events = self.events.clone();
        self.recordings.push(Recording::start(id, spec, file, events));
        self.update_processing();
        Ok(id)
    }

    fn stop_record(&mut self, id: RecordingId) -> Result<(), MediaError> {
        let at = self
            .recordings
            .iter()
            .position(|r| r.id() == id)
            .ok_or(MediaError::BadRecording("unknown id"))?;
        self.recordings.swap_remove(at).finish();
        self.update_processing();
        Ok(())
    }

    fn send_dtmf(&mut self, leg: LegId, digits: &[Digit], duration_ms: u32) -> Result<(), MediaError> {
        if !(40..=2000).contains(&duration_ms) {
            return Err(MediaError::BadDtmf("a press lasts 40 to 2000 ms"));
        }
        let l = self.leg_mut(leg)?;
        if l.remote.and_then(|r| r.dtmf).is_none() {
            return Err(MediaError::BadDtmf("the leg negotiated no telephone-event"));
        }
        if !l.dtmf_out.queue(digits, duration_ms) {
            return Err(MediaError::BadDtmf("too many digits waiting"));
        }
        self.update_processing();
        Ok(())
    }

    fn remove_leg(&mut self, leg: LegId) -> Result<(), MediaError> {
        self.disconnect(leg)?;
        let i = self.index(leg)?;
        let l = self.legs.swap_remove(i);
        if let Some((id, _)) = l.player {
            self.emit(MediaEvent::PlaybackFinished { leg, id, stopped: true });
        }
        // Recordings of only this leg end; others keep the rest.
        let mut k = 0;
        while k < self.recordings.len() {
            let done = self.recordings.get_mut(k).is_some_and(|r| r.forget_leg(leg));
            if done {
                self.recordings.swap_remove(k).finish();
            } else {
                k += 1;
            }
        }
        self.update_processing();
        Ok(())
    }

    // ----- processing: which legs decode, whether the tick runs -----

    fn update_processing(&mut self) {
        let mut decode: Vec<LegId> = Vec::new();
        for r in &self.recordings {
            for &leg in r.legs() {
                decode.push(leg);
                // A one-leg recording also holds what that leg hears.
                if r.legs().len() == 1 {
                    if let Some(p) = self.legs.iter().find(|l| l.id == leg).and_then(|l| l.peer) {
                        decode.push(p);
                    }
                }
            }
        }
        let delay = self.config.jitter_delay.as_millis() as u64;
        let mut busy = !self.recordings.is_empty();
        for l in &mut self.legs {
            let wanted =
                l.inband.is_some() || l.vad.is_some() || !l.taps.is_empty() || decode.contains(&l.id);
            match (wanted, l.decoder.is_some()) {
                (true, false) => l.decoder = Some(Decoder::new(delay)),
                (false, true) => l.decoder = None,
                _ => {}
            }
            // A deaf leg, or the peer of a muted one, hears silence frames.
            busy |= wanted
                || l.player.is_some()
                || l.dtmf_out.busy()
                || ((l.deaf || l.muted) && l.peer.is_some());
        }
        match (busy, self.tick.is_some()) {
            (true, false) => {
                let mut t = tokio::time::interval(std::time::Duration::from_millis(20));
                t.set_missed_tick_behavior(MissedTickBehavior::Burst);
                self.tick = Some(t);
            }
            (false, true) => self.tick = None,
            _ => {}
        }
    }

    fn on_tick(&mut self) {
        let now = self.now_ms();
        // What each leg said, decoded.
        let mut digits = Vec::new();
        let mut voice = Vec::new();
        let mut taps_closed = false;
        for l in &mut self.legs {
            let decoded = match &mut l.decoder {
                Some(d) => d.frame(now),
                None => Decoded { frame: SILENT_FRAME, concealed: true },
            };
            // Detectors skip concealed frames; everything else hears them.
            l.said = decoded.frame;
            let (found, event) = listen(&decoded, l.inband.as_mut(), l.vad.as_mut());
            digits.extend(found.into_iter().map(|d| (l.id, d)));
            if let Some(e) = event {
                voice.push((l.id, e == VadEvent::SpeechStarted));
            }
            if l.muted {
                l.said = SILENT_FRAME;
            }
            // A muted leg's silence is no missing audio.
            let tapped = Decoded { frame: l.said, concealed: decoded.concealed && !l.muted };
            let before = l.taps.len();
            l.taps.retain(|t| !matches!(t.try_send(tapped), Err(mpsc::error::TrySendError::Closed(_))));
            taps_closed |= l.taps.len() != before;
        }
        for (leg, digit) in digits {
            self.emit(MediaEvent::Dtmf { leg, digit, source: DtmfSource::InBand });
        }
        for (leg, speaking) in voice {
            self.emit(MediaEvent::Voice { leg, speaking });
        }
        // What each leg hears: its player's frame, else its peer's voice.
        let mut finished = Vec::new();
        let mut dtmf_done = Vec::new();
        for i in 0..self.legs.len() {
            let peer = self.peer_index(i).and_then(|j| self.legs.get(j));
            let peer_said = peer.map(|p| p.said);
            let peer_muted = peer.is_some_and(|p| p.muted);
            let Some(l) = self.legs.get_mut(i) else { continue };
            // Telephone-events first: a player waits while they go out.
            if l.dtmf_out.busy() {
                let pt = l.remote.and_then(|r| r.dtmf).unwrap_or(101);
                let (dtmf_out, out, buf) = (&mut l.dtmf_out, &mut l.out, &mut self.out_buf);
                let mut sent = Vec::new();
                let done = dtmf_out.tick(now, pt, out, buf, |p| sent.push(p.to_vec()));
                for p in &sent {
                    l.send(p);
                }
                if done {
                    l.out.end_feed();
                    dtmf_done.push(l.id);
                }
                l.heard = SILENT_FRAME;
                continue;
            }
            let frame = match &mut l.player {
                Some((id, source)) => match source.next_frame() {
                    Some(f) => {
                        send_frame(l, &f, now, &mut self.out_buf);
                        Some(f)
                    }
                    None => {
                        finished.push((l.id, *id));
                        l.player = None;
                        l.out.end_feed();
                        None
                    }
                },
                None => None,
            };
            // A deaf leg with a peer, or the peer of a muted leg, hears
            // silence in its peer's stead: its RTP keeps flowing at the
            // same pace (phones and NATs expect it).
            if frame.is_none() && l.peer.is_some() && (l.deaf || peer_muted) {
                send_frame(l, &SILENT_FRAME, now, &mut self.out_buf);
            }
            l.heard = frame.or(peer_said).unwrap_or(SILENT_FRAME);
        }
        for (leg, id) in &finished {
            self.emit(MediaEvent::PlaybackFinished { leg: *leg, id: *id, stopped: false });
        }
        // Recordings.
        let legs = &self.legs;
        for r in &mut self.recordings {
            r.tick(|id| legs.iter().find(|l| l.id == id).map(|l| (l.said, l.heard)));
        }
        for leg in &dtmf_done {
            self.emit(MediaEvent::DtmfSent { leg: *leg });
        }
        if !finished.is_empty() || !dtmf_done.is_empty() || taps_closed {
            self.update_processing();
        }
    }

    fn peer_index(&self, i: usize) -> Option<usize> {
        let peer = self.legs.get(i)?.peer?;
        self.legs.iter().position(|l| l.id == peer)
    }

    // ----- packets -----

    fn touch(&mut self, now: u64) {
        self.last_activity_ms = now;
        self.inactive_reported = false;
        if let Some(t) = self.config.inactivity {
            let at = self.epoch + std::time::Duration::from_millis(now) + t;
            if self.inactivity.deadline() > at || self.inactivity.is_elapsed() {
                self.inactivity.as_mut().reset(at);
            }
        }
    }

    fn on_inactivity_timer(&mut self) {
        let Some(timeout) = self.config.inactivity else {
            self.inactivity.as_mut().reset(far_future(Instant::now()));
            return;
        };
        let now = self.now_ms();
        let due = self.last_activity_ms + timeout.as_millis() as u64;
        if now < due {
            let at = self.epoch + std::time::Duration::from_millis(due);
            self.inactivity.as_mut().reset(at);
            return;
        }
        self.inactivity.as_mut().reset(far_future(Instant::now()));
        // A held call is quiet on purpose; a call with no SDP yet has no media.
        let expecting = self.legs.iter().any(|l| l.remote.is_some());
        let held = self.legs.iter().any(|l| l.remote.is_some_and(|r| !r.direction.peer_sends()));
        if expecting && !held && !self.inactive_reported {
            self.inactive_reported = true;
            self.emit(MediaEvent::Inactive);
        }
    }

    fn on_rtcp(&mut self, i: usize, from: SocketAddr) {
        let now = self.now_ms();
        let Some(l) = self.legs.get_mut(i) else { return };
        match l.rtcp_latch.accept(from, now) {
            Verdict::Stranger => {
                let count = LegStats::bump(&l.stats.strangers);
                let leg = l.id;
                if count == 1 || count & 255 == 0 {
                    self.emit(MediaEvent::Strangers { leg, from, count });
                }
            }
            // RTCP is consumed: the SSRCs it describes are rewritten on the
            // way out, so forwarding it would mislead the other side.
            Verdict::Accept | Verdict::Locked => {
                LegStats::bump(&l.stats.rtcp_in);
            }
        }
    }

    fn on_rtp(&mut self, i: usize, n: usize, from: SocketAddr) {
        let mut buf = std::mem::take(&mut self.buf);
        if let Some(packet) = buf.get_mut(..n) {
            self.handle_rtp(i, packet, from);
        }
        self.buf = buf;
    }

    fn handle_rtp(&mut self, i: usize, packet: &mut [u8], from: SocketAddr) {
        let now = self.now_ms();
        let Some(l) = self.legs.get_mut(i) else { return };
        let verdict = l.rtp_latch.accept(from, now);
        if verdict == Verdict::Stranger {
            MEDIA.strangers.increment(1);
            let count = LegStats::bump(&l.stats.strangers);
            let leg = l.id;
            if count == 1 || count & 255 == 0 {
                tracing::debug!(?leg, %from, count, "RTP from a stranger dropped");
                self.emit(MediaEvent::Strangers { leg, from, count });
            }
            return;
        }
        let Some(remote) = l.remote else { return };
        let Ok(p) = media::rtp::parse(packet) else {
            LegStats::bump(&l.stats.bad_packets);
            MEDIA.bad.increment(1);
            return;
        };
        let (pt, seq, ts, ssrc) = (p.payload_type, p.sequence, p.timestamp, p.ssrc);
        let header = p.header_len();
        let payload_len = p.payload.len();
        LegStats::bump(&l.stats.rtp_in);
        MEDIA.received.increment(1);
        let from_leg = l.id;
        let muted = l.muted;
        let mut digit = None;
        let kind = if Some(pt) == remote.dtmf {
            LegStats::bump(&l.stats.events_in);
            if let Ok(Some(d)) = l.dtmf.handle_packet(ts, p.payload) {
                digit = Some(d.digit);
            }
            Kind::Event
        } else if pt == remote.codec {
            if let (Some(d), Some(law)) = (&mut l.decoder, Law::from_payload_type(pt)) {
                d.push(law, seq, p.payload, now);
            }
            Kind::Audio
        } else if pt == 13 {
            Kind::ComfortNoise
        } else {
            LegStats::bump(&l.stats.bad_packets);
            MEDIA.bad.increment(1);
            return;
        };
        let peer = l.peer;
        if remote.direction.peer_sends() {
            self.touch(now);
        }
        if let Some(digit) = digit {
            self.emit(MediaEvent::Dtmf { leg: from_leg, digit, source: DtmfSource::Rfc4733 });
        }
        if muted && kind != Kind::Event {
            return;
        }
        // Relay to the leg that hears this one, unless a player has it.
        let Some(to) = peer.and_then(|p| self.legs.iter_mut().find(|l| l.id == p)) else { return };
        if to.player.is_some() || to.dtmf_out.busy() || to.peer != Some(from_leg) || to.deaf {
            return;
        }
        let Some(to_remote) = to.remote else { return };
        let new_pt = match kind {
            Kind::Event => match to_remote.dtmf {
                Some(t) => t,
                None => return,
            },
            Kind::Audio => {
                if to_remote.codec != pt {
                    let (Some(src), Some(_)) =
                        (Law::from_payload_type(pt), Law::from_payload_type(to_remote.codec))
                    else {
                        return;
                    };
                    if let Some(payload) = packet.get_mut(header..header + payload_len) {
                        src.transcode_in_place(payload);
                    }
                }
                to_remote.codec
            }
            Kind::ComfortNoise => 13,
        };
        let samples = if kind == Kind::Audio { payload_len as u32 } else { 0 };
        let stamp = to.out.relay(ssrc, seq, ts, samples, now);
        let marker = packet.get(1).is_some_and(|b| b & 0x80 != 0) || stamp.marker;
        rewrite_header(packet, marker, new_pt, stamp.sequence, stamp.timestamp, to.out.ssrc());
        to.send(packet);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audio,
    Event,
    ComfortNoise,
}

/// Writes the fixed header fields of an RTP packet in place.
fn rewrite_header(packet: &mut [u8], marker: bool, pt: u8, seq: u16, ts: u32, ssrc: u32) {
    if let Some(h) = packet.get_mut(1..12) {
        h[0] = (u8::from(marker) << 7) | (pt & 0x7f);
        h[1..3].copy_from_slice(&seq.to_be_bytes());
        h[3..7].copy_from_slice(&ts.to_be_bytes());
        h[7..11].copy_from_slice(&ssrc.to_be_bytes());
    }
}

/// Logs the failure of a command whose sender no longer waits for it.
fn unanswered(what: &str, sent: Result<(), Result<(), MediaError>>) {
    if let Err(Err(e)) = sent {
        tracing::debug!(error = %e, "the media session could not {what}");
    }
}

/// Encodes and sends one frame the session made to `leg`.
fn send_frame(leg: &mut Leg, frame: &Frame, now: u64, buf: &mut Vec<u8>) {
    let Some(remote) = leg.remote else { return };
    let frame = if leg.deaf { &SILENT_FRAME } else { frame };
    let stamp = leg.out.own(FRAME_SAMPLES as u32, now);
    let law = leg.law();
    buf.clear();
    buf.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    rewrite_header(buf, stamp.marker, remote.codec, stamp.sequence, stamp.timestamp, leg.out.ssrc());
    law.encode_into(frame, buf);
    leg.send(buf);
}

fn far_future(now: Instant) -> Instant {
    now + std::time::Duration::from_secs(86_400 * 365)
}
