//! Finished transactions, kept compactly until their end: each is
//! one record appended to a log of 16 KiB chunks, and an entry (keyed hash
//! to place) in one index. A record holds the transaction's id, key, end,
//! peer and what absorbing retransmissions needs (the To tag of an INVITE
//! server, the last response of a non-INVITE server, the ACKs of an
//! accepted INVITE client): about 30 bytes and its text, no
//! allocation of its own. Transactions end in the order they finished
//! (timer J or L, 64*T1; timer I, T4: one log per length), so a log is
//! read from its front as time passes and a chunk is freed whole once
//! read, instead of one small allocation at a time all over the heap.
//! The index holds places only (4 bytes and hashbrown's control byte a
//! slot): a key is read from its record, found by its keyed hash.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use super::ack_2xx::KeptAck;
use hashbrown::hash_table::Entry as Slot;
use hashbrown::HashTable;

use super::driver::Absorbing;
use super::last_response::Kept;
use super::peer::{Peer, Protocol};

/// Room of a chunk (a record longer than that gets a chunk of its size).
const CHUNK: usize = 16 * 1024;

/// What a record counts against the byte budget beside its own bytes: its
/// index slot (a 4-byte place and its control byte), give or take the
/// index's empty room.
const INDEX_ENTRY: usize = 5;

/// The fixed part of a record: length, key, id and end (from its chunk's
/// base), flags.
const HEAD: usize = 4 + 8 + 4 + 4 + 1;

/// What a chunk starts with: the end and the id its records count from
/// (a record's id within ±2^31 of it, its end within 2^32 µs after it, or
/// the record starts a chunk of its own).
const CHUNK_HEAD: usize = 8 + 8;

const INTERNAL: u8 = 1;
const CONFIRMED: u8 = 1 << 1;
const NON_INVITE: u8 = 1 << 2;
const TAGGED: u8 = 1 << 3;
const ACKED: u8 = 1 << 4;

/// Which log a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    /// Timer I (T4).
    Short,
    /// Timers J and L (64*T1).
    Long,
}

/// Finished transactions (of one side) by the keyed hash of their key,
/// with their ends. See the [module docs](self).
#[derive(Debug, Default)]
pub(super) struct Finished {
    /// Where each live record is, by its key's hash (the key itself is
    /// read from the record).
    index: HashTable<Place>,
    /// The same places by transaction id, when asked for ([`Finished::by_id`]).
    ids: Option<HashTable<Place>>,
    /// The logs of [`Length::Short`] and [`Length::Long`] records.
    logs: [Log; 2],
    /// What record ends count from (the first end given).
    epoch: Option<Instant>,
    /// Estimated bytes held by live records.
    bytes: usize,
}

/// Where a record is, in 32 bits: its log's number (top bit), its chunk's
/// number in that log (modulo 2^17: far more chunks than the byte budget
/// ever keeps), and its offset there (below [`CHUNK`]: a longer record
/// starts a chunk of its own, at [`CHUNK_HEAD`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place(u32);

/// The bit of a [`Place`] that says [`Length::Long`].
const LONG_LOG: u32 = 1 << 31;

/// Bits of a [`Place`]'s offset.
const OFFSET_BITS: u32 = 14;

/// Mask of a [`Place`]'s chunk number (once shifted down).
const CHUNK_MASK: u32 = (1 << (31 - OFFSET_BITS)) - 1;

impl Place {
    /// `None` when `offset` does not fit in [`OFFSET_BITS`].
    fn new(log: usize, chunk: u32, offset: usize) -> Option<Place> {
        let offset = u32::try_from(offset).ok().filter(|&o| o < 1 << OFFSET_BITS)?;
        let log = if log == 0 { 0 } else { LONG_LOG };
        Some(Place(log | (chunk & CHUNK_MASK) << OFFSET_BITS | offset))
    }

    fn log(self) -> usize {
        usize::from(self.0 & LONG_LOG != 0)
    }

    /// The chunk's number modulo 2^17.
    fn chunk(self) -> u32 {
        (self.0 >> OFFSET_BITS) & CHUNK_MASK
    }

    fn offset(self) -> usize {
        (self.0 & ((1 << OFFSET_BITS) - 1)) as usize
    }
}

