//! The TU's ACK for a 2xx, kept by an accepted INVITE client for timer M
//! (32 s over UDP) without its From, To and Call-ID lines (about half of
//! it): each retransmission of that 2xx carries them again, as the dialog
//! builds the ACK's from the same values. A hash of the lines cut out
//! checks that the 2xx brings back the very same bytes; when it does not,
//! the ACK cannot be rebuilt, and the 2xx goes to the TU as one it has not
//! ACKed does.

use std::hash::{Hash, Hasher};

use super::finished::{get_peer, put_peer};
use super::last_response::line_span;
use super::peer::Peer;
use crate::message::{Request, Response};

/// One ACK, kept in one allocation, exactly sized, with the To tag of
/// the 2xx it acknowledges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ack2xx {
    /// The ACK without the cut lines, then the To tag.
    bytes: Box<[u8]>,
    /// The hash of the cut lines.
    lines: u64,
    pub(super) peer: Peer,
    /// Where the cut lines were; [`WHOLE`] when the ACK is kept as sent.
    cut: u16,
    /// The To tag's length, at the end of `bytes`.
    tag_len: u16,
}

/// `acks` with `ack` in place of the one for the same To tag, or added
/// (exactly sized: a second 2xx, a fork, is rare).
pub(super) fn with_ack(mut acks: Vec<Ack2xx>, ack: Ack2xx) -> Box<[Ack2xx]> {
    match acks.iter_mut().find(|a| a.split_tag() == ack.split_tag()) {
        Some(old) => *old = ack,
        None => {
            acks.reserve_exact(1);
            acks.push(ack);
        }
    }
    acks.into_boxed_slice()
}

/// [`Ack2xx::cut`] of an ACK kept whole.
const WHOLE: u16 = u16::MAX;

impl Ack2xx {
    /// Keeps `ack`, written as `written`, for the 2xx with To tag `to_tag`.
    pub(super) fn new(to_tag: &str, ack: &Request, written: &[u8], peer: Peer) -> Ack2xx {
        let tag_len = u16::try_from(to_tag.len()).unwrap_or(0);
        let tag = &to_tag.as_bytes()[..usize::from(tag_len)];
        let span = dialog_lines(written, ack.head.via.len())
            .and_then(|(start, end)| Some((u16::try_from(start).ok().filter(|&c| c != WHOLE)?, end)));
        let (cut, lines, kept) = match span {
            Some((cut, end)) => {
                let start = usize::from(cut);
                (cut, hash(&written[start..end]), written.len() - (end - start))
            }
            None => (WHOLE, 0, written.len()),
        };
        let mut bytes = Vec::with_capacity(kept + tag.len());
        match span {
            Some((cut, end)) => {
                bytes.extend_from_slice(&written[..usize::from(cut)]);
                bytes.extend_from_slice(&written[end..]);
            }
            None => bytes.extend_from_slice(written),
        }
        bytes.extend_from_slice(tag);
        Ack2xx { bytes: bytes.into_boxed_slice(), lines, peer, cut, tag_len }
    }

    fn view(&self) -> KeptAck<'_> {
        KeptAck {
            bytes: &self.bytes,
            lines: self.lines,
            peer: self.peer,
            cut: self.cut,
            tag_len: self.tag_len,
        }
    }

    /// Whether it acknowledges the 2xx with To tag `to_tag`.
    pub(super) fn acknowledges(&self, to_tag: &str) -> bool {
        self.view().acknowledges(to_tag)
    }

    fn split_tag(&self) -> &[u8] {
        self.view().split().1
    }

    /// The ACK again, for `response`, a retransmission of the 2xx it
    /// acknowledges: `None` when that 2xx's From, To and Call-ID lines
    /// are not the ones cut out.
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        self.view().for_retransmission(response)
    }

    /// Appends it to `out` as [`KeptAck::decode`] reads it back.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        let len = u32::try_from(ACK_HEAD + self.bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        put_peer(self.peer, out);
        out.extend_from_slice(&self.lines.to_le_bytes());
        out.extend_from_slice(&self.cut.to_le_bytes());
        out.extend_from_slice(&self.tag_len.to_le_bytes());
        out.extend_from_slice(&self.bytes);
    }

    /// Bytes held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// The fixed part of an encoded [`Ack2xx`] (its peer aside): length,
/// hash, cut and tag length.
const ACK_HEAD: usize = 4 + 8 + 2 + 2;

/// An [`Ack2xx`] read in place from the bytes [`Ack2xx::encode`] wrote.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeptAck<'a> {
    bytes: &'a [u8],
    lines: u64,
    pub(super) peer: Peer,
    cut: u16,
    tag_len: u16,
}

