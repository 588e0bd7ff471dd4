//! The switch's shards: several switch loops, each owning the transactions,
//! routes and timers of the Call-IDs that hash to it. The receivers pick a
//! message's shard from its raw bytes ([`Picker::of_raw`]), tasks talk to
//! the loops through [`Cores`], which picks by transaction id (each shard
//! gives its own, [`sip::transaction::TxIds::sharded`]) or by Call-ID.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sip::transaction::{ClientTxId, TxIds};
use tokio::sync::mpsc;

use super::core::{Cmd, Owner};

/// The most shards (`--sip-shards`).
pub const MAX: usize = 16;

/// One shard a core, at most [`MAX`].
pub fn default_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX)
}

/// Maps Call-IDs to shards with a hash keyed once per process (a peer
/// cannot aim all its Call-IDs at one shard). Clones pick alike.
#[derive(Debug, Clone)]
pub struct Picker {
    key: [u64; 2],
    count: usize,
}

impl Picker {
    /// `count` shards (at least one, at most [`MAX`]), a random key.
    pub fn new(count: usize) -> Picker {
        Picker::keyed(count, rand::random())
    }

    /// `count` shards and a known key (tests and benchmarks that must
    /// know where a Call-ID goes).
    pub fn keyed(count: usize, key: [u64; 2]) -> Picker {
        Picker { key, count: count.clamp(1, MAX) }
    }

    /// How many shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The shard of Call-ID `call_id`.
    pub fn of(&self, call_id: &str) -> usize {
        self.of_bytes(call_id.as_bytes())
    }

    fn of_bytes(&self, call_id: &[u8]) -> usize {
        if self.count == 1 {
            return 0;
        }
        // SipHash over the secret key and then the Call-ID.
        let mut h = DefaultHasher::new();
        h.write_u64(self.key[0]);
        h.write_u64(self.key[1]);
        h.write(call_id);
        (h.finish() % self.count as u64) as usize
    }

    /// The shard of a received message, from the Call-ID its raw head
    /// names; shard 0 when none is found (the loop that parses it forwards
    /// it if its parsed Call-ID belongs elsewhere).
    pub fn of_raw(&self, message: &[u8]) -> usize {
        if self.count == 1 {
            return 0;
        }
        raw_call_id(message).map_or(0, |id| self.of_bytes(id))
    }
}

