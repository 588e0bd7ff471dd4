//! The media stream protocol without I/O (Vonage's WebSocket shape):
//!
//! - out, first: a text frame `{"event":"websocket:connected",
//!   "content-type":"audio/l16;rate=16000", ...}` with the call's facts
//!   and the application's headers or parameters;
//! - out: the caller's audio as binary frames of 20 ms of 16-bit
//!   little-endian linear PCM at the stream's rate (320 bytes at 8 kHz,
//!   640 at 16 kHz);
//! - out: `{"event":"websocket:dtmf","digit":"5"}` for each key the caller
//!   presses, `{"event":"websocket:barge-in","by":"dtmf"|"speech"}` when
//!   the caller interrupted audio the socket sent;
//! - in: binary frames of the same format, played to the caller; any size
//!   is taken (pieces are joined into 20 ms frames, half a sample at the
//!   end of a message dropped), the odd ones counted;
//! - in: a text frame `{"action":"clear"}` (or `{"event":"clear"}`) drops
//!   what is queued; other text is ignored and counted.

use ::media::frame::{Frame, FRAME_SAMPLES};
use serde_json::{json, Map, Value};

use super::rate::{Downsampler, Upsampler};

/// The stream's audio rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// 8 kHz: 320-byte frames.
    Narrow,
    /// 16 kHz: 640-byte frames.
    Wide,
}

impl Rate {
    /// The rate for `hz` (8000 or 16000).
    pub fn from_hz(hz: u32) -> Option<Rate> {
        match hz {
            8000 => Some(Rate::Narrow),
            16000 => Some(Rate::Wide),
            _ => None,
        }
    }

    /// Samples per second.
    pub fn hz(self) -> u32 {
        match self {
            Rate::Narrow => 8000,
            Rate::Wide => 16000,
        }
    }

    /// `audio/l16;rate=...`.
    pub fn content_type(self) -> &'static str {
        match self {
            Rate::Narrow => "audio/l16;rate=8000",
            Rate::Wide => "audio/l16;rate=16000",
        }
    }

    /// Bytes in one 20 ms frame.
    pub fn frame_bytes(self) -> usize {
        match self {
            Rate::Narrow => FRAME_SAMPLES * 2,
            Rate::Wide => FRAME_SAMPLES * 4,
        }
    }
}

/// What stopped audio the socket sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BargeIn {
    /// The caller pressed a key.
    Dtmf,
    /// The caller started speaking.
    Speech,
}

/// A text frame from the socket, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Drop the audio queued for the caller.
    Clear,
    /// Well-formed but not understood (its `action` or `event`, if any).
    Unknown(Option<String>),
    /// Not a JSON object.
    Garbage,
}

/// Counters of one stream, for its ending event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames of the caller's audio sent.
    pub frames_sent: u64,
    /// Frames of the caller's audio lost because the socket was slower.
    pub frames_lost: u64,
    /// 20 ms frames received from the socket.
    pub frames_received: u64,
    /// Frames received but not played: the queue was full, or the
    /// stream only listens.
    pub frames_dropped: u64,
    /// Binary messages whose size was not one frame.
    pub odd_messages: u64,
    /// Text messages ignored.
    pub bad_messages: u64,
    /// Times the queued audio was cleared (asked, or barge-in).
    pub clears: u64,
}

impl Stats {
    /// The counters as event fields.
    pub fn to_json(&self) -> Value {
        json!({
            "framesSent": self.frames_sent,
            "framesLost": self.frames_lost,
            "framesReceived": self.frames_received,
            "framesDropped": self.frames_dropped,
            "oddMessages": self.odd_messages,
            "badMessages": self.bad_messages,
            "clears": self.clears,
        })
    }
}

/// One stream's protocol state: rate conversion both ways, the bytes of
/// a frame not yet complete, and the counters.
#[derive(Debug, Clone)]
pub struct Protocol {
    rate: Rate,
    up: Upsampler,
    down: Downsampler,
    /// Bytes received that do not make a whole frame yet (fewer than
    /// one frame's worth).
    partial: Vec<u8>,
    /// Counters.
    pub stats: Stats,
}

impl Protocol {
    /// A stream at `rate`.
    pub fn new(rate: Rate) -> Protocol {
        Protocol {
            rate,
            up: Upsampler::default(),
            down: Downsampler::default(),
            partial: Vec::with_capacity(rate.frame_bytes()),
            stats: Stats::default(),
        }
    }

