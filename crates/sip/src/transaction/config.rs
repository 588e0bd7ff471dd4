//! Timer values and limits of the transaction layer.

use std::time::Duration;

/// Timer values (RFC 3261 17.1.1.1 and table 4) and limits.
///
/// Every RFC timer derives from T1, T2 and T4: A and E start at T1 and
/// double (E and G up to T2); B, F, H, J, L and M are 64*T1; D is 32 s (or
/// 64*T1 when larger); I and K are T4. On reliable transports there are no
/// retransmissions and D, I, J and K are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// T1, the round-trip estimate and first retransmission interval
    /// (500 ms). Values below 1 ms are raised to 1 ms.
    pub t1: Duration,
    /// T2, the longest retransmission interval of non-INVITE requests and
    /// of INVITE responses (4 s).
    pub t2: Duration,
    /// T4, how long a message may live in the network (5 s): timers I, K.
    pub t4: Duration,
    /// How long an INVITE server transaction waits for the TU's first
    /// response before it sends 100 Trying itself (200 ms, RFC 3261
    /// 17.2.1). Zero sends the 100 at once. A retransmitted INVITE gets the
    /// 100 at once either way.
    pub trying_delay: Duration,
    /// When true (the default), an INVITE server transaction retransmits
    /// the TU's 2xx (T1 doubling up to T2) until the ACK for it arrives,
    /// and reports [`crate::transaction::Event::Timeout`] when no ACK came
    /// within 64*T1 (RFC 3261 13.3.1.4, a job that RFC 6026 gives the TU).
    /// When false, the TU retransmits the 2xx itself with
    /// [`crate::transaction::Transactions::respond`].
    pub retransmit_2xx: bool,
    /// Most live transactions (client and server together). A new request
    /// beyond it (CANCEL excepted) is answered 503 without a transaction,
    /// and
    /// [`crate::transaction::Transactions::send_request`] refuses.
    pub max_transactions: usize,
    /// Most bytes the live server transactions may hold for their
    /// responses, estimated from each request: its Via, From, To, Call-ID
    /// and CSeq (which every response echoes) plus 1 KiB for what the TU
    /// adds. A request beyond it is answered 503 without a transaction, so
    /// a flood of requests with huge heads cannot make the layer keep
    /// gigabytes of responses for timer J.
    pub max_server_bytes: usize,
    /// Most bytes that finished server transactions may hold while they
    /// absorb retransmissions (timer J, L, or I): each keeps only its key,
    /// its peer and its last response (see the module docs). Past it
    /// those nearest their end are forgotten first, so under a burst
    /// retransmissions are
    /// absorbed for less than 64*T1 instead of new requests being refused.
    /// They do not count against [`Config::max_transactions`].
    pub max_retained_bytes: usize,
}

impl Default for Config {
    /// T1 500 ms, T2 4 s, T4 5 s, 100 Trying after 200 ms, 2xx
    /// retransmitted by the layer, at most 100 000 live transactions,
    /// 64 MiB held for live server transactions' responses and 128 MiB for
    /// finished ones.
    fn default() -> Config {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            trying_delay: Duration::from_millis(200),
            retransmit_2xx: true,
            max_transactions: 100_000,
            max_server_bytes: 64 << 20,
            max_retained_bytes: 128 << 20,
        }
    }
}

impl Config {
    /// The configuration with T1 at least 1 ms and T2 at least T1, so that
    /// no retransmission timer is zero.
    pub(super) fn sanitized(mut self) -> Config {
        self.t1 = self.t1.max(Duration::from_millis(1));
        self.t2 = self.t2.max(self.t1);
        self
    }

    /// 64*T1: timers B, F, H, J, L and M.
    pub(super) fn long(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: at least 32 s.
    pub(super) fn timer_d(&self) -> Duration {
        Duration::from_secs(32).max(self.long())
    }
}