/// Records in the order they came, in chunks, read from the front.
#[derive(Debug, Default)]
struct Log {
    chunks: VecDeque<Vec<u8>>,
    /// The number of `chunks[0]` (numbers grow by one a chunk).
    first: u32,
    /// The offset of the next unread record in `chunks[0]` (past its
    /// [`CHUNK_HEAD`]).
    read: usize,
    /// The end of the last record written: ends never go back in a log.
    last_end: Option<i64>,
}

/// A finished server transaction, read in place.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record<'a> {
    pub(super) key: u64,
    /// The number of its [`super::ServerTxId`] or [`super::ClientTxId`].
    pub(super) id: u64,
    pub(super) end: Instant,
    pub(super) peer: Peer,
    /// A CANCEL the layer answered itself: its end is not reported.
    pub(super) internal: bool,
    /// An INVITE whose non-2xx final was ACKed: later ACKs are absorbed.
    pub(super) confirmed: bool,
    pub(super) kind: Kind<'a>,
}

/// What a [`Record`] absorbs retransmissions with.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind<'a> {
    /// An INVITE: a CANCEL for it gets 200 with this To tag.
    Invite { tag: Option<&'a str> },
    /// A non-INVITE: retransmissions get this response again.
    NonInvite { last: Kept<'a> },
    /// An accepted INVITE client: retransmissions of the 2xx these
    /// acknowledge get them again.
    Acked { acks: Acks<'a> },
}

/// The ACKs of an accepted INVITE client, read in place, with the
/// transaction's peer (theirs unless they name their own).
#[derive(Debug, Clone, Copy)]
pub(super) struct Acks<'a>(&'a [u8], Peer);

impl<'a> Acks<'a> {
    /// Each of them.
    pub(super) fn iter(self) -> impl Iterator<Item = KeptAck<'a>> {
        let (mut rest, peer) = (self.0, self.1);
        std::iter::from_fn(move || {
            let (ack, after) = KeptAck::decode(rest, peer)?;
            rest = after;
            Some(ack)
        })
    }
}

/// An ended record: the transaction's id and whether its end is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ended {
    pub(super) id: u64,
    pub(super) internal: bool,
}

/// How a record of a transaction ending at `at` is kept.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) key: u64,
    pub(super) id: u64,
    pub(super) peer: Peer,
    pub(super) kind: &'a Absorbing,
    pub(super) internal: bool,
    pub(super) confirmed: bool,
}

impl Finished {
    /// Finished transactions found by their id too ([`Finished::key_of`]).
    pub(super) fn by_id() -> Finished {
        Finished { ids: Some(HashTable::new()), ..Finished::default() }
    }

