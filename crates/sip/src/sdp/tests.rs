use std::net::{IpAddr, Ipv4Addr};

use super::*;

fn sdp(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// The example of RFC 4566 section 5.
const RFC4566: &str = "v=0
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
s=SDP Seminar
i=A Seminar on the session description protocol
u=http://www.example.com/seminars/sdp.pdf
e=j.doe@example.com (Jane Doe)
c=IN IP4 224.2.17.12/127
t=2873397496 2873404696
a=recvonly
m=audio 49170 RTP/AVP 0
m=video 51372 RTP/AVP 99
a=rtpmap:99 h263-1998/90000
";

/// An offer as a softphone sends it: PCMA first, telephone-event on 96.
const PHONE_OFFER: &str = "v=0
o=- 3912345678 3912345678 IN IP4 192.0.2.10
s=softphone
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 8 0 18 96
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=ptime:20
a=rtcp:40001
a=sendrecv
m=video 40002 RTP/AVP 97
a=rtpmap:97 H264/90000
";

fn local(codecs: Vec<Codec>) -> LocalMedia {
    LocalMedia {
        origin: Origin {
            username: "calliope".into(),
            session_id: "42".into(),
            session_version: 1,
            address: Connection::from_ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5))),
        },
        address: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)),
        port: 20000,
        codecs,
        telephone_event: Some(101),
        ptime: Some(20),
        direction: Direction::SendRecv,
    }
}

#[test]
fn rfc4566_example() {
    let s = parse(&sdp(RFC4566)).expect("parse");
    assert_eq!(s.origin.username, "jdoe");
    assert_eq!(s.origin.session_version, 2890842807);
    assert_eq!(s.session_name, "SDP Seminar");
    assert_eq!(s.connection.as_ref().map(|c| c.address.as_str()), Some("224.2.17.12/127"));
    assert_eq!(s.timing, vec![Timing { start: 2873397496, stop: 2873404696 }]);
    assert_eq!(s.media.len(), 2);
    assert_eq!(s.direction_of(&s.media[0]), Direction::RecvOnly, "session-level direction applies");
    assert_eq!(s.media[0].rtpmap(0).map(|m| m.encoding), Some("PCMU".to_owned()), "static type");
    assert_eq!(s.media[1].rtpmap(99).map(|m| m.clock_rate), Some(90000));
    assert_eq!(s.other.len(), 2);
    assert_eq!(s.to_string(), sdp(RFC4566));
}

#[test]
fn phone_offer_attributes() {
    let s = parse(&sdp(PHONE_OFFER)).expect("parse");
    let audio = s.audio().expect("audio");
    assert_eq!(audio.payload_types().collect::<Vec<_>>(), vec![8, 0, 18, 96]);
    assert_eq!(audio.fmtp(96), Some("0-16"));
    assert_eq!(audio.fmtp(18), Some("annexb=no"));
    assert_eq!(audio.ptime(), Some(20));
    assert_eq!(audio.rtcp(), Some((40001, None)));
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    assert_eq!(
        s.connection_for(audio).and_then(Connection::ip),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)))
    );
    assert_eq!(parse(&s.to_string()), Ok(s));
}

#[test]
fn answer_follows_the_offerers_codec_order() {
    let offer = parse(&sdp(PHONE_OFFER)).expect("parse");
    let (answer, n) = answer(&offer, &local(vec![Codec::Pcmu, Codec::Pcma])).expect("answer");
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    assert_eq!(n.telephone_event, Some(96), "the offerer's dynamic payload type is kept");
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.remote, Some("192.0.2.10:40000".parse().expect("addr")));
    assert_eq!(n.ptime, Some(20));
    let text = answer.to_string();
    assert_eq!(
        text,
        sdp("v=0
o=calliope 42 1 IN IP4 203.0.113.5
s=-
c=IN IP4 203.0.113.5
t=0 0
m=audio 20000 RTP/AVP 8 96
a=rtpmap:8 PCMA/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=ptime:20
a=sendrecv
m=video 0 RTP/AVP 97
")
    );
    assert_eq!(parse(&text), Ok(answer));

    let (_, pcmu_only) = super::answer(&offer, &local(vec![Codec::Pcmu])).expect("answer");
    assert_eq!((pcmu_only.codec, pcmu_only.payload_type), (Codec::Pcmu, 0));
}

