//! A call's media: one [`MediaSession`] with an endpoint per leg, named by
//! [`LegId`]s the call picks; what each leg's SDP says is set as offers
//! and answers complete, with the leg's SIP peer as the NAT hint of the
//! session's latching.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::media::{
    Direction as MediaDirection, LegId, MediaError, MediaEvent, MediaHandle, MediaSession, Ports,
    RecordingId, RemoteMedia, SessionConfig,
};
use crate::relay::SideMedia;

/// The call's media session and what it knows of each leg.
#[derive(Debug)]
pub(crate) struct CallMedia {
    /// Commands to the session.
    pub handle: MediaHandle,
    /// Its events.
    pub events: mpsc::Receiver<MediaEvent>,
    /// The recording running, if any.
    pub recording: Option<RecordingId>,
    ports: HashMap<LegId, u16>,
    codecs: HashMap<LegId, u8>,
    /// The session's limit on legs.
    max_legs: usize,
}

impl CallMedia {
    /// A session ending itself after `inactivity` without RTP.
    pub fn start(inactivity: Option<Duration>) -> CallMedia {
        let config = SessionConfig { inactivity, ..SessionConfig::default() };
        let max_legs = config.max_legs;
        let (handle, events) = MediaSession::start(config);
        CallMedia { handle, events, recording: None, ports: HashMap::new(), codecs: HashMap::new(), max_legs }
    }

    /// Adds a leg's ports; returns its RTP port. A leg this session never
    /// had, with room for it (legs are only added here), cannot be refused:
    /// its command is queued without waiting for the session.
    pub async fn add(&mut self, leg: LegId, ports: Ports) -> Result<u16, MediaError> {
        let added = if !self.ports.contains_key(&leg) && self.ports.len() < self.max_legs {
            self.handle.add_leg_queued(leg, ports).await?
        } else {
            self.handle.add_leg(leg, ports).await?
        };
        self.ports.insert(leg, added.port);
        Ok(added.port)
    }

    /// Sets what the leg's SDP says; `sip_peer` is where its signalling
    /// comes from.
    pub async fn set(
        &mut self,
        leg: LegId,
        media: SideMedia,
        sip_peer: IpAddr,
        direction: sip::sdp::Direction,
    ) {
        self.codecs.insert(leg, media.codec);
        let remote = RemoteMedia {
            dtmf: media.dtmf,
            signalling_ip: Some(sip_peer),
            direction: direction_of(direction),
            ..RemoteMedia::new(media.remote, media.codec)
        };
        // Not waited for: the session logs a refusal.
        if let Err(e) = self.handle.set_remote_queued(leg, remote).await {
            tracing::debug!(error = %e, "the media session refused a leg's SDP");
        }
    }

    /// Each of the two legs hears the other (not waited for: the session
    /// logs a refusal).
    pub async fn connect(&self, a: LegId, b: LegId) {
        if let Err(e) = self.handle.connect_queued(a, b).await {
            tracing::debug!(error = %e, "the media session could not connect two legs");
        }
    }

    /// The leg's RTP port (0 if unknown).
    pub fn port(&self, leg: LegId) -> u16 {
        self.ports.get(&leg).copied().unwrap_or(0)
    }

    /// The leg's audio payload type (0 PCMU when unknown).
    pub fn codec(&self, leg: LegId) -> u8 {
        self.codecs.get(&leg).copied().unwrap_or(0)
    }
}

/// The SDP direction of a peer, as the media session takes it.
fn direction_of(d: sip::sdp::Direction) -> MediaDirection {
    match (d.sends(), d.receives()) {
        (true, true) => MediaDirection::SendRecv,
        (true, false) => MediaDirection::SendOnly,
        (false, true) => MediaDirection::RecvOnly,
        (false, false) => MediaDirection::Inactive,
    }
}