impl<'a> KeptAck<'a> {
    /// Reads the ACK at the start of `encoded`, and what follows it.
    pub(super) fn decode(encoded: &'a [u8]) -> Option<(KeptAck<'a>, &'a [u8])> {
        let len = u32::from_le_bytes(encoded.get(..4)?.try_into().ok()?) as usize;
        let (peer, used) = get_peer(encoded.get(4..)?)?;
        let at = 4 + used;
        let head = encoded.get(at..at + ACK_HEAD - 4)?;
        let lines = u64::from_le_bytes(head[..8].try_into().ok()?);
        let cut = u16::from_le_bytes(head[8..10].try_into().ok()?);
        let tag_len = u16::from_le_bytes(head[10..12].try_into().ok()?);
        let start = at + ACK_HEAD - 4;
        let end = start.checked_add(len.checked_sub(ACK_HEAD)?)?;
        let bytes = encoded.get(start..end)?;
        let sound = usize::from(tag_len) <= bytes.len()
            && (cut == WHOLE || usize::from(cut) <= bytes.len() - usize::from(tag_len));
        sound.then_some((KeptAck { bytes, lines, peer, cut, tag_len }, &encoded[end..]))
    }

    /// It again, owned.
    pub(super) fn to_owned(self) -> Ack2xx {
        Ack2xx {
            bytes: self.bytes.into(),
            lines: self.lines,
            peer: self.peer,
            cut: self.cut,
            tag_len: self.tag_len,
        }
    }

    fn split(&self) -> (&'a [u8], &'a [u8]) {
        self.bytes.split_at(self.bytes.len() - usize::from(self.tag_len))
    }

    /// See [`Ack2xx::acknowledges`].
    pub(super) fn acknowledges(&self, to_tag: &str) -> bool {
        self.split().1 == to_tag.as_bytes()
    }

    /// See [`Ack2xx::for_retransmission`].
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        let kept = self.split().0;
        if self.cut == WHOLE {
            return Some(kept.to_vec());
        }
        let written = response.to_bytes();
        let (start, end) = dialog_lines(&written, response.head.via.len())?;
        let lines = &written[start..end];
        if hash(lines) != self.lines {
            return None;
        }
        let cut = usize::from(self.cut);
        let mut out = Vec::with_capacity(kept.len() + lines.len());
        out.extend_from_slice(&kept[..cut]);
        out.extend_from_slice(lines);
        out.extend_from_slice(&kept[cut..]);
        Some(out)
    }
}

/// Where the From, To and Call-ID lines of a written message are: after
/// the start line and its `vias` Via lines, in the writer's order.
fn dialog_lines(written: &[u8], vias: usize) -> Option<(usize, usize)> {
    line_span(written, vias + 1, 3)
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse_message;
    use crate::Message;

    fn parse(text: &str) -> Message {
        parse_message(text.as_bytes()).expect("parses")
    }

    const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKinv1\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.com>;tag=b7\r\n\
Call-ID: call-1@192.0.2.9\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@192.0.2.20:5080>\r\n\
Content-Length: 0\r\n\r\n";

    const ACK: &str = "ACK sip:bob@192.0.2.20:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKack1\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.com>;tag=b7\r\n\
Call-ID: call-1@192.0.2.9\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn a_retransmitted_2xx_gets_the_same_ack_from_half_of_it() {
        let (Message::Request(ack), Message::Response(ok)) = (parse(ACK), parse(OK)) else { panic!() };
        let peer = Peer::udp("192.0.2.20:5080".parse().expect("addr"));
        let written = ack.to_bytes();
        let kept = Ack2xx::new("b7", &ack, &written, peer);
        assert!(kept.acknowledges("b7") && !kept.acknowledges("b8"));
        assert_eq!(kept.for_retransmission(&ok), Some(written.clone()));
        let mut encoded = Vec::new();
        kept.encode(&mut encoded);
        encoded.push(7);
        let (read, rest) = KeptAck::decode(&encoded).expect("decodes");
        assert_eq!((read.peer, rest), (peer, &[7][..]));
        assert_eq!(read.to_owned().for_retransmission(&ok), Some(written.clone()));
        assert!(kept.len() < written.len() * 2 / 3, "{} of {}", kept.len(), written.len());
        // A 2xx whose lines differ cannot rebuild it.
        let mut other = ok.clone();
        other.head.call_id = "call-2@192.0.2.9".into();
        assert_eq!(kept.for_retransmission(&other), None);
        // Bytes not laid out so (no line breaks) are kept whole.
        let odd = Ack2xx::new("b7", &ack, b"ACK", peer);
        assert_eq!(odd.for_retransmission(&ok), Some(b"ACK".to_vec()));
    }
}
