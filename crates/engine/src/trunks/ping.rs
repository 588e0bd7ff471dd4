//! OPTIONS pings of one peer (a trunk or a gateway) as a sans-IO state
//! machine: every `interval` it asks for an OPTIONS to be sent; an answer
//! marks the peer up with its round-trip time, no answer within the
//! timeout (or 408 / 503) marks it down.

use store::Millis;

/// Whether a pinged peer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingStatus {
    /// No ping answered or failed yet.
    Unknown,
    /// The last ping was answered.
    Up,
    /// The last ping failed.
    Down,
}

impl PingStatus {
    /// `UP`, `DOWN` or `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            PingStatus::Unknown => "UNKNOWN",
            PingStatus::Up => "UP",
            PingStatus::Down => "DOWN",
        }
    }
}

/// The pings of one peer.
#[derive(Debug, Clone)]
pub struct Pinger {
    interval: Millis,
    timeout: Millis,
    status: PingStatus,
    /// When the outstanding ping was sent, and its number.
    out: Option<(Millis, u64)>,
    seq: u64,
    next: Millis,
    rtt: Option<Millis>,
    last_ping: Option<Millis>,
    last_answer: Option<Millis>,
    send: bool,
}

impl Pinger {
    /// Pings every `interval_s` seconds (at least 1), the first at `now`;
    /// a ping unanswered after `min(interval, 32 s)` counts as lost.
    pub fn new(now: Millis, interval_s: u32) -> Pinger {
        let interval = Millis::from(interval_s.max(1)) * 1000;
        Pinger {
            interval,
            timeout: interval.min(32_000),
            status: PingStatus::Unknown,
            out: None,
            seq: 0,
            next: now,
            rtt: None,
            last_ping: None,
            last_answer: None,
            send: false,
        }
    }

    /// The status.
    pub fn status(&self) -> PingStatus {
        self.status
    }

    /// The round-trip time of the last answered ping, in milliseconds.
    pub fn rtt_ms(&self) -> Option<Millis> {
        self.rtt
    }

    /// When the last ping was sent.
    pub fn last_ping(&self) -> Option<Millis> {
        self.last_ping
    }

    /// When the last answer came.
    pub fn last_answer(&self) -> Option<Millis> {
        self.last_answer
    }

    /// The interval, in seconds.
    pub fn interval_s(&self) -> u32 {
        (self.interval / 1000) as u32
    }

    /// Acts on the time: a lost ping marks the peer down; a due ping is
    /// asked for.
    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some((sent, _)) = self.out {
            if now >= sent + self.timeout {
                self.out = None;
                self.status = PingStatus::Down;
            }
        }
        if now >= self.next && self.out.is_none() {
            self.seq += 1;
            self.out = Some((now, self.seq));
            self.last_ping = Some(now);
            self.next = now + self.interval;
            self.send = true;
        }
    }

    /// The number of the ping to send now, if one is due; the answer is
    /// reported with it.
    pub fn poll_send(&mut self) -> Option<u64> {
        if std::mem::take(&mut self.send) {
            self.out.map(|(_, seq)| seq)
        } else {
            None
        }
    }

    /// Ping `seq` was answered with `code`: any final answer but 408 and
    /// 503 means the peer is there.
    pub fn handle_answer(&mut self, now: Millis, seq: u64, code: u16) {
        let Some((sent, out)) = self.out else { return };
        if out != seq || code < 200 {
            return;
        }
        self.out = None;
        if code == 408 || code == 503 {
            self.status = PingStatus::Down;
            return;
        }
        self.status = PingStatus::Up;
        self.rtt = Some(now - sent);
        self.last_answer = Some(now);
    }

    /// Ping `seq` got no answer (its transaction timed out or could not
    /// be sent).
    pub fn handle_lost(&mut self, seq: u64) {
        if self.out.is_some_and(|(_, s)| s == seq) {
            self.out = None;
            self.status = PingStatus::Down;
        }
    }

    /// When [`Pinger::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Millis {
        match self.out {
            Some((sent, _)) => (sent + self.timeout).min(self.next),
            None => self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answered_ping_marks_the_peer_up_with_its_round_trip_time() {
        let mut p = Pinger::new(1_000, 5);
        assert_eq!(p.status(), PingStatus::Unknown);
        p.handle_timeout(1_000);
        let seq = p.poll_send().expect("the first ping is due at once");
        assert_eq!(p.poll_send(), None);
        p.handle_answer(1_040, seq, 200);
        assert_eq!((p.status(), p.rtt_ms()), (PingStatus::Up, Some(40)));
        assert_eq!(p.poll_timeout(), 6_000);
        p.handle_timeout(5_999);
        assert_eq!(p.poll_send(), None);
        p.handle_timeout(6_000);
        let next = p.poll_send().expect("the next ping");
        assert_ne!(next, seq);
        p.handle_answer(6_010, next, 404);
        assert_eq!((p.status(), p.rtt_ms()), (PingStatus::Up, Some(10)), "any answer means it is there");
    }

    #[test]
    fn an_unanswered_ping_marks_the_peer_down_and_a_later_answer_brings_it_back() {
        let mut p = Pinger::new(0, 2);
        p.handle_timeout(0);
        let first = p.poll_send().expect("ping");
        p.handle_answer(5, first, 200);
        p.handle_timeout(2_000);
        let lost = p.poll_send().expect("ping");
        assert_eq!(p.poll_timeout(), 4_000);
        p.handle_timeout(4_000);
        assert_eq!(p.status(), PingStatus::Down);
        let again = p.poll_send().expect("the next ping goes out as the last is given up");
        p.handle_answer(4_001, lost, 200);
        assert_eq!(p.status(), PingStatus::Down, "a late answer to a lost ping does not count");
        p.handle_answer(4_020, again, 200);
        assert_eq!((p.status(), p.rtt_ms()), (PingStatus::Up, Some(20)));
    }

    #[test]
    fn busy_answers_and_lost_transactions_mark_the_peer_down() {
        let mut p = Pinger::new(0, 30);
        p.handle_timeout(0);
        let seq = p.poll_send().expect("ping");
        p.handle_answer(1, seq, 100);
        assert_eq!(p.status(), PingStatus::Unknown, "a provisional answer is not final");
        p.handle_answer(2, seq, 503);
        assert_eq!(p.status(), PingStatus::Down);
        p.handle_timeout(30_000);
        let seq = p.poll_send().expect("ping");
        p.handle_lost(seq);
        assert_eq!(p.status(), PingStatus::Down);
        assert_eq!(p.poll_timeout(), 60_000);
    }
}