    /// Number of live records.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// Estimated bytes held: the records still in the logs (forgotten ones
    /// too) and the live ones' index entries.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps `entry` until `at` in the log of `length` (or until the end of
    /// the last record of that log, when later); a record with the same
    /// key is replaced.
    pub(super) fn insert(&mut self, entry: Entry<'_>, length: Length, at: Instant) {
        let epoch = *self.epoch.get_or_insert(at);
        let log_number = length as usize;
        let log = &mut self.logs[log_number];
        let end = nanos_since(epoch, at).max(log.last_end.unwrap_or(i64::MIN));
        log.last_end = Some(end);
        let mut record = Vec::with_capacity(HEAD + 32);
        encode(&entry, &mut record);
        let len = record.len();
        let Ok(len32) = u32::try_from(len) else { return };
        record[..4].copy_from_slice(&len32.to_le_bytes());
        let in_back = log
            .chunks
            .back()
            .filter(|c| c.capacity() - c.len() >= len)
            .and_then(|c| Base::of(c)?.relative(entry.id, end).map(|r| (Base::of(c), r)));
        let (base, (id_delta, end_micros)) = match in_back {
            Some((Some(base), relative)) => (base, relative),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK.max(CHUNK_HEAD + len));
                chunk.extend_from_slice(&end.to_le_bytes());
                chunk.extend_from_slice(&entry.id.to_le_bytes());
                if log.chunks.is_empty() {
                    log.read = CHUNK_HEAD;
                }
                log.chunks.push_back(chunk);
                (Base { end, id: entry.id }, (0, 0))
            }
        };
        record[12..16].copy_from_slice(&id_delta.to_le_bytes());
        record[16..20].copy_from_slice(&end_micros.to_le_bytes());
        log.last_end = Some(base.end_at(end_micros));
        let chunk_number = log.first.wrapping_add(log.chunks.len() as u32 - 1);
        let Some(chunk) = log.chunks.back_mut() else { return };
        let Some(place) = Place::new(log_number, chunk_number, chunk.len()) else { return };
        chunk.extend_from_slice(&record);
        // A replaced record's bytes stay counted until the log is read
        // past them: only its index entry goes.
        let (logs, key) = (&self.logs, entry.key);
        let replaced =
            match self.index.entry(key, |&p| key_at(logs, p) == Some(key), |&p| key_at(logs, p).unwrap_or(0))
            {
                Slot::Occupied(mut o) => Some(std::mem::replace(o.get_mut(), place)),
                Slot::Vacant(v) => {
                    v.insert(place);
                    self.bytes += INDEX_ENTRY;
                    None
                }
            };
        self.bytes += len;
        if let Some(old) = replaced {
            self.unplace_id(old);
        }
        let (logs, id) = (&self.logs, entry.id);
        if let Some(ids) = &mut self.ids {
            let hasher = |&p: &Place| id_at(logs, p).map_or(0, id_hash);
            match ids.entry(id_hash(id), |&p| id_at(logs, p) == Some(id), hasher) {
                Slot::Occupied(mut o) => *o.get_mut() = place,
                Slot::Vacant(v) => {
                    v.insert(place);
                }
            }
        }
    }

    /// The live record of key `key` (checked against the record itself, so
    /// that a place that outlived its chunk is a miss, never another's).
    pub(super) fn get(&self, key: u64) -> Option<Record<'_>> {
        let &place = self.index.find(key, |&p| key_at(&self.logs, p) == Some(key))?;
        self.at(place).map(|(r, _)| r).filter(|r| r.key == key)
    }

    /// Forgets the record of key `key` before its end (its bytes stay in
    /// its chunk, and counted, until the log is read past them: so that
    /// forgetting never lets the logs outgrow the budget).
    pub(super) fn remove(&mut self, key: u64) -> Option<Ended> {
        let logs = &self.logs;
        let (place, _) = self.index.find_entry(key, |&p| key_at(logs, p) == Some(key)).ok()?.remove();
        self.bytes = self.bytes.saturating_sub(INDEX_ENTRY);
        self.unplace_id(place);
        self.shrink_when_sparse();
        let (record, _) = self.at(place)?;
        Some(Ended { id: record.id, internal: record.internal })
    }

    /// The earliest end of a record at the front of a log (one already
    /// forgotten, too).
    pub(super) fn next(&self) -> Option<Instant> {
        let epoch = self.epoch?;
        (0..self.logs.len()).filter_map(|l| self.front(l)).map(|(_, end)| at_nanos(epoch, end)).min()
    }

    /// Ends the earliest live record if it ends by `now`, with when it
    /// ended; forgotten records met on the way are skipped.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Ended)> {
        let epoch = self.epoch?;
        let due = nanos_since(epoch, now);
        loop {
            let (log, end) = (0..self.logs.len())
                .filter_map(|l| self.front(l).map(|(_, end)| (l, end)))
                .min_by_key(|x| x.1)?;
            if end > due {
                return None;
            }
            if let Some(ended) = self.pop_front(log) {
                return Some((at_nanos(epoch, end), ended));
            }
        }
    }

    /// Ends the live record that ends first, whenever that is.
    pub(super) fn pop_first(&mut self) -> Option<Ended> {
        loop {
            let (log, _) = (0..self.logs.len())
                .filter_map(|l| self.front(l).map(|(_, end)| (l, end)))
                .min_by_key(|x| x.1)?;
            if let Some(ended) = self.pop_front(log) {
                return Some(ended);
            }
        }
    }

    /// Every live record, in no particular order (a scan: for the rare
    /// questions by id or peer).
    pub(super) fn records(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        self.index.iter().filter_map(|&p| self.at(p)).map(|(r, _)| r)
    }

    /// The place of the unread record at the front of log `log`, and its end.
    fn front(&self, log: usize) -> Option<(Place, i64)> {
        let l = &self.logs[log];
        let chunk = l.chunks.front()?;
        let head = chunk.get(l.read..l.read + HEAD)?;
        let end = Base::of(chunk)?.end_at(u32::from_le_bytes(head[16..20].try_into().ok()?));
        let place = Place::new(log, l.first, l.read)?;
        Some((place, end))
    }

    /// Reads past the front record of log `log`; ends it when it is live.
    fn pop_front(&mut self, log: usize) -> Option<Ended> {
        let (place, _) = self.front(log)?;
        let record = self.at(place).map(|(r, len)| (r.key, Ended { id: r.id, internal: r.internal }, len));
        // Live when the index still places its key here (not forgotten,
        // not replaced by a later record).
        let live = record
            .and_then(|(key, ended, _)| Some((self.index.find_entry(key, |&p| p == place).ok()?, ended)));
        let ended = live.map(|(slot, ended)| {
            slot.remove();
            ended
        });
        if ended.is_some() {
            self.bytes = self.bytes.saturating_sub(INDEX_ENTRY);
            self.unplace_id(place);
            self.shrink_when_sparse();
        }
        self.bytes = self.bytes.saturating_sub(record.map_or(0, |(_, _, len)| len));
        let l = &mut self.logs[log];
        l.read = l.read.saturating_add(record.map_or(usize::MAX, |(_, _, len)| len));
        if l.chunks.front().is_none_or(|c| l.read >= c.len()) {
            l.chunks.pop_front();
            l.first = l.first.wrapping_add(1);
            l.read = CHUNK_HEAD;
        }
        ended
    }

    /// The key of the live record of transaction `id` (only when found
    /// [`Finished::by_id`]).
    pub(super) fn key_of(&self, id: u64) -> Option<u64> {
        let &place = self.ids.as_ref()?.find(id_hash(id), |&p| id_at(&self.logs, p) == Some(id))?;
        key_at(&self.logs, place)
    }

    /// Takes `place` out of the index by id, if any (while its chunk is
    /// still there).
    fn unplace_id(&mut self, place: Place) {
        let Some(id) = id_at(&self.logs, place) else { return };
        if let Some(Ok(slot)) = self.ids.as_mut().map(|ids| ids.find_entry(id_hash(id), |&p| p == place)) {
            slot.remove();
        }
    }

    /// Halves the indexes' room when mostly empty (see
    /// [`crate::shrink::sparse`]).
    fn shrink_when_sparse(&mut self) {
        let logs = &self.logs;
        if crate::shrink::sparse(self.index.len(), self.index.capacity()) {
            self.index.shrink_to(self.index.len() * 2, |&p| key_at(logs, p).unwrap_or(0));
        }
        if let Some(ids) = self.ids.as_mut().filter(|ids| crate::shrink::sparse(ids.len(), ids.capacity())) {
            ids.shrink_to(ids.len() * 2, |&p| id_at(logs, p).map_or(0, id_hash));
        }
    }

    /// The record at `place`, and its length.
    fn at(&self, place: Place) -> Option<(Record<'_>, usize)> {
        let chunk = chunk_at(&self.logs, place)?;
        let start = place.offset();
        let len = u32::from_le_bytes(chunk.get(start..start + 4)?.try_into().ok()?) as usize;
        let bytes = chunk.get(start..start.checked_add(len)?)?;
        Some((decode(bytes, Base::of(chunk)?, self.epoch?)?, len))
    }
}

