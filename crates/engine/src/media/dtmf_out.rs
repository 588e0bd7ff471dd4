//! Key presses sent to a leg as RFC 4733 telephone-events, one after the
//! other, on the session's tick.

use std::collections::VecDeque;

use media::dtmf::{Digit, DtmfSender, EventPacket};

use super::stream::OutStream;

/// The most presses waiting for a leg.
pub(crate) const MAX_QUEUED: usize = 64;
/// Silence between two presses, in ms.
const GAP_MS: u64 = 60;

struct Press {
    packets: Vec<EventPacket>,
    next: usize,
    started_ms: u64,
    start_ts: u32,
}

/// The presses going out to one leg.
#[derive(Default)]
pub(crate) struct DtmfOut {
    queue: VecDeque<(Digit, u32)>,
    active: Option<Press>,
    gap_until_ms: u64,
}

impl DtmfOut {
    /// Whether a press is being sent or waits.
    pub(crate) fn busy(&self) -> bool {
        self.active.is_some() || !self.queue.is_empty()
    }

    /// Queues presses of `duration_ms` each; false when that would exceed
    /// [`MAX_QUEUED`].
    pub(crate) fn queue(&mut self, digits: &[Digit], duration_ms: u32) -> bool {
        if self.queue.len() + digits.len() > MAX_QUEUED {
            return false;
        }
        self.queue.extend(digits.iter().map(|&d| (d, duration_ms)));
        true
    }

    /// Sends what is due at `now_ms` through `send`; true when the last
    /// press has just gone out.
    pub(crate) fn tick(
        &mut self,
        now_ms: u64,
        pt: u8,
        out: &mut OutStream,
        buf: &mut Vec<u8>,
        mut send: impl FnMut(&[u8]),
    ) -> bool {
        if self.active.is_none() && now_ms >= self.gap_until_ms {
            if let Some((digit, ms)) = self.queue.pop_front() {
                let start_ts = out.event_start(now_ms);
                let sender = DtmfSender::new(pt, out.ssrc(), 8000);
                if let Ok(packets) = sender.packets(digit, ms, start_ts, 0) {
                    self.active = Some(Press { packets, next: 0, started_ms: now_ms, start_ts });
                }
            }
        }
        let Some(press) = &mut self.active else { return false };
        while let Some(p) = press.packets.get(press.next) {
            if press.started_ms + u64::from(p.offset_ms) > now_ms {
                break;
            }
            let stamp = out.event_packet(press.start_ts, u32::from(p.event.duration), now_ms);
            let Ok(payload) = p.event.to_bytes() else { break };
            buf.clear();
            let mut rtp =
                media::rtp::RtpPacket::new(pt, stamp.sequence, stamp.timestamp, out.ssrc(), &payload);
            rtp.marker = p.marker;
            if rtp.write_to(buf).is_ok() {
                send(buf);
            }
            press.next += 1;
        }
        if press.next >= press.packets.len() {
            self.active = None;
            self.gap_until_ms = now_ms + GAP_MS;
            return self.queue.is_empty();
        }
        false
    }
}
