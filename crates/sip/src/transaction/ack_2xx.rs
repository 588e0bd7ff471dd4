//! The TU's ACK for a 2xx, kept by an accepted INVITE client for timer M
//! (32 s over UDP) as little more than what a retransmission of that 2xx
//! cannot give back. The dialog builds the ACK from the 2xx: its
//! Request-URI is the 2xx's Contact, its Route lines the 2xx's
//! Record-Route reversed (a dialog's first INVITE), its From, To and
//! Call-ID lines and its CSeq number the 2xx's, its Via the INVITE's (the
//! 2xx's top Via) up to the branch's magic cookie; `Max-Forwards: 70` and
//! `Content-Length` are written again from a flag and the body. What is
//! kept: the rest of the branch (hex packed two digits a byte), the rest of
//! the Via line unless it is `;rport`, the other header lines (credentials),
//! the body, a hash of the To tag and a keyed hash of all the bytes taken
//! from the 2xx. A retransmitted 2xx rebuilds the ACK only when it gives
//! back bytes with that very hash; when it does not, the 2xx goes to the
//! TU as one it has not ACKed does.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use super::finished::{get_peer, put_peer};
use super::last_response::line_span;
use super::peer::Peer;
use super::varint;
use crate::message::{Request, Response};

/// One ACK, kept in one allocation, exactly sized: what
/// [`Ack2xx::encode`] writes after its flags and peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ack2xx {
    rest: Box<[u8]>,
    /// The flags, [`OWN_PEER`] aside.
    flags: u8,
    pub(super) peer: Peer,
}

/// Flags: cut (else kept as sent), a peer of its own, the request line
/// from the 2xx's Contact, Route lines from its Record-Route,
/// `Max-Forwards: 70` after CSeq, the Via ending `;rport`, the branch hex
/// packed.
const CUT: u8 = 1;
const OWN_PEER: u8 = 1 << 1;
const URI: u8 = 1 << 2;
const ROUTES: u8 = 1 << 3;
const MAX_FORWARDS: u8 = 1 << 4;
const RPORT: u8 = 1 << 5;
const HEX: u8 = 1 << 6;

/// What an ACK's CSeq line ends with, and the INVITE's it comes from.
const ACK_CSEQ: &[u8] = b"ACK\r\n";
const INVITE_CSEQ: &[u8] = b"INVITE\r\n";
/// The branch's magic cookie, the end of the Via line's start that is cut.
const COOKIE: &[u8] = b"z9hG4bK";
const MAX_FORWARDS_LINE: &[u8] = b"Max-Forwards: 70\r\n";
const RPORT_END: &[u8] = b";rport\r\n";

/// `acks` with `ack` in place of the one for the same To tag, or added
/// (exactly sized: a second 2xx, a fork, is rare).
pub(super) fn with_ack(mut acks: Vec<Ack2xx>, ack: Ack2xx) -> Box<[Ack2xx]> {
    match acks.iter_mut().find(|a| a.view().tag_hash() == ack.view().tag_hash()) {
        Some(old) => *old = ack,
        None => {
            acks.reserve_exact(1);
            acks.push(ack);
        }
    }
    acks.into_boxed_slice()
}

/// The process's random SipHash key: nobody outside can craft a 2xx whose
/// bytes collide with an ACK's.
fn keyed() -> DefaultHasher {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new).build_hasher()
}

fn tag_hash(tag: &[u8]) -> u32 {
    let mut h = keyed();
    h.write(tag);
    h.finish() as u32
}

/// The keyed hash of the bytes an ACK takes from its 2xx, in order, each
/// with its length so that no two ways of cutting hash alike.
struct Taken(DefaultHasher);

impl Default for Taken {
    fn default() -> Taken {
        Taken(keyed())
    }
}

impl Taken {
    fn add(&mut self, piece: &[u8]) {
        self.0.write_usize(piece.len());
        self.0.write(piece);
    }

    fn hash(&self) -> u64 {
        self.0.finish()
    }
}

/// An ACK as written, split: `taken` from the 2xx, the rest kept.
struct Split<'a> {
    flags: u8,
    taken: Taken,
    via_len: usize,
    request_line: &'a [u8],
    branch: &'a [u8],
    via_rest: &'a [u8],
    others: &'a [u8],
    body: &'a [u8],
}

/// How the writer ends a header: `Content-Length` from the body, then a
/// blank line.
fn content_length(body: usize) -> Vec<u8> {
    format!("Content-Length: {body}\r\n\r\n").into_bytes()
}

