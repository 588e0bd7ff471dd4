//! Media without I/O: RTP/RTCP packets, G.711, RFC 4733 events, jitter
//! buffer, WAV, tones, mixing and DTMF detection.
//!
//! Like `sip`, this crate takes time and packets as arguments and never
//! touches sockets or clocks. Its codecs arrive with the media issue.
