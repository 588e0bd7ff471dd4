//! Every parser, fed thousands of pseudo-random, mutated and truncated
//! buffers, returns a value or an error and never panics; whatever parses
//! writes back and parses to the same thing.

#![allow(clippy::unwrap_used)]

use media::dtmf::{Digit, DtmfReceiver, DtmfSender};
use media::jitter::JitterBuffer;
use media::rtcp::{Bye, ReceiverReport, ReportBlock, RtcpPacket, Sdes, SenderReport};
use media::rtp::{Csrcs, Extension, RtpPacket};
use media::wav::Encoding;
use media::{dtmf, rtcp, rtp, wav};

/// xorshift64: a tiny deterministic pseudo-random source.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A copy of `seed` with a few random bytes changed, cut at a random length.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=self.below(4) {
            if !v.is_empty() {
                let i = self.below(v.len());
                v[i] = if self.below(2) == 0 { self.next() as u8 } else { v[i] ^ (1 << self.below(8)) };
            }
        }
        let cut = self.below(v.len() + 1);
        if self.below(3) == 0 {
            v.truncate(cut);
        }
        v
    }
}

const ROUNDS: usize = 20_000;

/// Random buffers, mutations of the seeds, and every truncation of each seed.
fn inputs(seeds: &[Vec<u8>], salt: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ salt);
    let mut out = Vec::new();
    for seed in seeds {
        out.extend((0..=seed.len()).map(|n| seed[..n].to_vec()));
    }
    for i in 0..ROUNDS {
        let input = if i % 2 == 0 || seeds.is_empty() {
            let len = rng.below(200);
            // Half of the random buffers start like a version-2 header.
            let mut b = rng.bytes(len);
            if i % 4 == 0 && !b.is_empty() {
                b[0] = 0x80 | (b[0] & 0x3F);
            }
            b
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            rng.mutate(seed)
        };
        out.push(input);
    }
    out
}

fn rtp_seeds() -> Vec<Vec<u8>> {
    let payload = [0xFFu8; 20];
    let mut full = RtpPacket::new(8, 65535, 123_456, 0xDEAD_BEEF, &payload);
    full.marker = true;
    full.csrcs = Csrcs::new(&[1, 2, 3]).unwrap();
    full.extension = Some(Extension { profile: 0xBEDE, data: &[1, 2, 3, 4, 5, 6, 7, 8] });
    full.padding = 4;
    vec![RtpPacket::new(0, 1, 160, 7, &payload).to_vec().unwrap(), full.to_vec().unwrap()]
}

fn rtcp_seeds() -> Vec<Vec<u8>> {
    let block = ReportBlock { ssrc: 2, fraction_lost: 3, cumulative_lost: -4, ..Default::default() };
    let compound = [
        RtcpPacket::SenderReport(SenderReport { ssrc: 1, reports: vec![block; 2], ..Default::default() }),
        RtcpPacket::ReceiverReport(ReceiverReport { ssrc: 1, reports: vec![block] }),
        RtcpPacket::SourceDescription(Sdes::cname(1, b"user@host")),
        RtcpPacket::Bye(Bye { ssrcs: vec![1, 2], reason: Some(b"done") }),
        RtcpPacket::Other { packet_type: 204, count: 1, body: b"NAMEdata" },
    ];
    let mut all = Vec::new();
    rtcp::write_compound(&compound, &mut all).unwrap();
    let mut seeds = vec![all];
    seeds.extend(compound.iter().map(|p| p.to_vec().unwrap()));
    seeds
}

#[test]
fn rtp_parser_never_panics_and_round_trips() {
    let mut parsed = 0;
    for input in inputs(&rtp_seeds(), 1) {
        if let Ok(p) = rtp::parse(&input) {
            parsed += 1;
            let again = p.to_vec().unwrap();
            assert_eq!(again.len(), input.len());
            assert_eq!(rtp::parse(&again).unwrap(), p);
        }
        let _ = rtp::is_rtcp(&input);
    }
    assert!(parsed > 1000, "the generator should also produce valid packets ({parsed})");
}

#[test]
fn rtcp_parser_never_panics_and_round_trips() {
    let mut parsed = 0;
    for input in inputs(&rtcp_seeds(), 2) {
        if let Ok(packets) = rtcp::parse(&input) {
            parsed += 1;
            let mut again = Vec::new();
            // Writing can refuse what cannot be re-encoded (an unknown packet
            // whose padding left a partial word); it must not panic.
            if rtcp::write_compound(&packets, &mut again).is_ok() {
                assert_eq!(rtcp::parse(&again).unwrap(), packets);
            }
            for p in &packets {
                let _ = p.sender_ssrc();
            }
        }
    }
    assert!(parsed > 100, "the generator should also produce valid packets ({parsed})");
}

#[test]
fn telephone_event_parser_and_receiver_never_panic() {
    let seed = DtmfSender::new(101, 1, 8000)
        .packets(Digit::from_char('5').unwrap(), 100, 0, 0)
        .unwrap()
        .iter()
        .map(|p| p.event.to_bytes().unwrap().to_vec())
        .collect::<Vec<_>>();
    let mut rx = DtmfReceiver::new();
    let mut rng = Rng(3);
    for input in inputs(&seed, 3) {
        if let Ok(ev) = dtmf::parse(&input) {
            let mut clean = ev;
            clean.volume &= 0x3F;
            assert_eq!(dtmf::parse(&clean.to_bytes().unwrap()).unwrap(), clean);
        }
        let _ = rx.handle_packet(rng.next() as u32 % 50_000, &input);
    }
}

#[test]
fn wav_reader_never_panics() {
    let samples: Vec<i16> = (0..64).map(|i| i * 300).collect();
    let seeds: Vec<Vec<u8>> = [Encoding::Pcm16, Encoding::Alaw, Encoding::Ulaw]
        .into_iter()
        .map(|e| wav::write(e, 8000, &samples).unwrap())
        .collect();
    for input in inputs(&seeds, 4) {
        if let Ok(w) = wav::read(&input) {
            assert!(w.sample_rate > 0);
        }
    }
}

#[test]
fn jitter_buffer_survives_random_sequences_and_times() {
    let mut rng = Rng(5);
    let mut jb = JitterBuffer::new(60, 64);
    let mut now = 0u64;
    for _ in 0..ROUNDS {
        now += rng.below(30) as u64;
        let seq = rng.next() as u16;
        jb.push(seq, now, seq);
        while jb.pop(now).is_some() {}
        assert!(jb.len() <= 64);
    }
    let s = jb.stats();
    assert_eq!(s.queued, s.played + jb.len() as u64);
}

#[test]
fn detector_and_resampler_take_any_samples() {
    let mut rng = Rng(6);
    let mut det = media::detect::DtmfDetector::default();
    for _ in 0..200 {
        let len = rng.below(1000);
        let samples: Vec<i16> = (0..len).map(|_| rng.next() as i16).collect();
        let _ = det.process(&samples);
        for (from, to) in [(8000, 16000), (48000, 8000), (44100, 8000), (7999, 8000), (8000, 1)] {
            let out = media::resample(&samples, from, to).unwrap();
            assert!(out.len() <= samples.len() * 2 + 1);
        }
    }
}