#[test]
fn answer_directions_and_hold() {
    let with = |dir: &str| parse(&sdp(&PHONE_OFFER.replace("a=sendrecv", dir))).expect("parse");
    for (offered, wanted, expected) in [
        ("a=sendonly", Direction::SendRecv, Direction::RecvOnly),
        ("a=recvonly", Direction::SendRecv, Direction::SendOnly),
        ("a=inactive", Direction::SendRecv, Direction::Inactive),
        ("a=sendrecv", Direction::SendOnly, Direction::SendOnly),
        ("a=sendonly", Direction::SendOnly, Direction::Inactive),
    ] {
        let me = LocalMedia { direction: wanted, ..local(vec![Codec::Pcmu, Codec::Pcma]) };
        let (a, n) = answer(&with(offered), &me).expect("answer");
        assert_eq!(n.direction, expected, "{offered} / {wanted:?}");
        assert_eq!(a.audio().and_then(MediaDescription::direction), Some(expected));
    }
    // Old-style hold (RFC 2543): c=0.0.0.0.
    let hold = parse(&sdp(&PHONE_OFFER.replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0"))).expect("parse");
    let (_, n) = answer(&hold, &local(vec![Codec::Pcmu])).expect("answer");
    assert_eq!(n.remote.map(|a| a.ip().is_unspecified()), Some(true));
}

#[test]
fn answers_that_cannot_be_made() {
    let g729 =
        sdp("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 18\n");
    let offer = parse(&g729).expect("parse");
    assert_eq!(answer(&offer, &local(vec![Codec::Pcmu])).map(|_| ()), Err(SdpError::NoCommonCodec));
    let srtp = g729.replace("RTP/AVP 18", "RTP/SAVP 0");
    assert_eq!(
        answer(&parse(&srtp).expect("parse"), &local(vec![Codec::Pcmu])).map(|_| ()),
        Err(SdpError::NoAudio)
    );
    // A dynamic payload type mapped to PCMU is PCMU; stereo PCMU is not.
    let dynamic =
        g729.replace("RTP/AVP 18", "RTP/AVP 100 101\na=rtpmap:100 PCMU/8000/2\na=rtpmap:101 pcmu/8000");
    let (_, n) = answer(&parse(&dynamic).expect("parse"), &local(vec![Codec::Pcmu])).expect("answer");
    assert_eq!((n.codec, n.payload_type, n.telephone_event), (Codec::Pcmu, 101, None));
}

#[test]
fn offers() {
    let o = offer(&local(vec![Codec::Pcmu, Codec::Pcma]));
    let audio = o.audio().expect("audio");
    assert_eq!(audio.formats, vec!["0", "8", "101"]);
    assert_eq!(audio.rtpmap(101).map(|m| m.encoding), Some("telephone-event".to_owned()));
    // Answering our own offer picks our first codec.
    let (_, n) = answer(&o, &local(vec![Codec::Pcma, Codec::Pcmu])).expect("answer");
    assert_eq!((n.codec, n.telephone_event), (Codec::Pcmu, Some(101)));
    assert_eq!(n.remote, Some("203.0.113.5:20000".parse().expect("addr")));
}

#[test]
fn ipv6_and_media_level_connection() {
    let text = sdp("v=0\no=- 1 2 IN IP6 2001:db8::1\ns= \nt=0 0\nm=audio 5004 RTP/AVP 0\nc=IN IP6 2001:db8::2\na=rtcp:5005 IN IP6 2001:db8::3\n");
    let s = parse(&text).expect("parse");
    let audio = s.audio().expect("audio");
    assert_eq!(s.connection_for(audio).and_then(Connection::ip), "2001:db8::2".parse().ok());
    assert_eq!(
        audio.rtcp().map(|(p, c)| (p, c.map(|c| c.address.clone()))),
        Some((5005, Some("2001:db8::3".into())))
    );
    assert_eq!(s.session_name, " ");
    assert_eq!(s.to_string(), text);
}

#[test]
fn bad_descriptions() {
    let good = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
    assert!(parse(good).is_ok());
    assert!(parse(&good.replace('\n', "\r\n")).is_ok());
    assert_eq!(parse(""), Err(SdpError::Version));
    assert_eq!(parse(&good.replace("v=0", "v=1")), Err(SdpError::Version));
    assert_eq!(parse(&good.replace("o=- 1 1 IN IP4 192.0.2.1\n", "")), Err(SdpError::Missing('o')));
    assert_eq!(parse(&good.replace("s=-\n", "")), Err(SdpError::Missing('s')));
    assert_eq!(parse(&good.replace("o=- 1 1", "o=- 1 x")), Err(SdpError::Invalid { kind: 'o', line: 2 }));
    assert_eq!(parse(&good.replace("4000", "70000")), Err(SdpError::Invalid { kind: 'm', line: 5 }));
    assert_eq!(
        parse(&good.replace("RTP/AVP 0\n", "RTP/AVP\n")),
        Err(SdpError::Invalid { kind: 'm', line: 5 })
    );
    assert_eq!(parse(&format!("{good}a=rtpmap:200 X/8000\n")), Err(SdpError::Invalid { kind: 'a', line: 6 }));
    assert_eq!(parse(&format!("{good}a=rtpmap:0 PCMU\n")), Err(SdpError::Invalid { kind: 'a', line: 6 }));
    assert_eq!(parse(&format!("{good}a=ptime:x\n")), Err(SdpError::Invalid { kind: 'a', line: 6 }));
    assert_eq!(parse(&format!("{good}c=IN IP4\n")), Err(SdpError::Invalid { kind: 'c', line: 6 }));
    assert_eq!(parse(&format!("{good}garbage\n")), Err(SdpError::Line(6)));
    assert_eq!(parse(&format!("{good}t=0 0\n")), Err(SdpError::Line(6)), "t= inside a media section");
    assert_eq!(parse(&"a=x\n".repeat(MAX_LINES + 1).replacen("a=x", "v=0", 1)), Err(SdpError::TooLarge));
    assert_eq!(parse(&"x".repeat(MAX_SDP_BYTES + 1)), Err(SdpError::TooLarge));
    assert_eq!(parse_bytes(b"v=0\n\xff"), Err(SdpError::NotUtf8));
}

#[test]
fn bytes_are_the_text_for_every_kind_of_line() {
    let every = sdp("v=0\no=- 1 4294967296 IN IP4 192.0.2.1\ns=x\ni=about\nu=http://a\ne=a@b\np=+1 555\nc=IN IP4 192.0.2.1\nb=AS:64\nt=0 5000000000\nr=604800 3600 0 90000\nz=2882844526 -1h\nk=prompt\na=recvonly\na=tool:x\nm=audio 5004/2 RTP/AVP 0 8 101\ni=voice\nc=IN IP4 192.0.2.2\nb=AS:32\nk=prompt\na=rtpmap:0 PCMU/8000/2\na=fmtp:101 0-16\na=fmtp:102\na=ptime:20\na=rtcp:5005 IN IP4 192.0.2.3\na=inactive\na=flag\n");
    for text in [every, sdp(RFC4566), sdp(PHONE_OFFER)] {
        let s = parse(&text).expect("parse");
        assert_eq!(s.to_string(), text);
        assert_eq!(s.to_bytes(), text.as_bytes());
    }
    let o = offer(&local(vec![Codec::Pcmu, Codec::Pcma]));
    assert_eq!(o.to_bytes(), o.to_string().as_bytes());
}
