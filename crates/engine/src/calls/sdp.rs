//! SDP for a bridged call: what each side offered or answered, and the
//! offers and answers Calliope writes with its own address and ports.

use std::net::{IpAddr, SocketAddr};

use sip::sdp::{self, Codec, Connection, Direction, LocalMedia, Origin, SessionDescription};

use crate::relay::SideMedia;

/// Our telephone-event payload type in offers.
pub const DTMF_PT: u8 = 101;

/// The G.711 codecs a side's SDP lists, in its order.
pub fn codecs(desc: &SessionDescription) -> Vec<Codec> {
    let Some(audio) = desc.audio() else { return Vec::new() };
    audio
        .payload_types()
        .filter_map(|pt| {
            let map = audio.rtpmap(pt)?;
            [Codec::Pcmu, Codec::Pcma].into_iter().find(|c| map.is(c.encoding(), 8000))
        })
        .collect()
}

/// What a side's SDP (an offer or an answer) says about its media.
pub fn side_media(desc: &SessionDescription) -> Option<SideMedia> {
    let audio = desc.audio()?;
    let codec = codecs(desc).first()?.payload_type();
    let dtmf =
        audio.payload_types().find(|pt| audio.rtpmap(*pt).is_some_and(|m| m.is("telephone-event", 8000)));
    let ip = desc.connection_for(audio).and_then(|c| c.ip());
    let remote = match ip {
        Some(ip) if !ip.is_unspecified() && audio.port != 0 => Some(SocketAddr::new(ip, audio.port)),
        _ => None,
    };
    Some(SideMedia { remote, codec, dtmf })
}

/// The direction a side's SDP asks for.
pub fn direction(desc: &SessionDescription) -> Direction {
    desc.audio().map_or(Direction::SendRecv, |a| desc.direction_of(a))
}

/// Calliope's media for one side.
pub fn local(ip: IpAddr, port: u16, codecs: Vec<Codec>, direction: Direction, version: u64) -> LocalMedia {
    LocalMedia {
        origin: Origin {
            username: "calliope".into(),
            session_id: "1".into(),
            session_version: version,
            address: Connection::from_ip(ip),
        },
        address: ip,
        port,
        codecs,
        telephone_event: Some(DTMF_PT),
        ptime: Some(20),
        direction,
    }
}

/// The other G.711 law.
pub fn other(codec: Codec) -> Codec {
    match codec {
        Codec::Pcmu => Codec::Pcma,
        Codec::Pcma => Codec::Pcmu,
    }
}

/// Answers `offer` preferring `codec` (so that no transcoding is needed),
/// else the other G.711 law.
pub fn answer_preferring(
    offer: &SessionDescription,
    ip: IpAddr,
    port: u16,
    codec: Codec,
    direction: Direction,
    version: u64,
) -> Result<(SessionDescription, sdp::Negotiated), sdp::SdpError> {
    sdp::answer(offer, &local(ip, port, vec![codec], direction, version))
        .or_else(|_| sdp::answer(offer, &local(ip, port, vec![other(codec)], direction, version)))
}