/// The chunk `place` is in, while its log holds it.
fn chunk_at(logs: &[Log; 2], place: Place) -> Option<&Vec<u8>> {
    let log = logs.get(place.log())?;
    log.chunks.get((place.chunk().wrapping_sub(log.first) & CHUNK_MASK) as usize)
}

/// The key of the record at `place` (what the index finds it by).
fn key_at(logs: &[Log; 2], place: Place) -> Option<u64> {
    let start = place.offset();
    let bytes = chunk_at(logs, place)?.get(start + 4..start + 12)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// The transaction id of the record at `place`.
fn id_at(logs: &[Log; 2], place: Place) -> Option<u64> {
    let chunk = chunk_at(logs, place)?;
    let start = place.offset();
    let delta = i32::from_le_bytes(chunk.get(start + 12..start + 16)?.try_into().ok()?);
    Some(Base::of(chunk)?.id_at(delta))
}

/// A transaction id (a counter) spread over a hash's bits.
fn id_hash(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// What the records of a chunk count their ids and ends from.
#[derive(Debug, Clone, Copy)]
struct Base {
    /// Nanoseconds from the epoch.
    end: i64,
    id: u64,
}

impl Base {
    /// The base at the start of `chunk`.
    fn of(chunk: &[u8]) -> Option<Base> {
        let end = i64::from_le_bytes(chunk.get(..8)?.try_into().ok()?);
        let id = u64::from_le_bytes(chunk.get(8..16)?.try_into().ok()?);
        Some(Base { end, id })
    }

    /// Id `id` and end `end` from this base: the id's difference and the
    /// end's whole microseconds after it (rounded up, so that no record
    /// ends early); `None` when either does not fit.
    fn relative(self, id: u64, end: i64) -> Option<(i32, u32)> {
        let id_delta = i32::try_from(id.wrapping_sub(self.id) as i64).ok()?;
        let after = end.checked_sub(self.end).filter(|&d| d >= 0)?;
        let micros = u32::try_from(after.checked_add(999)? / 1000).ok()?;
        Some((id_delta, micros))
    }

    /// The end `micros` microseconds after this base.
    fn end_at(self, micros: u32) -> i64 {
        self.end.saturating_add(i64::from(micros) * 1000)
    }

    /// The id `delta` from this base.
    fn id_at(self, delta: i32) -> u64 {
        self.id.wrapping_add(i64::from(delta) as u64)
    }
}

/// Writes `entry` with its length, id and end to fill in (from its
/// chunk's [`Base`]).
fn encode(entry: &Entry<'_>, out: &mut Vec<u8>) {
    let mut flags = 0;
    if entry.internal {
        flags |= INTERNAL;
    }
    if entry.confirmed {
        flags |= CONFIRMED;
    }
    match entry.kind {
        Absorbing::NonInvite { .. } => flags |= NON_INVITE,
        Absorbing::Invite { tag: Some(_) } => flags |= TAGGED,
        Absorbing::Invite { tag: None } => {}
        Absorbing::Acked { .. } => flags |= ACKED,
    }
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&entry.key.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.push(flags);
    put_peer(entry.peer, out);
    match entry.kind {
        Absorbing::NonInvite { last } => last.encode(out),
        Absorbing::Invite { tag } => out.extend_from_slice(tag.as_deref().unwrap_or_default().as_bytes()),
        Absorbing::Acked { acks } => acks.iter().for_each(|a| a.encode(entry.peer, out)),
    }
}

/// Appends `peer`: a byte for its protocol and family, the address, the
/// port.
pub(super) fn put_peer(peer: Peer, out: &mut Vec<u8>) {
    let protocol = match peer.protocol {
        Protocol::Udp => 0,
        Protocol::Tcp => 1,
        Protocol::Tls => 2,
    };
    out.push(protocol << 1 | u8::from(peer.addr.is_ipv6()));
    match peer.addr {
        SocketAddr::V4(a) => out.extend_from_slice(&a.ip().octets()),
        SocketAddr::V6(a) => {
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.flowinfo().to_le_bytes());
            out.extend_from_slice(&a.scope_id().to_le_bytes());
        }
    }
    out.extend_from_slice(&peer.addr.port().to_le_bytes());
}

/// Reads what [`put_peer`] wrote at the start of `bytes`, and its length.
pub(super) fn get_peer(bytes: &[u8]) -> Option<(Peer, usize)> {
    let first = *bytes.first()?;
    let protocol = match first >> 1 {
        0 => Protocol::Udp,
        1 => Protocol::Tcp,
        _ => Protocol::Tls,
    };
    if first & 1 != 0 {
        let b = bytes.get(1..27)?;
        let ip: [u8; 16] = b[..16].try_into().ok()?;
        let flowinfo = u32::from_le_bytes(b[16..20].try_into().ok()?);
        let scope = u32::from_le_bytes(b[20..24].try_into().ok()?);
        let port = u16::from_le_bytes(b[24..26].try_into().ok()?);
        let addr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flowinfo, scope));
        Some((Peer { addr, protocol }, 27))
    } else {
        let b = bytes.get(1..7)?;
        let ip: [u8; 4] = b[..4].try_into().ok()?;
        let port = u16::from_le_bytes(b[4..6].try_into().ok()?);
        Some((Peer { addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)), protocol }, 7))
    }
}