    /// The stream's rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// The first frame: the event, the content type, the call's `facts`,
    /// then `metadata`'s fields (an object; anything else goes under
    /// `metadata`). `event` and `content-type` are never overridden.
    pub fn connected(&self, facts: &Map<String, Value>, metadata: &Value) -> String {
        let mut out = facts.clone();
        match metadata {
            Value::Object(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::Null => {}
            other => {
                out.insert("metadata".into(), other.clone());
            }
        }
        out.insert("event".into(), "websocket:connected".into());
        out.insert("content-type".into(), self.rate.content_type().into());
        Value::Object(out).to_string()
    }

    /// One frame of the caller's audio as a binary message (the caller
    /// counts it in [`Stats::frames_sent`] once it is on its way).
    pub fn caller_audio(&mut self, frame: &Frame) -> Vec<u8> {
        match self.rate {
            Rate::Narrow => le_bytes(frame),
            Rate::Wide => le_bytes(&self.up.process(frame)),
        }
    }

    /// A key the caller pressed.
    pub fn dtmf(digit: char) -> String {
        json!({"event": "websocket:dtmf", "digit": digit.to_string()}).to_string()
    }

    /// The caller interrupted what the socket sent.
    pub fn barged_in(by: BargeIn) -> String {
        let by = match by {
            BargeIn::Dtmf => "dtmf",
            BargeIn::Speech => "speech",
        };
        json!({"event": "websocket:barge-in", "by": by}).to_string()
    }

    /// A binary message: the whole 8 kHz frames it completes. A message
    /// of an odd number of bytes ends in half a sample, which is dropped
    /// (so that the messages after it stay aligned on samples).
    pub fn audio(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let size = self.rate.frame_bytes();
        if bytes.len() != size {
            self.stats.odd_messages += 1;
        }
        let bytes = &bytes[..bytes.len() - bytes.len() % 2];
        let mut frames = Vec::with_capacity((self.partial.len() + bytes.len()) / size);
        let mut rest = bytes;
        while !rest.is_empty() {
            let need = size - self.partial.len();
            let take = need.min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() == size {
                let samples: Vec<i16> =
                    self.partial.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
                self.partial.clear();
                let narrow = match self.rate {
                    Rate::Narrow => samples,
                    Rate::Wide => self.down.process(&samples),
                };
                let mut frame = [0i16; FRAME_SAMPLES];
                for (d, s) in frame.iter_mut().zip(narrow) {
                    *d = s;
                }
                self.stats.frames_received += 1;
                frames.push(frame);
            }
        }
        frames
    }

    /// A text message, read.
    pub fn text(&mut self, text: &str) -> Inbound {
        let read = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => {
                let name = o.get("action").or_else(|| o.get("event")).and_then(Value::as_str);
                match name {
                    Some("clear") => Inbound::Clear,
                    other => Inbound::Unknown(other.map(str::to_owned)),
                }
            }
            _ => Inbound::Garbage,
        };
        if read != Inbound::Clear {
            self.stats.bad_messages += 1;
        }
        read
    }
}

fn le_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_has_the_vonage_shape() {
        let p = Protocol::new(Rate::Wide);
        let mut facts = Map::new();
        facts.insert("uuid".into(), "call-1".into());
        let v: Value = serde_json::from_str(
            &p.connected(&facts, &json!({"customer": "42", "event": "mine", "uuid": "theirs"})),
        )
        .unwrap();
        assert_eq!(v["event"], "websocket:connected");
        assert_eq!(v["content-type"], "audio/l16;rate=16000");
        assert_eq!(v["customer"], "42");
        assert_eq!(v["uuid"], "theirs", "the application's headers may rename the call's facts");
        let v: Value = serde_json::from_str(&p.connected(&facts, &json!([1, 2]))).unwrap();
        assert_eq!(v["metadata"], json!([1, 2]));
    }

    #[test]
    fn caller_audio_is_little_endian_pcm_at_the_stream_rate() {
        let mut frame = [0i16; FRAME_SAMPLES];
        frame[0] = 0x0102;
        frame[1] = -2;
        let mut narrow = Protocol::new(Rate::Narrow);
        let bytes = narrow.caller_audio(&frame);
        assert_eq!(bytes.len(), 320);
        assert_eq!(&bytes[..4], &[0x02, 0x01, 0xfe, 0xff]);
        let mut wide = Protocol::new(Rate::Wide);
        assert_eq!(wide.caller_audio(&frame).len(), 640);
    }

    #[test]
    fn pieces_of_any_size_make_whole_frames() {
        let mut p = Protocol::new(Rate::Narrow);
        let samples: Vec<i16> = (0..480).map(|i| i as i16).collect();
        let bytes = le_bytes(&samples);
        let mut frames = Vec::new();
        for piece in bytes.chunks(6) {
            frames.extend(p.audio(piece));
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2][159], 479);
        assert_eq!(p.stats.frames_received, 3);
        assert!(p.stats.odd_messages > 0);
        // Half a sample is dropped, so the next message stays aligned.
        assert!(p.audio(&[1]).is_empty());
        assert!(p.audio(&[]).is_empty());
        assert!(p.audio(&[0x34, 0x12, 9]).is_empty());
        let next = p.audio(&le_bytes(&[7; 159]));
        assert_eq!(next.len(), 1);
        assert_eq!((next[0][0], next[0][1]), (0x1234, 7));
        let mut wide = Protocol::new(Rate::Wide);
        assert_eq!(wide.audio(&[0; 640 * 3]).len(), 3);
    }

    #[test]
    fn text_frames_are_read_and_garbage_counted() {
        let mut p = Protocol::new(Rate::Wide);
        assert_eq!(p.text(r#"{"action":"clear"}"#), Inbound::Clear);
        assert_eq!(p.text(r#"{"event":"clear"}"#), Inbound::Clear);
        assert_eq!(p.text(r#"{"action":"dance"}"#), Inbound::Unknown(Some("dance".into())));
        assert_eq!(p.text("\u{0}\u{1} not json"), Inbound::Garbage);
        assert_eq!(p.text("[1,2]"), Inbound::Garbage);
        assert_eq!(p.stats.bad_messages, 3);
        let dtmf: Value = serde_json::from_str(&Protocol::dtmf('5')).unwrap();
        assert_eq!(dtmf, json!({"event": "websocket:dtmf", "digit": "5"}));
    }
}
