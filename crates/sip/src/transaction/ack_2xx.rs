//! The TU's ACK for a 2xx, kept by an accepted INVITE client for timer M
//! (32 s over UDP) without what each retransmission of that 2xx carries
//! again, as the dialog builds the ACK from the same values: its From, To
//! and Call-ID lines, its CSeq line (the 2xx's, ACK for INVITE) and the
//! start of its Via line up to the branch's magic cookie (the 2xx's top
//! Via is the INVITE's, sent from the same place). About two thirds of
//! it. A hash of what was cut out checks that the 2xx brings back the very
//! same bytes; when it does not, the ACK cannot be rebuilt, and the 2xx
//! goes to the TU as one it has not ACKed does.

use std::hash::Hasher;

use super::finished::{get_peer, put_peer};
use super::last_response::line_span;
use super::peer::Peer;
use super::varint;
use crate::message::{Request, Response};

/// One ACK, kept in one allocation, exactly sized, with the To tag of
/// the 2xx it acknowledges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ack2xx {
    /// The ACK without the cut bytes, then the To tag.
    bytes: Box<[u8]>,
    /// The hash of the cut bytes.
    lines: u64,
    pub(super) peer: Peer,
    /// Where the bytes were cut; `None` when the ACK is kept as sent.
    cut: Option<Cut>,
    /// The To tag's length, at the end of `bytes`.
    tag_len: usize,
}

/// Where an ACK's bytes were cut, as offsets in what was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    /// The start of the Via line.
    via_at: usize,
    /// The length of the Via line's start that was cut.
    via_len: usize,
    /// Where the From, To, Call-ID and CSeq lines were.
    lines_at: usize,
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

/// What an ACK's CSeq line ends with, and the INVITE's it comes from.
const ACK_CSEQ: &[u8] = b"ACK\r\n";
const INVITE_CSEQ: &[u8] = b"INVITE\r\n";

/// The branch's magic cookie, the end of the Via line's start that is cut.
const COOKIE: &[u8] = b"z9hG4bK";

/// The bytes of a written message that a kept ACK cuts out: the start of
/// the top Via line (up to the magic cookie when the message is the ACK,
/// `via_len` bytes when it is the 2xx), the From, To and Call-ID lines,
/// and the CSeq line without its method.
struct Cuttable<'a> {
    via: (usize, usize),
    lines: (usize, usize),
    cseq: &'a [u8],
}

impl<'a> Cuttable<'a> {
    /// Those of an ACK written as `written` with `vias` Via lines.
    fn of_ack(written: &'a [u8], vias: usize) -> Option<Cuttable<'a>> {
        let (via_start, via_end) = line_span(written, 1, 1)?;
        let via_line = &written[via_start..via_end];
        let via_len =
            via_line.windows(COOKIE.len()).position(|w| w == COOKIE).map_or(0, |at| at + COOKIE.len());
        let (lines, cseq) = dialog_lines(written, vias)?;
        let cseq = written[cseq.0..cseq.1].strip_suffix(ACK_CSEQ)?;
        let via = (via_start, via_start + via_len);
        (vias > 0 && via.1 <= lines.0).then_some(Cuttable { via, lines, cseq })
    }

    /// Those of a 2xx written as `written` with `vias` Via lines, for an
    /// ACK that cut `via_len` bytes of its Via line.
    fn of_2xx(written: &'a [u8], vias: usize, via_len: usize) -> Option<Cuttable<'a>> {
        let (via_start, via_end) = line_span(written, 1, 1)?;
        let via = (via_start, via_start + via_len);
        if via.1 > via_end {
            return None;
        }
        let (lines, cseq) = dialog_lines(written, vias)?;
        let cseq = written[cseq.0..cseq.1].strip_suffix(INVITE_CSEQ)?;
        (vias > 0 && via.1 <= lines.0).then_some(Cuttable { via, lines, cseq })
    }

    /// The hash of the bytes cut, from `written`, as an ACK has them.
    fn hash(&self, written: &[u8]) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(&written[self.via.0..self.via.1]);
        h.write(&written[self.lines.0..self.lines.1]);
        h.write(self.cseq);
        h.write(ACK_CSEQ);
        h.finish()
    }
}

impl Ack2xx {
    /// Keeps `ack`, written as `written`, for the 2xx with To tag `to_tag`.
    pub(super) fn new(to_tag: &str, ack: &Request, written: &[u8], peer: Peer) -> Ack2xx {
        let tag = to_tag.as_bytes();
        let cuttable = Cuttable::of_ack(written, ack.head.via.len());
        let mut bytes = Vec::with_capacity(written.len() + tag.len());
        let (cut, lines) = match &cuttable {
            Some(c) => {
                bytes.extend_from_slice(&written[..c.via.0]);
                bytes.extend_from_slice(&written[c.via.1..c.lines.0]);
                // The CSeq line goes as a whole: it follows the Call-ID line.
                let cseq_end = c.lines.1 + c.cseq.len() + ACK_CSEQ.len();
                bytes.extend_from_slice(&written[cseq_end..]);
                let via_len = c.via.1 - c.via.0;
                (Some(Cut { via_at: c.via.0, via_len, lines_at: c.lines.0 - via_len }), c.hash(written))
            }
            None => {
                bytes.extend_from_slice(written);
                (None, 0)
            }
        };
        bytes.extend_from_slice(tag);
        bytes.shrink_to_fit();
        Ack2xx { bytes: bytes.into_boxed_slice(), lines, peer, cut, tag_len: tag.len() }
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
    /// acknowledges: `None` when that 2xx does not bring back the bytes
    /// cut out.
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        self.view().for_retransmission(response)
    }