/// Reads a record [`encode`] wrote (`None` when it is not one) in a chunk
/// of base `base`, its end counted from `epoch`.
fn decode(bytes: &[u8], base: Base, epoch: Instant) -> Option<Record<'_>> {
    let key = u64::from_le_bytes(bytes.get(4..12)?.try_into().ok()?);
    let id = base.id_at(i32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?));
    let end = at_nanos(epoch, base.end_at(u32::from_le_bytes(bytes.get(16..20)?.try_into().ok()?)));
    let flags = *bytes.get(HEAD - 1)?;
    let (peer, used) = get_peer(bytes.get(HEAD..)?)?;
    let rest = bytes.get(HEAD + used..)?;
    let kind = if flags & NON_INVITE != 0 {
        Kind::NonInvite { last: Kept::decode(rest)? }
    } else if flags & ACKED != 0 {
        Kind::Acked { acks: Acks(rest, peer) }
    } else if flags & TAGGED != 0 {
        Kind::Invite { tag: Some(std::str::from_utf8(rest).ok()?) }
    } else {
        Kind::Invite { tag: None }
    };
    Some(Record {
        key,
        id,
        end,
        peer,
        internal: flags & INTERNAL != 0,
        confirmed: flags & CONFIRMED != 0,
        kind,
    })
}