/// Splits `written`, the bytes of `ack`; `routes`: its Route lines are
/// the 2xx's Record-Route reversed (the dialog's first INVITE).
fn split<'a>(ack: &'a Request, written: &'a [u8], routes: bool) -> Option<Split<'a>> {
    if ack.head.via.len() != 1 {
        return None;
    }
    let mut flags = CUT;
    let mut taken = Taken::default();
    // A strict router first puts a router in the Request-URI and the
    // remote target last in Route (without `lr`); loose ones all have it.
    let strict = ack.head.routes().ok()?.iter().any(|r| r.uri.as_sip().is_some_and(|u| !u.lr()));
    let (_, line_end) = line_span(written, 0, 1)?;
    let mut request_line = &written[..line_end];
    if !strict {
        taken.add(request_line);
        request_line = &[];
        flags |= URI;
    }
    let (via_start, via_end) = line_span(written, 1, 1)?;
    let via_line = &written[via_start..via_end];
    let via_len = via_line.windows(COOKIE.len()).position(|w| w == COOKIE)? + COOKIE.len();
    taken.add(&via_line[..via_len]);
    let after = &via_line[via_len..];
    let branch_len = after.iter().position(|b| b";,\r \t".contains(b)).unwrap_or(after.len());
    let (branch, mut via_rest) = after.split_at(branch_len);
    if is_hex(branch) {
        flags |= HEX;
    }
    if via_rest == RPORT_END {
        flags |= RPORT;
        via_rest = &[];
    }
    let (lines, cseq) = dialog_lines(written, 1)?;
    let number = written[cseq.0..cseq.1].strip_suffix(ACK_CSEQ)?;
    taken.add(&written[lines.0..lines.1]);
    taken.add(number);
    let mut at = cseq.1;
    if written[at..].starts_with(MAX_FORWARDS_LINE) {
        flags |= MAX_FORWARDS;
        at += MAX_FORWARDS_LINE.len();
    }
    if routes && !strict {
        let count = ack.head.headers.get_all(&crate::header::HeaderName::Route).count();
        let span = if count == 0 { Some(at) } else { line_span(&written[at..], 0, count).map(|s| at + s.1) };
        if let Some(end) = span.filter(|&end| route_lines(&written[at..end])) {
            taken.add(&written[at..end]);
            flags |= ROUTES;
            at = end;
        }
    }
    let body = &ack.body[..];
    let tail = [content_length(body.len()).as_slice(), body].concat();
    let others = written[at..].strip_suffix(tail.as_slice())?;
    Some(Split { flags, taken, via_len, request_line, branch, via_rest, others, body })
}

/// Whether `lines` are all Route lines.
fn route_lines(lines: &[u8]) -> bool {
    lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()).all(|l| l.starts_with(b"Route: "))
}

/// Lower-case hex digits (what a random branch is made of), none or more.
fn is_hex(s: &[u8]) -> bool {
    s.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

fn nibble(b: u8) -> u8 {
    if b.is_ascii_digit() {
        b - b'0'
    } else {
        b - b'a' + 10
    }
}

fn put_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    varint::put(bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn get_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = varint::get(bytes)?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

impl Ack2xx {
    /// Keeps `ack`, written as `written`, for the 2xx with To tag
    /// `to_tag`; `routes`: its Route lines are that 2xx's Record-Route
    /// reversed (an ACK of a dialog's first INVITE).
    pub(super) fn new(to_tag: &str, ack: &Request, written: &[u8], peer: Peer, routes: bool) -> Ack2xx {
        let mut rest = Vec::with_capacity(written.len());
        rest.extend_from_slice(&tag_hash(to_tag.as_bytes()).to_le_bytes());
        let flags = match split(ack, written, routes) {
            Some(s) => {
                rest.extend_from_slice(&s.taken.hash().to_le_bytes());
                varint::put(s.via_len, &mut rest);
                if s.flags & URI == 0 {
                    put_bytes(s.request_line, &mut rest);
                }
                varint::put(s.branch.len(), &mut rest);
                if s.flags & HEX != 0 {
                    rest.extend(
                        s.branch.chunks(2).map(|p| nibble(p[0]) << 4 | p.get(1).map_or(0, |&b| nibble(b))),
                    );
                } else {
                    rest.extend_from_slice(s.branch);
                }
                if s.flags & RPORT == 0 {
                    put_bytes(s.via_rest, &mut rest);
                }
                put_bytes(s.others, &mut rest);
                rest.extend_from_slice(s.body);
                s.flags
            }
            None => {
                rest.extend_from_slice(written);
                0
            }
        };
        Ack2xx { rest: rest.into_boxed_slice(), flags, peer }
    }

    fn view(&self) -> KeptAck<'_> {
        KeptAck { rest: &self.rest, flags: self.flags, peer: self.peer }
    }

    /// Whether it acknowledges the 2xx with To tag `to_tag`.
    pub(super) fn acknowledges(&self, to_tag: &str) -> bool {
        self.view().acknowledges(to_tag)
    }

    /// The ACK again, for `response`, a retransmission of the 2xx it
    /// acknowledges: `None` when that 2xx does not give back the bytes
    /// taken from it.
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        self.view().for_retransmission(response)
    }

    /// Appends it to `out` as [`KeptAck::decode`] reads it back, for a
    /// transaction with peer `tx_peer` (its own peer is written only when
    /// it differs): flags, its peer, the length of the rest, the rest.
    pub(super) fn encode(&self, tx_peer: Peer, out: &mut Vec<u8>) {
        if self.peer != tx_peer {
            out.push(self.flags | OWN_PEER);
            put_peer(self.peer, out);
        } else {
            out.push(self.flags);
        }
        put_bytes(&self.rest, out);
    }

    /// Bytes held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.rest.len()
    }
}