    /// Appends it to `out` as [`KeptAck::decode`] reads it back, for a
    /// transaction with peer `tx_peer` (its own peer is written only when
    /// it differs): flags, its peer, the length of the rest, then the
    /// hash and the cut's offsets (when cut), the tag's length and the
    /// bytes.
    pub(super) fn encode(&self, tx_peer: Peer, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.cut.is_some() {
            flags |= CUT;
        }
        if self.peer != tx_peer {
            flags |= OWN_PEER;
            out.push(flags);
            put_peer(self.peer, out);
        } else {
            out.push(flags);
        }
        let mut rest = Vec::with_capacity(8 + 4 * 3 + self.bytes.len());
        if let Some(c) = self.cut {
            rest.extend_from_slice(&self.lines.to_le_bytes());
            varint::put(c.via_at, &mut rest);
            varint::put(c.via_len, &mut rest);
            varint::put(c.lines_at, &mut rest);
        }
        varint::put(self.tag_len, &mut rest);
        rest.extend_from_slice(&self.bytes);
        varint::put(rest.len(), out);
        out.extend_from_slice(&rest);
    }

    /// Bytes held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// [`Ack2xx::encode`]'s flags: cut, and a peer of its own.
const CUT: u8 = 1;
const OWN_PEER: u8 = 1 << 1;

/// An [`Ack2xx`] read in place from the bytes [`Ack2xx::encode`] wrote.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeptAck<'a> {
    bytes: &'a [u8],
    lines: u64,
    pub(super) peer: Peer,
    cut: Option<Cut>,
    tag_len: usize,
}

impl<'a> KeptAck<'a> {
    /// Reads the ACK at the start of `encoded`, of a transaction with
    /// peer `tx_peer`, and what follows it.
    pub(super) fn decode(encoded: &'a [u8], tx_peer: Peer) -> Option<(KeptAck<'a>, &'a [u8])> {
        let (&flags, mut rest) = encoded.split_first()?;
        let mut peer = tx_peer;
        if flags & OWN_PEER != 0 {
            let (own, used) = get_peer(rest)?;
            peer = own;
            rest = rest.get(used..)?;
        }
        let (len, rest) = varint::get(rest)?;
        let (mut this, after) = (rest.get(..len)?, rest.get(len..)?);
        let mut lines = 0;
        let mut cut = None;
        if flags & CUT != 0 {
            lines = u64::from_le_bytes(this.get(..8)?.try_into().ok()?);
            let (via_at, r) = varint::get(this.get(8..)?)?;
            let (via_len, r) = varint::get(r)?;
            let (lines_at, r) = varint::get(r)?;
            this = r;
            cut = Some(Cut { via_at, via_len, lines_at });
        }
        let (tag_len, bytes) = varint::get(this)?;
        let kept = bytes.len().checked_sub(tag_len)?;
        let sound = cut.is_none_or(|c| c.via_at <= c.lines_at && c.lines_at <= kept);
        sound.then_some((KeptAck { bytes, lines, peer, cut, tag_len }, after))
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
        self.bytes.split_at(self.bytes.len() - self.tag_len)
    }

