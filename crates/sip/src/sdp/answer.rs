//! Offer/answer (RFC 3264) for audio calls: PCMU, PCMA and
//! telephone-event (RFC 4733).

use std::net::{IpAddr, SocketAddr};

use super::{
    Attribute, Connection, Direction, MediaDescription, Origin, RtpMap, SdpError, SessionDescription, Timing,
};

/// An audio codec this platform speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 u-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name.
    pub fn encoding(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    fn matches(self, map: &RtpMap) -> bool {
        map.is(self.encoding(), 8000) && map.channels.is_none_or(|c| c == 1)
    }
}

/// What this side brings to an offer or answer.
#[derive(Debug, Clone)]
pub struct LocalMedia {
    /// The `o=` line (bump `session_version` for each new offer or answer
    /// that changes something).
    pub origin: Origin,
    /// The RTP address for `c=`.
    pub address: IpAddr,
    /// The RTP port for the audio `m=`.
    pub port: u16,
    /// The codecs accepted, preferred first.
    pub codecs: Vec<Codec>,
    /// The payload type to offer telephone-event under (answers reuse the
    /// offerer's); `None` to leave DTMF events out.
    pub telephone_event: Option<u8>,
    /// `a=ptime`, when one should be written.
    pub ptime: Option<u32>,
    /// The direction this side wants (`SendOnly` to hold).
    pub direction: Direction,
}

/// What an answer settled for the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec both sides use.
    pub codec: Codec,
    /// Its payload type as the offer numbered it.
    pub payload_type: u8,
    /// The telephone-event payload type, when both sides use it.
    pub telephone_event: Option<u8>,
    /// The direction written in the answer (this side's view).
    pub direction: Direction,
    /// Where the offerer wants its RTP (its `c=` and port), unless the
    /// address is not an IP literal.
    pub remote: Option<SocketAddr>,
    /// The offerer's ptime, when given.
    pub ptime: Option<u32>,
}

/// Builds an offer with one audio stream: the codecs, then telephone-event.
pub fn offer(local: &LocalMedia) -> SessionDescription {
    let mut formats: Vec<String> = local.codecs.iter().map(|c| c.payload_type().to_string()).collect();
    let mut attributes: Vec<Attribute> = local
        .codecs
        .iter()
        .map(|c| {
            Attribute::RtpMap(RtpMap {
                payload_type: c.payload_type(),
                encoding: c.encoding().into(),
                clock_rate: 8000,
                channels: None,
            })
        })
        .collect();
    if let Some(pt) = local.telephone_event {
        formats.push(pt.to_string());
        attributes.extend(telephone_event_attributes(pt));
    }
    finish(local, vec![audio(local, formats, attributes)])
}

/// Answers `offer` (RFC 3264 6): the first audio stream is answered with the
/// first offered codec that `local` accepts (the offerer's order decides),
/// plus telephone-event when both sides have it; every other stream is
/// rejected with port 0. Direction: what the offer allows and `local` wants.
pub fn answer(
    offer: &SessionDescription,
    local: &LocalMedia,
) -> Result<(SessionDescription, Negotiated), SdpError> {
    let index = offer
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0 && m.proto.eq_ignore_ascii_case("RTP/AVP"))
        .ok_or(SdpError::NoAudio)?;
    let offered = offer.media.get(index).ok_or(SdpError::NoAudio)?;
    let (codec, payload_type) = offered
        .payload_types()
        .find_map(|pt| {
            let map = offered.rtpmap(pt)?;
            local.codecs.iter().find(|c| c.matches(&map)).map(|c| (*c, pt))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = local.telephone_event.and_then(|_| {
        offered.payload_types().find(|pt| offered.rtpmap(*pt).is_some_and(|m| m.is("telephone-event", 8000)))
    });

    let offered_direction = offer.direction_of(offered);
    let direction = Direction::from_flags(
        offered_direction.receives() && local.direction.sends(),
        offered_direction.sends() && local.direction.receives(),
    );
    let mut formats = vec![payload_type.to_string()];
    let mut attributes = vec![Attribute::RtpMap(RtpMap {
        payload_type,
        encoding: codec.encoding().into(),
        clock_rate: 8000,
        channels: None,
    })];
    if let Some(pt) = telephone_event {
        formats.push(pt.to_string());
        attributes.extend(telephone_event_attributes(pt));
    }
    let answered = LocalMedia { direction, ..local.clone() };
    let media = offer
        .media
        .iter()
        .enumerate()
        .map(
            |(i, m)| {
                if i == index {
                    audio(&answered, formats.clone(), attributes.clone())
                } else {
                    rejected(m)
                }
            },
        )
        .collect();
    let remote =
        offer.connection_for(offered).and_then(Connection::ip).map(|ip| SocketAddr::new(ip, offered.port));
    let negotiated =
        Negotiated { codec, payload_type, telephone_event, direction, remote, ptime: offered.ptime() };
    Ok((finish(local, media), negotiated))
}

fn telephone_event_attributes(pt: u8) -> [Attribute; 2] {
    [
        Attribute::RtpMap(RtpMap {
            payload_type: pt,
            encoding: "telephone-event".into(),
            clock_rate: 8000,
            channels: None,
        }),
        Attribute::Fmtp { payload_type: pt, params: "0-16".into() },
    ]
}

fn audio(local: &LocalMedia, formats: Vec<String>, mut attributes: Vec<Attribute>) -> MediaDescription {
    if let Some(p) = local.ptime {
        attributes.push(Attribute::Ptime(p));
    }
    attributes.push(Attribute::Direction(local.direction));
    MediaDescription {
        media: "audio".into(),
        port: local.port,
        port_count: None,
        proto: "RTP/AVP".into(),
        formats,
        info: None,
        connection: None,
        bandwidths: Vec::new(),
        attributes,
        other: Vec::new(),
    }
}

fn rejected(offered: &MediaDescription) -> MediaDescription {
    MediaDescription {
        media: offered.media.clone(),
        port: 0,
        port_count: None,
        proto: offered.proto.clone(),
        formats: offered.formats.iter().take(1).cloned().collect(),
        info: None,
        connection: None,
        bandwidths: Vec::new(),
        attributes: Vec::new(),
        other: Vec::new(),
    }
}

fn finish(local: &LocalMedia, media: Vec<MediaDescription>) -> SessionDescription {
    SessionDescription {
        origin: local.origin.clone(),
        session_name: "-".into(),
        info: None,
        connection: Some(Connection::from_ip(local.address)),
        bandwidths: Vec::new(),
        timing: vec![Timing::default()],
        attributes: Vec::new(),
        media,
        other: Vec::new(),
    }
}