/// An [`Ack2xx`] read in place from the bytes [`Ack2xx::encode`] wrote.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeptAck<'a> {
    rest: &'a [u8],
    flags: u8,
    pub(super) peer: Peer,
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
        let (this, after) = get_bytes(rest)?;
        let least = if flags & CUT != 0 { 4 + 8 } else { 4 };
        (this.len() >= least).then_some((KeptAck { rest: this, flags: flags & !OWN_PEER, peer }, after))
    }

    /// It again, owned.
    pub(super) fn to_owned(self) -> Ack2xx {
        Ack2xx { rest: self.rest.into(), flags: self.flags, peer: self.peer }
    }

    fn tag_hash(&self) -> &'a [u8] {
        self.rest.get(..4).unwrap_or_default()
    }

    /// See [`Ack2xx::acknowledges`].
    pub(super) fn acknowledges(&self, to_tag: &str) -> bool {
        self.tag_hash() == tag_hash(to_tag.as_bytes()).to_le_bytes()
    }

    /// See [`Ack2xx::for_retransmission`].
    pub(super) fn for_retransmission(&self, response: &Response) -> Option<Vec<u8>> {
        let kept = self.rest.get(4..)?;
        if self.flags & CUT == 0 {
            return Some(kept.to_vec());
        }
        let flags = self.flags;
        let hash = u64::from_le_bytes(kept.get(..8)?.try_into().ok()?);
        let (via_len, mut rest) = varint::get(kept.get(8..)?)?;
        let mut request_line = Vec::new();
        if flags & URI == 0 {
            let (line, r) = get_bytes(rest)?;
            request_line.extend_from_slice(line);
            rest = r;
        }
        let (branch_len, r) = varint::get(rest)?;
        let packed = if flags & HEX != 0 { branch_len.div_ceil(2) } else { branch_len };
        let (branch, r) = (r.get(..packed)?, r.get(packed..)?);
        let (via_end, r) = if flags & RPORT != 0 { (RPORT_END, r) } else { get_bytes(r)? };
        let (others, body) = get_bytes(r)?;

        // What the 2xx gives back.
        let written = response.to_bytes();
        let mut taken = Taken::default();
        if flags & URI != 0 {
            let contact = response.head.contacts().ok()?;
            let uri = contact.iter().find_map(|c| c.addr())?;
            request_line = format!("ACK {} SIP/2.0\r\n", uri.uri).into_bytes();
            taken.add(&request_line);
        }
        let (via_start, via_stop) = line_span(&written, 1, 1)?;
        let via = written.get(via_start..via_start + via_len).filter(|_| via_start + via_len <= via_stop)?;
        taken.add(via);
        let (lines, cseq) = dialog_lines(&written, response.head.via.len())?;
        let number = written[cseq.0..cseq.1].strip_suffix(INVITE_CSEQ)?;
        taken.add(&written[lines.0..lines.1]);
        taken.add(number);
        let mut routes = Vec::new();
        if flags & ROUTES != 0 {
            for route in response.head.record_routes().ok()?.iter().rev() {
                routes.extend_from_slice(format!("Route: {route}\r\n").as_bytes());
            }
            taken.add(&routes);
        }
        if taken.hash() != hash {
            return None;
        }

        let mut out = request_line;
        out.extend_from_slice(via);
        if flags & HEX != 0 {
            let digits = branch.iter().flat_map(|b| [b >> 4, b & 0xf]).take(branch_len);
            out.extend(digits.map(|d| if d < 10 { b'0' + d } else { b'a' + d - 10 }));
        } else {
            out.extend_from_slice(branch);
        }
        out.extend_from_slice(via_end);
        out.extend_from_slice(&written[lines.0..lines.1]);
        out.extend_from_slice(number);
        out.extend_from_slice(ACK_CSEQ);
        if flags & MAX_FORWARDS != 0 {
            out.extend_from_slice(MAX_FORWARDS_LINE);
        }
        out.extend_from_slice(&routes);
        out.extend_from_slice(others);
        out.extend_from_slice(&content_length(body.len()));
        out.extend_from_slice(body);
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
mod tests;