    /// See [`Ack2xx::acknowledges`].
    pub(super) fn acknowledges(&self, to_tag: &str) -> bool {
        self.split().1 == to_tag.as_bytes()
    }

    /// See [`Ack2xx::for_retransmission`].
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        let kept = self.split().0;
        let Some(cut) = self.cut else {
            return Some(kept.to_vec());
        };
        let written = response.to_bytes();
        let from = Cuttable::of_2xx(&written, response.head.via.len(), cut.via_len)?;
        if from.hash(&written) != self.lines {
            return None;
        }
        let (via, lines) = (&written[from.via.0..from.via.1], &written[from.lines.0..from.lines.1]);
        let mut out =
            Vec::with_capacity(kept.len() + via.len() + lines.len() + from.cseq.len() + ACK_CSEQ.len());
        out.extend_from_slice(kept.get(..cut.via_at)?);
        out.extend_from_slice(via);
        out.extend_from_slice(kept.get(cut.via_at..cut.lines_at)?);
        out.extend_from_slice(lines);
        out.extend_from_slice(from.cseq);
        out.extend_from_slice(ACK_CSEQ);
        out.extend_from_slice(kept.get(cut.lines_at..)?);
        Some(out)
    }
}

/// Where the From, To and Call-ID lines of a written message are (after
/// the start line and its `vias` Via lines, in the writer's order), and
/// the CSeq line after them.
fn dialog_lines(written: &[u8], vias: usize) -> Option<((usize, usize), (usize, usize))> {
    let lines = line_span(written, vias + 1, 3)?;
    let cseq = line_span(written, vias + 4, 1)?;
    (cseq.0 == lines.1).then_some((lines, cseq))
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
    fn a_retransmitted_2xx_gets_the_same_ack_from_a_third_of_it() {
        let (Message::Request(ack), Message::Response(ok)) = (parse(ACK), parse(OK)) else { panic!() };
        let peer = Peer::udp("192.0.2.20:5080".parse().expect("addr"));
        let written = ack.to_bytes();
        let kept = Ack2xx::new("b7", &ack, &written, peer);
        assert!(kept.acknowledges("b7") && !kept.acknowledges("b8"));
        assert_eq!(kept.for_retransmission(&ok), Some(written.clone()));
        // Read back, with the transaction's peer or a peer of its own.
        let other_peer = Peer::udp("192.0.2.21:5080".parse().expect("addr"));
        for tx_peer in [peer, other_peer] {
            let mut encoded = Vec::new();
            kept.encode(tx_peer, &mut encoded);
            encoded.push(7);
            let (read, rest) = KeptAck::decode(&encoded, tx_peer).expect("decodes");
            assert_eq!((read.peer, rest), (peer, &[7][..]));
            assert_eq!(read.to_owned().for_retransmission(&ok), Some(written.clone()));
            assert_eq!(read.to_owned(), kept);
            assert!(KeptAck::decode(&encoded[..encoded.len() - 2], tx_peer).is_none(), "cut short");
        }
        assert!(kept.len() < written.len() * 2 / 5, "{} of {}", kept.len(), written.len());
        // A 2xx whose Via differs before the branch cannot rebuild it.
        let mut other = ok.clone();
        other.head.via[0] =
            crate::header::Via::parse("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKinv1").expect("via");
        assert_eq!(kept.for_retransmission(&other), None);
        // Nor one with another CSeq number.
        let mut other = ok.clone();
        other.head.cseq.seq = 2;
        assert_eq!(kept.for_retransmission(&other), None);
        // A 2xx whose lines differ cannot rebuild it.
        let mut other = ok.clone();
        other.head.call_id = "call-2@192.0.2.9".into();
        assert_eq!(kept.for_retransmission(&other), None);
        // Bytes not laid out so (no line breaks) are kept whole.
        let odd = Ack2xx::new("b7", &ack, b"ACK", peer);
        assert_eq!(odd.for_retransmission(&ok), Some(b"ACK".to_vec()));
    }
}