/// The value of the Call-ID (or `i`) header of a raw message, as the
/// parser would read it: `None` when there is none before the end of the
/// head, or it is folded or not plain ASCII (rare: the parse decides).
pub fn raw_call_id(message: &[u8]) -> Option<&[u8]> {
    let mut lines = message.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    // Leading blank lines, then the start line.
    lines.find(|l| !l.is_empty())?;
    let mut lines = lines.peekable();
    while let Some(line) = lines.next() {
        match line.first() {
            None => return None,
            // Only `Call-ID` and `i` can match: other lines are not
            // scanned for their colon.
            Some(b'c' | b'C' | b'i' | b'I') => {}
            Some(_) => continue,
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (name, value) = line.split_at(colon);
        let name = name.trim_ascii_end();
        if !(name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i")) {
            continue;
        }
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        let folded = lines.peek().is_some_and(|next| next.starts_with(b" ") || next.starts_with(b"\t"));
        if folded || value.is_empty() || !value.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        return Some(value);
    }
    None
}

/// Every shard's table of calls by Call-ID. Each shard's loop alone
/// writes its own; others read it (an INVITE with `Replaces` names a
/// dialog that may live in another shard).
#[derive(Debug)]
pub struct CallTables {
    first: Mutex<HashMap<String, Owner>>,
    rest: Box<[Mutex<HashMap<String, Owner>>]>,
}

impl CallTables {
    /// `count` empty tables (at least one).
    pub fn new(count: usize) -> Arc<CallTables> {
        let rest = (1..count.max(1)).map(|_| Mutex::default()).collect();
        Arc::new(CallTables { first: Mutex::default(), rest })
    }

    /// Shard `shard`'s table (shard 0's when out of range).
    pub fn of(&self, shard: usize) -> MutexGuard<'_, HashMap<String, Owner>> {
        let table = shard.checked_sub(1).and_then(|i| self.rest.get(i)).unwrap_or(&self.first);
        // A loop that panicked leaves a usable map behind.
        table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a command was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the SIP switch is stopped")]
pub struct Stopped;

/// The switch loops, as the tasks that talk to them see them: one queue
/// of commands, routed to the shard each belongs to. Clones share it.
#[derive(Debug, Clone)]
pub struct Cores(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    cmds: Vec<mpsc::UnboundedSender<Cmd>>,
    ids: Vec<TxIds>,
    picker: Picker,
}

impl Cores {
    /// The senders of every shard's commands, with `picker`'s count of
    /// them; the id sources are each shard's.
    pub fn new(picker: Picker, cmds: Vec<mpsc::UnboundedSender<Cmd>>, ids: Vec<TxIds>) -> Cores {
        Cores(Arc::new(Inner { cmds, ids, picker }))
    }

    /// How the shards are picked.
    pub fn picker(&self) -> &Picker {
        &self.0.picker
    }

    /// Reserves the id of a client transaction whose request has Call-ID
    /// `call_id`: in the shard that will receive its responses.
    pub fn client_id(&self, call_id: &str) -> ClientTxId {
        let shard = self.0.picker.of(call_id);
        match self.0.ids.get(shard).or_else(|| self.0.ids.first()) {
            Some(ids) => ids.client(),
            None => TxIds::new().client(),
        }
    }

    /// Hands `cmd` to the loop of its shard: that of its transaction, or
    /// of its Call-ID. Fails when the loops stopped (`cmd` is dropped, and
    /// with it any reply channel in it).
    pub fn send(&self, cmd: Cmd) -> Result<(), Stopped> {
        let n = self.0.picker.count();
        let shard = match &cmd {
            Cmd::Respond(id, _) => id.shard(n),
            Cmd::Send { id, .. } | Cmd::Cancel(id) | Cmd::Ack(id, _, _) => id.shard(n),
            Cmd::Stateless(message, _) => self.0.picker.of(&message.head().call_id),
            Cmd::Own(call_id, _) | Cmd::Disown(call_id) | Cmd::Deliver(call_id, _) => {
                self.0.picker.of(call_id)
            }
        };
        match self.0.cmds.get(shard).or_else(|| self.0.cmds.first()) {
            Some(tx) => tx.send(cmd).map_err(|_| Stopped),
            None => Err(Stopped),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_call_id_is_what_the_parser_reads() {
        let cases: &[&[u8]] = &[
            b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID:  abc@h \r\nCSeq: 1 REGISTER\r\n\r\n",
            b"\r\nSIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\ni\t:abc@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
            b"OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCALL-ID:abc@h\nCSeq: 1 OPTIONS\n\n",
        ];
        for raw in cases {
            let parsed = sip::parse_message(raw).unwrap();
            assert_eq!(raw_call_id(raw), Some(parsed.head().call_id.as_bytes()));
            let picker = Picker::new(4);
            assert_eq!(picker.of_raw(raw), picker.of(&parsed.head().call_id));
        }
    }

    #[test]
    fn no_call_id_in_the_head_goes_to_shard_0() {
        let none: &[&[u8]] = &[
            b"",
            b"\r\n\r\n",
            b"INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\nCall-ID: in-the-body\r\n",
            b"INVITE sip:x SIP/2.0\r\nCall-ID:\r\n folded@h\r\n\r\n",
            "INVITE sip:x SIP/2.0\r\nCall-ID: caf\u{e9}\r\n\r\n".as_bytes(),
            b"Call-ID: the-start-line\r\n\r\n",
        ];
        let picker = Picker::new(8);
        for raw in none {
            assert_eq!(raw_call_id(raw), None, "{}", String::from_utf8_lossy(raw));
            assert_eq!(picker.of_raw(raw), 0);
        }
    }

    #[test]
    fn call_ids_spread_over_the_shards_and_one_shard_takes_all() {
        let picker = Picker::new(4);
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[picker.of(&format!("call-{i}@host"))] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
        assert_eq!(picker.clone().of("call-1@host"), picker.of("call-1@host"));
        let one = Picker::new(1);
        assert_eq!(one.of("anything"), 0);
        assert_eq!(Picker::new(0).count(), 1);
        assert_eq!(Picker::new(100).count(), MAX);
    }

    #[test]
    fn client_ids_belong_to_their_call_ids_shard() {
        let picker = Picker::new(4);
        let ids: Vec<TxIds> = (0..4).map(|s| TxIds::sharded(s, 4)).collect();
        let (tx, _rx) = mpsc::unbounded_channel();
        let cores = Cores::new(picker.clone(), vec![tx; 4], ids);
        for i in 0..100 {
            let call_id = format!("c{i}");
            assert_eq!(cores.client_id(&call_id).shard(4), picker.of(&call_id));
        }
    }

    #[test]
    fn commands_go_to_their_shard() {
        let picker = Picker::new(3);
        let ids: Vec<TxIds> = (0..3).map(|s| TxIds::sharded(s, 3)).collect();
        let (txs, mut rxs): (Vec<_>, Vec<_>) = (0..3).map(|_| mpsc::unbounded_channel()).unzip();
        let cores = Cores::new(picker.clone(), txs, ids);
        for i in 0..30 {
            let call_id = format!("c{i}");
            let want = picker.of(&call_id);
            cores.send(Cmd::Disown(call_id.clone())).unwrap();
            cores.send(Cmd::Cancel(cores.client_id(&call_id))).unwrap();
            for (s, rx) in rxs.iter_mut().enumerate() {
                let got = std::iter::from_fn(|| rx.try_recv().ok()).count();
                assert_eq!(got, if s == want { 2 } else { 0 });
            }
        }
    }
}