/// `at` as signed nanoseconds from `epoch`.
fn nanos_since(epoch: Instant, at: Instant) -> i64 {
    match at.checked_duration_since(epoch) {
        Some(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        None => i64::try_from(epoch.duration_since(at).as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// The instant `nanos` from `epoch`.
fn at_nanos(epoch: Instant, nanos: i64) -> Instant {
    let d = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        epoch.checked_add(d).unwrap_or(epoch)
    } else {
        epoch.checked_sub(d).unwrap_or(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: u64, peer: Peer, kind: &Absorbing) -> Entry<'_> {
        Entry { key, id: key + 100, peer, kind, internal: false, confirmed: false }
    }

    #[test]
    fn records_read_back_and_end_in_order_then_free_their_chunks() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let v4 = Peer::udp("192.0.2.1:5060".parse().expect("addr"));
        let v6 = Peer { addr: "[2001:db8::1]:5061".parse().expect("addr"), protocol: Protocol::Tls };
        let tagged = Absorbing::Invite { tag: Some("t1".into()) };
        let bare = Absorbing::Invite { tag: None };
        let mut f = Finished::default();
        f.insert(entry(1, v4, &tagged), Length::Long, at(32_000));
        f.insert(Entry { confirmed: true, internal: true, ..entry(2, v6, &bare) }, Length::Short, at(5_000));
        // An end earlier than the last of its log waits for it.
        f.insert(entry(3, v4, &bare), Length::Long, at(31_000));
        // Enough records for several chunks.
        for k in 10..2_000 {
            f.insert(entry(k, v4, &tagged), Length::Long, at(33_000));
        }
        assert_eq!(f.len(), 1_993);
        let r = f.get(1).expect("one");
        assert_eq!((r.id, r.end, r.peer, r.internal, r.confirmed), (101, at(32_000), v4, false, false));
        assert!(matches!(r.kind, Kind::Invite { tag: Some("t1") }));
        let r = f.get(2).expect("two");
        assert_eq!((r.peer, r.internal, r.confirmed), (v6, true, true));
        assert!(matches!(r.kind, Kind::Invite { tag: None }));
        assert!(f.logs[1].chunks.len() > 1);
        // A forgotten record is skipped when its turn comes.
        assert_eq!(f.remove(10), Some(Ended { id: 110, internal: false }));
        assert!(f.get(10).is_none());
        assert_eq!(f.next(), Some(at(5_000)));
        assert_eq!(f.pop_due(at(4_999)), None);
        assert_eq!(f.pop_due(at(40_000)), Some((at(5_000), Ended { id: 102, internal: true })));
        assert_eq!(f.pop_due(at(40_000)).map(|(t, e)| (t, e.id)), Some((at(32_000), 101)));
        assert_eq!(f.pop_due(at(40_000)).map(|(t, e)| (t, e.id)), Some((at(32_000), 103)));
        let rest = std::iter::from_fn(|| f.pop_due(at(40_000))).count();
        assert_eq!(rest, 1_989);
        assert_eq!((f.len(), f.bytes()), (0, 0));
        assert!(f.logs.iter().all(|l| l.chunks.is_empty()), "every chunk freed");
    }

    #[test]
    fn an_index_slot_is_5_bytes_and_a_place_reads_back() {
        assert_eq!(std::mem::size_of::<Place>() + 1, INDEX_ENTRY);
        let p = Place::new(1, 7, 16_000).expect("fits");
        assert_eq!((p.log(), p.chunk(), p.offset()), (1, 7, 16_000));
        let q = Place::new(0, CHUNK_MASK + 3, 16_383).expect("fits");
        assert_eq!((q.log(), q.chunk(), q.offset()), (0, 2, 16_383), "chunk numbers wrap");
        assert_eq!(Place::new(0, 0, 5).map(Place::log), Some(0));
        assert!(Place::new(0, 0, 1 << 14).is_none());
    }

    /// Records found by id too: replaced, forgotten and ended ones go.
    #[test]
    fn records_by_id_follow_the_index() {
        let t0 = Instant::now();
        let v4 = Peer::udp("192.0.2.1:5060".parse().expect("addr"));
        let bare = Absorbing::Invite { tag: None };
        let mut f = Finished::by_id();
        for k in 1..=3_000 {
            f.insert(entry(k, v4, &bare), Length::Long, t0 + Duration::from_millis(k));
        }
        assert_eq!((f.key_of(101), f.key_of(3_100), f.key_of(5_000)), (Some(1), Some(3_000), None));
        f.insert(entry(2, v4, &bare), Length::Long, t0 + Duration::from_millis(4_000));
        assert_eq!(f.key_of(102), Some(2), "replaced: the new record");
        assert_eq!(f.remove(3).map(|e| e.id), Some(103));
        assert_eq!(f.key_of(103), None, "forgotten");
        assert_eq!(f.pop_first().map(|e| e.id), Some(101));
        assert_eq!(f.key_of(101), None, "ended");
        let rest: Vec<_> = std::iter::from_fn(|| f.pop_first()).map(|e| e.id).collect();
        assert_eq!((rest.len(), rest.last()), (2_998, Some(&102)));
        assert!(f.ids.as_ref().is_some_and(|ids| ids.is_empty()));
        assert_eq!(Finished::default().key_of(101), None, "no index by id");
    }

    /// Ids and ends far from those of the chunk's first record start a
    /// chunk of their own, and read back exactly.
    #[test]
    fn far_ids_and_ends_start_a_chunk() {
        let t0 = Instant::now();
        let v4 = Peer::udp("192.0.2.1:5060".parse().expect("addr"));
        let bare = Absorbing::Invite { tag: None };
        let mut f = Finished::default();
        let far = [(1, 0), (5, 1), (1 << 40, 2), (2, 3), (3, 2 * 3_600_000), (4, 2 * 3_600_001)];
        for (i, &(id, ms)) in far.iter().enumerate() {
            let e = Entry { id, ..entry(i as u64, v4, &bare) };
            f.insert(e, Length::Long, t0 + Duration::from_millis(ms));
        }
        assert_eq!(f.logs[1].chunks.len(), 4);
        for (i, &(id, ms)) in far.iter().enumerate() {
            let r = f.get(i as u64).expect("there");
            assert_eq!((r.id, r.end), (id, t0 + Duration::from_millis(ms)));
        }
        let ids: Vec<_> = std::iter::from_fn(|| f.pop_first()).map(|e| e.id).collect();
        assert_eq!(ids, far.map(|(id, _)| id));
        assert!(f.logs.iter().all(|l| l.chunks.is_empty()), "every chunk freed");
    }

    /// Forgotten and replaced records stay counted until their chunk is
    /// read past: forgetting (a peer's connection closing, a fork's ACK)
    /// never lets the logs hold more than the budget says.
    #[test]
    fn forgotten_records_count_until_their_chunk_goes() {
        let t0 = Instant::now();
        let v4 = Peer::udp("192.0.2.1:5060".parse().expect("addr"));
        let bare = Absorbing::Invite { tag: None };
        let mut f = Finished::default();
        f.insert(entry(1, v4, &bare), Length::Long, t0);
        let one = f.bytes();
        f.remove(1);
        assert_eq!((f.len(), f.bytes()), (0, one - INDEX_ENTRY), "its record is still in the log");
        f.insert(entry(2, v4, &bare), Length::Long, t0);
        f.insert(entry(2, v4, &bare), Length::Long, t0);
        assert_eq!(f.len(), 1);
        assert_eq!(f.bytes(), 3 * (one - INDEX_ENTRY) + INDEX_ENTRY, "three records, one index entry");
        assert_eq!(f.pop_due(t0).map(|(_, e)| e.id), Some(102));
        assert_eq!((f.len(), f.bytes()), (0, 0));
        assert!(f.logs.iter().all(|l| l.chunks.is_empty()), "every chunk freed");
    }
}
